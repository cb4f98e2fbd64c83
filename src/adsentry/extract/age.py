"""The stated age of the person advertised, as an int (years).

The extractor reads the normalized view of the title, body and location fields (see
:mod:`adsentry.text`: "twenty-two" and "veintidós" are already "22" there) and reports
each age mention with its span in the original field (the digits or words as written).
The url field is not read: its slug repeats the title without the age, and its digits
are post ids.

A number is an age only next to a cue. The cues, and the range of values each accepts:

* **explicit** (:data:`MIN_STATED_AGE`..:data:`MAX_STATED_AGE`): the text calls the
  number an age.

  - a label before it: ``Age: 23``, ``age 22``, ``aged 30``, ``Poster's age: 41``,
    Spanish ``edad 25``, Danish ``alder 25``;
  - an age word after it: ``21yo``, ``21 y/o``, ``21 y.o.``, ``23yrs old``,
    ``22 years old``, ``22-year-old``, ``24 years young``, ``20 years of age``,
    Spanish ``19 años`` / ``añitos``, Danish ``22 år gammel``, ``22-årig``;
  - a first-person statement before it: ``I'm 22``, ``I am 21yrs``, ``im 21``,
    ``she's 23``, ``just turned 21``, Spanish ``tengo 20``, Danish ``jeg er 22``.

* **weak** (:data:`MIN_AGE`..:data:`MAX_AGE`): the number reads as an age only in the
  plausible range.

  - a bare ``yrs``/``years``/Danish ``år`` after it (``36C, 23yrs``, ``NEW 19 YR LATINA``,
    ``22 år``), unless a duration reading is signalled (``for 20 years``, ``20 years
    experience``, ``ago``, Danish ``i 10 år``);
  - the site's title suffix: Backpage appends `` - <age>`` to every title (all 5,429
    titles of backpage-ca-2017 end so, and the suffix equals ``site_age`` in 5,428);
    at the end of the title field, and inside a longer text (scraped pages that run
    title and body together: ``Models Wanted - 27 Great pay``) when it
    follows a word, not a number (``415 - 555 - 0199 - 24`` is a number list), and is
    not followed by a count or unit (``4 Photos - 31 Ads``, ``- 30 min``).

* **ranges** ``19-30 years of age``, ``Age 24-27``, ``from 19 to 26 yrs``: both ends are
  ages (the etk gold counts both), each in the range of its cue.

What is not an age: a number glued to a measurement or another number (``34D-24-36``,
``5'4"``, ``120lbs``, ``24/7``, ``100%``, ``#263289``, ``12/25/2017``, ``90210``), prices,
times (``9:30``, ``11pm``), decades (``in my 20s``), and **bounds**. A bound is a number
qualified by ``over``, ``under``, ``at least``, ``less than``, ``older``/``younger than``,
``min``/``max``, a ``+`` (``18+``, ``+30yrs``, ``25yrs+``), a customer word in front
(``Gentlemen 40yrs to 75yrs of age``, ``Males ages 35``) or a following ``or older``/
``and up``/``and over``: in these ads it is a requirement on customers (``No men under 30``,
``gentlemen over 45 years of age``, ``GUYSOVER 28yrs+ONLY``, ``40+ only``) or the legal
disclaimer of a site (``over 18``, ``by entering I confirm I am at least 18 years of age``, ``exit
if you are under 18 years old``), never the age of the person advertised. Decision: bounds are not
extracted, whatever their unit. The etk gold (``ages.jsonl``) counts three such
disclaimers as the age 18; those records are expected misses.

The cues are matched on a lower-cased copy of the view (same offsets), only around the
one- and two-digit numbers of the field, so a field costs one scan for digits plus a few
anchored matches per candidate.

Minors: an explicitly stated age from :data:`MIN_STATED_AGE` (14) up is extracted
(``I'm 17``, ``17 years old``, ``Age: 16``): such a statement is rare and exactly what an
investigator must see. Weak cues never produce an age under :data:`MIN_AGE`.
"""

