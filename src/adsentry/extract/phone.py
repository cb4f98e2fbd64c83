"""Phone numbers, normalized to E.164 (ITU-T E.164) through phonenumbers.

The extractor works on the normalized view of each text field (see
:mod:`adsentry.text`: Unicode, keycap and spelled digits are already ASCII digits
there), so written-out and look-alike numbers are found like plain ones.

1. Dates (``12/25/2017``, ``2016 06 17``, ``11-17-2015``) are masked first, so their
   digits never join a number; so are a URL's post id (an all-digit last path
   segment) and all-digit query values.
2. A candidate is a run of digits in which at most three separator characters
   (spaces, ``- . / • * _ ; :``, brackets, emoji...) stand between two digits; after
   an international prefix (``+45``, ``0045``) up to six. Letters end a run. In the
   ``url`` field, ``/ ? & = #`` end a run too (a path segment is one unit; the post id
   after the last slash is not part of a number).
3. The run's digits are cut into numbers from the left, each the longest prefix that
   phonenumbers validates (``is_valid_number``): so glued numbers come apart and short
   digit runs (prices, ages, ZIP codes, heights, bust sizes, ids under seven digits)
   never become numbers. A prefix is read as international when it starts with ``+``,
   ``00`` or ``011`` (ITU-T E.123 / NANP international prefixes), else as a national
   number of the ad's region (see :meth:`ExtractionContext.phone_region`: location,
   URL host, place names, source setting, ``--region``), then of the source's region
   and the fallback region, then as a number with its country code but no ``+``
   (``45 20 12 34 56``).
4. A number whose national digits are one or two digits repeated (``2323232323``,
   ``0000000000``) is a decoration, not a phone.
5. Three digit groups of a North American number (3, 3, 4 digits) written a few words
   apart ("call 619 ... then 555 ... 0142") join when a contact word (call, text, txt,
   cell, phone, number, hit me, llama, ring) stands within 40 characters before them.

A phone is ``obfuscated`` when deleting every non-digit character of the span as
written would not recover its national number (spelled, look-alike or non-ASCII
digits), as the issue defines it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat

from adsentry.extract import register
from adsentry.extract.context import ExtractionContext, FieldMemo, SpanSet, scoped
from adsentry.model import Entity
from adsentry.text import NormalizedText

# Digit runs. A "+" right before a run belongs to it: _runs adds it, since a pattern
# that starts with "\+?" cannot start its search at the next digit (the whole field
# then goes through the pattern; 9.0 against 5.7 µs a field of the real corpus).
_RUN = re.compile(r"\d(?:(?:[^\w\n]|_){0,6}\d)+")
_URL_RUN = re.compile(r"\d(?:(?:[^\w\n/?&=#]|_){0,3}\d)+")
# An international prefix run ("+91", "0045") may stand a little further from the rest.
_INTL_GAP = re.compile(r"(?:[^\w\n]|_){4,6}(?=\d)")
_DATE = re.compile(
    r"(?<!\d)(?:"
    r"\d{1,2}[/.\-]\d{1,2}[/.\-](?:19|20)\d\d"  # 12/25/2017, 11-17-2015
    r"|(?:19|20)\d\d[ /.\-]\d{1,2}[ /.\-]\d{1,2}"  # 2016 06 17, 2017-03-04
    r"|\d{1,2}/\d{1,2}/\d\d"  # 12/25/17
    r")(?!\d)"
)
_NON_DIGIT = re.compile(r"[^0-9]")
_DIGIT = re.compile(r"[0-9]")
# North American Numbering Plan: NXX-NXX-XXXX (N = 2-9); a quick test before the
# full validation, which is slow for country code 1 (it tries ~25 regions).
_NANP = re.compile(r"[2-9]\d\d[2-9]\d{6}")
_CONTACT = re.compile(
    r"(?i)\b(?:call|text|txt|cell|phone|number|num|hit me|llama|llamame|ring|tlf|tel|sms)\b"
)
_GROUP = re.compile(r"(?<![\d])\d{3,4}(?![\d])")
_NANP_REGIONS = frozenset(phonenumbers.region_codes_for_country_code(1))
# phonenumbers' is_valid_number finds a +1 number's region by trying the NANP regions
# in this order, then validates the number again for that region. The first region
# (US, the main country: no leading-digits rule) accepts exactly the numbers it
# validates, so "valid for it" already means "valid", at half the cost.
_NANP_FIRST = phonenumbers.region_codes_for_country_code(1)[0]
_MIN_DIGITS = 7  # shortest national significant number worth trying
_MAX_DIGITS = 15  # ITU-T E.164: at most 15 digits with the country code
_SPLIT_GAP = 40  # characters of words allowed between the groups of a split number


@lru_cache(maxsize=65536)
def _parse(digits: str, region: str) -> tuple[str, str] | None:
    """``(E.164, national number)`` of ``digits`` (a leading ``+`` = international)
    in ``region``, or None when phonenumbers does not validate it."""
    if region in _NANP_REGIONS and digits.isdigit():
        # Fast path (phonenumbers.parse costs ~75 µs): a 10-digit national number or
        # 1 + 10 digits is the whole of what a NANP region accepts without "+".
        national = digits[1:] if len(digits) == 11 and digits[0] == "1" else digits
        if len(national) != 10 or not _NANP.fullmatch(national):
            return None
        num = PhoneNumber(country_code=1, national_number=int(national))
    else:
        try:
            num = phonenumbers.parse(digits, region)
        except NumberParseException:
            return None
        if num.country_code == 1 and not _NANP.fullmatch(str(num.national_number)):
            return None
    if not phonenumbers.is_possible_number(num):
        return None
    if not (
        (num.country_code == 1 and phonenumbers.is_valid_number_for_region(num, _NANP_FIRST))
        or phonenumbers.is_valid_number(num)
    ):
        return None
    nsn = phonenumbers.national_significant_number(num)
    if _periodic(nsn):
        return None
    return phonenumbers.format_number(num, PhoneNumberFormat.E164), nsn


def _periodic(nsn: str) -> bool:
    """True for one or two digits repeated (2323232323, 5555555555)."""
    return len(set(nsn)) <= 1 or (nsn[:2] * (len(nsn) // 2 + 1))[: len(nsn)] == nsn


def _read(chunk: str, regions: Sequence[str], plus: bool) -> tuple[str, str] | None:
    if plus:
        return _parse("+" + chunk, "ZZ")
    for idd in ("00", "011"):
        if chunk.startswith(idd) and len(chunk) - len(idd) >= 8:
            hit = _parse("+" + chunk[len(idd) :], "ZZ")
            if hit:
                return hit
    for region in regions:
        hit = _parse(chunk, region)
        if hit:
            return hit
    return None


def _read_bare_country_code(chunk: str, boundaries: set[int]) -> tuple[str, str] | None:
    """``45 20 12 34 56``: a country code written without ``+``. The code must stand as
    its own digit group (a boundary right after it) and be followed by exactly the
    national number; country code 1 is left to the national reading."""
    if chunk[0] in "01" or len(chunk) < 10:
        return None
    hit = _parse("+" + chunk, "ZZ")
    if hit is None:
        return None
    cc_len = len(chunk) - len(hit[1])
    if cc_len not in boundaries or chunk[cc_len:] != hit[1]:
        return None
    return hit


def split_numbers(
    digits: str,
    regions: Sequence[str],
    international: bool = False,
    group_starts: Sequence[int] | None = None,
) -> list[tuple[int, int, str, str]]:
    """Cut a digit string into valid phone numbers, greedily from the left.

    ``digits``: ASCII digits only; ``regions``: ISO 3166-1 alpha-2 codes to read
    national numbers in, first match wins; ``international``: the string followed a
    ``+``; ``group_starts``: indexes where a digit group begins as written (default:
    every index). A number starts at a group start (or right where the previous one
    ended); lengths that end at a group boundary are tried first, longest first, then
    the others (glued numbers, kept only when the numbers glued together fill their
    digit group); a bare country code is read last. Returns
    ``(start, end, e164, national_number)`` index ranges into ``digits``.
    """
    found: list[tuple[int, int, str, str]] = []
    n = len(digits)
    starts = sorted(set(group_starts)) if group_starts is not None else list(range(n))
    bounds = set(starts) | {n}
    ordered = sorted(bounds)
    ahead = _NationalAhead(digits, starts, regions)
    i = starts[0] if starts else n
    while n - i >= _MIN_DIGITS:
        lengths = range(min(_MAX_DIGITS + 3, n - i), _MIN_DIGITS - 1, -1)
        at_bound = [k for k in lengths if i + k in bounds]
        # A number may end inside a digit group only when a whole number could follow
        # glued to it (6195550142619555014 3...), not to cut a date or an id apart.
        glued = [
            k
            for k in lengths
            if i + k not in bounds
            and ordered[bisect_right(ordered, i + k)] - (i + k) >= _MIN_DIGITS
        ]
        order = at_bound + glued
        hit = None
        plus = international and i == 0
        for k in order:
            parsed = _read(digits[i : i + k], regions, plus)
            if parsed is not None:
                hit = (i, i + k, *parsed)
                break
        if hit is None and not plus and not ahead(i):
            inner = {b - i for b in ordered[bisect_right(ordered, i) :]}
            for k in at_bound:
                parsed = _read_bare_country_code(digits[i : i + k], inner)
                if parsed is not None:
                    hit = (i, i + k, *parsed)
                    break
        if hit is None:
            later = bisect_right(starts, i)
            i = starts[later] if later < len(starts) else n
            continue
        found.append(hit)
        i = hit[1]
    return _whole_groups(found, bounds)


def _whole_groups(
    found: list[tuple[int, int, str, str]], bounds: set[int]
) -> list[tuple[int, int, str, str]]:
    """Drop the numbers that end inside a digit group unless the numbers glued after
    them fill the group to its end: "61955501426195550143" is two numbers, while the
    "1 234 567 8901" at the start of the reference "123456789012345678901234" is none."""
    kept: list[tuple[int, int, str, str]] = []
    chain: list[tuple[int, int, str, str]] = []
    for hit in found:
        if chain and hit[0] != chain[-1][1]:
            chain = []  # the glued numbers before stopped inside their group
        chain.append(hit)
        if hit[1] in bounds:
            kept.extend(chain)
            chain = []
    return kept


class _NationalAhead:
    """Whether a national number starts at a group start after ``i``: then the digits
    at ``i`` are a stray group, not a country code ("7 💋 702) 555-0169"). Asked with
    ``i`` never decreasing (:func:`split_numbers` reads from the left), each group
    start is read at most once in all: asked afresh for each ``i``, an ad of thousands
    of digit groups took seconds (quadratic)."""

    __slots__ = ("_digits", "_found", "_next", "_regions", "_starts")

    def __init__(self, digits: str, starts: Sequence[int], regions: Sequence[str]) -> None:
        self._digits = digits
        self._starts = starts
        self._regions = regions
        self._next = 0  # starts before this index are read
        self._found = -1  # index of the last start read that begins a national number

    def __call__(self, i: int) -> bool:
        first = bisect_right(self._starts, i)
        if self._found >= first:
            return True
        digits, n = self._digits, len(self._digits)
        for m in range(max(first, self._next), len(self._starts)):
            self._next = m + 1
            s = self._starts[m]
            for k in range(min(_MAX_DIGITS, n - s), _MIN_DIGITS - 1, -1):
                if _read(digits[s : s + k], self._regions, False):
                    self._found = m
                    return True
        return False


_URL_ID = re.compile(r"(?<=/)\d+(?=/?(?:[?#]|$))|(?<==)\d+(?=[&#]|$)")


def _mask_url_ids(view: str) -> str:
    """Hide post ids: an all-digit last path segment (``/escorts/slug/4143578``) and
    all-digit query values (``?pid=6875896``) are ids of the site, not phones."""
    return _URL_ID.sub(lambda m: "#" * len(m.group()), view)


def _mask_dates(view: str) -> str:
    if not any(ch in view for ch in "/-. ") or not _DATE.search(view):
        return view
    return _DATE.sub(lambda m: "#" * len(m.group()), view)


def _runs(view: str, field: str) -> list[tuple[int, int]]:
    pattern = _URL_RUN if field == "url" else _RUN
    spans = [
        (s - 1 if s and view[s - 1] == "+" else s, m.end())
        for m in pattern.finditer(view)
        for s in (m.start(),)
    ]
    if field == "url" or len(spans) < 2:
        return spans
    # Join "+91 ..." to the run that follows it.
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged:
            ps, pe = merged[-1]
            prev = view[ps:pe]
            gap = _INTL_GAP.match(view, pe)
            if (
                gap is not None
                and gap.end() == start
                and (prev.startswith("+") or prev.startswith("00"))
                and len(_NON_DIGIT.sub("", prev)) <= 4
            ):
                merged[-1] = (ps, end)
                continue
        merged.append((start, end))
    return merged


@register("phone")
def extract_phones(ctx: ExtractionContext) -> list[Entity]:
    """Phone numbers in every text field, as E.164 values with spans as written.

    Returns Entities of kind ``phone``; ``ad.<field>[start:end] == text`` holds.
    """
    out: list[Entity] = []
    regions: tuple[str, ...] | None = None  # decided when a field may hold a phone
    for field in ctx.fields:
        original = ctx.text(field)
        if not original:
            continue
        if regions is None:
            digits_memo = scoped(_ENOUGH_DIGITS, field)
            enough = digits_memo.get(original)
            if enough is None:
                n_digits = len(_DIGIT.findall(ctx.view(field).text))
                enough = digits_memo.put(original, n_digits >= _MIN_DIGITS)
            if not enough:
                continue
            regions = tuple(_regions(ctx))
        memo = scoped(_MEMOS, (field, regions))
        found = memo.get(original)
        if found is None:
            found = memo.put(original, tuple(_scan(field, ctx.view(field), regions)))
        out.extend(found)
    return out


# (field, regions) -> text -> phones
_MEMOS: dict[tuple[str, tuple[str, ...]], FieldMemo[tuple[Entity, ...]]] = {}
# Whether a text's view has digits enough for a phone (the ad's regions are decided
# only then: that costs a gazetteer look-up).
_ENOUGH_DIGITS: dict[str, FieldMemo[bool]] = {}  # field -> text -> bool


def _scan(field: str, nt: NormalizedText, regions: Sequence[str]) -> list[Entity]:
    """Phone numbers in one field's view, read in ``regions``, with original spans."""
    out: list[Entity] = []
    view = nt.text
    n_digits = len(_DIGIT.findall(view))
    if n_digits < _MIN_DIGITS:
        return out
    masked = _mask_url_ids(view) if field == "url" else view
    used: list[tuple[int, int]] = []
    for rs, re_ in _runs(masked, field):
        run = masked[rs:re_]
        if _DATE.search(run):  # dates are masked inside runs only: runs are short
            masked = masked[:rs] + _mask_dates(run) + masked[re_:]
            subruns = [(rs + a, rs + b) for a, b in _runs(masked[rs:re_], field)]
        else:
            subruns = [(rs, re_)]
        for ss, se in subruns:
            used.extend(_numbers_in_run(nt, masked, field, ss, se, regions, out))
    if n_digits - sum(len(_DIGIT.findall(view, s, e)) for s, e in used) >= 10:
        # enough digits left over for a number split into groups a few words apart
        out.extend(_split_groups(nt, masked, field, used, regions))
    return out


