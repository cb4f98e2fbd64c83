"""The location extractor: places named in titles and bodies, as written, with honest
spans, following the labelling rules of shared/data/gold/README.md (names-locations)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adsentry.evaluate import evaluate
from adsentry.extract import extract_all
from adsentry.extract.location import boilerplate_start
from adsentry.model import Ad, Entity

GOLD = Path("/work/shared/data/gold/names-locations.jsonl")


def locations(title: str = "", body: str = "", location: str = "", url: str = "") -> list[Entity]:
    ad = Ad(ad_id="t1", source="test", title=title, body=body, location=location, url=url)
    found = extract_all(ad, names=["location"])
    for e in found:
        assert e.kind == "location" and e.extractor == "location"
        assert ad.text_of(e.field)[e.start : e.end] == e.text  # honest spans
    return found


def texts(title: str = "", body: str = "") -> list[str]:
    return [e.text for e in locations(title, body)]


def test_values_are_normalized_texts_as_written() -> None:
    found = locations(body="I'll travel all over OC. New in Los Angeles")
    assert [(e.text, e.value, e.field) for e in found] == [
        ("OC", "Orange County, CA", "body"),
        ("Los Angeles", "Los Angeles, CA", "body"),
    ]
    assert texts(title="Irvine's Premier Luxury Girlfriend - 21") == ["Irvine"]
    assert texts(title="6615550108SACRAMENTO better than her - 20") == ["SACRAMENTO"]
    assert texts(body="PIT STOP 9050 SLAUSON AVE PICO RIVERA, 90660") == ["PICO RIVERA"]


def test_abbreviations_only_in_a_place_context() -> None:
    assert texts(body="la mejor de la ciudad, soy la chica") == []
    assert texts(title="SOY LA MEJOR - 22") == []
    assert texts(body="Hello I'm Jiselle just arrived to LA. Would love to") == ["LA"]
    assert texts(title='Your trip to the "City Of Angels" with this L.A. Woman!') == [
        "City Of Angels",
        "L.A.",
    ]
    assert texts(body="Traveling all over SD. Hope you choose right") == ["SD"]
    assert texts(title="Marina District SF - 19") == ["Marina District", "SF"]


def test_origins_ethnicities_and_names_are_left_out() -> None:
    assert texts(body="I'm 21 years old Asian girl from Singapore.") == []
    assert texts(body="My name is Sofia, from Costa Rica") == []
    assert texts(body="a mix of Panamanian & Korean, Dominican too") == []
    assert texts(body="Hello boys, I am Lena from Russia") == []
    assert texts(body="Hi my name is Paris. Call LYNN 702-555-0127") == []
    assert texts(body="Exotic mix Asian/Latina playmate") == []


def test_streets_intersections_and_addresses() -> None:
    body = "8155 Santa Monica Blvd West Hollywood,CA 90046"
    assert [(e.text, e.value) for e in locations(body=body)] == [
        ("West Hollywood", "West Hollywood, CA")
    ]
    assert texts(body="145 Waverly Pl San Francisco, California 94108") == ["San Francisco"]
    assert texts(title="Camila Manchester y figueroa - 34") == []
    assert texts(body="( Mesa Ridge Ct, San Diego ,CA 92121)") == ["San Diego"]
    assert texts(body="off 805s freeway exit telegraph canyon Road") == []


def test_reference_points_and_lists() -> None:
    body = (
        "I am located in KoreaTown near Wilshire and Western which is about 3 miles "
        "west of downtown Los Angeles."
    )
    assert texts(body=body) == ["KoreaTown", "downtown Los Angeles"]
    body = "I travel also Pleasant hill , Concord , Walnut Creek"
    assert texts(body=body) == ["Pleasant hill", "Concord", "Walnut Creek"]
    assert texts(body="My pics are real hollywood studio city Beverly Hills") == [
        "hollywood",
        "studio city",
        "Beverly Hills",
    ]
    assert texts(body="near LAX, 5 minutes from Inglewood") == ["LAX", "Inglewood"]


def test_spanish_and_danish_text() -> None:
    assert texts(body="Estoy visitando inland empire, hermosa chica") == ["inland empire"]
    assert texts(body="La mejor de inland empire, llámame") == ["inland empire"]
    found = locations(body="Diskret pige i København, tæt på Nørrebro og Vesterbro")
    assert [(e.text, e.value) for e in found] == [
        ("København", "Copenhagen, Denmark"),
        ("Nørrebro", "Nørrebro, Copenhagen, Denmark"),
        ("Vesterbro", "Vesterbro, Copenhagen, Denmark"),
    ]


def test_only_title_and_body_are_read() -> None:
    found = locations(
        title="Sweet and sexy - 22",
        body="Call me now",
        location="Downtown, Los Angeles",
        url="http://losangeles.backpage.com/WomenSeekMen/sweet/1",
    )
    assert found == []


def test_site_boilerplate_is_left_out() -> None:
    title = "Gorgeous Blonde - In call $250 hour - Melbourne escorts - backpage.com"
    assert boilerplate_start(title) == title.index(" - Melbourne")
    assert texts(title=title) == []
    title = "Hot Blonde - 07400123456 - Central London - London escorts - backpage.com"
    assert texts(title=title) == ["Central London"]
    assert boilerplate_start("Sweet Blonde in Irvine - 23") == len("Sweet Blonde in Irvine - 23")


def test_spans_are_honest_with_emoji_and_lookalikes() -> None:
    title = "💋𝐒𝐚𝐧 𝐃𝐢𝐞𝐠𝐨💋 ✨ visiting OAKLAND✨ - 23"
    found = locations(title=title)
    assert [e.value for e in found] == ["San Diego, CA", "Oakland, CA"]
    assert [e.text for e in found] == ["𝐒𝐚𝐧 𝐃𝐢𝐞𝐠𝐨", "OAKLAND"]


@pytest.mark.skipif(not GOLD.exists(), reason="shared gold data not available")
def test_gold_f1_at_least_080() -> None:
    (score,) = evaluate(GOLD, "location")
    assert score.f1 >= 0.80, score.to_dict()