from __future__ import annotations

import re
from typing import Final

from adsentry.extract import register
from adsentry.extract.context import ExtractionContext, FieldMemo, scoped
from adsentry.model import Entity
from adsentry.text import NormalizedText, lower_same_length

__all__ = ["MAX_AGE", "MAX_STATED_AGE", "MIN_AGE", "MIN_STATED_AGE", "extract_ages"]

#: Plausible range of an age read from a weak cue (a bare "yrs", the title suffix).
#: Source: the site's own age field of backpage-ca-2017 (5,429 ads) spans 18..65, and
#: Backpage's form required 18 or more.
MIN_AGE: Final = 18
MAX_AGE: Final = 65
#: Range of an age the text states explicitly ("Age: 67", "17 years old", "I'm 16").
#: 14: stated minor ages are kept for investigators (brief of the age extractor);
#: 99: the largest two-digit number; the text itself says it is an age.
MIN_STATED_AGE: Final = 14
MAX_STATED_AGE: Final = 99

_EXPLICIT: Final = (MIN_STATED_AGE, MAX_STATED_AGE)
_WEAK: Final = (MIN_AGE, MAX_AGE)

# A number is a candidate when it has one or two digits and is not part of a decimal,
# a date, a time, a price or an id ("5.5", "12/25", "9:30", "$25", "#26", "5'4").
_CANDIDATE: Final = re.compile(r"[0-9]+")
_NOT_BEFORE: Final = frozenset("$#£€.,/:'’")
_NOT_AFTER: Final = frozenset(".,:/")
# A range: "18-35", "18 - 35", "18 to 25", "18 and 25", "18~25", Spanish "18 a 25".
_RANGE_SEP: Final = r"\s*(?:-|–|—|~|to|and|a|y)\s*"
_AGE_WORD_EXPLICIT: Final = (
    r"(?:years?|yrs?|yr\.)[\s\-]*(?:old|young(?:er)?)\b"
    r"|(?:years?|yrs?)\s+of\s+age\b"
    r"|-?years?-old\b"
    r"|y\.?\s?o\b\.?|y/o\b|yo\b|yrs?\.?o\b"
    r"|años\b|añitos\b|anos\b"
    r"|år\s+gammel\b|-?årig\b"
)
_AGE_WORD_BARE: Final = r"(?:years?|yrs?|år)\b"
# An age word after the number, perhaps after a range that the number opens.
_RIGHT: Final = re.compile(
    rf"\s*(?:(?:years?|yrs?)?{_RANGE_SEP}(?P<hi>[0-9]{{1,2}})(?![0-9])\s*)?"
    rf"(?:(?P<exp>{_AGE_WORD_EXPLICIT})|(?P<bare>{_AGE_WORD_BARE}))",
)
# A label or a first-person statement before the number, perhaps before a range that
# the number closes ("Age 24-27").
_LABEL: Final = r"\b(?:age[sd]?|edad|alder)\s*(?:is\s+)?(?:[:=\-–]\s*)?"
_SELF: Final = (
    r"(?:\bi\s*['’]?\s*m|\bi\s+am|\bshe\s*['’]?\s*s|\bshe\s+is|\bjust\s+turned|\bturned"
    r"|\btengo|\bjeg\s+er)\s+(?:a\s+|only\s+|just\s+|now\s+|barely\s+)?"
)
_LEFT: Final = re.compile(
    rf"(?:{_LABEL}|{_SELF})(?:[0-9]{{1,2}}{_RANGE_SEP})?$",
)
_RANGE_HEAD: Final = re.compile(rf"(?<![0-9])[0-9]{{1,2}}\s*(?:years?|yrs?)?{_RANGE_SEP}$")
_RANGE_TAIL: Final = re.compile(rf"{_RANGE_SEP}(?P<hi>[0-9]{{1,2}})(?![0-9])")
# The site's title suffix " - 24" at the end of the title field.
_TITLE_SUFFIX: Final = re.compile(r"\s[-–]\s*(?P<n>\d{2})\s*$")
# The same suffix inside a longer text: after a word (not a number), then a space.
_INNER_SUFFIX: Final = re.compile(r"[^\d\s\-–]\s+[-–]\s+$")
_LEFT_WINDOW: Final = 40  # characters before a number searched for a label or "I'm"

