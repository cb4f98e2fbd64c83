"""The per-ad stages are pure: one process or a pool, the same Docs in the same order."""

from __future__ import annotations

import subprocess
import sys

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


# The collector settings are process-wide and another test may hold a server (and its
# batch_gc block) open in this process, so the checks run in a fresh interpreter.
_GC_CHECKS = """
import gc
from adsentry import pipeline
from adsentry.pipeline import PipelineConfig, batch_gc

default = gc.get_threshold()
a, b = batch_gc(threshold=12345), batch_gc(threshold=999)
a.__enter__()
frozen = gc.get_freeze_count()
assert frozen > 0 and gc.get_threshold()[0] == 12345
b.__enter__()  # nested: the first block's settings stay
assert gc.get_threshold()[0] == 12345
a.__exit__(None, None, None)  # the outer one closes first (generators may)
assert gc.get_threshold()[0] == 12345 and gc.get_freeze_count() >= frozen
b.__exit__(None, None, None)
assert gc.get_threshold() == default and gc.get_freeze_count() == 0

# a pool worker keeps the settings for its life
import os
pipeline._init_worker(("extract",), PipelineConfig(), os.getppid())
assert gc.get_threshold()[0] == pipeline.BATCH_GC_THRESHOLD, gc.get_threshold()
assert gc.get_freeze_count() > 0
print("ok")
"""


def test_batch_gc_is_undone_by_the_last_block_open_in_any_order_and_kept_in_workers() -> None:
    r = subprocess.run(
        [sys.executable, "-c", _GC_CHECKS], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
