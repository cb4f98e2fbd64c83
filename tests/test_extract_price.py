"""Tests for adsentry.extract.price: amounts, currencies, session lengths and spans.

Expected values are worked out by hand from the rules in the module docstring; the ad
texts are made up (nothing is copied from shared/data). The gold check at the end reads
shared/data at run time and is skipped where it is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from adsentry.evaluate import evaluate
from adsentry.extract import EXTRACTORS, extract_all
from adsentry.extract.context import ExtractionContext
from adsentry.extract.price import UNIT_MINUTES, extract_prices, unit_minutes
from adsentry.model import Ad, Entity

GOLD = Path(__file__).resolve().parents[2] / "shared" / "data" / "gold" / "prices.jsonl"

Price = tuple[int | float, str, int | None]


def prices(text: str, region: str = "US", field: str = "body") -> list[Entity]:
    """Run the price extractor over an ad whose ``field`` is ``text``; check the spans."""
    ad = Ad(ad_id="t", source="test", **{field: text})
    found = extract_prices(ExtractionContext(ad, default_region=region))
    for e in found:
        assert e.kind == "price" and e.extractor == "price"
        assert ad.text_of(e.field)[e.start : e.end] == e.text, e
        assert set(e.value) == {"amount", "currency", "minutes"}
    return found


def values(text: str, region: str = "US") -> list[Price]:
    return [
        (e.value["amount"], e.value["currency"], e.value["minutes"]) for e in prices(text, region)
    ]


# ------------------------------------------------------------------ the forms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$200/hr", [(200, "USD", 60)]),
        ("150 roses", [(150, "USD", None)]),
        ("qv 80", [(80, "USD", 15)]),
        ("hh 120", [(120, "USD", 30)]),
        ("Hr 140 half 100", [(140, "USD", 60), (100, "USD", 30)]),
        ("100/qs 150/hh 250/H", [(100, "USD", 15), (150, "USD", 30), (250, "USD", 60)]),
        ("60'HH", [(60, "USD", 30)]),
        ("$120 hh $160hour", [(120, "USD", 30), (160, "USD", 60)]),
        ("1 hr. $350.00", [(350, "USD", 60)]),
        ("200 la hora", [(200, "USD", 60)]),
        ("media hora 100 dolares", [(100, "USD", 30)]),
        ("1500 kr/time", [(1500, "DKK", 60)]),
        ("halv time 800 kr", [(800, "DKK", 30)]),
        ("1.500 kr", [(1500, "DKK", None)]),
        ("80 half hr\n120 full hr", [(80, "USD", 30), (120, "USD", 60)]),
        ("2 hrs $550", [(550, "USD", 120)]),
        ("15 min $60", [(60, "USD", 15)]),
        ("90 min 300 roses", [(300, "USD", 90)]),
        ("Qv 70\nHh 110\nHr 160", [(70, "USD", 15), (110, "USD", 30), (160, "USD", 60)]),
        ("130 hh 210hr", [(130, "USD", 30), (210, "USD", 60)]),
        ("30 min $110 Hr$150", [(110, "USD", 30), (150, "USD", 60)]),
        ("SS45 HH70 HR130", [(45, "USD", 20), (70, "USD", 30), (130, "USD", 60)]),
        ("30 for 10 Min.", [(30, "USD", 10)]),
        ("$90 for half hour or $180 for hour", [(90, "USD", 30), (180, "USD", 60)]),
        ("120 roses 30 min", [(120, "USD", 30)]),
        ("€200 per hour", [(200, "EUR", 60)]),
        ("300 EUR 1 hour", [(300, "EUR", 60)]),
        ("one hour $200", [(200, "USD", 60)]),
        ("$1,500 overnight", [(1500, "USD", None)]),
        ("Donation 90 tonight", [(90, "USD", None)]),
        ("80-120 QV", [(80, "USD", 15), (120, "USD", 15)]),
        ("$99.99 special", [(99.99, "USD", None)]),
    ],
)
def test_price_forms(text: str, expected: list[Price]) -> None:
    assert values(text) == expected


def test_amount_is_an_int_when_whole() -> None:
    (e,) = prices("1 hr. $350.00")
    assert e.value["amount"] == 350 and isinstance(e.value["amount"], int)


def test_span_covers_amount_currency_and_unit() -> None:
    text = "Call me! $200/hr or 150 roses--hh"
    found = prices(text)
    assert [e.text for e in found] == ["$200/hr", "150 roses--hh"]
    assert found[0].start == text.index("$")


def test_unit_first_span() -> None:
    (e,) = prices("Ask about Qv 75 today")
    assert e.text == "Qv 75"


def test_spelled_amount_is_obfuscated() -> None:
    text = "hh two00 roses"
    (e,) = prices(text)
    assert (e.value["amount"], e.value["minutes"], e.text) == (200, 30, "hh two00 roses")
    assert e.obfuscated


def test_currency_of_the_region() -> None:
    assert values("150 roses", region="DK") == [(150, "DKK", None)]
    assert values("$150", region="CA") == [(150, "CAD", None)]
    assert values("$150", region="DK") == [(150, "USD", None)]  # "$" abroad is the US dollar
    assert values("150 roses", region="ZZ") == [(150, "XXX", None)]  # ISO 4217: no currency


# ------------------------------------------------------------------ traps


@pytest.mark.parametrize(
    "text",
    [
        "34D-24-36",
        "5'4\" 120lbs",
        "5'9/160lb/36C",
        "12/25/2017",
        "90210",
        "Suite 120, Los Angeles, CA 90210",
        "#263289",
        "2 girls 1 price",
        "Available 24/7",
        "24/7 100% real",
        "Call 619-555-0142",
        "Call (619) 555-0142 hh",
        "Hh ss 619 555 0142",
        "Happy Hour 6195550142",
        "I'm 23 yrs old",
        "Sexy 21yo",
        "in 2017",
        "open 10am-7pm, 9:30pm",
        "Room 210",
        "Busty 36HH and 42H",
        "No men over 40",
        "$10 off every day",
        "user0101@example.com",
    ],
)
def test_traps_give_no_price(text: str) -> None:
    assert values(text) == []


def test_title_suffix_is_no_price() -> None:
    ad = Ad(ad_id="t", source="test", title="Short stay special - 28")
    assert extract_prices(ExtractionContext(ad)) == []


def test_digits_after_a_phone_are_read() -> None:
    # "6195550142.90/hh": the phone ends where its ten digits end
    assert values("6195550142.90/hh.160/hr.") == [(90, "USD", 30), (160, "USD", 60)]


def test_a_bare_session_length_labels_the_next_price() -> None:
    assert values("Incall only\n30 100 roses") == [(100, "USD", 30)]


def test_registered() -> None:
    extract_all(Ad(ad_id="t", source="test"), names=["price"])
    assert "price" in EXTRACTORS


# ------------------------------------------------------------------ units


@pytest.mark.parametrize(
    ("unit", "minutes"),
    [
        ("hr", 60),
        ("hour", 60),
        ("h", 60),
        ("1 hour", 60),
        ("full hr", 60),
        ("per hour", 60),
        ("hourly", 60),
        ("fh", 60),
        ("one hour", 60),
        ("1hour", 60),
        ("HR", 60),
        ("hh", 30),
        ("hhr", 30),
        ("half hour", 30),
        ("half hr", 30),
        ("hf", 30),
        ("hlf hr", 30),
        ("half", 30),
        ("hf hr", 30),
        ("h hr", 30),
        ("qk", 15),
        ("qv", 15),
        ("qs", 15),
        ("ss", 20),
        ("2 hr", 120),
        ("2 hrs", 120),
        ("2 hour", 120),
        ("15 min", 15),
        ("45min", 45),
        ("3minutes", 3),
        ("15mins", 15),
        ("ten minutes", 10),
        ("30min.qv", 30),
        ("30", 30),
        ("", None),
        ("hummer", None),
        ("100 hr", None),
        ("overnight", None),
    ],
)
def test_unit_minutes(unit: str, minutes: int | None) -> None:
    assert unit_minutes(unit) == minutes


def test_unit_vocabulary_is_lower_case() -> None:
    assert all(key == key.lower().strip() for key in UNIT_MINUTES)
    for key in ("hr", "hh", "qv", "ss", "half hour", "2 hrs", "la hora", "/time"):
        assert key in UNIT_MINUTES


# ------------------------------------------------------------------ figures


def test_gold_f1() -> None:
    """``adsentry eval shared/data/gold/prices.jsonl --kind price`` on (amount, minutes).

    Strict F1 is held down by the gold itself: in 27 records it gives 72 amounts with
    an empty unit although the text writes a unit next to them (pe-price-119 gives its
    qv/hhr/hr list with no units, where pe-price-026, the same kind of list, gives qv,
    hh, hr; pe-price-125, the ad of pe-price-099 again, has every unit left out).
    evaluate() matches gold amounts with an empty unit on the amount alone (the gold
    README: "" means the gold gives no unit); counted so, F1 must reach 0.90.
    """
    if not GOLD.exists():
        pytest.skip("shared/data is missing")
    (score,) = evaluate(GOLD, "price")  # gold units "" are matched on the amount alone
    assert score.f1 >= 0.90, score.to_dict()
    assert score.precision >= 0.90 and score.recall >= 0.90
