"""E-mail addresses: plain, spelled ("name at gmail dot com"), and the prose traps."""

from __future__ import annotations

import pytest

from adsentry.extract import extract_all
from adsentry.extract.email import find_emails
from adsentry.model import Ad


def found(text: str) -> list[tuple[str, str, bool]]:
    """(value, text as written, obfuscated) of every address, with honest spans."""
    hits = find_emails(text)
    for e in hits:
        assert text[e.start : e.end] == e.text
        assert e.kind == "email" and e.extractor == "email"
    return [(e.value, e.text, e.obfuscated) for e in hits]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # plain addresses: not obfuscated, value lower-case
        ("Email: Mia.Rose@Example.com now", [
            ("mia.rose@example.com", "Mia.Rose@Example.com", False)]),
        ("Google me user2279@example.com", [
            ("user2279@example.com", "user2279@example.com", False)]),
        # spelled forms
        ("email sarah22 at gmail dot com", [
            ("sarah22@gmail.com", "sarah22 at gmail dot com", True)]),
        ("sarah at gmail dot com", [("sarah@gmail.com", "sarah at gmail dot com", True)]),
        ("Mail: user1090(at)example(dot)com  Encinitas", [
            ("user1090@example.com", "user1090(at)example(dot)com", True)]),
        ("name [at] gmail [dot] com", [("name@gmail.com", "name [at] gmail [dot] com", True)]),
        ("name @ gmail . com", [("name@gmail.com", "name @ gmail . com", True)]),
        ("Name AT Gmail DOT Com", [("name@gmail.com", "Name AT Gmail DOT Com", True)]),
        ("Email Me At Sarah22 At Yahoo Dot Com", [
            ("sarah22@yahoo.com", "Sarah22 At Yahoo Dot Com", True)]),
        ("name{at}hotmail{dot}co{dot}uk", [
            ("name@hotmail.co.uk", "name{at}hotmail{dot}co{dot}uk", True)]),
        ("contact user0654 at example.com or call", [
            ("user0654@example.com", "user0654 at example.com", True)]),
        ("CHECK OUT MY user1873 @ example.com FYI", [
            ("user1873@example.com", "user1873 @ example.com", True)]),
        ("e-mail: baileys user1112@example .com (remove spaces)", [
            ("user1112@example.com", "user1112@example .com", True)]),
        ("name @ gmail . com . Call me", [("name@gmail.com", "name @ gmail . com", True)]),
        # a known provider without its TLD
        ("more info.(pageonela@yahoo) I am", [("pageonela@yahoo.com", "pageonela@yahoo", True)]),
        ("Desiree1589@yahoo. Follow my twitter", [
            ("desiree1589@yahoo.com", "Desiree1589@yahoo", True)]),
        # both kinds in one text, in order
        ("a@example.com or b_2 at example dot net", [
            ("a@example.com", "a@example.com", False),
            ("b_2@example.net", "b_2 at example dot net", True)]),
    ],
)  # fmt: skip
def test_forms(text: str, expected: list[tuple[str, str, bool]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "meet me at the hotel dot",
        "Meet me at the hotel dot com",
        "call me at 619-555-0100",
        "Call me at 619.555.0100 dot",
        "I'm at home. Com see me",
        "email me at gmail dot com",
        "Available at Marriott.com",
        "Text me @ 8pm",
        "Txt me @(714) 555-0176",
        "contacts me @ scu2740 702.555.0194",
        "IG @ amber.co",
        "Snapchat @ sc_user1701xxxx",
        "I enjoy @h_user1235 U",
        "see me at 5 dot 30",
        "www(dot)EnterTheTemple(dot)com",
        "xenazen.hotprovider   dot com",
        "I am also on E❤️R❤O❤S DOT COM",
        "sarah at gmail",  # a bare "at" and a provider need an address-like local part
        "name@live",  # a provider that is also a word needs its TLD
        "Hosting @ my place . Com",
    ],
)
def test_prose_is_not_an_address(text: str) -> None:
    assert found(text) == []


def test_url_field_is_not_read_and_spans_are_honest() -> None:
    ad = Ad(
        ad_id="1",
        source="t",
        title="Mia 💋 mia22 (at) gmail (dot) com",
        body="Write 💌 mia_22 AT example DOT org or mia@example.com",
        url="http://example.com/a@b.com",
        location="user2 at example.net",
    )
    ents = extract_all(ad, names=["email"])
    for e in ents:
        assert getattr(ad, e.field)[e.start : e.end] == e.text
    assert [(e.field, e.value, e.obfuscated) for e in ents] == [
        ("title", "mia22@gmail.com", True),
        ("body", "mia_22@example.org", True),
        ("body", "mia@example.com", False),
        ("location", "user2@example.net", True),
    ]


def test_word_glued_to_the_domain_is_cut() -> None:
    (e,) = extract_all(
        Ad(ad_id="1", source="t", body="mail x1@example.comText: me"), names=["email"]
    )
    assert (e.value, e.text) == ("x1@example.com", "x1@example.com")
