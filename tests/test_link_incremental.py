"""Incremental linking gives what a full relink gives, table by table.

Each step links new ads into a store incrementally, takes a snapshot of every linking
and scoring table (keyed by ``(source, ad_id)``, not by pk), then relinks and rescores
the same store in full and takes the snapshot again: the two must be equal.
"""

from __future__ import annotations

import functools
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from adsentry.demo import write_corpus
from adsentry.link.identifiers import GenericParams
from adsentry.link.incremental import _Bands, link_stored
from adsentry.link.incremental import _cut_changes as cut_changes
from adsentry.link.networks import relink
from adsentry.link.templates import TemplateParams
from adsentry.model import Ad, Entity
from adsentry.pipeline import analyze
from adsentry.score import ScoreSettings, rescore
from adsentry.store import Store, open_store
from adsentry.store import schema as sc
from test_link_networks import MANY_CITIES, ad_with


def snapshot(store: Store) -> dict[str, Any]:
    """Every linking and scoring row, keyed by ad key instead of pk."""
    a, t, m, b, g, s = (
        sc.ads,
        sc.ad_templates,
        sc.network_members,
        sc.ad_bands,
        sc.generic_identifiers,
        sc.assessments,
    )
    with store.engine.connect() as conn:
        key = {pk: (src, i) for pk, src, i in conn.execute(select(a.c.pk, a.c.source, a.c.ad_id))}
        current = {pk for (pk,) in conn.execute(select(a.c.pk).where(a.c.is_current))}
        return {
            "templates": sorted(
                (key[p], tid, round(sim, 4)) for p, tid, sim in conn.execute(select(t))
            ),
            "networks": sorted((key[p], nid) for p, nid in conn.execute(select(m))),
            "bands": sorted((key[p], k, c) for p, k, c in conn.execute(select(b))),
            "band_pks_current": {p for (p,) in conn.execute(select(b.c.ad_pk))} <= current,
            "generic": sorted(tuple(r) for r in conn.execute(select(g))),
            "assessments": sorted(
                (subj, key[int(sid)] if subj == "ad" else sid, score, dec, contribs)
                for subj, sid, score, dec, contribs in conn.execute(select(s))
            ),
        }


def check_against_full(
    store: Store, generic: GenericParams | None = None, template: TemplateParams | None = None
) -> dict[str, Any]:
    """Snapshot now, relink and rescore in full, snapshot again; assert equal."""
    before = snapshot(store)
    assert before["band_pks_current"]
    kw: dict[str, Any] = {} if generic is None else {"generic_params": generic}
    if template is not None:
        kw["template_params"] = template
    relink(store, **kw)
    rescore(store, ScoreSettings())
    after = snapshot(store)
    for table in before:
        assert before[table] == after[table], table
    return after


def step(store: Store, batch: list[tuple[Ad, list[Entity]]], generic: GenericParams) -> int:
    """Write ``batch`` and link incrementally; return how many ads were relinked."""
    store.write_batch(batch)
    report, scope = link_stored(store, generic_params=generic)
    rescore(store, ScoreSettings(), scope)
    assert scope is not None and report.relinked == len(scope.ads)
    return report.relinked


def network_of(store: Store) -> dict[str, str | None]:
    return {ad_id: nid for _, ad_id, _, nid, _ in store.link_assignments()}


