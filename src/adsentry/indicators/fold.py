"""A folded view of one text field for lexicon matching, with an offset map.

The view is what the lexicons of :mod:`adsentry.indicators` are matched against. What
:func:`fold` does, in order:

1. **Characters.** Lower case; accents dropped by NFKD (``Recién`` -> ``recien``,
   ``å`` -> ``a``) except ``ñ`` (``niña`` must not become the name ``nina``); ``æ`` and
   ``ø`` have no decomposition and stay. Compatibility forms become plain letters
   (full-width ``Ｙ``, mathematical ``𝐲``, circled ``ⓨ``); negative squared letters
   (``🅨``) and regional indicators (``🇳``) are not read (an emoji-range scan costs
   more than they are worth). Curly
   apostrophes become ``'``. Every character maps to exactly one character, except
   the invisible ones that posters put inside words to dodge filters: zero-width space
   and non-joiner, word joiner, BOM, soft hyphen and combining accents after a letter
   are dropped. Emoji, their variation selectors and joiners stay as they are (they are
   not word characters, so they never glue words together).
2. **Spaced-out letters.** A run of three or more single letters or digits, each
   separated by one to three spaces or by one of ``. - * _ · •`` (``Y O U N G``,
   ``n e w  i n  t o w n``, ``t.e.e.n``), is closed up: single separators go, a gap of
   two or more spaces becomes one space (``young``, ``new in town``, ``teen``).

Leetspeak and letter repeats are not folded here: the lexicon compiler turns each
letter of a pattern into a class with its look-alikes and a ``+`` (see
:mod:`adsentry.indicators.lexicon`), which keeps digits as digits for ``100% real``.

**Offsets.** ``starts[i]`` is the index in the original field of folded character
``i`` (``None`` when the view has the field's length and offsets are the identity).
A span ``[s, e)`` of the view maps back to ``[starts[s], starts[e - 1] + 1)``,
extended over combining accents that follow it, so ``original[a:b]`` always covers
exactly the characters that matched plus any invisible ones between them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

__all__ = ["Folded", "fold"]

_DROP: Final = "\x00"
# Invisible characters dropped from the view (step 1).
_INVISIBLE: Final = frozenset("\u200b\u200c\u2060\ufeff\u00ad")
# Characters that may need folding: Latin letters with accents, curly apostrophes,
# invisible characters, combining accents (a fast test), and for text that is not
# NFKD-stable also full-width, enclosed and mathematical letters.
_NEEDS_FOLD_FAST: Final = re.compile(
    "[\u00aa-\u024f\u0300-\u036f\u1e00-\u1eff\u200b\u200c\u2018\u2019\u02bc\u2060\ufeff]"
)
_NEEDS_FOLD: Final = re.compile(
    "[\u00aa-\u024f\u0300-\u036f\u1e00-\u1eff\u200b\u200c\u2018\u2019\u02bc\u2060"
    "\u2032\u2460-\u24ff\ufeff\uff00-\uffef\U0001d400-\U0001d7ff]"
)
_APOSTROPHES: Final = frozenset("\u2018\u2019\u02bc\u0060\u00b4\u2032")
_KEEP: Final = frozenset("ñ")
# Runs of spaced single letters or digits (step 2), on the folded view.
_SPACED: Final = re.compile(
    r"(?<![^\W_])[^\W_](?:(?: {1,3}|[.\-*_\u00b7\u2022] ?)[^\W_](?![^\W_])){2,}"
)
# A cheap test that must pass before _SPACED is tried (most fields have no run).
_SPACED_QUICK: Final = re.compile(r" \w \w")
_SPACED_QUICK2: Final = re.compile(r"[.*_\-\u00b7\u2022]\w[.*_\-\u00b7\u2022]\w")
_SPACE_GAP: Final = re.compile(r" {2,}|[.\-*_\u00b7\u2022] ?| ")

_CACHE: dict[str, str] = {}


def _fold_char(ch: str) -> str:
    """Fold one non-ASCII character to exactly one character (or ``_DROP``)."""
    got = _CACHE.get(ch)
    if got is not None:
        return got
    code = ord(ch)
    out: str
    if ch in _INVISIBLE or 0x300 <= code <= 0x36F:
        out = _DROP
    elif ch in _APOSTROPHES:
        out = "'"
    else:
        low = ch.lower()
        if low in _KEEP:
            out = low
        else:
            decomposed = unicodedata.normalize("NFKD", low)
            base = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
            if len(base) == 1:
                out = base
            elif len(low) == 1:
                out = low  # a ligature or expansion: keep the character itself
            else:
                out = ch  # "İ".lower() is two characters: keep it unfolded
    _CACHE[ch] = out
    return out


def _sub_char(m: re.Match[str]) -> str:
    return _fold_char(m.group())


@dataclass(frozen=True, slots=True)
class Folded:
    """A folded view of ``original``; ``starts`` as in the module docstring."""

    original: str
    text: str
    starts: list[int] | None

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the view span ``[start, end)`` (``start < end``) to the original field.

        Returns ``(a, b)`` with ``0 <= a < b <= len(original)``; the characters after
        the last matched one that were dropped as combining accents are included.
        Raises ValueError unless ``0 <= start < end <= len(text)``.
        """
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"bad span [{start}, {end}) of a view of {len(self.text)}")
        if self.starts is None:
            return start, end
        a = self.starts[start]
        b = self.starts[end - 1] + 1
        orig = self.original
        while b < len(orig) and 0x300 <= ord(orig[b]) <= 0x36F:
            b += 1
        return a, b


def fold(text: str) -> Folded:
    """Return the folded view of one text field (any ``str``); never raises.

    Plain ASCII without spaced-out letters costs one ``lower()`` and one regex scan
    and gets identity offsets (``starts is None``).
    """
    if text.isascii():
        view = text.lower()
    elif _NEEDS_FOLD_FAST.search(text) or not unicodedata.is_normalized("NFKD", text):
        view = _NEEDS_FOLD.sub(_sub_char, text).lower()
    else:
        view = text.lower()
    starts: list[int] | None = None
    if _DROP in view:
        starts = [i for i, c in enumerate(view) if c != _DROP]
        view = view.replace(_DROP, "")
    if (
        _SPACED_QUICK.search(view) is None and _SPACED_QUICK2.search(view) is None
    ) or _SPACED.search(view) is None:
        return Folded(text, view, starts)
    if starts is None:
        starts = list(range(len(view)))
    out: list[str] = []
    out_starts: list[int] = []
    pos = 0
    for m in _SPACED.finditer(view):
        out.append(view[pos : m.start()])
        out_starts.extend(starts[pos : m.start()])
        inner = pos = m.start()
        for gap in _SPACE_GAP.finditer(view, m.start(), m.end()):
            out.append(view[inner : gap.start()])
            out_starts.extend(starts[inner : gap.start()])
            if gap.group().startswith("  "):
                out.append(" ")
                out_starts.append(starts[gap.start()])
            inner = gap.end()
        out.append(view[inner : m.end()])
        out_starts.extend(starts[inner : m.end()])
        pos = m.end()
    out.append(view[pos:])
    out_starts.extend(starts[pos:])
    return Folded(text, "".join(out), out_starts)
