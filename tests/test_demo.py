"""The demo corpus generator: determinism, shapes, and the realism it promises.

The checks read the generated records the way an analyst would (phones found in the
text, decoded by this file's own small decoder) and compare with the labels: they do
not take the generator's word for what is in the text. One test reads the generator's
table of number blocks, to check every number it could ever hand out.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import phonenumbers
import pytest

from adsentry.demo import CITY_COUNTRY, NAMES, SPAN_DAYS, generate, write_corpus

SRC = Path(__file__).resolve().parent.parent / "src"
N_ADS = 12_000
SEED = 3

Pair = tuple[dict[str, Any], dict[str, Any]]

# --- a small de-obfuscator, independent of the generator ---------------------------

_SPELLED = (
    ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"),
    ("nul", "en", "to", "tre", "fire", "fem", "seks", "syv", "otte", "ni"),
)
_DIGIT_WORDS = {w: str(i) for words in _SPELLED for i, w in enumerate(words)} | {"oh": "0"}
_TOKEN_PART = re.compile(
    "|".join(sorted(_DIGIT_WORDS, key=len, reverse=True)) + "|[0-9]|[OolI]", re.IGNORECASE
)
# A whole token (a run of ASCII letters and digits) made only of such parts.
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9])(?:" + _TOKEN_PART.pattern + r")+(?![A-Za-z0-9])", re.IGNORECASE
)
_LOOKALIKE = {"o": "0", "l": "1", "i": "1"}
# Non-ASCII digits (circled, negative circled, full-width...) to ASCII; keycap marks out.
_GLYPHS: dict[int, str | None] = {0xFE0F: None, 0x20E3: None}
for _cp in range(0x80, 0x10000):
    _d = unicodedata.digit(chr(_cp), None)
    if _d is not None:
        _GLYPHS[_cp] = str(_d)
_RUN = re.compile(r"[+(]?[0-9][0-9 ().,\-•*_]*[0-9]")
_PLAIN_RUN = re.compile(r"[+(]?[0-9][0-9 ().\-]*[0-9]")
_PART_DIGIT = {**_DIGIT_WORDS, **_LOOKALIKE, **{str(d): str(d) for d in range(10)}}
_PARTS = sorted(_PART_DIGIT, key=len, reverse=True)


def _split(low: str, i: int = 0) -> list[str] | None:
    """``low[i:]`` cut into digit words, digits and look-alikes ("treseks": tre, seks)."""
    if i == len(low):
        return []
    for part in _PARTS:
        if low.startswith(part, i):
            rest = _split(low, i + len(part))
            if rest is not None:
                return [part, *rest]
    return None


def _token(m: re.Match[str]) -> str:
    """A token made only of digit words, digits and look-alike letters, as digits."""
    tok = m.group()
    parts = _split(tok.lower())
    if parts is None or all(p in _LOOKALIKE for p in parts):
        return tok
    return "".join(_PART_DIGIT[p] for p in parts)


_LOOKALIKE_GROUP = re.compile(r"(?<=[0-9][ .\-])[OolI]{2,}(?![A-Za-z])")


def decode(text: str) -> str:
    """Text with spelled, look-alike and non-ASCII digits written as ASCII digits."""
    text = _TOKEN.sub(_token, text.translate(_GLYPHS))
    # a digit group of look-alike letters only ("555 OIOO") right after digits
    return _LOOKALIKE_GROUP.sub(lambda m: "".join(_LOOKALIKE[c.lower()] for c in m.group()), text)


@cache
def _e164(digits: str, region: str) -> str | None:
    try:
        num = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def numbers(
    text: str, region: str, run: re.Pattern[str] = _RUN, split: bool = False
) -> tuple[set[str], list[str]]:
    """E.164 of the valid numbers in ``text``, and the runs of 8+ digits that are not.

    ``split``: cut an invalid run into valid numbers, longest first from the left (a
    decoded "... 0115 to set up" reads "0115 2": the "2" is not part of the number).
    """
    valid, invalid = set(), []
    for m in run.finditer(text):
        digits = re.sub(r"[^0-9]", "", m.group())
        if len(digits) < 8:
            continue
        lead = "+" if m.group().startswith("+") else ""
        e164 = _e164(lead + digits, region)
        if e164:
            valid.add(e164)
            continue
        if not split:
            invalid.append(m.group())
            continue
        i = 0
        while len(digits) - i >= 8:
            for j in range(min(len(digits), i + 13), i + 7, -1):
                e164 = _e164((lead if i == 0 else "") + digits[i:j], region)
                if e164:
                    valid.add(e164)
                    i = j
                    break
            else:
                i += 1
    return valid, invalid


def city_of(record: dict[str, Any]) -> str:
    """The URL subdomain: the city the ad was posted in."""
    return record["url"].split("//", 1)[1].split(".", 1)[0]


def text_of(record: dict[str, Any]) -> str:
    return record["title"] + "\n" + record["body"]


# The fictional ranges: NANP 555-01XX; elsewhere a dummy core in the middle.
FICTIONAL = {
    "US": re.compile(r"\+1[2-9]\d\d55501\d\d"),
    "DK": re.compile(r"\+45\d\d(1234|2345|3456)\d\d"),
    "ES": re.compile(r"\+34(6\d\d|7[1-4]\d)(1234|2345|3456)\d\d"),
    "MX": re.compile(r"\+52(\d\d(123456|234567|345678)|\d{3}(12345|23456|34567))\d\d"),
}
CALLING_CODE = {"US": "1", "DK": "45", "ES": "34", "MX": "52"}


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus() -> list[Pair]:
    return list(generate(N_ADS, seed=SEED))


@pytest.fixture(scope="module")
def phones(corpus: list[Pair]) -> list[tuple[set[str], set[str]]]:
    """Per ad: (numbers a plain pattern finds, numbers found after decoding)."""
    out = []
    for record, _ in corpus:
        region = CITY_COUNTRY[city_of(record)]
        text = text_of(record)
        plain, _ = numbers(text, region, _PLAIN_RUN)
        decoded, _ = numbers(decode(text), region, split=True)
        out.append((plain, decoded | plain))
    return out


# --- determinism, files, shapes ------------------------------------------------------


def test_write_corpus_is_byte_identical_for_a_seed(tmp_path: Path) -> None:
    runs = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        ads, labels = tmp_path / f"{name}-ads.jsonl", tmp_path / f"{name}-labels.jsonl"
        assert write_corpus(ads, labels, 1500, seed=seed) == 1500
        runs.append((ads.read_bytes(), labels.read_bytes()))
    assert runs[0] == runs[1]
    assert runs[0][0] != runs[2][0]
    assert runs[0][1] != runs[2][1]


def test_files_hold_one_object_a_line_as_json_dumps_writes_it(tmp_path: Path) -> None:
    ads, labels = tmp_path / "ads.jsonl", tmp_path / "labels.jsonl"
    n = write_corpus(ads, labels, 2000, seed=1)
    ad_lines = ads.read_text(encoding="utf-8").split("\n")
    label_lines = labels.read_text(encoding="utf-8").split("\n")
    assert ad_lines[-1] == label_lines[-1] == ""  # every line ends in a newline
    pairs = list(generate(2000, seed=1))
    assert n == len(pairs) == len(ad_lines) - 1 == len(label_lines) - 1 == 2000
    for (record, label), ad_line, label_line in zip(pairs, ad_lines, label_lines, strict=False):
        assert ad_line == json.dumps(record, ensure_ascii=False)
        assert label_line == json.dumps(label)
    assert any("site_age" in r for r, _ in pairs) and any("site_age" not in r for r, _ in pairs)
    assert any("\\n" in line for line in ad_lines)  # bodies with newlines, escaped


def test_output_does_not_depend_on_string_hashing(tmp_path: Path) -> None:
    """Same seed, same bytes, whatever PYTHONHASHSEED a process runs with."""
    script = (
        "import hashlib, sys; from pathlib import Path; from adsentry.demo import write_corpus; "
        "a, b = Path(sys.argv[1]), Path(sys.argv[2]); write_corpus(a, b, 1500, seed=4); "
        "print(hashlib.sha256(a.read_bytes() + b.read_bytes()).hexdigest())"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
        out = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "a"), str(tmp_path / "b")],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_small_and_empty_corpora() -> None:
    assert list(generate(0)) == []
    assert len(list(generate(1, seed=9))) == 1
    with pytest.raises(ValueError):
        generate(-1)


def test_ids_unique_and_labels_exact(corpus: list[Pair]) -> None:
    ids = [r["id"] for r, _ in corpus]
    assert len(set(ids)) == len(ids) == N_ADS
    assert all(re.fullmatch(r"demo-\d{7}", i) for i in ids)
    for record, label in corpus:
        assert set(label) == {"ad_id", "poster", "group"}
        assert label["ad_id"] == record["id"]
        assert re.fullmatch(r"p\d{6}", label["poster"])
        assert label["group"] is None or re.fullmatch(r"g\d{5}", label["group"])


def test_records_have_the_reader_shape(corpus: list[Pair]) -> None:
    url = re.compile(r"http://([a-z]+)\.(demo-[a-z]+)\.example/escorts/[a-z0-9-]+/(\d+)")
    for record, _ in corpus:
        for key in ("id", "source", "title", "body", "url", "location", "posted_at"):
            assert isinstance(record[key], str) and record[key], key
        assert record["images"] == []
        m = url.fullmatch(record["url"])
        assert m, record["url"]
        assert m.group(1) in CITY_COUNTRY
        assert m.group(2) == record["source"]
        if "site_age" in record:
            assert 18 <= record["site_age"] <= 45
            assert record["title"].endswith(f" - {record['site_age']}")
    sources = Counter(r["source"] for r, _ in corpus)
    assert len(sources) >= 3
    post_ids = [(r["source"], r["url"].rsplit("/", 1)[1]) for r, _ in corpus]
    assert len(set(post_ids)) == len(post_ids)


def test_posted_at_is_utc_in_order_over_months(corpus: list[Pair]) -> None:
    start = datetime(2017, 1, 1, tzinfo=UTC)
    stamps = []
    for record, _ in corpus:
        s = record["posted_at"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s)
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
        assert dt.utcoffset() == timedelta(0)
        stamps.append(dt)
    assert stamps == sorted(stamps)
    assert start <= stamps[0] < start + timedelta(days=3)
    assert timedelta(days=SPAN_DAYS * 0.8) < stamps[-1] - start < timedelta(days=SPAN_DAYS * 1.3)
    # posts spread over the months, not bunched at one end
    months = Counter(dt.month for dt in stamps)
    assert len(months) >= 6 and min(months[m] for m in range(1, 7)) > N_ADS / 20


def test_start_moves_the_corpus() -> None:
    naive = datetime(2020, 5, 1, 12, 0)  # read as UTC
    stamps = [r["posted_at"] for r, _ in generate(300, seed=2, start=naive)]
    assert "2020-05-01T12:00:00Z" <= stamps[0] < "2020-05-15"
    assert stamps[-1] < "2020-12-31"


# --- posters, groups, phones ---------------------------------------------------------


def test_independents_and_groups_have_their_sizes(corpus: list[Pair]) -> None:
    ads_of = Counter(lab["poster"] for _, lab in corpus)
    group_of = {lab["poster"]: lab["group"] for _, lab in corpus}
    independents = [p for p, g in group_of.items() if g is None]
    assert max(ads_of[p] for p in independents) <= 5
    assert len(independents) / len(group_of) > 0.85  # most posters are independent
    group_ads = sum(1 for _, lab in corpus if lab["group"])
    assert 0.25 < group_ads / N_ADS < 0.55  # ... but groups post a large share of the ads
    members: dict[str, set[str]] = defaultdict(set)
    for poster, group in group_of.items():
        if group:
            members[group].add(poster)
    assert len(members) >= 5
    assert max(len(m) for m in members.values()) <= 15
    assert sorted(len(m) for m in members.values())[len(members) // 2] >= 3


def test_plain_phones_are_valid_numbers(corpus: list[Pair]) -> None:
    for record, _ in corpus:
        region = CITY_COUNTRY[city_of(record)]
        _, invalid = numbers(text_of(record), region, _PLAIN_RUN)
        assert not invalid, (record["id"], invalid)


def test_every_ad_has_a_phone_and_all_are_fictional(
    corpus: list[Pair], phones: list[tuple[set[str], set[str]]]
) -> None:
    for (record, _), (_, found) in zip(corpus, phones, strict=True):
        assert found, record["id"]
        region = CITY_COUNTRY[city_of(record)]
        for e164 in found:
            country = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
            assert country == region, (record["id"], e164)
            assert FICTIONAL[region].fullmatch(e164), (record["id"], e164)


def test_every_number_the_generator_can_give_is_valid_and_fictional() -> None:
    from adsentry.demo import _BLOCKS  # the number blocks (national digits but the last two)

    assert set(_BLOCKS) == set(CALLING_CODE)
    for country, blocks in _BLOCKS.items():
        assert len(blocks) == len(set(blocks)) >= 100
        for block in blocks:
            for last in ("00", "57", "99"):
                e164 = f"+{CALLING_CODE[country]}{block}{last}"
                num = phonenumbers.parse(e164)
                assert phonenumbers.is_valid_number(num), e164
                assert phonenumbers.region_code_for_number(num) == country, e164
                assert FICTIONAL[country].fullmatch(e164), e164


def test_a_share_of_phones_is_obfuscated(
    corpus: list[Pair], phones: list[tuple[set[str], set[str]]]
) -> None:
    hidden = [i for i, (plain, found) in enumerate(phones) if found - plain]
    assert 0.06 < len(hidden) / N_ADS < 0.2
    texts = [text_of(corpus[i][0]) for i in hidden]
    styles = {
        "keycap": lambda t: "\u20e3" in t,
        "circled": lambda t: re.search("[①-⑨⓪]", t),
        "negative circled": lambda t: re.search("[➊-➒❶-❾⓿]", t),
        "full-width": lambda t: re.search("[０-９]", t),
        "look-alike": lambda t: re.search(r"\b[0-9]*[OolI][0-9]+", t),
        "spelled English": lambda t: re.search(r"(?i)\bfive[ -]?five[ -]?five\b", t),
        "spelled Spanish": lambda t: re.search(r"(?i)\b(cero|uno|dos|cuatro|cinco|seis)\b", t),
        "spelled Danish": lambda t: re.search(r"(?i)\b(nul|fire|fem|seks|syv|otte)\b", t),
        "separators": lambda t: re.search(r"[0-9]( ?[•*_] ?[0-9]){7}", t),
        "mixed": lambda t: re.search(r"(?i)[0-9](one|two|three|four|five|six|seven|eight|nine)", t),
    }
    for style, has in styles.items():
        assert any(has(t) for t in texts), style


def test_groups_share_phones_across_names_and_cities(
    corpus: list[Pair], phones: list[tuple[set[str], set[str]]]
) -> None:
    name_re = re.compile(
        r"\b(" + "|".join(sorted({n for v in NAMES.values() for n in v}, key=len)[::-1]) + r")\b",
        re.IGNORECASE,
    )
    seen: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for (record, label), (_, found) in zip(corpus, phones, strict=True):
        if label["group"] is None:
            continue
        names = {n.lower() for n in name_re.findall(record["title"])}
        for e164 in found:
            entry = seen[(label["group"], e164)]
            entry["posters"].add(label["poster"])
            entry["cities"].add(city_of(record))
            entry["names"] |= names
    shared = [
        key
        for key, e in seen.items()
        if len(e["posters"]) >= 2 and len(e["cities"]) >= 2 and len(e["names"]) >= 2
    ]
    assert len({group for group, _ in shared}) >= 3
    # and no group's phone turns up with an unrelated poster at this size
    owners: dict[str, set[str | None]] = defaultdict(set)
    for (_, label), (_, found) in zip(corpus, phones, strict=True):
        for e164 in found:
            owners[e164].add(label["group"] or label["poster"])
    for group, e164 in seen:
        assert owners[e164] == {group}, (group, e164)


def test_groups_post_in_bursts_and_move(corpus: list[Pair]) -> None:
    times: dict[str, list[tuple[datetime, str, str]]] = defaultdict(list)
    for record, label in corpus:
        if label["group"]:
            dt = datetime.fromisoformat(record["posted_at"].replace("Z", "+00:00"))
            times[label["group"]].append((dt, label["poster"], city_of(record)))
    bursty = 0
    for rows in times.values():
        rows.sort()
        if any(
            rows[i + 2][0] - rows[i][0] <= timedelta(hours=6)
            and len({rows[i][1], rows[i + 1][1], rows[i + 2][1]}) == 3
            for i in range(len(rows) - 2)
        ):
            bursty += 1
    assert bursty >= len(times) * 0.8
    moved = [g for g, rows in times.items() if len({c for _, _, c in rows}) >= 2]
    assert len(moved) >= len(times) / 2


def test_a_generic_phone_links_unrelated_posters(
    corpus: list[Pair], phones: list[tuple[set[str], set[str]]]
) -> None:
    posters: dict[str, set[str]] = defaultdict(set)
    cities: dict[str, set[str]] = defaultdict(set)
    for (record, label), (_, found) in zip(corpus, phones, strict=True):
        if label["group"] is None:
            for e164 in found:
                posters[e164].add(label["poster"])
                cities[e164].add(city_of(record))
    generic = [p for p in posters if len(posters[p]) >= 3 and len(cities[p]) >= 3]
    assert generic
    # the independents' own numbers are theirs alone: one poster each
    assert sum(1 for p in posters.values() if len(p) == 1) / len(posters) > 0.98


# --- languages and wording -----------------------------------------------------------


def test_english_spanish_and_danish_ads(corpus: list[Pair]) -> None:
    markers = {
        "es": re.compile(r"(?i)\b(hola|soy|años|la hora|media hora|te espero|llámame|besitos)\b"),
        "da": re.compile(r"(?i)\b(hej|jeg|år|kr/time|ring|pige|hilsen|kys)\b"),
        "en": re.compile(r"(?i)\b(call|text|gentlemen|incall|the|and|me)\b"),
    }
    langs: Counter[str] = Counter()
    for record, _ in corpus:
        text = text_of(record)
        hits = [lang for lang, rx in markers.items() if rx.search(text)]
        langs[hits[0] if hits else "?"] += 1
        if hits and hits[0] == "da":
            assert CITY_COUNTRY[city_of(record)] == "DK"
    assert langs["en"] > N_ADS * 0.5
    assert langs["es"] > N_ADS * 0.08
    assert langs["da"] > N_ADS * 0.03
    locations = " ".join(r["location"] for r, _ in corpus)
    for city in ("København", "Aarhus", "Tijuana", "Madrid", "San Diego", "Los Angeles"):
        assert city in locations


def test_ages_and_prices_are_written_in_many_ways(corpus: list[Pair]) -> None:
    text = "\n".join(text_of(r) for r, _ in corpus[:4000])
    for pattern in (
        r"\b\d\dyo\b",
        r"\bAge: \d\d\b",
        r"\b\d\d years\b",
        r" - \d\d\n",
        r"\$\d+/hh",
        r"\b\d+ roses\b",
        r"\bqv \d+",
        r"\b\d+ la hora\b",
        r"\b\d+ kr/time\b",
        r"\b\d\d (años|år)\b",
        r"user\d+@example\.(com|org|net)",
        r"user\d+ at example dot",
        r"@(ig|sc|kik)_user\d{4}",
    ):
        assert re.search(pattern, text, re.IGNORECASE), pattern
    ages = [r["site_age"] for r, _ in corpus if "site_age" in r]
    assert min(ages) >= 18 and max(ages) <= 45 and len(set(ages)) > 15


def test_ads_carry_emoji_capitals_and_chat_spelling(corpus: list[Pair]) -> None:
    bodies = [r["body"] for r, _ in corpus]
    emoji = sum(1 for b in bodies if re.search("[\U0001f300-\U0001faff]", b))
    caps = sum(1 for b in bodies if re.search(r"\b[A-Z]{4,} [A-Z]{3,} [A-Z]{3,}\b", b))
    chat = sum(1 for b in bodies if re.search(r"\b(u|ur|plz|availble|xfa|msj|ik|Jg)\b", b))
    assert emoji > N_ADS * 0.5
    assert caps > N_ADS * 0.1
    assert chat > N_ADS * 0.05
    independents = {r["body"] for r, lab in corpus if lab["group"] is None}
    assert len(independents) > 0.5 * sum(1 for _, lab in corpus if lab["group"] is None)
