"""The gazetteer: resolving place strings, finding places in free text, guessing the
country of a location field, a URL or a title. Values checked by hand against the
places themselves (GeoNames populations decide between namesakes)."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

import pytest

from adsentry import gazetteer
from adsentry.gazetteer import Place, country_of, find_mentions, find_places, resolve


@pytest.mark.parametrize(
    ("name", "normalized", "country"),
    [
        ("melbourne", "Melbourne, Australia", "AU"),  # 5.4 M people against Florida's 85 k
        ("Los Angeles", "Los Angeles, CA", "US"),
        ("Orange County", "Orange County, CA", "US"),  # California's before Florida's
        ("OC", "Orange County, CA", "US"),
        ("L.A.", "Los Angeles, CA", "US"),
        ("København", "Copenhagen, Denmark", "DK"),
        ("Nørrebro", "Nørrebro, Copenhagen, Denmark", "DK"),
        ("sandiego", "San Diego, CA", "US"),  # a host label
        ("Whittier, CA", "Whittier, CA", "US"),
        ("London, Ontario", "London, Canada", "CA"),  # the qualifier picks the namesake
        ("London", "London, United Kingdom", "GB"),
        ("City of Sacramento", "Sacramento, CA", "US"),
        ("Inland Empire", "Inland Empire, CA", "US"),
        ("Milano", "Milan, Italy", "IT"),
        ("Pt Loma", "Point Loma, San Diego, CA", "US"),
        ("St. Louis", "St. Louis, MO", "US"),
    ],
)
def test_resolve(name: str, normalized: str, country: str) -> None:
    place = resolve(name)
    assert place is not None, name
    assert (place.normalized, place.country) == (normalized, country)


def test_resolve_unknown_and_shapes() -> None:
    assert resolve("Xyzzyville Flats") is None
    assert resolve("") is None
    p = resolve("Hollywood")
    assert isinstance(p, Place)
    assert p.kind in gazetteer.KINDS
    assert p.country == "US" and p.admin1 == "CA" and p.population > 100_000


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("Melbourne", "AU"),
        ("http://melbourne.backpage.com/FemaleEscorts/gorgeous-blonde/123", "AU"),
        ("melbourne", "AU"),
        ("pune.backpage.com", "IN"),
        ("http://london.backpage.com/FemaleEscorts/x", "GB"),
        ("http://quito.backpage.com/x", "EC"),
        ("tokyo", "JP"),
        ("milano", "IT"),
        ("perth", "AU"),
        ("delhi", "IN"),
        ("hyderabad", "IN"),  # India's 7 M against Pakistan's 1.4 M
        ("http://ontario.backpage.com/x", "CA"),  # the province
        ("http://www.escortsite.dk/profil/1", "DK"),  # no place in the host: the TLD
        ("Downtown, Glassel park, Los Angeles", "US"),
        ("Inland Empire, Ontario", "US"),  # Ontario, CA, not the province
        ("Anywhere out to you, San Francisco", "US"),
        ("Gorgeous Blonde Dolly - In call $250 - Melbourne escorts - backpage.com", "AU"),
        ("Hot Blonde - 07400123456 - Central London - London escorts - backpage.com", "GB"),
    ],
)
def test_country_of(text: str, country: str) -> None:
    assert country_of(text) == country


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello there, sweet and sexy",
        "Santa Ana",  # Santa Ana, CA (310 k) or Santa Ana, El Salvador (245 k): ambiguous
        "Asian girl from Singapore",  # an origin, not where the ad is
        "http://site3599.com/battlecreek-escorts/646-555-0119/",
    ],
)
def test_country_of_unknown_or_ambiguous(text: str) -> None:
    assert country_of(text) is None


def places(text: str) -> list[tuple[str, str]]:
    """(as written, normalized) of each place mention."""
    return [(text[a:b], p.normalized) for a, b, p in find_places(text)]


def test_find_places_spans_longest_first_non_overlapping() -> None:
    text = "Visiting San Diego, then West Hollywood and Orange County."
    found = find_places(text)
    assert [(text[a:b], p.normalized) for a, b, p in found] == [
        ("San Diego", "San Diego, CA"),
        ("West Hollywood", "West Hollywood, CA"),  # not "Hollywood"
        ("Orange County", "Orange County, CA"),  # not "Orange"
    ]
    ends = [(a, b) for a, b, _ in found]
    assert all(b1 <= a2 for (_, b1), (a2, _) in itertools.pairwise(ends))


def test_common_words_need_capital_and_context() -> None:
    assert places("come see me, an orange and a vista") == []
    assert places("Orange is my favourite colour") == []
    assert places("I am in Orange tonight") == [("Orange", "Orange, CA")]
    assert places("Best Western rooms - Come See Me") == []
    assert places("Hope you choose right") == []


def test_la_abbreviation_needs_capitals_and_context() -> None:
    assert places("la mejor de la ciudad") == []
    assert places("SOY LA MEJOR") == []
    assert places("just arrived to LA, call me") == [("LA", "Los Angeles, CA")]
    assert places("a visit with this L.A. Woman") == [("L.A.", "Los Angeles, CA")]
    assert places("all over OC and SD") == [
        ("OC", "Orange County, CA"),
        ("SD", "San Diego, CA"),
    ]


def test_given_names_are_not_places() -> None:
    assert places("Hi, my name is Paris and I love to play") == []
    assert places("Sweet LYNN 702-555-0127") == []
    assert places("Truly Irresistible - BAILEY - 25") == []
    assert places("Paris is visiting Houston this week") == [("Houston", "Houston, TX")]


def test_streets_and_addresses() -> None:
    text = "8155 Santa Monica Blvd West Hollywood,CA 90046"
    mentions = find_mentions(text)
    assert [(m.text, m.role) for m in mentions] == [
        ("West Hollywood", "place"),
        ("CA", "qualifier"),
    ]
    assert places("Camila Manchester y figueroa") == []  # an intersection
    assert places("7203 Greenleaf Ave Whittier , CA 90620")[0] == ("Whittier", "Whittier, CA")


def test_origins_and_ethnicities() -> None:
    roles = {m.text: m.role for m in find_mentions("Latina from Costa Rica, now in Oakland")}
    assert roles == {"Costa Rica": "origin", "Oakland": "place"}
    assert places("Korean and Dominican girls") == []
    assert [m.role for m in find_mentions("Lovely Taiwan gal")] == ["origin"]
    assert [m.role for m in find_mentions("5 minutes from LAX")] == ["place"]


def test_lists_carry_weak_names() -> None:
    text = "Available to the Chula Vista, Bonita, Imperial beach"
    assert [w for w, _ in places(text)] == ["Chula Vista", "Bonita", "Imperial beach"]


def test_region_hint_and_coherence() -> None:
    (m,) = find_mentions("I am in Ontario tonight", region="US")
    assert m.place.normalized == "Ontario, CA"
    (m,) = find_mentions("I am in Ontario tonight")
    assert m.place.normalized == "Ontario, Canada"
    found = find_mentions("San Francisco, Daly City, Richmond")
    assert found[-1].place.normalized == "Richmond, CA"  # not Virginia's


def test_modifier_joins_the_place() -> None:
    (m,) = find_mentions("3 miles west of downtown Los Angeles")
    assert m.text == "downtown Los Angeles"
    assert m.place.normalized == "Downtown Los Angeles, CA"


def test_cached_tables_load_under_a_second() -> None:
    gazetteer._tables()  # built (or loaded) once
    cache = gazetteer._cache_path()
    if not cache.exists():
        pytest.skip("no writable cache directory: every process builds the tables")
    t0 = time.perf_counter()
    tables = gazetteer._Tables(gazetteer._load())
    assert time.perf_counter() - t0 < 1.0
    assert tables.lookup("san diego")[1]


def test_cache_keeps_the_newest_builds_beside_the_current_one(tmp_path: Path) -> None:
    # six builds written a second apart, oldest first; the current one is the oldest
    paths = [tmp_path / f"gazetteer-{i:016x}.marshal" for i in range(6)]
    for i, p in enumerate(paths):
        p.write_bytes(b"x")
        os.utime(p, ns=(10**9 * (i + 1), 10**9 * (i + 1)))
    gazetteer._prune_cache(paths[0], keep=4)
    left = sorted(p.name for p in tmp_path.iterdir())
    # kept: the current one and the 3 newest others (5, 4, 3)
    assert left == sorted(p.name for p in [paths[0], paths[3], paths[4], paths[5]])


def test_warm_cache_builds_the_tables_once_for_later_processes(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {**os.environ, "ADSENTRY_CACHE_DIR": str(tmp_path)}
    code = (
        "from adsentry import gazetteer as g; before = g.tables_ready(); g.warm_cache(); "
        "print(before, g.tables_ready())"
    )

    def run() -> str:
        return subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()

    assert run() == "False True"  # an empty cache directory: built here
    assert [p.name.startswith("gazetteer-") for p in tmp_path.iterdir()] == [True]
    assert run() == "True True"  # a later process finds it on disk
