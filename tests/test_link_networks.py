"""Linking ads into networks: identifier links, generic identifiers, templates, export."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

from typer.testing import CliRunner

from adsentry.cli import app
from adsentry.link.identifiers import placeholder_reason
from adsentry.link.networks import relink
from adsentry.model import Ad, Entity
from adsentry.store import Store, open_store

runner = CliRunner()

CITIES = [
    ("Los Angeles", "CA"),
    ("San Diego", "CA"),
    ("Phoenix", "AZ"),
    ("Tucson", "AZ"),
    ("Las Vegas", "NV"),
    ("Reno", "NV"),
    ("Denver", "CO"),
    ("Dallas", "TX"),
    ("Houston", "TX"),
    ("Miami", "FL"),
    ("Seattle", "WA"),
    ("Portland", "OR"),
]
NAMES = ["Mia", "Lola", "Ava", "Zoe", "Kim", "Ivy", "Jade", "Nina", "Rose", "Tia", "Gia", "Uma"]
# Unrelated filler texts, so that no two ads below are template copies by accident.
WORDS = (
    "sunset harbor velvet quiet meadow silver ember cobalt lantern orchard willow "
    "granite saffron breeze marble thunder crimson pepper violet falcon cedar amber "
    "raven lotus canyon prairie copper maple ivory tundra"
).split()


VOCABULARY = (
    "sunset harbor velvet quiet meadow silver ember cobalt lantern orchard willow granite "
    "saffron breeze marble thunder crimson pepper violet falcon cedar amber raven lotus "
    "canyon prairie copper maple ivory tundra glacier juniper mosaic nectar opal quartz "
    "ripple sable tangerine umber vapor wander yonder zephyr anchor bramble cinder dune "
    "fable garnet hollow indigo jasper kestrel lagoon mirage nimbus obsidian pebble"
).split()


def filler(i: int) -> str:
    """A text of words that no other index shares in order (distinct 2-grams)."""
    k = len(WORDS)
    return " ".join(WORDS[(i * 7 + j * (i % 5 + 1) * 3) % k] for j in range(6)) + f" {i}"


def ad_with(
    ad_id: str, name: str, city: str, state: str, phone: str, i: int
) -> tuple[Ad, list[Entity]]:
    """One ad: ``name`` in the title; body "<filler> in <city>. Call <phone>"."""
    title = f"{name} here"
    body = f"{filler(i)} in {city}. Call {phone}"
    ents = [
        Entity("name", name, "title", 0, len(name), name, False, "name"),
        Entity(
            "location",
            f"{city}, {state}",
            "body",
            body.index(city),
            body.index(city) + len(city),
            city,
            False,
            "location",
        ),
    ]
    if phone:
        at = body.index(phone)
        e164 = "+1" + "".join(ch for ch in phone if ch.isdigit())
        ents.append(Entity("phone", e164, "body", at, at + len(phone), phone, False, "phone"))
    ad = Ad(ad_id=ad_id, source="s", title=title, body=body, location=city, raw_sha256=ad_id)
    return ad, ents


def export(db: Path, fmt: str = "jsonl") -> str:
    r = runner.invoke(app, ["export", "networks", "--db", str(db), "--format", fmt])
    assert r.exit_code == 0, r.output
    return r.stdout


def test_obfuscated_phone_links_two_ads(tmp_path: Path) -> None:
    ads = [
        {"id": "a1", "title": "Mia", "body": "Call six one nine 555 zero one four two, incall"},
        {"id": "a2", "title": "Lola here", "body": "Spa day talk. Text 6I9-555-O142 now"},
        {"id": "a3", "title": "Nobody", "body": "Unrelated ad with no number at all, ok"},
    ]
    f = tmp_path / "ads.jsonl"
    f.write_text("".join(json.dumps(a) + "\n" for a in ads), encoding="utf-8")
    db = tmp_path / "x.db"
    r = runner.invoke(app, ["analyze", str(f), "--db", str(db), "--workers", "1"])
    assert r.exit_code == 0, r.output
    assert "relink: 1 networks" in r.stderr

    rows = [json.loads(line) for line in export(db).splitlines()]
    by_id = {row["ad_id"]: row for row in rows}
    nid = by_id["a1"]["network_id"]
    assert nid is not None and nid.startswith("n-")
    assert by_id["a2"]["network_id"] == nid
    assert by_id["a3"]["network_id"] is None

    r = runner.invoke(app, ["network", nid, "--db", str(db), "--json"])
    assert r.exit_code == 0, r.output
    detail = json.loads(r.stdout)
    assert detail["summary"]["ads"] == 2
    assert detail["summary"]["phones"] == ["+16195550142"]
    [ident] = detail["identifiers"]
    assert (ident["kind"], ident["value"]) == ("phone", "+16195550142")
    assert {a["ad_id"] for a in ident["ads"]} == {"a1", "a2"}
    assert all(a["obfuscated"] for a in ident["ads"])
    r = runner.invoke(app, ["network", nid, "--db", str(db)])
    assert r.exit_code == 0 and "phone +16195550142 on 2 ad(s)" in r.stdout


def write(store: Store, batch: list[tuple[Ad, list[Entity]]]) -> None:
    store.write_batch(batch)


MANY_CITIES = [
    (city, state)
    for state, cities in {
        "CA": ["Los Angeles", "San Diego", "Fresno", "Oakland"],
        "AZ": ["Phoenix", "Tucson", "Mesa"],
        "NV": ["Las Vegas", "Reno", "Henderson"],
        "CO": ["Denver", "Aurora", "Boulder"],
        "TX": ["Dallas", "Houston", "Austin", "El Paso"],
        "FL": ["Miami", "Tampa", "Orlando", "Jacksonville"],
        "WA": ["Seattle", "Spokane", "Tacoma"],
        "OR": ["Portland", "Salem", "Eugene"],
        "GA": ["Atlanta", "Savannah", "Augusta"],
        "IL": ["Chicago", "Peoria", "Rockford"],
        "NY": ["Buffalo", "Rochester", "Albany"],
        "MN": ["Minneapolis", "Duluth", "Rochester", "Saint Paul"],
    }.items()
    for city in cities
][:40]


def test_generic_number_in_many_cities_links_nothing(tmp_path: Path) -> None:
    """The issue's case: a number on 300 ads with 200 names in 40 cities (12 states)."""
    store = open_store(tmp_path / "x.db")
    batch = []
    for i in range(300):
        city, state = MANY_CITIES[i % len(MANY_CITIES)]
        ad, ents = ad_with(f"g{i}", f"Name{i % 200:03d}", city, state, "213-555-0199", i)
        # unrelated wording in every ad, so that no template links them either
        words = random.Random(i).sample(VOCABULARY, 12)
        ad.body = " ".join(words) + ad.body[ad.body.index(" in ") :]
        shift = len(" ".join(words)) - len(filler(i))
        ents = [
            Entity(e.kind, e.value, e.field, e.start + shift, e.end + shift, e.text, False, e.kind)
            if e.field == "body"
            else e
            for e in ents
        ]
        batch.append((ad, ents))
    write(store, batch)
    report = relink(store)
    assert report.networks == 0 and report.generic == 1
    [(kind, value, reason, n)] = store.generic_identifiers()
    assert (kind, value, n) == ("phone", "+12135550199", 300)
    assert reason.startswith("spread: 40 places in 12 states")
    assert all(nid is None for _, _, _, nid, _ in store.link_assignments())
    store.close()


