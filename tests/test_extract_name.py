"""Working names (adsentry.extract.name): each pattern of the labelling rules, the traps,
honest spans, and the score on the gold file.

The ads here are written for these tests (made-up names, fictional 555-01xx numbers);
the gold file is read at run time only.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adsentry.extract import EXTRACTORS, extract_all
from adsentry.extract.name import lexicons
from adsentry.model import Ad, Entity

GOLD = Path(__file__).resolve().parents[2] / "shared" / "data" / "gold" / "names-locations.jsonl"


def names(body: str = "", title: str = "") -> list[Entity]:
    """The name entities of one ad, after checking that every span is honest."""
    ad = Ad(ad_id="t", source="test", title=title, body=body)
    found = [e for e in extract_all(ad, names=["name"]) if e.kind == "name"]
    for e in found:
        assert ad.text_of(e.field)[e.start : e.end] == e.text
        assert e.extractor == "name"
    return found


def texts(body: str = "", title: str = "") -> list[str]:
    return [e.text for e in names(body, title)]


def test_registered() -> None:
    names("Hi, my name is Carla.")
    assert "name" in EXTRACTORS


def test_lexicons_load_once_and_are_lower_case() -> None:
    lex = lexicons()
    assert lex is lexicons()
    assert {"jessica", "amber"} <= lex.names
    assert "gorgeous" in lex.english and "papi" in lex.stop
    assert all(w == w.lower() for w in list(lex.names)[:500])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Hello gentlemen, my name is Carla and I love to travel", ["Carla"]),
        ("name is jolene, call me anytime", ["jolene"]),
        ("My names Nadine in town for the weekend", ["Nadine"]),
        ("Hi I'm Kendra! Sweet and discreet", ["Kendra"]),
        ("Hi I’m Kendra! Sweet and discreet", ["Kendra"]),
        ("hey im tasha lets play", ["tasha"]),
        ("Hello I am Marisol, new to the area", ["Marisol"]),
        ("Hey it's Brianna 💕 your sweet treat", ["Brianna"]),
        ("hi there its Gwen! new pics", ["Gwen"]),
        ("Ask for Noelle 619-555-0101", ["Noelle"]),
        ("Text first 626-555-0107 then ASK 4 KIKI", ["KIKI"]),
        ("Discreet and clean. Call Renee 213-555-0190", ["Renee"]),
        ("Jolie here, sweet and discreet", ["Jolie"]),
        ("Hi guys, Tatum is here 😘", ["Tatum"]),
        ("HEY GUYS TATUM HERE 💄 ask about my friend", ["TATUM"]),
        ("Hi guys! This is Monique, your playmate", ["Monique"]),
        ("You may call me Anya, short for Anastasia", ["Anya"]),
        ("Hola papi, me llamo Valeria y soy muy cariñosa", ["Valeria"]),
        ("Hola amor, SOY YESENIA y soy nueva", ["YESENIA"]),
        ("Hej, jeg hedder Signe og jeg er ny her", ["Signe"]),
        ("Mit navn er Freja", ["Freja"]),
        ("Hugs & kisses, xoxo Noemi 🌷", ["Noemi"]),
        ("Mistress Odette will see you now", ["Odette"]),
    ],
)
def test_triggers(body: str, expected: list[str]) -> None:
    assert texts(body) == expected


def test_emoji_between_trigger_and_name() -> None:
    assert texts("Hi, my name is 🌸 selene, call me") == ["selene"]
    assert texts("Hi I'm 💎Juliana💎 upscale") == ["Juliana"]


def test_unknown_names_need_a_strong_trigger_or_a_capital() -> None:
    # not in the first-name lexicon: taken after "my name is", in any case
    assert texts("My name is xyliah and I host") == ["xyliah"]
    # a capitalized unknown word after "I'm" is a name, a lower-case one is not
    assert texts("Hello I'm Zyraelle, just arrived") == ["Zyraelle"]
    assert texts("hey im zyraelle, just arrived") == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("no drama, real pics. Tamara 619.555.0133", ["Tamara"]),
        ("Serious callers only  Marisa 💋💋 (702) 555-0177", ["Marisa"]),
        ("Text me (415) 555-0123 Danica", ["Danica"]),
        ("Outcalls only. 818-55five-0166  j-a-d-e", ["j-a-d-e"]),
        ('Clean & classy "sweetie" "lovely" 6265550109', ["lovely"]),
        ("Ring me 909-555-0121 ~~~ STAR ~~~", ["STAR"]),
        ("Booking today HONEY 🐝 (626)555-0145", ["HONEY"]),
        ("Well reviewed. Vivienne,530-555-0183 upscale", ["Vivienne"]),
    ],
)
def test_sign_off_by_the_phone_number(body: str, expected: list[str]) -> None:
    assert texts(body) == expected


def test_spelled_out_name_has_a_joined_value() -> None:
    (e,) = names("Outcalls only. 818-555-0166  j-a-d-e")
    assert e.value == "Jade" and e.text == "j-a-d-e"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Sweet Petite KARINA - 22", ["KARINA"]),
        ("💋DANIELA💋 New in town - 23", ["DANIELA"]),
        ("✨ Busty Blonde ✨ {{Marcela}} ✨ - 24", ["Marcela"]),
        ("(((Paola))) la mejor - 21", ["Paola"]),
        ("Camila ready for you tonight - 25", ["Camila"]),
        ("🌷 Liliana Rose 🌷 Elegant Brunette - 21", ["Liliana Rose"]),
    ],
)
def test_names_in_the_title(title: str, expected: list[str]) -> None:
    assert texts(title=title) == expected


def test_lists_of_several_women() -> None:
    assert texts("Come see us! Mila & Sasha 818-555-0111") == ["Mila", "Sasha"]
    assert texts("Two girls: Mila and Sasha 818-555-0111") == ["Mila", "Sasha"]
    assert texts("Our names are Yumi, Lena and Kim. We host") == ["Yumi", "Lena", "Kim"]
    assert texts("Junko, 21 yrs, 5'2 and Hana, 23 yrs, 5'4") == ["Junko", "Hana"]
    assert texts("💄KEIKO💄 22 y.o. 5'1 💄.NOA. 23 y.o.") == ["KEIKO", "NOA"]
    assert texts("Our names: Yuna (1st photo), Keiko (2nd photo), Qiao (3rd photo)") == [
        "Yuna",
        "Keiko",
        "Qiao",
    ]


def test_full_name_is_one_string() -> None:
    (e,) = names("Let me introduce myself: I am Carla Monet  🌷 a rare find")
    assert (e.text, e.value) == ("Carla Monet", "Carla Monet")
    (e,) = names("Call anytime (626)555-0192 Jessica LaRue")
    assert (e.text, e.value) == ("Jessica LaRue", "Jessica Larue")
    (e,) = names("See you soon 🌷 MiRaNDa FoX 🌷 call me")
    assert e.value == "Miranda Fox"


def test_names_glued_to_other_text_are_cut_out() -> None:
    assert texts("Hello there Im'noemi! soft and sweet") == ["noemi"]
    assert texts("Good evening it's TessaTHE BEST IN TOWN") == ["Tessa"]
    assert texts("book us now6265550130Mila & Sasha6265550131") == ["Mila", "Sasha"]


def test_possessive_is_not_part_of_the_name() -> None:
    (e,) = names("Ask for Nadia's special 619-555-0100")
    assert e.text == "Nadia"


def test_every_mention_is_reported_with_its_field() -> None:
    found = names("Hi I'm Maya. Call Maya 619-555-0194", title="💋 MAYA 💋 - 22")
    assert [(e.field, e.text) for e in found] == [
        ("title", "MAYA"),
        ("body", "Maya"),
        ("body", "Maya"),
    ]
    assert {e.value for e in found} == {"Maya"}


@pytest.mark.parametrize(
    "body",
    [
        # customer-directed words
        "Hey Papi, come see me",
        "Hi baby, I'm waiting for you 626-555-0100",
        "Hello gentlemen! Daddy 626-555-0100",
        "Hi hun, call me",
        # ordinary words after I'm / I am
        "I'm a sweet girl and I'm the best",
        "I am very discreet and I'm available now",
        "I'm new in town, I'm ready, I'm here for you",
        "I am Happy to host. I'm Worth every penny",
        "I AM MERRY ✨ CHEERFUL and fun",
        # adjectives, ethnicities and descriptions
        "Sexy Chocolate Petite Asian Busty Young 626-555-0100",
        "I'm Colombian and Cuban, Latina 626-555-0100",
        "🌷Sexy🌷 LATINA 🌷Barbie🌷 Goddess",
        # businesses, spas and review sites
        "Golden Lotus Spa 626-555-0188",
        "Grand opening ▐ 1234 SPA ▐ new staff",
        "Find my reviews on TER and Eros",
        # places
        "Visiting Santa Clara and San Mateo 650-555-0123",
        "Serving Fremont. Hayward. Oakley. Dublin.",
        "Studio at 4410 Maple Ave, Costa Mesa",
        "Available in Ensenada this week",
        # words in decorated letters and numbers written with letters
        "SℓEEPY ✘ G✪LDEN T✪UCH",
        "V.I.P Tre🍭tment - 23",
        "Text 415.KAZZ.5550199 now",
        # a month, a contraction and an adverb
        "Available Tuesday-Thursday Nov 2-4",
        "Don't Miss out 626-555-0100",
        "I'm Deliciously naughty",
        "Well look no more. Iam here and ready",
    ],
)
def test_traps_give_no_name(body: str) -> None:
    assert texts(body) == []


def test_greeting_is_not_the_name() -> None:
    assert texts("Hi Honey! My name is Tori.") == ["Tori"]


def test_empty_and_nameless_fields() -> None:
    assert names("") == []
    assert names("100% real 619-555-0100 no games") == []


# Pieces that random ads are made of: triggers, names, decoration, numbers, traps.
PIECES = (
    "I'm", "Im'", "my name is", "Amber", "Jessica", "ZAYLEE", "x-y-z", "a", "é", "💋", "☆☆",
    " ", "  ", "\n", ",", ".", "&", "(", ")", "619-555-0100", "5five5", "NinaTHE", "Santa",
    "Ana", "hola", "soy", "ℓε", "〇", "'", "’", "🅰️",
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=25).map("".join))
def test_spans_are_honest_on_any_text(text: str) -> None:
    for e in names(text, title=text):
        assert e.value and e.value == " ".join(e.value.split())


@pytest.mark.skipif(not GOLD.exists(), reason="shared/data gold set not present")
def test_gold_f1() -> None:
    from adsentry.evaluate import evaluate

    (score,) = evaluate(GOLD, "name")
    assert score.records == 120
    assert score.f1 >= 0.85, score.to_dict()


def test_no_name_inside_a_place_or_a_spelled_out_phone() -> None:
    new_york = Ad("x", "s", title="Sexy Latina recién llegada a New York - 29", body="Hola")
    assert [e.text for e in extract_all(new_york) if e.kind == "name"] == []
    danish = Ad(
        "y",
        "s",
        title="Mia",
        body="Ring på Seks Ni - En To - Tre Fire - Seks To. Jeg hedder Mia",
        location="København",
    )
    ents = extract_all(danish, region="DK")
    assert [e.value for e in ents if e.kind == "phone"] == ["+4569123462"]
    assert [(e.field, e.text) for e in ents if e.kind == "name"] == [
        ("title", "Mia"),
        ("body", "Mia"),
    ]
