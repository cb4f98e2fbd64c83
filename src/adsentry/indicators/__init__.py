"""Indicators: risk cues in one ad, with evidence spans, validated or folk.

``match_indicators(ad, entities)`` is the per-ad stage; ``CODES`` and
``list_codes()`` describe every code (validated or folk, source, description) for
docs and the UI. Only the four cues that the JRSA/NIJ outcome study found predictive
(docs/indicators.md) are validated: ``trustworthy_language``, ``obscured_contact``,
``youth_language``, ``ethnicity_stated``. Everything else is folk and labelled so.
Lexicons are data files per language in ``lexicons/`` (see
:mod:`adsentry.indicators.lexicon` for their syntax).
"""

from __future__ import annotations

from adsentry.indicators.lexicon import LANGUAGES, CodeInfo, Entry, LexiconError
from adsentry.indicators.matcher import (
    CODES,
    SCANNED_FIELDS,
    list_codes,
    match_indicators,
    warm_up,
)

__all__ = [
    "CODES",
    "LANGUAGES",
    "SCANNED_FIELDS",
    "CodeInfo",
    "Entry",
    "LexiconError",
    "list_codes",
    "match_indicators",
    "warm_up",
]