def test_a_group_phone_touring_a_few_states_is_not_generic(tmp_path: Path) -> None:
    """One phone, several names, many cities in three states: the pattern investigators
    look for, not a generic number."""
    store = open_store(tmp_path / "x.db")
    cities = [c for c in MANY_CITIES if c[1] in ("CA", "AZ", "NV")]
    batch = [
        ad_with(f"t{i}", ["Mia", "Lola", "Ava"][i % 3], *cities[i % len(cities)],
                "702-555-0123", i)
        for i in range(30)
    ]  # fmt: skip
    write(store, batch)
    report = relink(store)
    assert report.generic == 0
    assert report.networks == 1 and report.ads_in_networks == 30
    store.close()


def test_one_phone_many_names_one_city_is_not_generic(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    store = open_store(db)
    batch = [ad_with(f"p{i}", NAMES[i], "San Diego", "CA", "619-555-0142", i) for i in range(12)]
    write(store, batch)
    report = relink(store)
    assert report.generic == 0
    assert report.networks == 1 and report.ads_in_networks == 12
    assert store.generic_identifiers() == []
    store.close()


def test_placeholders() -> None:
    assert placeholder_reason("phone", "+11234567890") is not None
    assert placeholder_reason("phone", "+10000000000") is not None
    assert placeholder_reason("phone", "+19876543210") is not None
    assert placeholder_reason("phone", "+16195550142") is None
    assert placeholder_reason("email", "test@gmail.com") is not None
    assert placeholder_reason("email", "noreply@site.com") is not None
    assert placeholder_reason("email", "user0337@example.com") is None  # anonymized, real


def test_placeholder_number_links_nothing(tmp_path: Path) -> None:
    store = open_store(tmp_path / "x.db")
    write(store, [ad_with(f"z{i}", NAMES[i], "Reno", "NV", "123-456-7890", i) for i in range(3)])
    report = relink(store)
    assert report.networks == 0
    [(_, value, reason, _)] = store.generic_identifiers()
    assert value == "+11234567890" and reason.startswith("placeholder")
    store.close()


def test_export_one_line_per_ad_with_nulls_and_relink_is_stable(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    store = open_store(db)
    batch = [
        ad_with("a", "Mia", "San Diego", "CA", "619-555-0142", 1),
        ad_with("b", "Ava", "San Diego", "CA", "619-555-0142", 2),
        ad_with("c", "Zoe", "Reno", "NV", "775-555-0100", 3),
    ]
    # two near copies of one template, with different phones
    text = "Brand new sweet petite girl visiting your city this weekend only, call now "
    for k, (ad_id, name) in enumerate([("d", "Kim"), ("e", "Ivy")]):
        phone = f"702-555-010{k + 1}"
        body = text + phone
        e164 = "+1" + phone.replace("-", "")
        ents = [Entity("phone", e164, "body", len(text), len(body), phone, False, "phone")]
        batch.append(
            (Ad(ad_id=ad_id, source="s", title=f"{name} here", body=body, raw_sha256=ad_id), ents)
        )
    write(store, batch)
    relink(store)
    store.close()

    first = export(db)
    rows = [json.loads(line) for line in first.splitlines()]
    assert [r["ad_id"] for r in rows] == ["a", "b", "c", "d", "e"]
    assert all(set(r) == {"ad_id", "source", "network_id", "template_id"} for r in rows)
    by = {r["ad_id"]: r for r in rows}
    assert by["a"]["network_id"] == by["b"]["network_id"] is not None
    assert by["a"]["template_id"] is None
    assert by["c"] == {"ad_id": "c", "source": "s", "network_id": None, "template_id": None}
    assert by["d"]["network_id"] == by["e"]["network_id"] is not None
    assert by["d"]["template_id"] == by["e"]["template_id"] is not None
    assert by["d"]["network_id"] != by["a"]["network_id"]

    table = list(csv.DictReader(io.StringIO(export(db, "csv"))))
    assert [r["ad_id"] for r in table] == ["a", "b", "c", "d", "e"]
    assert table[2]["network_id"] == "" and table[2]["template_id"] == ""

    r = runner.invoke(app, ["network", by["d"]["network_id"], "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert "template t-" in r.stdout and "[SLOT1]" in r.stdout

    r = runner.invoke(app, ["relink", "--db", str(db)])
    assert r.exit_code == 0 and r.stdout == ""
    assert r.stderr.startswith("relink: 2 networks, 4 of 5 ads in networks, 1 templates")
    assert export(db) == first
    assert export(db, "csv") == export(db, "csv")


def test_export_before_any_relink(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    store = open_store(db)
    write(store, [ad_with("a", "Mia", "Reno", "NV", "775-555-0100", 1)])
    store.close()
    rows = [json.loads(line) for line in export(db).splitlines()]
    assert rows == [{"ad_id": "a", "source": "s", "network_id": None, "template_id": None}]
    r = runner.invoke(app, ["network", "n-0", "--db", str(db)])
    assert r.exit_code == 1 and "no network" in r.stderr


def test_a_rerun_with_nothing_new_keeps_the_links(tmp_path: Path) -> None:
    f = tmp_path / "ads.jsonl"
    f.write_text(json.dumps({"id": "a1", "body": "Call 619-555-0142"}) + "\n")
    db = tmp_path / "x.db"
    args = ["analyze", str(f), "--db", str(db), "--workers", "1"]
    assert "relink: 0 networks" in runner.invoke(app, args).stderr
    assert "networks are up to date" in runner.invoke(app, args).stderr
    f.write_text(f.read_text() + json.dumps({"id": "a2", "body": "Text 619.555.0142 now"}) + "\n")
    # linked incrementally: the new ad and the one it shares a phone with
    assert "links (2 ads relinked): 1 networks, 2 of 2 ads" in runner.invoke(app, args).stderr


def test_network_command_explains_unknown_and_template_ids(tmp_path: Path) -> None:
    f = tmp_path / "ads.jsonl"
    rows = [
        {"id": "a1", "title": "Mia", "body": "Sweet Mia waiting, call 619-555-0142 now"},
        {"id": "a2", "title": "Ava", "body": "Ava here for you, text 619-555-0142"},
    ]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    db = tmp_path / "x.db"
    assert runner.invoke(app, ["analyze", str(f), "--db", str(db), "--workers", "1"]).exit_code == 0
    r = runner.invoke(app, ["network", "t-0123", "--db", str(db)])
    assert r.exit_code == 1 and "is a template id; network ids start with n-" in r.stderr
    r = runner.invoke(app, ["network", "n-0123", "--db", str(db)])
    assert r.exit_code == 1 and "no network 'n-0123' in this database" in r.stderr
    [nid] = {json.loads(x)["network_id"] for x in export(db).splitlines()}
    r = runner.invoke(app, ["network", nid, "--db", str(db)])
    # no place named in title or body: the line says so rather than ending empty
    assert "cities (0): (none extracted from title or body)" in r.stdout
    assert "phones (1): +16195550142" in r.stdout
