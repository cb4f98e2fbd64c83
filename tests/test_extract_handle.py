"""Social handles: each written form, the traps, honest spans, and the gold F1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adsentry.extract import extract_all
from adsentry.extract.handle import find_handles
from adsentry.model import TEXT_FIELDS, Ad

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GOLD = DATA / "gold" / "handles.jsonl"
CORPUS = DATA / "backpage-ca-2017" / "ads.jsonl"


def found(text: str) -> list[tuple[str, str]]:
    """(value, text as written) of every handle in ``text``, with honest spans."""
    hits = find_handles(text)
    for e in hits:
        assert text[e.start : e.end] == e.text
        assert e.kind == "handle" and e.extractor == "handle" and not e.obfuscated
    return [(e.value, e.text) for e in hits]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a platform keyword, then the handle
        ("IG: sexy_amber22", [("instagram:sexy_amber22", "sexy_amber22")]),
        ("ig - amber.rose", [("instagram:amber.rose", "amber.rose")]),
        ("insta: @amberrose", [("instagram:amberrose", "amberrose")]),
        ("follow me on Instagram=ig_user1847 now", [("instagram:ig_user1847", "ig_user1847")]),
        ("sc - amber22", [("snapchat:amber22", "amber22")]),
        ("snap chat-sc_user0959 insta-ig_user0959", [
            ("snapchat:sc_user0959", "sc_user0959"), ("instagram:ig_user0959", "ig_user0959")]),
        ("snapchat me: sc_user3640", [("snapchat:sc_user3640", "sc_user3640")]),
        ("My snapchat id is sc_user3641", [("snapchat:sc_user3641", "sc_user3641")]),
        ("Snapchat 👻: @sc_user3332 🌹", [("snapchat:sc_user3332", "sc_user3332")]),
        ("⭐️ Snapchat : sc_user3649 ⭐️", [("snapchat:sc_user3649", "sc_user3649")]),
        ("Add me on Snapchat 👻aubreebunnyy👻 text", [("snapchat:aubreebunnyy", "aubreebunnyy")]),
        ("Add my Snapchat (beckylovezit) for more", [("snapchat:beckylovezit", "beckylovezit")]),
        ("702-555-0183 Snapchat ccchanelcc", [("snapchat:ccchanelcc", "ccchanelcc")]),
        ("follow my snap chat meme-millions  3695550146",
         [("snapchat:meme-millions", "meme-millions")]),
        ("Follow me on Twitter @ tw_user3625.", [("twitter:tw_user3625", "tw_user3625")]),
        ("Daily photos on Twitter: tw_user0672xxx", [("twitter:tw_user0672xxx", "tw_user0672xxx")]),
        ("X: @amber22", [("twitter:amber22", "amber22")]),
        ("kik me amber22", [("kik:amber22", "amber22")]),
        ("kik: amberrose", [("kik:amberrose", "amberrose")]),
        ("TEXT To (kik/kik_user1347) OR EMAIL", [("kik:kik_user1347", "kik_user1347")]),
        ("telegram: @amber_tg", [("telegram:amber_tg", "amber_tg")]),
        ("wechat id: wc_user3654", [("wechat:wc_user3654", "wc_user3654")]),
        ("contact me on wechat ID:wcu3655", [("wechat:wcu3655", "wcu3655")]),
        ("add me on wechat wcu3656", [("wechat:wcu3656", "wcu3656")]),
        ("Wechat : wc_user3653 Wechat us", [("wechat:wc_user3653", "wc_user3653")]),
        ("LINE ID: amber22", [("line:amber22", "amber22")]),
        # @name with a platform keyword near it
        ("Add my Snapchat for XXX CONTENT 👻 @sc_user1048 👻",
         [("snapchat:sc_user1048", "sc_user1048")]),
        ("verify me via Twitter/ Instagram @ig_user3650.",
         [("instagram:ig_user3650", "ig_user3650")]),
        ("TWEET THE QUEEN.... @tw_user0607 now", [("twitter:tw_user0607", "tw_user0607")]),
        ("@amberrose on IG", [("instagram:amberrose", "amberrose")]),
        ("IG: @ig_a1   twitter: @tw_b2",
         [("instagram:ig_a1", "ig_a1"), ("twitter:tw_b2", "tw_b2")]),
        # profile URLs: the span is the URL up to the end of the handle
        ("https://www.instagram.com/ig_user0317xxx",
         [("instagram:ig_user0317xxx", "https://www.instagram.com/ig_user0317xxx")]),
        ("310🌺555🌺012https://www.instagram.com/ig_user0307/?hl=ru",
         [("instagram:ig_user0307", "https://www.instagram.com/ig_user0307")]),
        ("East Bay, https://www.snapchat.com/add/sc_user2807, Pleasanton",
         [("snapchat:sc_user2807", "https://www.snapchat.com/add/sc_user2807")]),
        ("http://twitter.com/tw_user0698xxxx", [
            ("twitter:tw_user0698xxxx", "http://twitter.com/tw_user0698xxxx")]),
        ("see x.com/amber22", [("twitter:amber22", "x.com/amber22")]),
        ("t.me/amber_channel", [("telegram:amber_channel", "t.me/amber_channel")]),
        ("wa.me/16195550100", [("whatsapp:16195550100", "wa.me/16195550100")]),
        ("onlyfans.com/amberrose", [("onlyfans:amberrose", "onlyfans.com/amberrose")]),
        ("tiktok.com/@amber.rose", [("tiktok:amber.rose", "tiktok.com/@amber.rose")]),
        ("Instagram: https://instagram.com/amber22",
         [("instagram:amber22", "https://instagram.com/amber22")]),
    ],
)  # fmt: skip
def test_written_forms(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # generic words after a keyword
        "Snapchat me",
        "snapchat me!",
        "IG only",
        "kik ok",
        "kik me",
        "snapchat shenanigans and fun",
        "Sexy girl looking for casual snapchat fun, release stress",
        "Looking to SNAPCHAT today. Only pics",
        "add me on snapchat to book",
        "FB AND TWITTER ME. MWAH",
        "Please check out my twitter for more pics",
        "my Instagram is amazing!",
        "Find me on Instagram Elite Aria",
        "SC Friendly 👻 no rush",
        "Skype, snapchat, clips",
        "Snapchat ID required",
        "Top of the line ID required",
        "top of the line 💎 sexy",
        "HOT LINE ☛☛ 949-555-0171",
        # not platform keywords at all
        "Columbia, SC 29201",
        "Greenville, SC - Tiffany",
        "M.Sc. in engineering",
        "I'm a 3x star.model",
        "Rated X: content",
        # WhatsApp numbers are phones, not handles
        "whatsapp: +1 619 555 0100",
        "mobile number, whatsapp and viber is +852 5123 4604",
        # e-mail addresses are never handles
        "Snapchat: amber@gmail.com",
        "Email me amber22@gmail.com",
        "IG @ amber22@example.com",
        # bare @name with no platform near it, and "@" as "at"
        "@amber22",
        "contacts me @ scu2740 702.555.0194",
        "Incall @ 8pm on IG",
        "hosting @ my place",
        # personal sites, site pages and other platforms are not handles
        "www.tw_user3626xxxx.com Follow",
        "Snapchat: www.amber.com",
        "https://www.instagram.com/p/BxYz123/",
        "https://www.instagram.com/?hl=en",
        "http://www.twitter.com//",
        "https://www.facebook.com/fb_user0660xxx",
    ],
)
def test_traps(text: str) -> None:
    assert found(text) == []


def test_values_compare_case_insensitively_but_keep_case() -> None:
    assert found("IG: Amber_Rose") == [("instagram:Amber_Rose", "Amber_Rose")]


def test_spans_are_honest_in_every_field() -> None:
    ad = Ad(
        ad_id="1",
        source="t",
        title="Snowbunny 👻 Add Me On Snapchat 👻 @sc_user1048 👻",
        body="Hi 💋 IG: @ig_user2825 and https://www.instagram.com/ig_user0317",
        url="https://www.snapchat.com/add/sc_user2807",
        location="https://www.instagram.com/ig_user1413xxx, San Francisco",
    )
    ents = extract_all(ad, names=["handle"])
    for e in ents:
        assert getattr(ad, e.field)[e.start : e.end] == e.text
    assert [(e.field, e.value) for e in ents] == [
        ("title", "snapchat:sc_user1048"),
        ("body", "instagram:ig_user2825"),
        ("body", "instagram:ig_user0317"),
        ("url", "snapchat:sc_user2807"),
        ("location", "instagram:ig_user1413xxx"),
    ]


def test_url_field_reads_profile_urls_only() -> None:
    # The ad's own page (its slug repeats the title) gives no handle.
    ad = Ad(
        ad_id="1",
        source="t",
        url="http://la.backpage.com/WomenSeekMen/add-me-on-snapchat-scu1461-p304/8183",
    )
    assert extract_all(ad, names=["handle"]) == []


def test_no_rule_reads_across_fields() -> None:
    ad = Ad(ad_id="1", source="t", title="Add me on Snapchat", body="sc_user3641 is me")
    assert extract_all(ad, names=["handle"]) == []
    ad = Ad(ad_id="1", source="t", title="Follow me on Instagram", body="@amber22")
    assert extract_all(ad, names=["handle"]) == []


@pytest.mark.skipif(not GOLD.exists(), reason="shared gold data not available")
def test_gold_f1() -> None:
    from adsentry.evaluate import evaluate

    (score,) = evaluate(GOLD, "handle")
    assert score.records == 30
    assert score.f1 >= 0.90, (score.to_dict(), [c.key for c in score.misses + score.false_hits])


@pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus not available")
def test_corpus_spans_and_values() -> None:
    platforms = {"instagram", "snapchat", "twitter", "kik", "telegram", "whatsapp", "wechat",
                 "line", "onlyfans", "tiktok"}  # fmt: skip
    n = 0
    with open(CORPUS, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            ad = Ad(ad_id=rec["id"], source="bp", **{k: rec.get(k) or "" for k in TEXT_FIELDS})
            for e in extract_all(ad, names=["handle"]):
                assert getattr(ad, e.field)[e.start : e.end] == e.text
                platform, _, handle = e.value.partition(":")
                assert platform in platforms and handle and "@" not in handle
                n += 1
    assert n >= 50  # 68 when written; a sharp drop means a broken rule
