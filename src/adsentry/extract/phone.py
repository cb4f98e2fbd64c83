"""Phone numbers, normalized to E.164 (ITU-T E.164) through phonenumbers.

The extractor works on the normalized view of each text field (see
:mod:`adsentry.text`: Unicode, keycap and spelled digits already turned into ASCII
digits), so that written-out and look-alike numbers are found. A candidate is a run of
digits in which at most three separator characters (spaces, ``-``, ``.``, ``/``, ``•``,
``*``, ``_``, brackets, emoji...) stand between two digits. Its digits are cut into
numbers from the left, each the longest prefix that phonenumbers validates
(``is_valid_number``) for the region; so glued numbers (``6195550142 6195550143``)
come apart, and short digit runs (prices, ages, ZIP codes, dates, measurements) never
reach phonenumbers.

A phone is ``obfuscated`` when deleting every non-digit character of the span as
written would not recover its national number (spelled, look-alike or non-ASCII
digits).
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from adsentry.extract import register
from adsentry.extract.context import ExtractionContext
from adsentry.model import Entity

# A run of digits with up to three separators between digits. A leading "+" marks an
# international number; letters break a run.
_RUN = re.compile(r"\+?\d(?:(?:[^\w\n]|_){0,3}\d)+")
_NON_DIGIT = re.compile(r"[^0-9]")
_MIN_DIGITS = 7  # shortest national significant number worth trying (ITU-T E.164: up to 15)
_MAX_DIGITS = 15


@lru_cache(maxsize=65536)
def _parse(digits: str, region: str) -> str | None:
    """E.164 of ``digits`` (with a leading ``+`` when international) or None if invalid."""
    try:
        num = phonenumbers.parse(digits, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    return phonenumbers.format_number(num, PhoneNumberFormat.E164)


def split_numbers(
    digits: str, region: str, international: bool = False
) -> list[tuple[int, int, str]]:
    """Cut a digit string into valid phone numbers, greedily from the left.

    ``digits``: ASCII digits only. Returns ``(start, end, e164)`` index ranges into
    ``digits``; digits that belong to no valid number are skipped one at a time.
    """
    found: list[tuple[int, int, str]] = []
    i, n = 0, len(digits)
    while n - i >= _MIN_DIGITS:
        hit = None
        for k in range(min(_MAX_DIGITS, n - i), _MIN_DIGITS - 1, -1):
            chunk = digits[i : i + k]
            if international and i == 0:
                e164 = _parse("+" + chunk, region)
            else:
                e164 = _parse(chunk, region)
            if e164 is not None:
                hit = (i, i + k, e164)
                break
        if hit is None:
            i += 1
            continue
        found.append(hit)
        i = hit[1]
    return found


@register("phone")
def extract_phones(ctx: ExtractionContext) -> list[Entity]:
    """Phone numbers in every text field, as E.164 values with spans as written."""
    out: list[Entity] = []
    region = ctx.default_region
    for field in ctx.fields:
        original = ctx.text(field)
        if not original:
            continue
        nt = ctx.view(field)
        view = nt.text
        for m in _RUN.finditer(view):
            run = m.group()
            positions = [m.start() + j for j, ch in enumerate(run) if "0" <= ch <= "9"]
            if len(positions) < _MIN_DIGITS:
                continue
            digits = "".join(view[p] for p in positions)
            for a, b, e164 in split_numbers(digits, region, run.startswith("+")):
                vstart = positions[a] - (1 if a == 0 and run.startswith("+") else 0)
                if vstart > 0 and view[vstart - 1] == "(" and ")" in view[vstart : vstart + 6]:
                    vstart -= 1  # "(619) 555-0142": the bracket belongs to the number
                start, end = nt.to_original(vstart, positions[b - 1] + 1)
                written = original[start:end]
                nsn = str(phonenumbers.parse(e164).national_number)
                obfuscated = nsn not in _NON_DIGIT.sub("", written)
                out.append(Entity("phone", e164, field, start, end, written, obfuscated, "phone"))
    return out
