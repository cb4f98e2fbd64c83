"""Tests for adsentry._compiled: when the mypyc-compiled modules run, and that they give
the same output as their sources.

The choice is tested on a made-up package tree (empty files with the right names). The
equivalence test runs ``adsentry analyze`` (then ``export networks``), ``adsentry
extract`` and ``adsentry screen`` twice on the same ads, compiled and with
``ADSENTRY_PURE_PYTHON=1``, and compares the output byte for byte. It needs a compiled
build: it is skipped on a pure-Python install, and fails there where
``ADSENTRY_REQUIRE_COMPILED=1`` (set by .ci/run, whose install compiles).
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import adsentry.text
from adsentry import _compiled
from adsentry._compiled import COMPILED, GROUP_LIBRARY, _reason_for_sources, module_name
from adsentry.demo import generate

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPUS = DATA / "backpage-ca-2017" / "ads.jsonl"
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def fake_tree(root: Path, *, compiled: bool = True, group: bool = True) -> Path:
    """A checkout-like tree: root/setup.py, root/src/adsentry/<modules>.py (+ .so)."""
    package = root / "src" / "adsentry"
    for relative in COMPILED:
        source = package / relative
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text("")
        if compiled:
            source.with_name(source.stem + SUFFIX).write_text("")
    if group:
        (package.parent / f"{GROUP_LIBRARY}{SUFFIX}").write_text("")
    (root / "setup.py").write_text("")
    return package


def age_all(package: Path, seconds: float) -> None:
    """Set every file's modification time ``seconds`` in the past."""
    past = time.time() - seconds
    for path in package.parent.rglob("*"):
        os.utime(path, (past, past))


def test_a_pure_python_install_is_left_alone(tmp_path: Path) -> None:
    package = fake_tree(tmp_path, compiled=False, group=False)
    assert _reason_for_sources(package, {}) is None


def test_a_fresh_build_is_used(tmp_path: Path) -> None:
    package = fake_tree(tmp_path)
    age_all(package, 60)
    assert _reason_for_sources(package, {}) is None


def test_the_environment_variable_chooses_the_sources(tmp_path: Path) -> None:
    package = fake_tree(tmp_path)
    assert _reason_for_sources(package, {"ADSENTRY_PURE_PYTHON": "1"}) == (
        "ADSENTRY_PURE_PYTHON is set"
    )
    assert _reason_for_sources(package, {"ADSENTRY_PURE_PYTHON": "0"}) is None


def test_a_source_edited_after_the_build_chooses_every_source(tmp_path: Path) -> None:
    package = fake_tree(tmp_path)
    age_all(package, 60)
    (package / "extract" / "phone.py").write_text("# edited\n")
    assert _reason_for_sources(package, {}) == "phone.py changed since the build (run `make build`)"
    # an installed package (no setup.py two folders up) is not judged by times
    (tmp_path / "setup.py").unlink()
    assert _reason_for_sources(package, {}) is None


def test_an_incomplete_build_chooses_every_source(tmp_path: Path) -> None:
    package = fake_tree(tmp_path)
    (package / "extract" / f"name{SUFFIX}").unlink()
    assert _reason_for_sources(package, {}) == "the compiled build is incomplete"
    package = fake_tree(tmp_path / "b", group=False)
    assert _reason_for_sources(package, {}) == f"mypyc's shared library {GROUP_LIBRARY} is missing"


def test_module_names_of_the_compiled_files() -> None:
    assert module_name("text.py") == "adsentry.text"
    assert module_name("extract/phone.py") == "adsentry.extract.phone"
    assert module_name("extract/__init__.py") == "adsentry.extract"


def test_the_source_finder_loads_a_listed_module_from_its_source(tmp_path: Path) -> None:
    source = tmp_path / "text.py"
    source.write_text("WHERE = 'source'\n")
    (tmp_path / "extract").mkdir()
    init = tmp_path / "extract" / "__init__.py"
    init.write_text("")
    finder = _compiled._SourceFinder({"adsentry.text": source, "adsentry.extract": init})
    spec = finder.find_spec("adsentry.text")
    assert spec is not None and spec.origin == str(source)
    assert spec.submodule_search_locations is None
    spec = finder.find_spec("adsentry.extract")
    assert spec is not None and spec.submodule_search_locations == [str(tmp_path / "extract")]
    assert finder.find_spec("adsentry.cli") is None


def running_compiled() -> bool:
    return not str(adsentry.text.__file__).endswith(".py")


def output_of(command: list[str], pure: bool, cwd: Path) -> bytes:
    env = {k: v for k, v in os.environ.items() if k != "ADSENTRY_PURE_PYTHON"}
    if pure:
        env["ADSENTRY_PURE_PYTHON"] = "1"
    probe = "import adsentry.text as t, sys; sys.stdout.write(t.__file__)"
    where = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert where.endswith(".py") == pure, where
    run = subprocess.run(
        [sys.executable, "-m", "adsentry.cli", *command],
        env=env,
        cwd=cwd,
        capture_output=True,
        check=True,
    )
    return run.stdout


def test_compiled_and_source_modules_give_the_same_output(tmp_path: Path) -> None:
    if not running_compiled():
        if os.environ.get("ADSENTRY_REQUIRE_COMPILED") == "1":
            pytest.fail(f"adsentry runs its sources ({adsentry.text.__file__}), not a build")
        pytest.skip("a pure-Python install: nothing compiled to compare")
    ads, demo = tmp_path / "ads.jsonl", tmp_path / "demo.jsonl"
    with demo.open("w", encoding="utf-8") as out:
        for record, _label in generate(600, seed=7):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    with ads.open("w", encoding="utf-8") as out:
        if CORPUS.exists():
            with CORPUS.open(encoding="utf-8") as f:
                for i, line in enumerate(f):
                    if i % 4 == 0:  # 1,358 real ads across the file
                        out.write(line)
        out.write(demo.read_text(encoding="utf-8"))
    # the demo ads analyzed (linked into networks) both ways; then screened against
    export = ["export", "networks", "--format", "jsonl", "--db"]
    output_of(["analyze", str(demo), "--db", "pure.db"], pure=True, cwd=tmp_path)
    output_of(["analyze", str(demo), "--db", "case.db"], pure=False, cwd=tmp_path)
    networks = output_of([*export, "case.db"], pure=False, cwd=tmp_path)
    assert networks == output_of([*export, "pure.db"], pure=True, cwd=tmp_path)
    assert b'"network_id": "' in networks
    for command in (["extract", str(ads)], ["screen", str(ads), "--db", "case.db"]):
        compiled = output_of(command, pure=False, cwd=tmp_path)
        pure = output_of(command, pure=True, cwd=tmp_path)
        assert compiled.count(b"\n") >= 600
        assert compiled == pure, command
    assert b'"network": {' in compiled  # screened ads did join stored networks
