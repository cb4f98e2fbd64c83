"""Which modules the build compiles to C with mypyc, and the way back to their sources.

The per-ad stages (normalization, the extractors, the indicator matcher, the reader),
the template index and the screening lookup are plain, fully typed Python. Where a C
compiler is present, ``pip install`` (``setup.py``) also compiles them with mypyc (the
compiler of the mypy project, as black and mypy itself ship), which runs them with
about a fifth fewer instructions and the same results (bench/RESULTS.md, "Compiled
per-ad stages"). The ``.py`` files stay the source: an install without a compiler, or
with ``ADSENTRY_COMPILE=0``, runs them as they are.

A compiled module is chosen over its source by Python's import system whenever both
lie side by side, so a source edited after the build would be silently ignored. To
prevent that, :func:`use_sources_when_needed` (called by ``adsentry/__init__.py``
before any other adsentry module loads) makes every module of :data:`COMPILED` load
from its ``.py`` file when
- ``ADSENTRY_PURE_PYTHON`` is set to anything but ``""`` or ``"0"`` (to compare the
  two, or to debug with the sources);
- the build is incomplete (a compiled module or mypyc's shared library is missing);
- in a source checkout (``setup.py`` two folders up), a source is newer than its
  compiled module: the checkout was edited or updated since ``make build``.
All of them or none: compiled modules call each other's compiled code directly, so a
mix would run stale code. This module is stdlib only and is never compiled itself.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

#: Source files compiled by ``setup.py``, relative to the ``adsentry`` package: the
#: per-ad stages, and the template index with the screening lookup. Every one is fully
#: typed (mypy checks them in CI). They import other adsentry modules (the models, the
#: store), which stay Python: a change there never needs a build.
COMPILED: tuple[str, ...] = (
    "text.py",
    "gazetteer.py",
    "extract/__init__.py",
    "extract/age.py",
    "extract/context.py",
    "extract/email.py",
    "extract/handle.py",
    "extract/location.py",
    "extract/name.py",
    "extract/phone.py",
    "extract/price.py",
    "extract/url.py",
    "indicators/fold.py",
    "indicators/lexicon.py",
    "indicators/matcher.py",
    "io/encode.py",
    "io/readers.py",
    "link/lookup.py",
    "link/templates.py",
)


def module_name(relative: str) -> str:
    """``"extract/__init__.py"`` -> ``"adsentry.extract"``; ``"text.py"`` -> ``"adsentry.text"``."""
    parts = relative.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["adsentry", *parts])


#: mypyc's shared library for the group (``setup.py`` passes this ``group_name``); it
#: is a top-level module beside the ``adsentry`` package.
GROUP_LIBRARY = "adsentry__mypyc"

_PACKAGE = Path(__file__).resolve().parent
_ASKED = "ADSENTRY_PURE_PYTHON is set"


def _compiled_file(folder: Path, stem: str, names: set[str]) -> Path | None:
    """The extension module ``stem`` in ``folder`` (any of this Python's suffixes)."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        if stem + suffix in names:
            return folder / (stem + suffix)
    return None


def _reason_for_sources(package: Path, environ: os._Environ[str] | dict[str, str]) -> str | None:
    """Why the compiled modules must not be used, or None (use them, or there are none)."""
    if environ.get("ADSENTRY_PURE_PYTHON", "") not in ("", "0"):
        return _ASKED
    listings: dict[Path, set[str]] = {}

    def names(folder: Path) -> set[str]:
        if folder not in listings:
            try:
                listings[folder] = set(os.listdir(folder))
            except OSError:
                listings[folder] = set()
        return listings[folder]

    pairs: list[tuple[Path, Path | None]] = []
    for relative in COMPILED:
        source = package / relative
        folder = source.parent
        pairs.append((source, _compiled_file(folder, source.stem, names(folder))))
    built = [b for _, b in pairs if b is not None]
    if not built:
        return None  # a pure-Python install: nothing to choose
    if len(built) < len(pairs):
        return "the compiled build is incomplete"
    if _compiled_file(package.parent, GROUP_LIBRARY, names(package.parent)) is None:
        return f"mypyc's shared library {GROUP_LIBRARY} is missing"
    if (package.parent.parent / "setup.py").is_file():  # a source checkout
        for source, compiled in pairs:
            assert compiled is not None
            try:
                if source.stat().st_mtime > compiled.stat().st_mtime:
                    return f"{source.name} changed since the build (run `make build`)"
            except OSError:
                return f"{source} cannot be read"
    return None


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds the modules of :data:`COMPILED` as their ``.py`` sources."""

    def __init__(self, sources: dict[str, Path]) -> None:
        self.sources = sources

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        source = self.sources.get(fullname)
        if source is None:
            return None
        if source.name == "__init__.py":  # a package: its submodules are found as usual
            return importlib.util.spec_from_file_location(
                fullname, source, submodule_search_locations=[str(source.parent)]
            )
        return importlib.util.spec_from_file_location(fullname, source)


def use_sources_when_needed(
    package: Path = _PACKAGE, environ: os._Environ[str] | dict[str, str] = os.environ
) -> str | None:
    """Make the modules of :data:`COMPILED` load from their sources when they must
    (see the module docstring); returns the reason, or None when nothing changed.

    Must run before any of them is imported; a stale build also gives a
    RuntimeWarning, since its speed is lost until ``make build``.
    """
    reason = _reason_for_sources(package, environ)
    if reason is None:
        return None
    if not any(isinstance(f, _SourceFinder) for f in sys.meta_path):
        sources = {module_name(relative): package / relative for relative in COMPILED}
        sys.meta_path.insert(0, _SourceFinder(sources))
    if reason != _ASKED:
        warnings.warn(
            f"adsentry runs its pure-Python modules: {reason}", RuntimeWarning, stacklevel=2
        )
    return reason
