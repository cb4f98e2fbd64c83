"""Assessments: transparent sums, the folk cap, network facts, settings."""

from __future__ import annotations

import pytest

from adsentry.config import load_config
from adsentry.errors import AdsentryError
from adsentry.model import Indicator, Span
from adsentry.score import (
    DEFAULT_WEIGHTS,
    WEIGHT_SOURCES,
    NetworkAd,
    NetworkRef,
    ScoreSettings,
    assess_ad,
    assess_network,
    parse_weights,
)


def ind(code: str, validated: bool, *spans: tuple[str, int, int, str]) -> Indicator:
    return Indicator(code, validated, "test", tuple(Span(*s) for s in spans), "en")


OBSCURED = ind("obscured_contact", True, ("body", 8, 31, "six1nine 5five5 O142"))
YOUTH = ind("youth_language", True, ("title", 0, 5, "young"))


def test_validated_cues_add_their_weights_with_spans() -> None:
    a = assess_ad([YOUTH, OBSCURED], ScoreSettings())
    assert a.score == 0.4
    assert a.decision == "review"
    assert [c.code for c in a.contributions] == ["obscured_contact", "youth_language"]
    first = a.contributions[0].to_dict()
    assert first["weight"] == 0.2
    assert first["validated"] is True
    assert first["spans"] == [
        {"field": "body", "start": 8, "end": 31, "text": "six1nine 5five5 O142"}
    ]
    assert sum(c.weight for c in a.contributions) == pytest.approx(a.score)


def test_spans_name_the_input_records_own_field() -> None:
    a = assess_ad([OBSCURED], ScoreSettings(), field_names={"body": "text"})
    assert a.contributions[0].spans[0]["field"] == "text"


def test_folk_cues_alone_never_pass_allow_even_with_big_weights() -> None:
    weights = {**DEFAULT_WEIGHTS, "client_screening": 0.9, "multiple_providers": 0.9}
    settings = ScoreSettings(weights, review=0.4, hold=0.7)
    folk = [
        ind("client_screening", False, ("body", 0, 10, "references")),
        ind("multiple_providers", False, ("body", 20, 27, "2 girls")),
    ]
    a = assess_ad(folk, settings)
    assert a.decision == "allow"
    assert a.score == 0.39
    assert a.contributions[-1].code == "folk_cap"
    assert sum(c.weight for c in a.contributions) == pytest.approx(a.score)
    # with one validated cue beside them, the folk cues count in full (clipped at 1)
    b = assess_ad([*folk, YOUTH], settings)
    assert b.score == 1.0
    assert b.decision == "hold"
    assert b.contributions[-1].code == "clip"


def test_movement_language_is_shown_never_counted() -> None:
    a = assess_ad(
        [ind("movement_language", False, ("body", 0, 11, "new in town"))], ScoreSettings()
    )
    assert a.score == 0.0
    assert a.contributions == ()
    assert "LESS likely" in WEIGHT_SOURCES["movement_language"]


def test_network_contribution_carries_the_network_score() -> None:
    a = assess_ad([OBSCURED], ScoreSettings(), NetworkRef("n-abc", 12, 0.5))
    net = a.contributions[-1]
    assert (net.code, net.weight) == ("network", 0.2)
    assert net.facts == {"network_id": "n-abc", "size": 12, "score": 0.5}
    assert a.score == 0.4


def test_same_inputs_same_assessment() -> None:
    assert assess_ad([YOUTH, OBSCURED], ScoreSettings()) == assess_ad(
        [OBSCURED, YOUTH], ScoreSettings()
    )