# What may not follow an age: a measurement, a unit, a count, another number of a
# stat line ("34 24 36"), a bound ("+", "or older"), a decade ("20s"), a time.
_GLUED: Final = r"(?:s|x|k|th|st|nd|rd|dd+|[a-h]|in|ft|lbs?|am|pm)\b|['’\"″%+*]|[-/x]\s*\d|\d"
_SPACED_UNITS: Final = (
    r"min(?:ute)?s?|mins|hrs?|hours?|hh|qv|qk|miles?|mi|lbs?|pounds?|kg|kilos?|cm"
    r"|ft|feet|foot|inch(?:es)?|am|pm|days?|nights?|weeks?|months?|percent"
    r"|minutos|minutter|timer?|horas?|semanas|roses?|donations?|dollars?|bucks|usd"
)
_COUNTS: Final = (
    r"pics?|pictures?|photos?|ads?|reviews?|posts?|girls?|ladies|women|men|guys"
    r"|qs|ss|h|hr|candies|specials?"
)
_BAD_AFTER: Final = re.compile(rf"{_GLUED}|\s*(?:{_SPACED_UNITS})\b|\s+\d{{2}}[\s\-/]+\d{{2}}\b")
# "36 DDD": a cup size written apart, in capitals (checked on the view as written).
_CUP_APART: Final = re.compile(r"\s+(?:[A-H]|DD+)\b")
_BOUND_AFTER: Final = re.compile(
    r"\s*(?:\+|(?:(?:or|and|&|y)\s+)?(?:older|over|up|above|más|mas)\b)"
)
_BAD_AFTER_BARE: Final = re.compile(
    r"\s*(?:\+|[a-z]*\s*(?:of\s+)?(?:exp|experience|ago|later|in\s+(?:the\s+)?business"
    r"|married|together|running|straight|service))",
)
# Bounds and durations: words right before the number (checked on a short window).
_BOUND_BEFORE: Final = re.compile(
    r"(?:\bover|\bunder|\bthan|\bleast|\bmin(?:imum)?|\bmax(?:imum)?|\babove|\bbelow"
    r"|\bmayores?\s+de|\bmenores?\s+de|\+"
    r"|\b(?:gentlem[ae]n|men|guys|clients?|males?|customers?))"
    r"\s*(?:the\s+)?(?:ages?\s*(?:of\s*)?)?:?\s*$",
)
_DURATION_BEFORE: Final = re.compile(
    r"\b(?:for|in|over|past|last|next|within|about|around|since|the|after|every|few"
    r"|almost|nearly|i)\s*$",
)
_SUFFIX_BAD_AFTER: Final = re.compile(
    rf"\s+(?:(?:{_SPACED_UNITS}|{_COUNTS})\b|[$\d\-–/])|\s*/",
)
_WINDOW: Final = 24  # characters before a number in which a bound word is looked for


def _bounded(view: str, start: int, end: int, cue_end: int) -> bool:
    """True when the number at ``view[start:end]`` is a bound ("over 18", "18+",
    "18 years of age or older", "Gentlemen 40yrs to 75yrs of age"); ``cue_end`` is
    where its cue ("years of age") ends."""
    if _BOUND_BEFORE.search(view, max(0, start - _WINDOW), start):
        return True
    head = _RANGE_HEAD.search(view, max(0, start - 16), start)
    if head is not None and _BOUND_BEFORE.search(
        view, max(0, head.start() - _WINDOW), head.start()
    ):
        return True
    return bool(_BOUND_AFTER.match(view, end) or _BOUND_AFTER.match(view, cue_end))


