"""Tests for the extractors' memos of fields seen before (adsentry.extract.context).

A repost (same texts, new id) must give the same entities as the first sight, and
whatever a result depends on besides the text (the ad's phone region, the default
region) must keep two ads apart. The ad texts are made up.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adsentry.extract import EXTRACTORS, extract_all, register
from adsentry.extract.context import ExtractionContext, FieldMemo, clear_memos
from adsentry.model import Ad, Entity

BODY = "Hi I'm Mia 💋 new in town, call 0412 345 678 or 619-555-0142, 150 roses/hh, IG: mia.x"


def _ad(ad_id: str, location: str = "San Diego", body: str = BODY) -> Ad:
    return Ad(ad_id=ad_id, source="test", title="Mia - 22", body=body, location=location)


def _plain(entities: list[Entity]) -> list[tuple[object, ...]]:
    return [(e.kind, str(e.value), e.field, e.start, e.end, e.text) for e in entities]


def test_a_repost_gives_what_the_first_sight_gave() -> None:
    clear_memos()
    first = extract_all(_ad("a"))
    again = extract_all(_ad("b"))
    assert again == first
    clear_memos()
    assert extract_all(_ad("c")) == first  # and the same as computed afresh


def test_the_phone_region_keeps_reposts_in_other_countries_apart() -> None:
    clear_memos()
    us = {e.value for e in extract_all(_ad("us", location="San Diego")) if e.kind == "phone"}
    au = {e.value for e in extract_all(_ad("au", location="Melbourne")) if e.kind == "phone"}
    assert us == {"+16195550142"}
    assert "+61412345678" in au


def test_the_default_region_keeps_ads_apart() -> None:
    clear_memos()
    body = "150 roses"
    us = [e.value for e in extract_all(_ad("us", body=body), region="US") if e.kind == "price"]
    dk = [e.value for e in extract_all(_ad("dk", body=body), region="DK") if e.kind == "price"]
    assert [v["currency"] for v in us] == ["USD"]  # type: ignore[index]
    assert [v["currency"] for v in dk] == ["DKK"]  # type: ignore[index]


def test_memo_keeps_at_most_maxsize_texts_and_the_recently_used_ones() -> None:
    memo: FieldMemo[tuple[Entity, ...]] = FieldMemo(maxsize=4)  # two generations of 2
    assert memo.put("a", ()) == ()
    memo.put("b", ())
    memo.put("c", ())  # a and b become the older generation
    assert memo.get("a") == ()  # used again: moves to the newer one
    memo.put("d", ())  # c and a become the older generation, b is dropped
    assert memo.get("b") is None
    assert memo.get("a") == () and memo.get("c") == () and memo.get("d") == ()
    memo.clear()
    assert memo.get("d") is None


def test_spans_stay_honest_when_served_from_the_memo() -> None:
    clear_memos()
    extract_all(_ad("a"))
    ad = _ad("b")
    for e in extract_all(ad):
        assert getattr(ad, e.field)[e.start : e.end] == e.text
    assert _plain(extract_all(ad)) == _plain(extract_all(_ad("c")))


def test_the_ad_memo_keeps_apart_ads_whose_texts_split_differently() -> None:
    # Same characters in all, but the boundary between title and body moves: the
    # second ad's title holds the number, the first's body does.
    clear_memos()
    first = Ad(ad_id="a", source="t", title="Mia ", body="619-555-0142 call")
    second = Ad(ad_id="b", source="t", title="Mia 619-555-0142", body=" call")
    assert [(e.kind, e.field) for e in extract_all(first) if e.kind == "phone"] == [
        ("phone", "body")
    ]
    assert [(e.kind, e.field) for e in extract_all(second) if e.kind == "phone"] == [
        ("phone", "title")
    ]


def test_the_ad_memo_keeps_apart_sources_with_their_own_region() -> None:
    clear_memos()
    body = "call 0412 345 678"
    a = Ad(ad_id="a", source="au-site", title="Mia", body=body, location="")
    b = Ad(ad_id="b", source="us-site", title="Mia", body=body, location="")
    regions = {"au-site": "AU"}
    assert [e.value for e in extract_all(a, source_regions=regions) if e.kind == "phone"] == [
        "+61412345678"
    ]
    assert [e.value for e in extract_all(b, source_regions=regions) if e.kind == "phone"] == []


def test_a_repost_is_answered_from_the_ad_memo_with_a_list_of_its_own() -> None:
    clear_memos()
    first = extract_all(_ad("a"))
    first.clear()  # the caller owns the list it gets
    again = extract_all(_ad("b"))
    assert again and again == extract_all(_ad("c"))


def test_an_extractor_registered_later_runs_on_reposts_too() -> None:
    clear_memos()
    extract_all(_ad("a"))
    try:

        @register("test_marker")
        def _marker(ctx: ExtractionContext) -> list[Entity]:
            return [Entity("marker", "x", "title", 0, 3, "Mia", False, "test_marker")]

        assert "marker" in {e.kind for e in extract_all(_ad("b"))}  # a repost of "a"
    finally:
        EXTRACTORS.pop("test_marker", None)
        clear_memos()


@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 20)), max_size=12),
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 20)), max_size=6),
)
def test_a_span_set_tells_what_checking_each_span_tells(
    spans: list[tuple[int, int]], added: list[tuple[int, int]]
) -> None:
    # spans as extractors take them: unsorted, overlapping, touching or empty, some
    # given at the start and some added one by one
    from adsentry.extract.context import SpanSet

    pairs = [(s, s + n) for s, n in spans]
    taken = SpanSet(pairs)
    for s, n in added:
        taken.add(s, s + n)
        pairs.append((s, s + n))
    for start in range(-2, 84):  # every place a candidate can be
        for end in (start, start + 1, start + 2, start + 7):
            expected = end > start and any(s < end and start < e for s, e in pairs if e > s)
            assert taken.overlaps(start, end) == expected, (start, end)