@pytest.mark.parametrize("hubs", [None, 2])
def test_demo_corpus_in_three_runs_equals_one_relink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hubs: int | None
) -> None:
    """2,400 demo ads analyzed as 1,500 + 500 + 400; the second run also brings 300
    reposts of stored ads under new ids, the last one changed versions of 41 stored
    ads, half of them cut short: after each run the incremental links equal a full
    relink's. With 2 hubs a bucket instead of the default, most buckets of near copies
    are cut, and new ads and replaced versions move their cuts both ways."""
    template = None if hubs is None else TemplateParams(bucket_hubs=hubs)
    if template is not None:
        monkeypatch.setattr(
            "adsentry.link.incremental.link_stored",
            functools.partial(link_stored, template_params=template),
        )
    cut_seeds: list[int] = []

    def spy(*args: Any) -> set[int]:
        found = cut_changes(*args)
        cut_seeds.append(len(found))
        return found

    monkeypatch.setattr("adsentry.link.incremental._cut_changes", spy)
    src = tmp_path / "demo.jsonl"
    write_corpus(src, tmp_path / "labels.jsonl", 2400, seed=7)
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = []
    for i, line in enumerate(lines[:1500:37]):
        rec = json.loads(line)
        rec["body"] = rec["body"][: len(rec["body"]) // 2] if i % 2 else rec["body"] + " new pics"
        changed.append(json.dumps(rec) + "\n")
    reposts = []
    for line in lines[:1500:5]:  # the same ad under a new id: joins the original's network
        rec = json.loads(line)
        reposts.append(json.dumps({**rec, "id": "re-" + rec["id"]}) + "\n")
    parts = [lines[:1500], lines[1500:2000] + reposts, lines[2000:] + changed]
    db = tmp_path / "x.db"
    store = open_store(db)
    relinked = []
    for n, part in enumerate(parts):
        f = tmp_path / f"part{n}.jsonl"
        f.write_text("".join(part), encoding="utf-8")
        report = analyze([f], store, db_path=db, workers=1)
        assert report.link is not None
        relinked.append(report.link.relinked)
        check_against_full(store, template=template)
    assert report.new_versions == len(changed) == 41
    assert relinked[0] is None  # the first run links in full
    assert relinked[1] is not None and relinked[2] is not None
    assert 800 <= relinked[1] < 2300 and 441 <= relinked[2] < 2700  # not everything
    assert len(cut_seeds) == 2 and (hubs is None or min(cut_seeds) > 0)
    store.close()


def test_a_phone_that_turns_generic_withdraws_its_links(tmp_path: Path) -> None:
    """A phone on ads in 9 states links them; the ad that brings its 10th state makes
    it generic (spread) and every link it made is withdrawn, as in a rebuild."""
    params = GenericParams()
    store = open_store(tmp_path / "x.db")
    cities = []
    seen_states: set[str] = set()
    for city, state in MANY_CITIES:
        if state not in seen_states:
            seen_states.add(state)
            cities.append((city, state))
    phone = "619-555-0142"
    first = [ad_with(f"p{i}", "Mia", c, s, phone, 100 + i) for i, (c, s) in enumerate(cities[:9])]
    others = [ad_with(f"o{i}", "Ava", "Denver", "CO", "", 300 + i) for i in range(12)]
    store.write_batch(first + others)
    link_stored(store, generic_params=params)
    rescore(store, ScoreSettings())
    nets = network_of(store)
    assert len({nets[f"p{i}"] for i in range(9)}) == 1 and nets["p0"] is not None

    tenth = cities[9]
    assert step(store, [ad_with("p9", "Mia", *tenth, phone, 109)], params) == 10
    nets = network_of(store)
    assert all(nets[f"p{i}"] is None for i in range(10))
    [(kind, value, reason, n)] = store.generic_identifiers()
    assert (kind, value, n) == ("phone", "+16195550142", 10)
    assert reason.startswith("spread: 10 places in 10 states")
    check_against_full(store, params)


def test_a_generic_phone_that_turns_kept_welds_its_ads(tmp_path: Path) -> None:
    """The share rule judges against all current ads: a phone on 4 of 10 ads is
    generic at a 30 % bar, and kept (its 4 ads one network) once 5 more ads arrive."""
    params = GenericParams(max_share=0.3, min_share_ads=3)
    store = open_store(tmp_path / "x.db")
    carriers = [ad_with(f"c{i}", "Ivy", "Reno", "NV", "702-555-0100", 400 + i) for i in range(4)]
    rest = [ad_with(f"r{i}", "Uma", "Reno", "NV", "", 500 + i) for i in range(6)]
    store.write_batch(carriers + rest)
    link_stored(store, generic_params=params)
    rescore(store, ScoreSettings())
    assert store.generic_identifiers()[0][2].startswith("share: 4 ads")
    assert network_of(store)["c0"] is None

    more = [ad_with(f"m{i}", "Zoe", "Reno", "NV", "", 600 + i) for i in range(5)]
    assert step(store, more, params) == 9  # the 5 new ads and the 4 carriers
    assert store.generic_identifiers() == []
    nets = network_of(store)
    assert nets["c0"] is not None and {nets[f"c{i}"] for i in range(4)} == {nets["c0"]}
    check_against_full(store, params)


def test_a_new_version_without_the_shared_phone_splits_the_network(tmp_path: Path) -> None:
    """Two ads share a phone; a changed version of one drops it: the old version's
    links are withdrawn, its band row and scores removed, both ads stand alone."""
    params = GenericParams()
    store = open_store(tmp_path / "x.db")
    a1 = ad_with("a1", "Gia", "Tampa", "FL", "813-555-0123", 700)
    a2 = ad_with("a2", "Gia", "Tampa", "FL", "813-555-0123", 701)
    fill = [ad_with(f"f{i}", "Kim", "Miami", "FL", "", 800 + i) for i in range(4)]
    store.write_batch([a1, a2, *fill])
    link_stored(store, generic_params=params)
    rescore(store, ScoreSettings())
    nets = network_of(store)
    assert nets["a1"] is not None and nets["a1"] == nets["a2"]

    ad, ents = ad_with("a2", "Gia", "Tampa", "FL", "", 701)
    assert step(store, [(replace(ad, raw_sha256="a2-v2"), ents)], params) == 2
    nets = network_of(store)
    assert nets["a1"] is None and nets["a2"] is None
    snap = check_against_full(store, params)
    assert len(snap["bands"]) == 6  # one row per current ad, none for the old version
    assert not any(s == "network" for s, *_ in snap["assessments"])


def test_template_links_to_stored_ads_are_found_through_stored_band_keys(tmp_path: Path) -> None:
    """A new ad with no identifier joins the template of stored ads: found through the
    band keys in ``ad_bands`` (no stored text is MinHashed again)."""
    params = GenericParams()
    store = open_store(tmp_path / "x.db")
    text = "Sweet and discreet {} waiting for you in Tampa, upscale incall, call now loves"
    stored: list[tuple[Ad, list[Entity]]] = [
        (Ad(ad_id=f"t{i}", source="s", title=f"{n} here", body=text.format(n), raw_sha256=n), [])
        for i, n in enumerate(["Gia", "Kim", "Ivy"])
    ]
    fill = [ad_with(f"f{i}", "Uma", "Miami", "FL", "", 950 + i) for i in range(6)]
    store.write_batch([*stored, *fill])
    link_stored(store, generic_params=params)
    rescore(store, ScoreSettings())
    nets = network_of(store)
    assert nets["t0"] is not None and nets["t0"] == nets["t1"] == nets["t2"]

    new = Ad(ad_id="t3", source="s", title="Rose here", body=text.format("Rose"), raw_sha256="t3")
    assert step(store, [(new, [])], params) == 4
    assert network_of(store)["t3"] == nets["t0"]
    check_against_full(store, params)


def chain_text(offset: int) -> str:
    """20 made-up words from ``offset`` on: texts 4 apart have similarity 16/24 =
    0.667 (a link), 8 apart 12/28 = 0.43 (under the medoid bar of 0.45)."""
    letters = "bcdfghjklmnpqrstvwxz"
    words = [f"v{letters[i // 20]}{letters[i % 20]}q" for i in range(offset, offset + 20)]
    return " ".join(words)


def test_new_ads_that_move_a_template_medoid_relink_the_whole_component(tmp_path: Path) -> None:
    """Chaining control cuts a template component into micro-clusters, so an ad can be
    linked to a neighbour and still stand alone. Stored: a chain of texts A - B (twice)
    - C - D, cut around B, so D stands alone although it links to C. Four new texts
    close to D (and not to C) make D the medoid, and C moves to D's micro-cluster:
    relinking only D's network (D alone) would leave C with A and B; the stored
    template component brings them in."""
    params = GenericParams()
    store = open_store(tmp_path / "x.db")

    def ad(ad_id: str, offset: int) -> tuple[Ad, list[Entity]]:
        body = chain_text(offset)
        return Ad(ad_id=ad_id, source="s", title="", body=body, raw_sha256=ad_id), []

    stored = [ad("a", 0), ad("b1", 4), ad("b2", 4), ad("c", 8), ad("d", 12)]
    fill = [ad(f"f{i}", 100 + 40 * i) for i in range(8)]
    store.write_batch([*stored, *fill])
    link_stored(store, generic_params=params)
    rescore(store, ScoreSettings())
    nets = network_of(store)
    assert nets["a"] is not None and nets["a"] == nets["b1"] == nets["c"] and nets["d"] is None

    assert step(store, [ad(f"e{k}", 12 + k) for k in range(1, 5)], params) == 9
    nets = network_of(store)
    assert nets["a"] is not None and nets["a"] == nets["b1"] == nets["b2"] != nets["c"]
    assert {nets[k] for k in ("c", "d", "e1", "e2", "e3", "e4")} == {nets["c"]}
    check_against_full(store, params)


def test_a_run_stopped_between_links_and_scores_is_rescored_by_the_next(tmp_path: Path) -> None:
    """Links and scores are two transactions: when a run stops after the links, the
    next ``analyze`` (with nothing new) writes the scores, in full."""
    f = tmp_path / "ads.jsonl"
    rows = [
        {"id": f"a{i}", "body": f"Sweet {n} call 619-555-01{i:02d} now"}
        for i, n in enumerate(["Mia", "Ava", "Zoe"])
    ]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    db = tmp_path / "x.db"
    store = open_store(db)
    report = analyze([f], store, db_path=db, workers=1)
    assert report.score is not None and store.scores_are_current()
    relink(store)  # links written, the process "stops" before rescoring
    assert not store.scores_are_current()
    again = analyze([f], store, db_path=db, workers=1)
    assert again.link is None and again.score is not None and again.score.ads == 3
    assert store.scores_are_current()
    assert analyze([f], store, db_path=db, workers=1).score is None


def bands(rows: list[tuple[int, int, int]]) -> _Bands:
    """``(pk, bucket key, hub hash)`` rows of one band."""
    return _Bands(
        np.array([p for p, _, _ in rows], dtype=np.int64),
        np.array([[k] for _, k, _ in rows], dtype=np.uint64).reshape(len(rows), 1),
        np.array([h for _, _, h in rows], dtype=np.uint64),
    )


def test_a_moved_hub_cut_seeds_the_texts_whose_pairs_change() -> None:
    """One band, 2 hubs a bucket. Bucket 7 holds hub hashes 10..50: its cut is 20."""
    params = TemplateParams(bands=1, rows=3, bucket_hubs=2)
    stored = [(1, 7, 10), (2, 7, 20), (3, 7, 30), (4, 7, 40), (5, 7, 50), (8, 9, 100)]
    stored += [(9, 9, 200)]
    before = bands(stored)

    def seeds(
        after_rows: list[tuple[int, int, int]], touched: list[tuple[int, int, int]]
    ) -> set[int]:
        return cut_changes(before, bands(after_rows), bands(touched), params)

    # a new text with hash 5 becomes a hub: the cut falls to 10, and pk 2 (20) stops
    # being one; its pairs with the non-hubs go
    assert seeds([*stored, (6, 7, 5)], [(6, 7, 5)]) == {2}
    # a new text with hash 45 changes nothing
    assert seeds([*stored, (6, 7, 45)], [(6, 7, 45)]) == set()
    # the hub pk 1 is replaced: the cut rises to 30, pk 3 becomes a hub and may link
    # to any member, so every current member is a seed
    assert seeds(stored[1:], [(1, 7, 10)]) == {2, 3, 4, 5}
    # bucket 9 had 2 texts, no cut; a third (150) makes the cut 150: pk 9 (200) loses
    # its pairs with non-hubs
    assert seeds([*stored, (6, 9, 150)], [(6, 9, 150)]) == {9}
