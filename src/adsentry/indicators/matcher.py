"""The indicator matcher: a per-ad stage from an ad and its entities to Indicators.

Rules (codes and sources in ``lexicons/codes.toml``, patterns in
``lexicons/<language>.toml``):

* **Lexical codes** (``trustworthy_language``, ``youth_language``,
  ``ethnicity_stated`` and the folk ones): the patterns of every language are matched
  on the folded view (:mod:`adsentry.indicators.fold`) of the title, body and location
  (``TEXT_FIELDS`` without ``url``: the slug repeats the title). Every ad is matched
  against every language: ads mix them ("latina", "100% real" in Spanish ads). Each
  code has its own combined regex, so evidence of one code never hides another
  ("2 latina girls" is both ``multiple_providers`` and ``ethnicity_stated``); within
  a code, matches never overlap.
* ``obscured_contact`` (validated): phone entities with ``obfuscated=True``; their
  spans are the evidence. A plain phone number is no cue.
* ``stated_age_under_23`` (folk): age entities whose int value is below 23.

One Indicator per code per ad, with all its spans in field order then offset;
Indicators sorted by code. ``language`` is the lexicon that matched, or the sorted
languages joined with ``,`` when several did (``en,es``); ``""`` for entity codes.

The lexicons are compiled once per process, on first use (:func:`warm_up` forces
it), and kept in a module-level cache that forked workers inherit. Matched text is
never logged above DEBUG.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

from adsentry.extract.context import FieldMemo, scoped
from adsentry.indicators.fold import Folded, fold
from adsentry.indicators.lexicon import (
    CodeInfo,
    Compiled,
    CompiledEntry,
    compile_lexicons,
    load_codes,
    load_entries,
    skeleton,
)
from adsentry.model import TEXT_FIELDS, Ad, Entity, Indicator, Span

__all__ = ["CODES", "SCANNED_FIELDS", "list_codes", "match_indicators", "warm_up"]

log = logging.getLogger(__name__)

#: Code -> :class:`CodeInfo` (validated, source, description, kind), from codes.toml.
CODES: Final[Mapping[str, CodeInfo]] = MappingProxyType(load_codes())

#: The fields scanned by the lexicons, in order.
SCANNED_FIELDS: Final[tuple[str, ...]] = tuple(f for f in TEXT_FIELDS if f != "url")

_FIELD_ORDER: Final = {f: i for i, f in enumerate(TEXT_FIELDS)}
_LOCK = threading.Lock()
_COMPILED: list[Compiled] = []
_WORD: Final = re.compile(r"[^\W_]+")


def list_codes(*, validated: bool | None = None) -> list[CodeInfo]:
    """The indicator codes for docs and the UI: validated first, then by code.

    ``validated``: keep only validated (True) or folk (False) codes; None keeps all.
    """
    infos = [i for i in CODES.values() if validated is None or i.validated == validated]
    return sorted(infos, key=lambda i: (not i.validated, i.code))


def warm_up() -> None:
    """Load and compile the lexicons now (once per process; later calls are free).

    Raises :class:`~adsentry.indicators.lexicon.LexiconError` when a lexicon file is
    malformed.
    """
    _compiled()


def _compiled() -> Compiled:
    if _COMPILED:
        return _COMPILED[0]
    with _LOCK:
        if not _COMPILED:
            entries, macros = load_entries(CODES)
            _COMPILED.append(compile_lexicons(entries, macros))
    return _COMPILED[0]


_Found = dict[str, tuple[list[Span], set[str]]]


def _candidates(lex: Compiled, text: str) -> list[tuple[int, tuple[CompiledEntry, ...]]]:
    """Word starts (and literal triggers) of ``text`` where some entry may match."""
    # A trigger word matches where a whole word of the skeleton equals it: one pass
    # over the words, in text order (a pass per trigger word present cost 12 % more).
    words = lex.words
    found = [
        (m.start(), words[w]) for m in _WORD.finditer(skeleton(text)) if (w := m.group()) in words
    ]
    literal = False
    for lit, entries in lex.literals.items():
        p = text.find(lit)
        while p >= 0:
            found.append((p, entries))
            literal = True
            p = text.find(lit, p + 1)
    if literal:
        found.sort(key=lambda t: t[0])
    return found


def _lexical(ad: Ad) -> _Found:
    found: _Found = {}
    lex = _compiled()
    debug = log.isEnabledFor(logging.DEBUG)
    for name in SCANNED_FIELDS:
        original = ad.text_of(name)
        if not original:
            continue
        memo = scoped(_MEMOS, name)
        hits = memo.get(original)
        if hits is None:
            hits = memo.put(original, _field_hits(lex, name, original))
        for code, span, language in hits:
            spans, langs = found.setdefault(code, ([], set()))
            spans.append(span)
            langs.add(language)
            if debug:
                log.debug(
                    "%s %s %s[%d:%d] %r", ad.ad_id, code, name, span.start, span.end, span.text
                )
    return found


#: What the lexicons matched in field texts seen before (field name -> text -> hits):
#: a pure function of the text and the field's name, and ads repeat (reposts,
#: location lines), as for the extractors' memos.
_MEMOS: dict[str, FieldMemo[tuple[tuple[str, Span, str], ...]]] = {}


def _field_hits(lex: Compiled, name: str, original: str) -> tuple[tuple[str, Span, str], ...]:
    """``(code, span, language)`` of every lexicon match in one field, in text order
    (within a code, matches never overlap)."""
    view: Folded = fold(original)
    text = view.text
    cands = _candidates(lex, text)
    if not cands:
        return ()
    hits: list[tuple[str, Span, str]] = []
    free = [0] * len(lex.codes)
    for pos, entries in cands:
        for ce in entries:
            ci = ce.code_index
            if pos < free[ci]:
                continue
            m = ce.regex.match(text, pos)
            if m is None or m.end() == pos:
                continue
            start, end = pos, m.end()
            if ce.before is not None and ce.before.search(text, max(0, start - 40), start):
                continue
            if ce.after is not None and ce.after.match(text, end):
                continue
            free[ci] = end
            a, b = view.to_original(start, end)
            hits.append((lex.codes[ci], Span(name, a, b, original[a:b]), ce.entry.language))
    return tuple(hits)


def _indicator(code: str, spans: list[Span], language: str) -> Indicator:
    info = CODES[code]
    spans.sort(key=lambda s: (_FIELD_ORDER.get(s.field, 99), s.start, s.end))
    return Indicator(code, info.validated, info.source, tuple(spans), language)


def match_indicators(ad: Ad, entities: Sequence[Entity]) -> list[Indicator]:
    """Return the Indicators of one ad, one per code, sorted by code.

    ``ad``: the ad whose title, body and location are matched; ``entities``: its
    extracted entities (only ``phone`` with ``obfuscated=True`` and ``age`` with an
    int value are read). Pure and deterministic: same input, same list. Every span
    satisfies ``ad.<field>[start:end] == text``. Raises
    :class:`~adsentry.indicators.lexicon.LexiconError` on first use if a lexicon file
    is malformed; never for any text.
    """
    out: list[Indicator] = []
    for code, (spans, langs) in _lexical(ad).items():
        out.append(_indicator(code, spans, ",".join(sorted(langs))))
    obscured = [e.span for e in entities if e.kind == "phone" and e.obfuscated]
    if obscured:
        out.append(_indicator("obscured_contact", obscured, ""))
    young = [
        e.span
        for e in entities
        if e.kind == "age"
        and isinstance(e.value, int)
        and not isinstance(e.value, bool)
        and e.value < 23
    ]
    if young:
        out.append(_indicator("stated_age_under_23", young, ""))
    out.sort(key=lambda i: (i.code, _FIELD_ORDER.get(i.spans[0].field, 99), i.spans[0].start))
    return out
