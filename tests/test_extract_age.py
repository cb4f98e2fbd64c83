"""Tests for adsentry.extract.age: stated ages, their spans, and the false-hit traps.

Expected values are worked out by hand from the rules in the module docstring; the ad
texts are made up (nothing is copied from shared/data). The gold and corpus checks at
the end read shared/data at run time and are skipped where it is missing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adsentry.evaluate import evaluate
from adsentry.extract import EXTRACTORS, extract_all
from adsentry.extract.age import MAX_AGE, MIN_AGE, extract_ages
from adsentry.extract.context import ExtractionContext
from adsentry.model import Ad, Entity

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GOLD = DATA / "gold" / "ages.jsonl"
CORPUS = DATA / "backpage-ca-2017" / "ads.jsonl"


def ages(text: str, field: str = "body") -> list[Entity]:
    """Run the age extractor over an ad whose ``field`` is ``text``; check the spans."""
    ad = Ad(ad_id="t", source="test", **{field: text})
    found = extract_ages(ExtractionContext(ad))
    for e in found:
        assert e.kind == "age" and e.extractor == "age"
        assert ad.text_of(e.field)[e.start : e.end] == e.text, e
        assert isinstance(e.value, int)
    return found


def values(text: str, field: str = "body") -> list[int]:
    return sorted(e.value for e in ages(text, field))


# ------------------------------------------------------------------ the forms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sweet 21yo latina", [21]),
        ("Petite 21 yrs, new in town", [21]),
        ("Age: 23 Height: 5'5", [23]),
        ("age 24 / 36C", [24]),
        ("Hi, I'm 22 years old and ready", [22]),
        ("im 21! call me", [21]),
        ("she's 19 and sweet", [19]),
        ("I am 21yrs, 5'3, 34C-24-34", [21]),
        ("a 25 year old college girl", [25]),
        ("Kim 23 y/o 5'2", [23]),
        ("Jade 22 y.o. petite", [22]),
        ("fun 24-year-old", [24]),
        ("30 years young and wild", [30]),
        ("Tengo 19 años, soy nueva", [19]),
        ("tengo 20 y busco diversión", [20]),
        ("Jeg er 22 år og ny i byen", [22]),
        ("pige på 23 år gammel", [23]),
        ("Models 19-30 years of age wanted", [19, 30]),
        ("Age 24-27, petite", [24, 27]),
        ("classy (45 YEARS OLD) lady", [45]),
        ("Poster's age: 67", [67]),
    ],
)
def test_stated_forms(text: str, expected: list[int]) -> None:
    assert values(text) == expected


def test_spelled_age_spans_the_words_as_written() -> None:
    text = "Hey there, I'm twenty-two years old"
    (e,) = ages(text)
    assert e.value == 22
    assert e.text == "twenty-two"
    assert (e.start, e.end) == (text.index("twenty"), text.index("twenty") + 10)
    assert e.obfuscated


def test_spanish_spelled_age() -> None:
    (e,) = ages("soy nueva, tengo veintidós años")
    assert (e.value, e.text, e.obfuscated) == (22, "veintidós", True)


def test_plain_digits_are_not_obfuscated_and_span_only_the_number() -> None:
    text = "Sexy 21yo"
    (e,) = ages(text)
    assert (e.text, e.start, e.end, e.obfuscated) == ("21", 5, 7, False)


# ------------------------------------------------------------------ title suffix


def test_title_suffix_is_the_site_age() -> None:
    text = "Sweet Latina in town - 24"
    (e,) = ages(text, "title")
    assert (e.value, e.field, e.text, e.start) == (24, "title", "24", len(text) - 2)


def test_title_suffix_after_a_phone_number() -> None:
    assert values("Call me 619-555-0142 - 23", "title") == [23]


def test_title_suffix_out_of_range_is_dropped() -> None:
    assert values("Roses special - 80", "title") == []
    assert MIN_AGE == 18 and MAX_AGE == 65


def test_suffix_inside_a_scraped_page() -> None:
    # title and body run together: " - 29 " after a word, before the next sentence
    assert values("Lovely Models Wanted - 27 Great pay") == [27]
    # a count after the dash is no age; a number list is no title suffix
    assert values("Tampa - 4 Photos - 31 Ads") == []
    assert values("Call 415 - 555 - 0199 - 24 Date: June") == []
    assert values("Incall - 30 min special") == []


# ------------------------------------------------------------------ minors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm 17", [17]),
        ("17 years old", [17]),
        ("Age: 16", [16]),
        ("I'm 16 yo", [16]),
        ("Im 13", []),  # below 14: not read as an age
        ("new girl 17 yrs", []),  # a bare "yrs" is a weak cue: 18..65 only
    ],
)
def test_stated_minor_ages_are_kept(text: str, expected: list[int]) -> None:
    assert values(text) == expected


# ------------------------------------------------------------------ traps


@pytest.mark.parametrize(
    "text",
    [
        "34D-24-36",
        "stats 36-24-36, 5'4\" 120lbs",
        "5'4\"",
        "I'm 5'4 and curvy",
        "$200/hr",
        "qv 80 hh 120",
        "12/25/2017",
        "90210",
        "#263289",
        "2 girls 1 price",
        "Available 24/7",
        "100% real",
        "I'm 100% real",
        "Call 619-555-0142",
        "(619) 555-0142",
        "in 2017",
        "open 10am-11pm, 9:30",
        "in my 20s",
        "early 30s",
        "I'm 20 minutes from LAX",
        "been doing this for 20 years",
        "22 years experience",
        "I'm a 36 DDD",
    ],
)
def test_traps_give_no_age(text: str) -> None:
    assert values(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "over 18",
        "18+ only",
        "No men under 30",
        "Gentlemen over 40 years old",
        "Must be over 42yrs old",
        "No one under 35 years of age",
        "GUYSOVER 28yrs+ONLY",
        "Males ages 35 and up",
        "Gentlemen 40yrs to 75yrs of age",
        "40 and over only",
        "by entering I confirm I am at least 18 years of age",
        "you must be 18 years of age or older",
        "exit now if you are less than 18 years old",
    ],
)
def test_bounds_are_not_ages(text: str) -> None:
    """Decision (module docstring): customer requirements and site disclaimers."""
    assert values(text) == []


def test_url_field_is_not_read() -> None:
    ad = Ad(ad_id="t", source="test", url="http://x.example/sexy-22yo/142882672")
    assert extract_ages(ExtractionContext(ad)) == []


def test_several_ages_and_fields() -> None:
    ad = Ad(
        ad_id="t",
        source="test",
        title="Two friends - 22",
        body="Mia 21y/o 5'2 and Lexi 23 y/o 5'5",
    )
    found = extract_all(ad, names=["age"])
    assert [(e.field, e.value) for e in found] == [("title", 22), ("body", 21), ("body", 23)]


def test_registered() -> None:
    extract_all(Ad(ad_id="t", source="test"), names=["age"])
    assert "age" in EXTRACTORS


# ------------------------------------------------------------------ figures


def test_gold_exact_share() -> None:
    """``adsentry eval shared/data/gold/ages.jsonl --kind age``: exact share >= 0.90.

    Expected misses: three site disclaimers the gold counts as 18 (bounds, see the
    module docstring; etk-age-015, -042, -044), a range written with a typo
    (etk-age-051), and one title suffix the gold left out (etk-age-036).
    """
    if not GOLD.exists():
        pytest.skip("shared/data is missing")
    (score,) = evaluate(GOLD, "age")
    assert score.exact_share >= 0.90, score.to_dict()
    assert score.precision >= 0.95, score.to_dict()


def test_site_age_agreement_on_the_corpus() -> None:
    """The site's own age (``site_age``) is among the extracted ages of nearly every ad."""
    if not CORPUS.exists():
        pytest.skip("shared/data is missing")
    total = found = 0
    with CORPUS.open(encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            ad = Ad(ad_id=rec["id"], source="bp", title=rec["title"], body=rec["body"])
            total += 1
            found += rec["site_age"] in {e.value for e in extract_all(ad, names=["age"])}
    assert found / total >= 0.995
