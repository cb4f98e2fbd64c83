"""Tests for adsentry.text: the normalized view and its offset map.

Expected values are worked out by hand from the rules in the module docstring; the
styles come from the obfuscations listed in the backpage-ca-2017 README (the text
here is made up, nothing is copied from the data set).
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adsentry.text import NormalizedText, _normalize, normalize


def check_offsets(nt: NormalizedText) -> None:
    """The invariants every NormalizedText keeps."""
    n = len(nt.text)
    assert len(nt.starts) == n
    assert len(nt.ends) == n
    previous_start = previous_end = 0
    for i in range(n):
        start, end = nt.starts[i], nt.ends[i]
        assert 0 <= start < end <= len(nt.original), (i, start, end)
        assert start >= previous_start and end >= previous_end, i
        previous_start, previous_end = start, end


def written(nt: NormalizedText, normalized: str) -> str:
    """The original text behind the first occurrence of ``normalized`` in the view."""
    start = nt.text.index(normalized)
    s, e = nt.to_original(start, start + len(normalized))
    return nt.original[s:e]


# ------------------------------------------------------------- Unicode digits


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6\ufe0f\u20e31\ufe0f\u20e39\ufe0f\u20e3", "619"),  # keycap emoji 6️⃣1️⃣9️⃣
        ("6\u20e31\u20e39\u20e3", "619"),  # keycap without the variation selector
        ("\u278f\u278a\u2792", "619"),  # ➏➊➒ dingbat negative circled sans-serif
        ("\u277b\u2776\u277e", "619"),  # ❻❶❾ dingbat negative circled
        ("\u2785\u2780\u2788", "619"),  # ➅➀➈ dingbat circled sans-serif
        ("\u2465\u2460\u2468", "619"),  # ⑥①⑨ circled (NFKC)
        ("\u24ff\u24f5", "01"),  # ⓿⓵ negative circled zero, double circled one
        ("\uff16\uff11\uff19", "619"),  # ６１９ full width
        ("\U0001d7d4\U0001d7cf\U0001d7d7", "619"),  # 𝟔𝟏𝟗 mathematical bold
        ("\u2076\u00b9\u2079", "619"),  # ⁶¹⁹ superscripts
        ("6\u200b1\u200d9", "619"),  # zero-width space and joiner
        ("6\u03361\u03369\u0336", "619"),  # strikethrough combining marks
        ("\u0666\u0661\u0669", "619"),  # Arabic-Indic digits in a run of three
        ("\u0666 \u0661", "\u0666 \u0661"),  # lone ones stay (letter look-alikes)
        ("\u2793", "10"),  # ➓ ten
    ],
)
def test_unicode_digit_forms(text: str, expected: str) -> None:
    nt = normalize(text)
    assert nt.text == expected
    check_offsets(nt)


def test_keycap_offsets_cover_the_whole_sequence() -> None:
    nt = normalize("Call 6\ufe0f\u20e31\ufe0f\u20e39\ufe0f\u20e3 now")
    assert nt.text == "Call 619 now"
    assert list(nt.starts[5:8]) == [5, 8, 11]
    assert list(nt.ends[5:8]) == [8, 11, 14]
    assert written(nt, "619") == "6\ufe0f\u20e31\ufe0f\u20e39\ufe0f\u20e3"


def test_dropped_characters_at_the_start_go_to_the_first_character() -> None:
    nt = normalize("\ufeff\u200b619")
    assert nt.text == "619"
    assert nt.to_original(0, 1) == (0, 3)


def test_ten_expands_to_two_characters_with_one_span() -> None:
    nt = normalize("x\u2793y")
    assert nt.text == "x10y"
    assert list(nt.starts) == [0, 1, 1, 2]
    assert list(nt.ends) == [1, 2, 2, 3]


def test_mojibake_is_repaired_with_honest_offsets() -> None:
    original = "caf\u00c3\u00a9 six one nine"  # "café" read as cp1252
    nt = normalize(original)
    assert nt.text == "caf\u00e9 6 1 9"
    assert written(nt, "\u00e9") == "\u00c3\u00a9"
    assert written(nt, "6 1 9") == "six one nine"
    check_offsets(nt)


def test_confusable_letters_only_next_to_digits() -> None:
    # Cyrillic О between digits is a zero; the ideographic 〇 in "Ｎ〇" stays.
    nt = normalize("6\u041e8 \uff2e\u3007 drama")
    assert nt.text == "608 N\u3007 drama"
    check_offsets(nt)


def test_ordinal_indicator_is_not_a_zero() -> None:
    assert normalize("1\u00ba piso").text == "1\u00ba piso"


# ---------------------------------------------------------------- spelled digits


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("six1nine 5five5 O142", "619 555 0142"),
        ("sixonenine", "619"),
        ("fiveSix", "56"),
        ("8four", "84"),
        ("2Osix", "206"),
        ("555-ZeroOneSix5", "555-0165"),
        ("Nine SIX one", "9 6 1"),
        ("six one nine.555 zero one four two", "6 1 9.555 0 1 4 2"),
        ("(415) 555-zero - one - two - one", "(415) 555-0 - 1 - 2 - 1"),
        ("z e r o five five", "0 5 5"),
        ("five oh five", "5 0 5"),
        ("five five five o one four two", "5 5 5 0 1 4 2"),
        ("for two four five five five zero one one eight", "4 2 4 5 5 5 0 1 1 8"),
        ("one one one", "1 1 1"),
        # Spanish
        ("seis uno nueve", "6 1 9"),
        ("cero dos tres", "0 2 3"),
        # Danish
        ("seks en ni", "6 1 9"),
        ("tre fire en ni", "3 4 1 9"),
        ("nul to otte", "0 2 8"),
    ],
)
def test_spelled_digits(text: str, expected: str) -> None:
    nt = normalize(text)
    assert nt.text == expected
    check_offsets(nt)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("twenty-two", "22"),
        ("twenty two", "22"),
        ("thirty eight", "38"),
        ("eleven", "11"),
        ("fifty 7", "57"),
        ("zero one fifty 7", "0 1 57"),
        ("I'm twenty-two", "I'm 22"),
        ("veinte", "20"),
        ("veintid\u00f3s", "22"),
        ("treinta y cuatro", "34"),
        ("dieciocho a\u00f1os", "18 a\u00f1os"),
        ("elleve", "11"),
        ("tolv", "12"),
        ("tyve", "20"),
        ("toogtyve", "22"),
        ("fireogtredive", "34"),
        ("fire og tyve", "24"),
        ("halvtreds", "50"),
        ("halvfjerds", "70"),
        ("firs", "80"),
        ("halvfems", "90"),
        ("halvfemsindstyve", "90"),
        ("tolv tres", "12 60"),  # Danish run: tres is 60
        ("seis tres", "6 3"),  # Spanish run: tres is 3
    ],
)
def test_number_words(text: str, expected: str) -> None:
    nt = normalize(text)
    assert nt.text == expected
    check_offsets(nt)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("619 555 O142", "619 555 0142"),
        ("619 555 O 142", "619 555 0 142"),
        ("l-800-555-0100", "1-800-555-0100"),
        ("9l75550100", "9175550100"),
        ("25O/4OO", "250/400"),
        ("619-5S5-0142", "619-555-0142"),
        ("B00BS38", "B00BS38"),
        ("6|9", "619"),
    ],
)
def test_lookalike_letters_in_digit_runs(text: str, expected: str) -> None:
    nt = normalize(text)
    assert nt.text == expected
    check_offsets(nt)


@pytest.mark.parametrize(
    "text",
    [
        "I want to see you",
        "SOLO",
        "solo",
        "Is it you?",
        "one night only",  # a lone ambiguous digit word stays a word
        "two girls, zero drama",  # so does a lone strong one
        "Oh my",
        "Call Zoey To 323-555-0102",
        "Open 10am to 10pm",
        "80 for 15 min",
        "two for one",
        "en cinco minutos",
        "Llamame en 619 555 0100",
        "dos en uno",
        "Once you go",
        "tres chic",
        "34B-24-36",
        "in my 20s",
        "off the I-5 and I-405",
        "B2B",
        "619|555|0100",
        "the one 100% real",
        "lol",
        "NO Stress!",
        "Next to 7-Eleven",
        "Osix",
    ],
)
def test_prose_is_left_alone(text: str) -> None:
    nt = normalize(text)
    assert nt.text == text
    assert not nt.changed


def test_a_lone_word_of_another_language_stays() -> None:
    # "NI" (Danish 9) glued to a digit, in a run of English words: a name.
    nt = normalize("Kitten Y4NI - 909 - 555 - 01ZeroOne")
    assert nt.text == "Kitten Y4NI - 909 - 555 - 0101"


def test_keycap_ten() -> None:
    nt = normalize("perfect \U0001f51f")
    assert nt.text == "perfect 10"
    assert nt.to_original(8, 10) == (8, 9)


def test_phone_run_maps_back_to_exactly_the_written_form() -> None:
    original = "Call me at six1nine-5five5-O142 tonight"
    nt = normalize(original)
    assert nt.text == "Call me at 619-555-0142 tonight"
    assert written(nt, "619-555-0142") == "six1nine-5five5-O142"
    assert written(nt, "619") == "six1nine"
    assert written(nt, "0142") == "O142"


def test_word_digits_map_to_their_own_words() -> None:
    nt = normalize("sixonenine")
    assert nt.text == "619"
    assert [nt.original[s:e] for s, e in zip(nt.starts, nt.ends, strict=True)] == [
        "six",
        "one",
        "nine",
    ]


def test_compound_digits_share_the_whole_span() -> None:
    nt = normalize("I am twenty-two.")
    assert nt.text == "I am 22."
    assert written(nt, "22") == "twenty-two"
    assert nt.to_original(5, 6) == (5, 15)


def test_mixed_styles_in_one_ad() -> None:
    keycaps = "6\ufe0f\u20e31\ufe0f\u20e39\ufe0f\u20e3"  # 6️⃣1️⃣9️⃣
    original = f"Kisses \U0001f48b call {keycaps} five five five \u24ff\u2460\u2463\u2461"
    nt = normalize(original)
    assert nt.text == "Kisses \U0001f48b call 619 5 5 5 0142"
    assert written(nt, "619 5 5 5 0142") == original[original.index("6") :]
    check_offsets(nt)


# -------------------------------------------------------------- API details


def test_identity_fast_path_uses_ranges() -> None:
    nt = normalize("Hot and ready, come see me")
    assert nt.text == nt.original
    assert isinstance(nt.starts, range) and isinstance(nt.ends, range)
    assert nt.to_original(4, 7) == (4, 7)
    assert not nt.changed


def test_empty_string() -> None:
    nt = normalize("")
    assert nt.text == ""
    assert len(nt.starts) == len(nt.ends) == 0


@pytest.mark.parametrize(("start", "end"), [(0, 0), (2, 1), (-1, 1), (0, 4)])
def test_to_original_rejects_bad_spans(start: int, end: int) -> None:
    with pytest.raises(ValueError):
        normalize("abc").to_original(start, end)


def test_only_invisible_characters() -> None:
    nt = normalize("\u200b\ufe0f")
    assert nt.text == ""
    check_offsets(nt)


def test_lone_surrogate_becomes_replacement_character() -> None:
    nt = normalize("6\ud8001")
    assert nt.text == "6\ufffd1"
    check_offsets(nt)


# ------------------------------------------------------------ property tests

FRAGMENTS = [
    "six",
    "Nine",
    "one",
    "oh",
    "o",
    "O",
    "l",
    "I",
    "S",
    "B",
    "z",
    "to",
    "for",
    "twenty",
    "-two",
    "y",
    "og",
    "tyve",
    "tres",
    "treinta",
    "fem",
    "en",
    "7",
    "42",
    "555",
    " ",
    "-",
    ".",
    "(",
    "|",
    "\ufe0f",
    "\u20e3",
    "\u200b",
    "\u0301",
    "\u0336",
    "\u278a",
    "\u2793",
    "\uff16",
    "\U0001d7d4",
    "\u0666",
    "\u041e",
    "\u3007",
    "\u00c3\u00a9",
    "\u00f0\u0178\u2019\u2039",
    "\U0001f48b",
    "\ud800",
    "\u00e9",
    "\u0130",
    "\u2026",
]

fragment_text = st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join)
any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=200)


@settings(max_examples=400, deadline=None)
@given(st.one_of(any_text, fragment_text))
@example("")
@example("\u0301six")
@example("\ufe0f\u20e3")
@example("\u0130one one one")
def test_never_raises_and_offsets_stay_in_range(text: str) -> None:
    nt = _normalize(text)  # the implementation itself, without the safety net
    assert nt.original == text
    check_offsets(nt)
    assert normalize(text) == nt


@settings(max_examples=300, deadline=None)
@given(st.one_of(any_text, fragment_text))
def test_ascii_digits_are_never_lost(text: str) -> None:
    nt = normalize(text)
    view_digits = iter(c for c in nt.text if "0" <= c <= "9")
    assert all(d in view_digits for d in text if "0" <= d <= "9")


# No digits, no look-alike letters (O o l I i S s B Z z |), no vowels (every
# number word has one), no non-ASCII: nothing can change.
PLAIN = "bcdfghjkmnpqrtvwxCDFGHJKLMNPQRTVWXY .,!?'\"-:;()\n\t"


@given(st.text(alphabet=PLAIN, max_size=300))
def test_identity_for_plain_text(text: str) -> None:
    nt = normalize(text)
    assert nt.text == text
    assert list(nt.starts) == list(range(len(text)))
    assert list(nt.ends) == list(range(1, len(text) + 1))


def test_capital_i_and_lower_o_glued_to_digits_in_a_phone_only() -> None:
    assert normalize("text 97I-555-oI64").text == "text 971-555-0164"
    assert normalize("I-5 and 34I").text == "I-5 and 34I"  # no phone-like run: letters stay