def test_network_facts_with_their_evidence() -> None:
    ads = [
        NetworkAd(
            "s",
            "1",
            "2017-03-01T10:00:00+00:00",
            "t-1",
            ("+16195550142",),
            ("Mia",),
            ("San Diego, CA",),
            (("youth_language", True),),
        ),
        NetworkAd(
            "s",
            "2",
            "2017-03-04T10:00:00+00:00",
            "t-1",
            ("+16195550142",),
            ("Lola",),
            ("Los Angeles, CA",),
        ),
        NetworkAd(
            "s",
            "3",
            "2017-03-09T10:00:00+00:00",
            "t-1",
            ("+16195550142",),
            ("Kim",),
            ("Fresno, CA",),
        ),
        NetworkAd(
            "s",
            "4",
            "2017-05-01T10:00:00+00:00",
            None,
            ("+16195550199",),
            ("Kim",),
            ("Fresno, CA",),
        ),
    ]
    a = assess_network(ads, ScoreSettings())
    by = {c.code: c for c in a.contributions}
    assert by["phone_many_names"].facts == {
        "phone": "+16195550142",
        "names": ["kim", "lola", "mia"],
    }
    assert by["template_reuse"].facts == {"template_id": "t-1", "ads": 3, "names": 3, "cities": 3}
    assert by["many_cities_short_time"].facts["cities"] == [
        "Fresno, CA",
        "Los Angeles, CA",
        "San Diego, CA",
    ]
    assert by["several_people"].facts["names"] == ["kim", "lola", "mia"]
    assert by["validated_share"].weight == pytest.approx(0.2 / 4)
    assert a.score == pytest.approx(0.25 + 0.2 + 0.2 + 0.15 + 0.05)
    assert a.decision == "hold"


def test_one_poster_alone_has_no_structural_facts() -> None:
    ads = [
        NetworkAd(
            "s",
            str(i),
            f"2017-0{i}-01T10:00:00+00:00",
            None,
            ("+16195550142",),
            ("Mia",),
            ("San Diego, CA",),
        )
        for i in range(1, 4)
    ]
    a = assess_network(ads, ScoreSettings())
    assert a.score == 0.0
    assert a.decision == "allow"


def test_settings_refuse_out_of_range() -> None:
    with pytest.raises(ValueError, match="youth_language"):
        ScoreSettings({"youth_language": 1.5})
    with pytest.raises(ValueError, match="review"):
        ScoreSettings(review=0.8, hold=0.5)


def test_weights_and_policy_from_config_and_environment(tmp_path) -> None:
    cfg = tmp_path / "adsentry.toml"
    cfg.write_text("[score.weights]\nyouth_language = 0.3\n\n[policy]\nreview = 0.5\nhold = 0.8\n")
    c = load_config(cfg, env={"ADSENTRY_WEIGHTS": "network=0.1", "ADSENTRY_POLICY_HOLD": "0.9"})
    s = c.score_settings()
    assert s.weight("youth_language") == 0.3
    assert s.weight("network") == 0.1
    assert s.weight("obscured_contact") == DEFAULT_WEIGHTS["obscured_contact"]
    assert (s.review, s.hold) == (0.5, 0.9)
    bad = tmp_path / "bad.toml"
    bad.write_text("[score.weights]\nyouth_langage = 0.3\n")
    with pytest.raises(AdsentryError, match="unknown score weight 'youth_langage'"):
        load_config(bad, env={})
    with pytest.raises(AdsentryError, match="ADSENTRY_WEIGHTS"):
        load_config(None, env={"ADSENTRY_WEIGHTS": "youth_language"})


def test_parse_weights() -> None:
    assert parse_weights("a=0.1, b=0.25") == {"a": 0.1, "b": 0.25}
    with pytest.raises(ValueError, match="CODE=NUMBER"):
        parse_weights("a=high")


def test_docs_scoring_table_matches_the_default_weights() -> None:
    from pathlib import Path

    doc = Path(__file__).resolve().parent.parent / "docs" / "scoring.md"
    rows = {}
    for line in doc.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = float(cells[1])
    assert rows == DEFAULT_WEIGHTS


def test_every_indicator_code_has_a_default_weight_and_a_source() -> None:
    from adsentry.indicators import CODES

    assert set(CODES) <= set(DEFAULT_WEIGHTS)
    assert set(DEFAULT_WEIGHTS) == set(WEIGHT_SOURCES)


def test_stored_contributions_read_back_as_written_also_what_orjson_refuses() -> None:
    import json

    from adsentry.score import Assessment, Contribution, _json

    plain = Contribution("youth_language", 0.2, 'validated cue: "young"', True, False,
                         ({"field": "body", "start": 3, "end": 8, "text": "young"},))  # fmt: skip
    # a lone surrogate (orjson refuses it) and an integer over 64 bits in the facts
    odd = Contribution("network", 0.1, "in network \ud800", False, False, (), {"size": 2**70})
    for c in (plain, odd):
        stored = _json(Assessment(0.3, (c,), "review"))
        assert json.loads(stored) == [c.to_dict()]
