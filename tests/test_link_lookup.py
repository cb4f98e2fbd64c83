"""The LSH lookup of screening: the same candidates as comparing band keys one by one."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from adsentry.link.lookup import TemplateLookup, as_sets, similarity_to
from adsentry.link.templates import band_keys, features, similarity

WORDS = (
    "hello gentlemen my name is and I am an upscale companion visiting your city this week "
    "only classy discreet fun enjoy dinner dates relaxing evenings call to book appointment"
).split()


def texts(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    base = WORDS[:]
    out = []
    for i in range(n):
        t = base[:]
        for _ in range(rnd.randint(0, 12)):  # a few words changed: near copies and not
            t[rnd.randrange(len(t))] = rnd.choice(["sweet", "latina", "new", str(i)])
        if i % 7 == 0:
            rnd.shuffle(t)
        out.append(" ".join(t))
    out.append("too short")
    return out


def brute(stored: list[tuple[int, str]], query: str) -> dict[int, int]:
    q = dict(band_keys(query))
    shared = {}
    for pk, t in stored:
        n = sum(1 for b, k in band_keys(t) if q.get(b) == k)
        if n:
            shared[pk] = n
    return shared


def test_candidates_are_the_stored_ads_sharing_a_band_most_shared_first() -> None:
    all_texts = texts(80, 1)
    stored = [(100 + i, t) for i, t in enumerate(all_texts[:60])]
    lookup = TemplateLookup.build(stored)
    assert len(lookup) == 60  # "too short" is not among the first 60; all indexed
    later = [(500 + i, t) for i, t in enumerate(all_texts[60:70])]
    for pk, t in later:
        assert lookup.add(pk, t)
    assert not lookup.add(999, "too short")
    everything = stored + later
    for query in all_texts[70:]:
        expected = brute(everything, query)
        got = lookup.candidates(query, limit=1000)
        assert set(got) == set(expected)
        assert got == sorted(expected, key=lambda pk: (-expected[pk], pk))
        assert lookup.candidates(query, limit=3) == got[:3]


def test_candidates_of_many_texts_at_once_equal_one_by_one() -> None:
    all_texts = texts(90, 3)
    lookup = TemplateLookup.build([(100 + i, t) for i, t in enumerate(all_texts[:60])])
    for i, t in enumerate(all_texts[60:70]):  # some held apart from the sorted keys
        lookup.add(500 + i, t)
    queries = [*all_texts[70:], "too short", all_texts[5], "nothing alike at all here"]
    for limit in (1, 4, 1000):
        together = lookup.query_many(queries, limit=limit)
        assert [c for c, _ in together] == [lookup.candidates(q, limit) for q in queries]
    assert together[-3][0] == []  # too short to link
    assert together[-2][0][0] == 105  # a stored text finds itself first
    assert lookup.query_many(queries, limit=0)[-2][0] == []
    with pytest.raises(ValueError, match="limit must be 0 or more"):
        lookup.query_many(queries, limit=-1)


def test_a_build_with_known_band_keys_equals_one_that_computes_them() -> None:
    from adsentry.link.templates import band_key_matrix

    ts = texts(60, 6)
    items = [(10 + i, t) for i, t in enumerate(ts)]
    ok, keys = band_key_matrix(ts)
    # keys known for every other ad, plus pks the build never sees (replaced versions)
    pks = np.asarray([10 + i for i in range(0, 60, 2) if ok[i]] + [5000, 6000])
    mat = np.vstack([keys[[i for i in range(0, 60, 2) if ok[i]]], keys[:2] ^ 1])
    plain = TemplateLookup.build(items)
    reused = TemplateLookup.build(items, known=(pks, mat))
    assert np.array_equal(plain._keys, reused._keys)
    assert np.array_equal(plain._pk_of, reused._pk_of)
    for q in ts[:5]:
        assert plain.candidates(q) == reused.candidates(q)
    # the known keys are taken as they are, not computed again: a changed one shows
    changed = TemplateLookup.build(items, known=(pks[:1], mat[:1] ^ 1))
    assert not np.array_equal(plain._keys, changed._keys)
    assert np.array_equal(np.sort(plain._pk_of), np.sort(changed._pk_of))


def test_stored_band_keys_are_those_of_the_masked_texts_under_the_same_params(
    tmp_path: Path,
) -> None:
    import dataclasses
    import json

    from adsentry.link.lookup import stored_band_keys
    from adsentry.link.networks import stored_masked_texts
    from adsentry.link.templates import DEFAULT_PARAMS, band_key_matrix
    from adsentry.pipeline import analyze
    from adsentry.store import open_store

    src = tmp_path / "ads.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": f"a{i}", "body": t + " call 619-555-01" + f"{i:02d}"}) + "\n"
            for i, t in enumerate(texts(30, 7))
        )
    )
    store = open_store(tmp_path / "x.db")
    try:
        assert stored_band_keys(store) is None  # nothing linked yet
        analyze([src], store, db_path=tmp_path / "x.db")
        known = stored_band_keys(store)
        assert known is not None
        stored = list(stored_masked_texts(store))
        ok, keys = band_key_matrix([t for _, _, t in stored])
        assert known[0].tolist() == [a.pk for (a, _, _), e in zip(stored, ok, strict=True) if e]
        assert np.array_equal(known[1], keys[ok])
        other = dataclasses.replace(DEFAULT_PARAMS, threshold=0.7)
        assert stored_band_keys(store, other) is None  # other params: computed afresh
    finally:
        store.close()


def test_set_similarity_equals_the_reference_similarity() -> None:
    ts = texts(30, 2)
    feats = [as_sets(features(t)) for t in ts]
    sims = similarity_to(feats[0], feats[1:])
    for t, s in zip(ts[1:], sims, strict=True):
        assert abs(s - similarity(ts[0], t)) < 1e-12


def test_similarities_over_held_features_equal_the_reference() -> None:
    ts = texts(40, 4)
    stored = [(10 + i, t) for i, t in enumerate(ts[:30])]
    lookup = TemplateLookup.build(stored)
    lookup.add(77, ts[30])
    pks = [pk for pk, _ in stored] + [77, 12345]
    for query in ts[31:36]:
        got = lookup.similarities(features(query), pks)
        assert got[-1] is None  # not indexed
        for pk, sim in zip(pks[:-1], got[:-1], strict=True):
            text = dict([*stored, (77, ts[30])])[pk]
            assert sim is not None and abs(sim - similarity(query, text)) < 1e-12


def test_similarities_of_many_texts_at_once_equal_one_by_one() -> None:
    ts = texts(40, 5)
    lookup = TemplateLookup.build([(10 + i, t) for i, t in enumerate(ts[:30])])
    lookup.add(77, ts[30])
    rnd = random.Random(0)
    items = [
        (features(q), rnd.sample([*range(10, 40), 77, 555], k=rnd.randint(0, 12)))
        for q in [*ts[31:38], "tiny"]
    ]
    together = lookup.similarities_many(items)
    assert together == [lookup.similarities(f, pks) for f, pks in items]
    assert together == [[lookup.similarities(f, [pk])[0] for pk in pks] for f, pks in items]
