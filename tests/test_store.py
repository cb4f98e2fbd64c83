"""Store: versions, idempotent writes, quarantine, counts, search, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from adsentry.errors import StoreError
from adsentry.io.readers import Rejected
from adsentry.model import Ad, Entity
from adsentry.store import open_store


def ad(ad_id: str, body: str, sha: str, source: str = "s") -> Ad:
    return Ad(ad_id=ad_id, source=source, title=f"t {ad_id}", body=body, raw_sha256=sha)


def phone(value: str, start: int, text: str) -> Entity:
    return Entity("phone", value, "body", start, start + len(text), text, False, "phone")


def test_write_twice_stores_once_and_versions(tmp_path: Path) -> None:
    store = open_store(tmp_path / "x.db")
    a1 = ad("1", "call 619-555-0142", "h1")
    e1 = [phone("+16195550142", 5, "619-555-0142")]
    r = store.write_batch([(a1, e1), (ad("2", "hello", "h2"), [])])
    assert (r.stored, r.new_versions, r.unchanged) == (2, 0, 0)
    assert r.entities == {"phone": 1}
    r = store.write_batch([(a1, e1), (ad("2", "hello", "h2"), [])])
    assert (r.stored, r.new_versions, r.unchanged) == (0, 0, 2)
    # a changed record under the same key: a new version, the old one kept
    r = store.write_batch([(ad("1", "now different", "h1b"), [])])
    assert (r.stored, r.new_versions) == (0, 1)
    s = store.stats()
    assert (s["ads"], s["versions"]) == (2, 3)
    # the old version's phone no longer counts among current ads
    assert s["entities"] == {}
    assert store.ads_with_entity("phone", "+16195550142") == []
    # re-sending the first version is recognised as already stored
    r = store.write_batch([(a1, e1)])
    assert r.unchanged == 1
    store.close()


def test_same_key_twice_in_one_batch(tmp_path: Path) -> None:
    store = open_store(tmp_path / "x.db")
    r = store.write_batch([(ad("1", "v1", "a"), []), (ad("1", "v2", "b"), [])])
    assert (r.stored, r.new_versions) == (1, 1)
    hits = store.search_text("v2")
    assert [(h.ad_id, h.version, h.is_current) for h in hits] == [("1", 2, True)]
    assert store.search_text("v1") == []  # old version is not current
    assert store.stats()["ads"] == 1


def test_same_id_in_two_sources_are_two_ads(tmp_path: Path) -> None:
    store = open_store(tmp_path / "x.db")
    store.write_batch([(ad("1", "a", "h", source="s1"), []), (ad("1", "a", "h", source="s2"), [])])
    assert store.stats()["sources"] == {"s1": 1, "s2": 1}


def test_quarantine_once_per_record(tmp_path: Path) -> None:
    store = open_store(tmp_path / "x.db")
    rej = Rejected("f.jsonl", 3, "bad_json", "invalid JSON", "{", "abc")
    assert store.write_batch([], [rej]).quarantined == 1
    assert store.write_batch([], [rej]).quarantined == 0
    rows = list(store.iter_quarantine())
    assert len(rows) == 1 and rows[0][1]["reason"] == "bad_json" and rows[0][1]["line"] == 3


def test_fulltext_and_entity_lookup(tmp_path: Path) -> None:
    store = open_store(tmp_path / "x.db")
    store.write_batch(
        [
            (ad("1", "Sexy Latina in Chula Vista", "1"), [phone("+16195550142", 0, "x")]),
            (ad("2", "Nueva en la ciudad", "2"), [phone("+16195550142", 0, "y")]),
            (ad("3", "Café au lait", "3"), []),
        ]
    )
    assert [a.ad_id for a in store.search_text("latina")] == ["1"]
    assert [a.ad_id for a in store.search_text("cafe")] == ["3"]  # diacritics folded
    assert sorted(a.ad_id for a in store.ads_with_entity("phone", "+16195550142")) == ["1", "2"]
    assert store.top_values("phone") == [("+16195550142", 2)]
    with pytest.raises(StoreError, match="cannot parse the search query"):
        store.search_text('"unbalanced')


def test_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open database"):
        open_store(bad)
    with pytest.raises(StoreError, match="no such database"):
        open_store(tmp_path / "missing.db", create=False)
    with pytest.raises(StoreError, match="does not exist"):
        open_store(tmp_path / "no" / "such" / "x.db")


def test_the_screening_lookups_name_the_database_when_it_fails(tmp_path: Path) -> None:
    # they run on the driver's cursor, past SQLAlchemy: its errors must still be StoreError
    import sqlite3

    path = tmp_path / "case.db"
    store = open_store(path)
    try:
        with sqlite3.connect(path) as raw:
            raw.execute("ALTER TABLE ads RENAME TO gone")
        for call in (
            store.data_version,
            lambda: store.keys_of([1]),
            lambda: store.current_pks([("s", "a")]),
            lambda: store.superseded_pks([("s", "a")]),
        ):
            with pytest.raises(StoreError, match=r"case\.db: .* failed: no such table: ads"):
                call()
    finally:
        store.close()


def test_link_entities_of_gives_the_kinds_asked_by_ad_field_and_offset(tmp_path: Path) -> None:
    from adsentry.store.base import LinkEntity

    store = open_store(tmp_path / "x.db")
    body = "Mia here, call 619-555-0142 or six1nine 555 0143"
    ents = [
        Entity("phone", "+16195550143", "body", 31, 48, "six1nine 555 0143", True, "phone"),
        Entity("name", "Mia", "body", 0, 3, "Mia", False, "name"),
        Entity("phone", "+16195550142", "body", 15, 27, "619-555-0142", False, "phone"),
        Entity("location", "Mia", "title", 2, 3, "1", False, "location"),
    ]
    store.write_batch([(ad("1", body, "h1"), ents), (ad("2", "call 619-555-0142", "h2"), [])])
    pks = sorted(store.current_pks([("s", "1"), ("s", "2")]).values())
    got = store.link_entities_of([*reversed(pks), pks[0], 10**9], ["phone", "name"])
    p = pks[0]
    assert got == [
        LinkEntity(p, "name", "Mia", "body", 0, 3, "Mia", False),
        LinkEntity(p, "phone", "+16195550142", "body", 15, 27, "619-555-0142", False),
        LinkEntity(p, "phone", "+16195550143", "body", 31, 48, "six1nine 555 0143", True),
    ]
    assert [type(e.obfuscated) for e in got] == [bool] * 3
    assert store.link_entities_of([], ["phone"]) == []
    store.close()


def test_indicators_of_reads_back_each_code_with_its_spans_in_order(tmp_path: Path) -> None:
    from adsentry.model import Indicator, Span

    store = open_store(tmp_path / "x.db")
    young = Indicator(
        "youth_language",
        True,
        "JRSA",
        (Span("title", 0, 5, "young"), Span("body", 4, 9, "teen!")),
        "en",
    )
    latina = Indicator("ethnicity_stated", True, "JRSA", (Span("body", 12, 18, "latina"),), "en,es")
    new = Indicator("movement_language", False, "folk", (Span("body", 0, 3, "new"),), "en")
    a1 = Ad(ad_id="1", source="s", title="young", body="new teen! 2 latina", raw_sha256="h1")
    a2 = Ad(ad_id="2", source="s", body="new here", raw_sha256="h2")
    store.write_batch([(a1, [], [young, latina]), (a2, [], [new])])
    p1, p2 = (store.current_pks([("s", i)])[("s", i)] for i in ("1", "2"))
    want = {p1: [latina, young], p2: [new]}  # codes sorted; spans by field, then offset
    assert store.indicators_of() == want
    assert store.indicators_of([p2, 10**9]) == {p2: [new]}
    assert all(type(i.validated) is bool for i in store.indicators_of()[p1])
    # a new version of ad 2 without indicators: only current ads are read in full
    store.write_batch([(Ad(ad_id="2", source="s", body="gone", raw_sha256="h3"), [], [])])
    assert store.indicators_of() == {p1: [latina, young]}
    store.close()