def _numbers_in_run(
    nt: NormalizedText,
    masked: str,
    field: str,
    rs: int,
    re_: int,
    regions: Sequence[str],
    out: list[Entity],
) -> list[tuple[int, int]]:
    """Append the numbers of one run to ``out``; return their view spans."""
    run = masked[rs:re_]
    positions = [rs + j for j, ch in enumerate(run) if "0" <= ch <= "9"]
    if len(positions) < _MIN_DIGITS:
        return []
    digits = "".join(masked[p] for p in positions)
    plus = run.startswith("+")
    group_starts = [j for j, p in enumerate(positions) if j == 0 or positions[j - 1] != p - 1]
    spans = []
    view = nt.text
    for a, b, e164, nsn in split_numbers(digits, regions, plus, group_starts):
        vstart = positions[a] - (1 if a == 0 and plus else 0)
        if vstart > 0 and view[vstart - 1] == "(" and ")" in view[vstart : vstart + 6]:
            vstart -= 1  # "(619) 555-0142": the bracket belongs to the number
        vend = positions[b - 1] + 1
        spans.append((vstart, vend))
        out.append(_entity(nt, field, vstart, vend, e164, nsn))
    return spans


def _regions(ctx: ExtractionContext) -> list[str]:
    regions: list[str] = []
    for region in (ctx.phone_region(), ctx.source_regions.get(ctx.ad.source), ctx.default_region):
        if region and region not in regions:
            regions.append(region)
    return regions


