"""The per-ad stages are pure: one process or a pool, the same Docs in the same order."""

from __future__ import annotations

from adsentry.model import Ad
from adsentry.pipeline import Pipeline


def test_pool_gives_the_same_docs_in_order() -> None:
    ads = [
        Ad(ad_id=f"a{i}", source="s", title=f"Mia - {20 + i % 5}",
           body=f"I'm Mia, call 619-555-01{i % 100:02d}, $150/hh, in San Diego")
        for i in range(300)
    ]  # fmt: skip
    pipeline = Pipeline()
    one = list(pipeline.pipe(ads, batch_size=40, n_process=1))
    two = list(pipeline.pipe(ads, batch_size=40, n_process=2))
    assert [d.ad.ad_id for d in two] == [a.ad_id for a in ads]
    assert [d.entities for d in one] == [d.entities for d in two]
    # hand-checked on the first ad: its phone and its stated age
    kinds = [(e.kind, e.value) for e in one[0].entities]
    assert ("phone", "+16195550100") in kinds and ("age", 20) in kinds
