"""adsentry: data tooling that finds trafficking networks in online ads."""

from adsentry._compiled import use_sources_when_needed as _use_sources_when_needed

__version__ = "0.1.0"

# Before any other adsentry module loads: the compiled per-ad stages, unless they are
# stale or incomplete (then their sources; see adsentry/_compiled.py).
_use_sources_when_needed()