def _entity(nt: NormalizedText, field: str, vstart: int, vend: int, e164: str, nsn: str) -> Entity:
    start, end = nt.to_original(vstart, vend)
    written = nt.original[start:end]
    obfuscated = nsn not in _NON_DIGIT.sub("", written)
    return Entity("phone", e164, field, start, end, written, obfuscated, "phone")


def _split_groups(
    nt: NormalizedText, view: str, field: str, used: list[tuple[int, int]], regions: Sequence[str]
) -> list[Entity]:
    """Numbers written as 3 + 3 + 4 digit groups a few words apart after a contact word."""
    if field == "url" or not {"US", "CA"} & set(regions):
        return []
    taken = SpanSet(used)  # the numbers found already
    groups = [m for m in _GROUP.finditer(view) if not taken.overlaps(m.start(), m.start() + 1)]
    out: list[Entity] = []
    i = 0
    while i + 2 < len(groups):
        a, b, c = groups[i], groups[i + 1], groups[i + 2]
        shape = (len(a.group()), len(b.group()), len(c.group()))
        close = b.start() - a.end() <= _SPLIT_GAP and c.start() - b.end() <= _SPLIT_GAP
        if (
            shape == (3, 3, 4)
            and close
            and _CONTACT.search(view, max(0, a.start() - 40), a.start())
        ):
            between = view[a.end() : b.start()] + view[b.end() : c.start()]
            if not any(ch.isdigit() for ch in between):
                hit = _parse(a.group() + b.group() + c.group(), "US")
                if hit:
                    out.append(_entity(nt, field, a.start(), c.end(), hit[0], hit[1]))
                    i += 3
                    continue
        i += 1
    return out