def _entity(field: str, nt: NormalizedText, start: int, end: int, value: int) -> Entity:
    s, e = nt.to_original(start, end)
    written = nt.original[s:e]
    return Entity("age", value, field, s, e, written, written != str(value), "age")


def _scan(field: str, nt: NormalizedText) -> list[Entity]:
    """Age mentions in one field's view, as entities with original spans."""
    view = nt.text
    n = len(view)
    found: dict[tuple[int, int], int] = {}
    suffix = None
    if field == "title":
        suffix = _TITLE_SUFFIX.search(view, max(0, n - 12))
    low = ""  # the lower-cased view, made at the first candidate
    for m in _CANDIDATE.finditer(view):
        start, end = m.span()
        if end - start > 2:
            continue
        value = int(m.group())
        if value < MIN_STATED_AGE:
            continue
        if start and view[start - 1] in _NOT_BEFORE:
            continue
        if end + 1 < n and view[end] in _NOT_AFTER and view[end + 1].isdigit():
            continue
        if suffix is not None and start == suffix.start("n"):
            if MIN_AGE <= value <= MAX_AGE:  # the site's field: no bound check
                found[(start, end)] = value
            continue
        if not low:
            low = lower_same_length(view)
        limits, cue_end = _cue(low, view, start, end)
        if limits is None:
            continue
        if not limits[0] <= value <= limits[1]:
            continue
        if cue_end >= 0 and _bounded(low, start, end, cue_end):
            continue
        found[(start, end)] = value
    return [_entity(field, nt, a, b, v) for (a, b), v in found.items()]


def _cue(view: str, written: str, start: int, end: int) -> tuple[tuple[int, int] | None, int]:
    """The range of values that the cue around the number at ``view[start:end]`` allows
    (None: no cue), and where the cue ends (-1: a title suffix, which has no bounds).
    ``view`` is the lower-cased view, ``written`` the view as written (for capitals)."""
    right = _RIGHT.match(view, end)
    if right is not None:
        if right.group("exp"):
            return _EXPLICIT, right.end()
        if not _DURATION_BEFORE.search(
            view, max(0, start - _WINDOW), start
        ) and not _BAD_AFTER_BARE.match(view, right.end()):
            return _WEAK, right.end()
    left = _LEFT.search(view, max(0, start - _LEFT_WINDOW), start)
    if left is not None:
        tail = _RANGE_TAIL.match(view, end)
        after = tail.end() if tail is not None else end
        if not _BAD_AFTER.match(view, after) and not _CUP_APART.match(written, after):
            return _EXPLICIT, after
    if (
        end - start == 2
        and end < len(view)
        and view[end].isspace()
        and _INNER_SUFFIX.search(view, max(0, start - 12), start)
        and not _SUFFIX_BAD_AFTER.match(view, end)
    ):
        return _WEAK, -1
    return None, 0


@register("age")
def extract_ages(ctx: ExtractionContext) -> list[Entity]:
    """Stated ages in the title, body and location fields.

    Returns one Entity per mention: ``value`` an int in years, the span covering the
    number as written in the original field (``"21"`` of ``"21yo"``, ``"twenty-two"``),
    ``obfuscated`` True when the written form is not the plain digits (number words,
    Unicode digits). Rules and ranges: see the module docstring.
    """
    out: list[Entity] = []
    for field in ctx.fields:
        if field == "url":
            continue
        original = ctx.text(field)
        if not original:
            continue
        memo = scoped(_MEMOS, field)
        found = memo.get(original)
        if found is None:
            found = memo.put(original, tuple(_scan(field, ctx.view(field))))
        out.extend(found)
    return out


_MEMOS: dict[str, FieldMemo[tuple[Entity, ...]]] = {}  # field -> text -> ages
