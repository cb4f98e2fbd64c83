"""Build: the per-ad stages compiled to C with mypyc where a C compiler is present.

Everything else about the package is in pyproject.toml. The modules listed in
``src/adsentry/_compiled.py`` are compiled by mypyc (part of mypy, MIT licence; black
and mypy ship compiled the same way): 21 % fewer instructions an ad in extraction, 11 %
in the indicators, with byte-identical results (bench/RESULTS.md, "Compiled per-ad
stages"). The extensions are optional: without a C compiler, or with ``ADSENTRY_COMPILE=0``, the
install is pure Python and runs the same code from the ``.py`` files. An editable
install (``make install``) builds them in place beside the sources; ``make build``
rebuilds them after an edit (until then adsentry runs the sources, see
``_compiled.py``).
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent
#: The setuptools commands that build extensions. PEP 517 also runs this file to read the
#: metadata (``egg_info``, ``dist_info``, ``sdist``); mypyc type-checks and writes its C
#: in each run it is called, about a minute, so only these runs call it.
BUILDS = {"build", "build_ext", "bdist_wheel", "editable_wheel", "develop", "install"}


def compiled_extensions() -> list[Extension]:
    """mypyc's extensions for the modules of ``_compiled.COMPILED``, or none."""
    if os.environ.get("ADSENTRY_COMPILE", "1") == "0" or not BUILDS & set(sys.argv[1:]):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:  # mypy is a build requirement; a build without isolation may lack it
        return []
    spec = runpy.run_path(str(HERE / "src" / "adsentry" / "_compiled.py"))
    paths = [os.path.join("src", "adsentry", *relative.split("/")) for relative in spec["COMPILED"]]
    try:
        extensions: list[Extension] = mypycify(
            paths, opt_level="3", group_name=spec["GROUP_LIBRARY"].removesuffix("__mypyc")
        )
    except (Exception, SystemExit) as exc:  # mypyc exits on code it cannot compile
        # The speed-up is optional; the install must not fail for it. (CI sets
        # ADSENTRY_REQUIRE_COMPILED=1, so tests/test_compiled.py fails there instead.)
        print(f"adsentry: mypyc failed ({exc!r}); installing pure Python", file=sys.stderr)
        return []
    for extension in extensions:
        extension.optional = True  # no C compiler: a warning, and the pure-Python install
    return extensions


setup(ext_modules=compiled_extensions())
