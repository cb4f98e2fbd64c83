"""Configuration: file, environment overrides, errors, and the source region in use."""

from __future__ import annotations

from pathlib import Path

import pytest

from adsentry.config import load_config
from adsentry.errors import AdsentryError
from adsentry.extract import extract_all
from adsentry.model import Ad


def test_file_then_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "a.toml"
    cfg.write_text(
        '[analyze]\ndb = "case.db"\nregion = "gb"\nworkers = 3\n'
        '[sources.dk-escorts]\nregion = "DK"\n'
    )
    c = load_config(cfg, env={})
    assert (c.db, c.region, c.workers) == ("case.db", "GB", 3)
    assert c.source_regions == {"dk-escorts": "DK"}
    c = load_config(
        cfg,
        env={"ADSENTRY_REGION": "au", "ADSENTRY_WORKERS": "1", "ADSENTRY_SOURCE_REGIONS": "x=es"},
    )
    assert (c.db, c.region, c.workers) == ("case.db", "AU", 1)
    assert c.source_regions == {"dk-escorts": "DK", "x": "ES"}


def test_no_file_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    c = load_config(None, env={})
    assert (c.db, c.region, c.workers, c.path) == (None, None, None, None)


def test_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(AdsentryError, match="config file not found"):
        load_config(tmp_path / "missing.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[analyze\n")
    with pytest.raises(AdsentryError, match="not valid TOML"):
        load_config(bad, env={})
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[analyze]\nworkers = 'two'\n")
    with pytest.raises(AdsentryError, match=r"analyze\.workers must be a int"):
        load_config(wrong, env={})
    with pytest.raises(AdsentryError, match="ADSENTRY_WORKERS"):
        load_config(None, env={"ADSENTRY_WORKERS": "many"})


def test_source_region_decides_numbers_without_country_code() -> None:
    ad = Ad(ad_id="1", source="dk-escorts", body="ring 20 12 34 56")
    assert [e.value for e in extract_all(ad, names=["phone"])] == []
    found = extract_all(ad, names=["phone"], source_regions={"dk-escorts": "DK"})
    assert [(e.value, e.text) for e in found] == [("+4520123456", "20 12 34 56")]


def test_typos_and_bad_codes_are_refused(tmp_path: Path) -> None:
    for text, message in [
        ('[analyze]\nregoin = "DK"\n', "unknown setting analyze.regoin"),
        ('[analyse]\nregion = "DK"\n', "unknown setting analyse"),
        ('[sources.dk]\nregon = "DK"\n', "unknown setting sources.dk.regon"),
        ('[sources.x]\nregion = "ZZZ"\n', "not an ISO 3166-1 alpha-2"),
    ]:
        f = tmp_path / "c.toml"
        f.write_text(text)
        with pytest.raises(AdsentryError, match=message):
            load_config(f, env={})
    with pytest.raises(AdsentryError, match="expected SOURCE=CC"):
        load_config(None, env={"ADSENTRY_SOURCE_REGIONS": "garbage"})
