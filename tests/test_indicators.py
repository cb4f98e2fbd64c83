"""Tests of adsentry.indicators: lexicons, folding with offsets, the matcher."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from adsentry.indicators import CODES, list_codes, match_indicators
from adsentry.indicators.fold import fold
from adsentry.indicators.lexicon import SEP, compile_pattern
from adsentry.model import Ad, Entity, Indicator, Span

VALIDATED = {"trustworthy_language", "obscured_contact", "youth_language", "ethnicity_stated"}
CORPUS = Path("/work/shared/data/backpage-ca-2017/ads.jsonl")


def _found(body: str, title: str = "") -> dict[str, Indicator]:
    return {i.code: i for i in match_indicators(Ad("t1", "test", title=title, body=body), [])}


def _texts(body: str, code: str) -> list[str]:
    ind = _found(body).get(code)
    return [s.text for s in ind.spans] if ind else []


def test_codes_validated_only_the_four_of_the_study() -> None:
    assert {c for c, i in CODES.items() if i.validated} == VALIDATED
    for info in CODES.values():
        assert ("JRSA/NIJ" in info.source) if info.validated else info.source.startswith("folk")
    assert [i.code for i in list_codes(validated=True)] == sorted(VALIDATED)
    assert {"movement_language", "client_screening", "stated_age_under_23"} <= {
        i.code for i in list_codes(validated=False)
    }


@pytest.mark.parametrize(
    ("body", "code", "spans", "language"),
    [
        (
            "Sexy and 100% real, very discreet",
            "trustworthy_language",
            [Span("body", 9, 18, "100% real"), Span("body", 25, 33, "discreet")],
            "en",
        ),
        (
            "Fotos reales, muy discreta",
            "trustworthy_language",
            [Span("body", 0, 12, "Fotos reales"), Span("body", 18, 26, "discreta")],
            "es",
        ),
        (
            "Helt diskret og tryg",
            "trustworthy_language",
            [Span("body", 5, 12, "diskret"), Span("body", 16, 20, "tryg")],
            "da",
        ),
        ("Sweet young thing", "youth_language", [Span("body", 6, 11, "young")], "en"),
        ("Jovencita caliente", "youth_language", [Span("body", 0, 9, "Jovencita")], "es"),
        ("Sød ung pige", "youth_language", [Span("body", 4, 12, "ung pige")], "da"),
        ("Hot Asian girl here", "ethnicity_stated", [Span("body", 4, 14, "Asian girl")], "en"),
        ("Chica colombiana", "ethnicity_stated", [Span("body", 0, 16, "Chica colombiana")], "es"),
        ("Lækker thai pige", "ethnicity_stated", [Span("body", 7, 16, "thai pige")], "da"),
        ("Recién llegada", "movement_language", [Span("body", 0, 14, "Recién llegada")], "es"),
        ("Ny i byen", "movement_language", [Span("body", 0, 9, "Ny i byen")], "da"),
    ],
)
def test_each_code_per_language(body: str, code: str, spans: list[Span], language: str) -> None:
    ind = _found(body)[code]
    assert list(ind.spans) == spans
    assert ind.language == language
    assert ind.validated == (code in VALIDATED)
    assert ind.source == CODES[code].source


def test_tricks_spacing_leetspeak_emoji_accents() -> None:
    assert _texts("Y O U N G and ready", "youth_language") == ["Y O U N G"]
    assert _texts("n e w  i n  t o w n", "movement_language") == ["n e w  i n  t o w n"]
    assert _texts("y0ung b@rely legal", "youth_language") == ["y0ung", "b@rely legal"]
    assert _texts("disc33t and discr33t", "trustworthy_language") == ["disc33t", "discr33t"]
    assert _texts("💯 real pics", "trustworthy_language") == ["💯 real"]
    assert _texts("🆕 in town", "movement_language") == ["🆕 in town"]
    assert _texts("RECIEN LLEGADA", "movement_language") == ["RECIEN LLEGADA"]
    assert _texts("yo\u200bung", "youth_language") == ["yo\u200bung"]


def test_compiled_letters_start_each_alternative_with_one_character() -> None:
    # "x+" is written "xx*" where an alternative starts (the engine skips an alternative
    # whose first character does not fit); elsewhere it stays "x+"
    assert compile_pattern("(black|white) girls?") == (
        "(?:bb*l+[a@]+c+k+|ww*h+[i1]+t+[e3]+)" + SEP + "g+[i1]+r+l+[s$]?"
    )
    assert compile_pattern("ass") == "[a@][a@]*[s$]+"  # a run of one letter: one class
    regex = re.compile(compile_pattern("(asian|latina) babe"))
    for text, end in [("asian babe", 10), ("@$iaan b@be", 11), ("latina  babe", 12)]:
        m = regex.match(text)
        assert m is not None and m.end() == end
    assert regex.match("an babe") is None


@pytest.mark.parametrize(
    "body",
    [
        "black dress and white wine",
        "black lingerie, white shoes",
        "Asian massage parlor",
        "thai massage",
        "new phone number",
        "I am not new in town",
        "24 years young",
        "young at heart",
        "no black guys",
        "Professional men only",
        "nueva en esta add",
        "one night only, two for one",
    ],
)
def test_false_hit_traps(body: str) -> None:
    found = _found(body)
    assert "ethnicity_stated" not in found
    assert "movement_language" not in found
    assert "youth_language" not in found
    assert "trustworthy_language" not in found


def test_multiple_providers_and_ethnicity_do_not_hide_each_other() -> None:
    found = _found("2 latina girls")
    assert [s.text for s in found["multiple_providers"].spans] == ["2 latina girls"]
    assert [s.text for s in found["ethnicity_stated"].spans] == ["latina"]


def test_entities_obscured_contact_and_stated_age() -> None:
    ad = Ad("a", "t", body="call six1nine 555 0100 or 619-555-0101, I'm 21, sis is 25")
    obf = Entity("phone", "+16195550100", "body", 5, 22, "six1nine 555 0100", obfuscated=True)
    plain = Entity("phone", "+16195550101", "body", 26, 38, "619-555-0101")
    age21 = Entity("age", 21, "body", 44, 46, "21")
    age25 = Entity("age", 25, "body", 55, 57, "25")
    for e in (obf, plain, age21, age25):
        assert ad.body[e.start : e.end] == e.text
    got = {i.code: i for i in match_indicators(ad, [obf, plain, age21, age25])}
    assert got["obscured_contact"].spans == (obf.span,)
    assert got["obscured_contact"].validated and got["obscured_contact"].language == ""
    assert got["stated_age_under_23"].spans == (age21.span,)
    assert not got["stated_age_under_23"].validated
    assert "obscured_contact" not in {i.code for i in match_indicators(ad, [plain, age25])}


def test_order_and_determinism() -> None:
    ad = Ad("a", "t", title="Latina 100% real", body="young, discreet, new in town")
    first = match_indicators(ad, [])
    assert [i.code for i in first] == sorted(i.code for i in first)
    assert first == match_indicators(ad, [])


def test_a_text_seen_before_gives_what_it_gave_in_its_own_field() -> None:
    from adsentry.extract.context import clear_memos

    clear_memos()
    text = "2 latina girls, 100% real"
    first = match_indicators(Ad("a", "t", title=text, body="discreet"), [])
    # the same text again, as a body, then as a title after other ads
    as_body = {i.code: i for i in match_indicators(Ad("b", "t", title="hi", body=text), [])}
    assert [s.field for s in as_body["ethnicity_stated"].spans] == ["body"]
    assert as_body["ethnicity_stated"].spans == (Span("body", 2, 8, "latina"),)
    assert match_indicators(Ad("c", "t", title=text, body="discreet"), []) == first
    clear_memos()  # and the same as computed afresh
    assert match_indicators(Ad("d", "t", title=text, body="discreet"), []) == first
    assert {i.code for i in first} >= {"ethnicity_stated", "multiple_providers"}


def test_fold_offsets() -> None:
    f = fold("Ｙ O U N G Niña")
    assert f.text == "y oung niña" or f.text.startswith("y")
    a, b = f.to_original(f.text.index("niña"), len(f.text))
    assert "Ｙ O U N G Niña"[a:b] == "Niña"


def test_spans_honest_over_real_corpus() -> None:
    if not CORPUS.exists():
        pytest.skip("shared corpus not available")
    from adsentry.io.readers import AdReader

    n_ads = hits = 0
    for ad in AdReader(CORPUS):
        if not isinstance(ad, Ad):
            continue
        n_ads += 1
        for ind in match_indicators(ad, []):
            spans = list(ind.spans)
            for s in spans:
                hits += 1
                assert getattr(ad, s.field)[s.start : s.end] == s.text
            for x, y in itertools.pairwise(spans):
                assert x.field != y.field or x.end <= y.start
    assert n_ads == 5429
    assert hits > 1000
