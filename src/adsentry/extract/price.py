"""Prices: an amount, its currency, and the session length it buys, in minutes.

Value of each Entity: ``{"amount": int | float, "currency": str, "minutes": int | None}``;
``amount`` is an int when whole (``$350.00`` gives 350); ``currency`` is an ISO 4217
code; ``minutes`` is None when no session length is written next to the amount. The
span covers the price as written in the original field: the amount with its currency
words and, when one is attached, its unit (``$200/hr``, ``Qv 75``, ``150 roses--hh``).

How a price is read (on the normalized view of the title, body and location fields, so
``two00 roses`` is ``200 roses``; the url field is not read: its digits are post ids):

1. **Tokens.** Amounts (digits, ``1,500``, ``350.00``, Danish ``1.500 kr``) with the
   currency words around them (``$``, ``€``, ``£``, ``USD``, ``EUR``, ``kr``/``DKK``, ``,-``,
   ``THB``, and the euphemisms of these ads: ``roses``, ``candies``, ``donation``,
   ``bucks``); unit words (:data:`UNIT_MINUTES`: ``hh``, ``hr``, ``qv``, ``half hour``,
   ``la hora``, ``/time``...); durations (``30 min``, ``2 hrs``, ``1 hour``); and price
   words (``donation``, ``rates``, ``price``, ``incall``/``outcall``) that mark a bare
   amount as a price.
2. **Pairing.** An amount and a unit next to each other (nothing between them but
   spaces, punctuation, currency words or ``for``/``per``/``a``/``la``) may pair. The
   cost of a pair grows with what separates them: glued (``220hr``, ``100/qs``,
   ``Hr$150``, ``60'HH``) < spaces < a connecting word (``30 for 10 Min``) or a list
   separator (``.``, ``,``: ``90/hh.160/hr``) < a line break.
   Pairs are taken cheapest first, each amount and each unit at most once; between
   equal costs, the direction of the field's first pair wins, since a price list keeps
   one order (``Hr 140 half 100`` is unit-first, ``130 hh 210hr`` amount-first).
3. **Which amounts are prices.** One with a currency word, a unit, or a price word next
   to it. ``80-120 QV``: the first end of a range shares the unit and currency of the
   second.

Not prices: phone numbers (digit runs of phone shape, 7, 10 or 11 digits, even with
separators or spelled digits), times (``3pm``, ``9:30``), dates and ``24/7``
(``12/25/2017``), measurements (``34D``, ``5'4"``, ``120lbs``), ages (``23 yrs``),
percentages (``100%``), ids (``#263289``), years (``2017``) and ZIP codes (``90210``):
five-digit and longer numbers count only with a currency word. Durations are not
amounts: a number before an hour word is a count of hours up to 24 (``2 hrs``), a number
before a minute word a count of minutes up to 240 (``90 min``); above those, the number
is an amount with its unit (``220hr``).

Currency: the written one; for ``roses``/``donation``/a bare amount, the currency of
the context's ``default_region`` (:data:`REGION_CURRENCY`, ISO 3166-1 to ISO 4217;
``XXX``, ISO 4217's "no currency", for a region not in the table). ``$`` is the dollar
or peso of that region (USD by default).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Final

from adsentry.extract import register
from adsentry.extract.context import ExtractionContext, FieldMemo, SpanSet, scoped
from adsentry.model import Entity
from adsentry.text import NormalizedText, lower_same_length

__all__ = ["REGION_CURRENCY", "UNIT_MINUTES", "extract_prices", "unit_minutes"]

#: Quick visit: the gold README (shared/data/gold) gives 15-20 min; ads that spell it
#: out in the same slot of their price lists write "15 min" (``15 min $60 / Half hr $90
#: / Full hr $150`` against ``Qv 60 / Hh 90 / Hr 150``), so 15.
QUICK_VISIT_MINUTES: Final = 15
#: Short stay: the slot between a quick visit and a half hour (``SS 70 / half 110 /
#: hour 180``); 20 min, the upper end of the README's 15-20 min for the shortest slot.
SHORT_STAY_MINUTES: Final = 20

#: Our unit vocabulary: lower-case unit strings, as annotators and ads write them, to
#: the session length in minutes (None: a unit that is no fixed length, "overnight").
#: Sources: the unit codes of shared/data/gold/README.md (hr/hour/h/1 hour/full hr/
#: per hour/hourly/fh = 60; hh/hhr/half hour/half hr/hf/hlf hr = 30; qk/qv/qs = quick
#: visit; ss = short stay; minute forms; 2 hr/2 hrs/2 hour = 120), and the Spanish
#: (``la hora``, ``media hora``) and Danish (``time`` = hour, ``halv time``) forms.
UNIT_MINUTES: Final[dict[str, int | None]] = {
    # one hour
    "h": 60,
    "hr": 60,
    "hrs": 60,
    "hour": 60,
    "hours": 60,
    "1 h": 60,
    "1 hr": 60,
    "1hr": 60,
    "1 hour": 60,
    "1hour": 60,
    "one hour": 60,
    "one hr": 60,
    "an hour": 60,
    "a hour": 60,
    "full hr": 60,
    "full hour": 60,
    "fh": 60,
    "per hour": 60,
    "per hr": 60,
    "/hr": 60,
    "hourly": 60,
    "hora": 60,
    "la hora": 60,
    "una hora": 60,
    "por hora": 60,
    "1 hora": 60,
    "time": 60,
    "/time": 60,
    "pr time": 60,
    "pr. time": 60,
    "i timen": 60,
    "1 time": 60,
    # half an hour
    "hh": 30,
    "hhr": 30,
    "h hr": 30,
    "half": 30,
    "half hour": 30,
    "half an hour": 30,
    "half hr": 30,
    "half-hour": 30,
    "1/2 hour": 30,
    "1/2 hr": 30,
    "1/2 h": 30,
    "½ hour": 30,
    "½ hr": 30,
    "hf": 30,
    "hf hr": 30,
    "hlf hr": 30,
    "media hora": 30,
    "halv time": 30,
    "½ time": 30,
    # quick visit, short stay
    "qk": QUICK_VISIT_MINUTES,
    "qv": QUICK_VISIT_MINUTES,
    "q.v.": QUICK_VISIT_MINUTES,
    "q.v": QUICK_VISIT_MINUTES,
    "qs": QUICK_VISIT_MINUTES,
    "qq": QUICK_VISIT_MINUTES,
    "quick": QUICK_VISIT_MINUTES,
    "quickie": QUICK_VISIT_MINUTES,
    "quick visit": QUICK_VISIT_MINUTES,
    "ss": SHORT_STAY_MINUTES,
    "short stay": SHORT_STAY_MINUTES,
    # several hours, a day
    "2 hr": 120,
    "2 hrs": 120,
    "2 hour": 120,
    "2 hours": 120,
    "2 timer": 120,
    "per day": 1440,
    "a day": 1440,
    "day": 1440,
    "overnight": None,
    # minute forms (any "<n> min" is read by unit_minutes; these are the common ones)
    "10 min": 10,
    "15 min": 15,
    "15min": 15,
    "15mins": 15,
    "20 min": 20,
    "30 min": 30,
    "30min": 30,
    "45 min": 45,
    "45min": 45,
    "60 min": 60,
    "90 min": 90,
}

#: ISO 3166-1 alpha-2 region to the ISO 4217 currency of amounts written without one.
REGION_CURRENCY: Final[dict[str, str]] = {
    "US": "USD",
    "CA": "CAD",
    "MX": "MXN",
    "GB": "GBP",
    "IE": "EUR",
    "DK": "DKK",
    "SE": "SEK",
    "NO": "NOK",
    "ES": "EUR",
    "FR": "EUR",
    "DE": "EUR",
    "IT": "EUR",
    "NL": "EUR",
    "BE": "EUR",
    "AT": "EUR",
    "PT": "EUR",
    "FI": "EUR",
    "GR": "EUR",
    "AU": "AUD",
    "NZ": "NZD",
    "IN": "INR",
    "TH": "THB",
    "TR": "TRY",
    "CO": "COP",
    "AR": "ARS",
    "CL": "CLP",
    "PH": "PHP",
}
_DOLLAR_REGIONS: Final = frozenset({"US", "CA", "MX", "AU", "NZ", "CO", "AR", "CL"})
_NO_CURRENCY: Final = "XXX"

# Currency words to ISO 4217 (None: the region's currency).
_DOLLAR: Final = "$"  # the dollar (or peso) of the region; USD in other regions
_CURRENCY_WORDS: Final[dict[str, str]] = {
    "$": _DOLLAR,
    "usd": "USD",
    "dollar": _DOLLAR,
    "dollars": _DOLLAR,
    "bucks": _DOLLAR,
    "dolares": _DOLLAR,
    "dólares": _DOLLAR,
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "£": "GBP",
    "gbp": "GBP",
    "kr": "DKK",
    "kr.": "DKK",
    "kroner": "DKK",
    "dkk": "DKK",
    "thb": "THB",
    "baht": "THB",
    "pesos": "MXN",
    "mxn": "MXN",
    "cad": "CAD",
    "aud": "AUD",
}
# The euphemisms: the amount is in the region's currency.
_EUPHEMISMS: Final = r"roses?|rosas|candies|donations?|donación|donacion"

_NUMBER_WORDS: Final[dict[str, int]] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "una": 1,
    "un": 1,
    "two": 2,
    "dos": 2,
    "three": 3,
    "tres": 3,
    "four": 4,
    "five": 5,
    "ten": 10,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty-five": 45,
    "sixty": 60,
    "ninety": 90,
}
_MAX_HOURS: Final = 24  # a count of hours up to a day; "220hr" is an amount per hour
_MAX_MINUTES: Final = 240  # a count of minutes up to four hours; more is an amount

_HOUR_WORDS: Final = r"hours?|hrs?|hr\.?|horas?|timer"
_MINUTE_WORDS: Final = r"minutes?|minutos?|minutter|mins?"
_UNIT_STRING: Final = re.compile(
    rf"^(?P<n>\d+|[a-z\-]+)?\s*(?:(?P<h>{_HOUR_WORDS}|h)|(?P<m>{_MINUTE_WORDS}))?\b",
)


def unit_minutes(unit: str) -> int | None:
    """Minutes of a unit string as annotators and ads write it; None if unknown or empty.

    ``unit``: free text, any case: ``"hh"`` -> 30, ``"Hr"`` -> 60, ``"qv"`` -> 15,
    ``"15 min"`` / ``"45min"`` / ``"3minutes"`` -> 15 / 45 / 3, ``"ten minutes"`` -> 10,
    ``"2 hrs"`` -> 120, ``"30min.qv"`` -> 30 (a leading count wins), ``"30"`` -> 30 (a
    bare number is minutes), ``""`` -> None, ``"hummer"`` -> None. Known strings come
    from :data:`UNIT_MINUTES`; counts of hours above 24 or of minutes above 240 are not
    session lengths and give None.
    """
    text = " ".join(unit.lower().split())
    if not text:
        return None
    if text in UNIT_MINUTES:
        return UNIT_MINUTES[text]
    m = _UNIT_STRING.match(text)
    if m and m.group("n") and (m.group("h") or m.group("m") or m.group("n").isdigit()):
        word = m.group("n")
        count = int(word) if word.isdigit() else _NUMBER_WORDS.get(word)
        if count is None:
            return None
        if m.group("h"):
            return count * 60 if 0 < count <= _MAX_HOURS else None
        return count if 0 < count <= _MAX_MINUTES else None
    stripped = text.strip(" .-/:")
    return UNIT_MINUTES.get(stripped)


# ------------------------------------------------------------------ tokens

_CUR: Final = (
    r"\$|€|£|usd|eur(?:os?)?\b|kr\.?(?![a-z])|kroner|dkk|thb|baht|gbp|pesos|mxn|cad\b|aud\b"
    r"|dollars?|d[oó]lares|bucks"
)
_NO_LETTER_BEFORE: Final = r"(?<![^\W\d_])"
_NO_LETTER_AFTER: Final = r"(?![^\W\d_])"
# Currency words before and after an amount ("$ 100", "100$roses", "100 roses").
_PRE: Final = re.compile(r"(?:\$|€|£|usd|eur|dkk|kr\.?)\s?$")
_POST_PATTERN: Final = rf"(?:\s?(?:{_CUR}|,-|{_EUPHEMISMS}){_NO_LETTER_AFTER}){{1,2}}"
# What follows a number: a count of hours or minutes ("2 hrs", "30min", "45 - min"),
# currency words ("100 roses", "100$roses"), or something that makes it no price.
_COUNT_PATTERN: Final = (
    rf"[ \t]*(?:-[ \t]*)?(?:{_HOUR_WORDS}|h(?![ \t]*hr)|{_MINUTE_WORDS})"
    rf"{_NO_LETTER_AFTER}|m{_NO_LETTER_AFTER}"
)
# Named units, longest forms first; the minutes of each come from UNIT_MINUTES after
# the match is folded (lower case, one space).
_NAMED_UNITS: Final = (
    r"half[\s\-]*(?:an\s+)?(?:hour|hr)s?|1/2\s*(?:hours?|hrs?|h)\b|½\s*(?:hours?|hrs?|h|time)\b"
    r"|hlf\.?\s*hr|hf\.?\s*hr|h\s+hr|media\s+hora|halv\s+time"
    r"|(?:full|an?|one|per|each|la|una|por)\s+(?:hour|hr|hora)s?\b|full\s*hr"
    r"|(?:two|three|dos|tres)\s+(?:hours?|hrs?|horas)\b"
    r"|pr\.?\s*time\b|i\s+timen\b|per\s+day\b|a\s+day\b"
    r"|quick\s+visit|short\s+stay|quickie|quick|q\.\s?v\.?|overnight"
    r"|hourly|hhr|hh|hf|half|hours?|hrs?|hora|fh|qv|qk|qs|qq|ss|h"
)
_UNIT: Final = re.compile(
    rf"(?:/\s*time\b|{_NO_LETTER_BEFORE}(?:{_NAMED_UNITS})){_NO_LETTER_AFTER}"
)
_KEYWORDS: Final = (
    r"donations?|rates?|prices?|precio|pris|tarifas?|in\s?calls?|out\s?calls?|special"
)
_KEYWORD_BEFORE: Final = re.compile(rf"{_NO_LETTER_BEFORE}(?:{_KEYWORDS})[\s:=\-–]*$")
_KEYWORD_AFTER: Final = re.compile(rf" ?/? ?(?:{_KEYWORDS}){_NO_LETTER_AFTER}")
_EUPHEMISM: Final = re.compile(rf"(?:{_EUPHEMISMS})$")
_CUR_WORD: Final = re.compile(rf"{_CUR}|,-|{_EUPHEMISMS}")

# What may not follow an amount: a measurement, an age, a time, a date, a percentage,
# a count ("2 girls"), or a stat line ("34-24-36").
_BAD_AFTER: Final = re.compile(
    r"(?:[a-d]|dd+|e|f|g|th|st|nd|rd|x|k|s)\b|['’](?![a-z])|[\"″%+]"
    r"|\s?(?:lbs?|pounds|kg|cm|ft|feet|in\b|inch(?:es)?|y/?o\b|y\.o|yrs?\b|years?\b|años"
    r"|am\b|pm\b|a\.m|p\.m|girls?\b|ladies|guys|men\b|pics|photos|miles|mi\b|days?\b"
    r"|nights?\b|weeks?\b|months?\b|reviews|ads\b|posts?\b)|\s?[:/]\s?\d|-\d{2}-",
)
_RIGHT: Final = re.compile(rf"(?P<count>{_COUNT_PATTERN})|(?P<post>{_POST_PATTERN})")
_NEVER_AFTER: Final = frozenset('%@+"″')
_NOT_BEFORE_DIGIT: Final = frozenset(":/'’.")
_NOT_AFTER_DIGIT: Final = frozenset(":'’/")
_BEFORE_CHECK: Final = frozenset("#@/: .\t")  # a character before which _BAD_BEFORE may hold
_BAD_BEFORE: Final = re.compile(
    r"(?:[#@]|(?:\bid|\bno\.?|\d[/:])\s?|\b(?:under|over|than|ages?|aged)\s+)$",
)
_BEFORE_WINDOW: Final = 8
_OFF: Final = re.compile(r"\s?off\b")
_CUP: Final = re.compile(r"(?:[a-k]|dd+|hh+|[a-k]{2})\b")
_CONNECTORS: Final = frozenset(
    {"for", "per", "a", "an", "la", "por", "de", "the", "each", "only", "x", "pr", "at"}
)
_LIST_SEPARATORS: Final = frozenset(".,;!|")
_GAP_WORD: Final = re.compile(r"[^\W\d_]+")
_GAP_BREAK: Final = re.compile(r"\n|<br\s*/?>")
_DIGITS: Final = re.compile(r"[0-9]+")
_HAS_DIGIT: Final = re.compile(r"\d")
_CHAIN: Final = re.compile(r"[0-9]+(?:(?:[^\w\n]|_){1,3}[0-9]+)*")
# Body measurements "34D-24-36", "36/24/36", "42H-36-48": skipped like phones.
_MEASUREMENT: Final = re.compile(r"\d{2}\s?[a-k]{0,3}\s?[-/]\s?\d{2}\s?[-/]\s?\d{2}(?!\d)")
_MEASUREMENT_NEXT: Final = frozenset("-/ abcdefghijk")
_TITLE_SUFFIX: Final = re.compile(r"\s[-–]\s*(?P<n>\d{2})\s*$")
_EURO_THOUSANDS: Final = re.compile(r"\s?(?:kr|dkk|eur|€|,-)")
_LABEL_GAP: Final = re.compile(r"[ \t]+")
_LONE_UNIT_GAP: Final = re.compile(r"[ \t]*[-–/:]?[ \t]*")
_SESSION_LENGTHS: Final = frozenset({15, 20, 30, 45, 60, 90})  # minutes, as price-list labels
# Digit counts of a phone, each with the places where its parts end (NANP: area code 3,
# exchange 3, line 4; with the trunk 1 in front; or a local 7-digit number).
_PHONE_CUTS: Final[dict[int, frozenset[int]]] = {
    7: frozenset({3, 7}),
    10: frozenset({3, 6, 10}),
    11: frozenset({1, 4, 7, 11}),
}
_MAX_GAP: Final = 12  # characters (after folding spaces) between a paired amount and unit
_UNIT_WINDOW: Final = 24  # characters around a number searched for unit words
_MIN_UNIT_ONLY: Final = 20  # an amount known only by its unit is at least this much
_MAX_PLAIN: Final = 9999  # an amount without a currency word has at most four digits


@dataclass(slots=True)
class _Amount:
    start: int
    end: int
    value: float
    currency: str | None  # ISO code; "$": the region's dollar; None: the region's currency
    marked: bool  # has a currency word
    licensed: bool = False  # next to a price word
    unit: _Unit | None = None
    glued_left: bool = False  # a letter is glued before it ("SS40")
    glued_right: bool = False  # a letter is glued after it ("220hr")


@dataclass(slots=True)
class _Unit:
    start: int
    end: int
    minutes: int | None
    taken: bool = field(default=False)


def _runs(view: str) -> tuple[list[tuple[int, int]], set[int]]:
    """The digit runs of ``view`` and the indices of those that belong to phone numbers.

    Runs separated by at most three characters that are neither letters, digits nor line
    breaks form a chain (as in the phone extractor); within a chain, a phone is a
    sequence of runs with 7, 10 or 11 digits in all (NANP numbers with and without the
    trunk 1, and local 7-digit numbers) whose run boundaries fall where a NANP number's
    parts end (``619 555 0142``, ``555-0100``, ``1-800-555-0100``, ``415.555.01.99``),
    or a single run (``6195550142``), or runs of one or two digits (spelled digits:
    ``5 0 3 5 ...``). The longest such sequence from the left wins; ``100 150 200`` is
    no phone.
    """
    runs: list[tuple[int, int]] = []
    phones: set[int] = set()
    for chain in _CHAIN.finditer(view):
        first = len(runs)
        text = chain.group()
        if text.isdigit():
            runs.append(chain.span())
            if len(text) in _PHONE_CUTS:
                phones.add(first)
            continue
        runs.extend(m.span() for m in _DIGITS.finditer(view, chain.start(), chain.end()))
        i, last = first, len(runs)
        while i < last:
            total, hit, small = 0, -1, True
            cuts: set[int] = set()
            for j in range(i, last):
                size = runs[j][1] - runs[j][0]
                total += size
                small = small and size <= 2
                cuts.add(total)
                if total in _PHONE_CUTS and (j == i or small or _PHONE_CUTS[total] <= cuts):
                    hit = j
                if total >= 11:
                    break
            if hit < 0:
                i += 1
                continue
            phones.update(range(i, hit + 1))
            i = hit + 1
    return runs, phones


def _numbers(view: str, runs: list[tuple[int, int]], skip: set[int]) -> list[tuple[int, int]]:
    """Spans of the numbers among the digit runs not in ``skip``: a run, or runs joined
    into ``1,500``, ``12,000.00``, ``350.00`` or Danish ``1.500 kr``."""
    out: list[tuple[int, int]] = []
    k, n = 0, len(runs)
    while k < n:
        if k in skip:
            k += 1
            continue
        start, end = runs[k]
        j = k
        while j + 1 < n and j + 1 not in skip and runs[j + 1][0] == end + 1:
            sep, size = view[end], runs[j + 1][1] - runs[j + 1][0]
            if sep == "," and size == 3 and runs[j][1] - runs[j][0] <= 3:
                pass  # 1,500
            elif sep == "." and size == 2 and view[runs[j + 1][1] : runs[j + 1][1] + 1] != ".":
                end = runs[j + 1][1]  # 350.00: cents end the number
                j += 1
                break
            elif sep == "." and size == 3 and _EURO_THOUSANDS.match(view, runs[j + 1][1]):
                pass  # 1.500 kr
            elif sep == "." and size == 3 and j > k and view[runs[j][0] - 1] == ".":
                pass  # 1.500.000 kr
            else:
                break
            end = runs[j + 1][1]
            j += 1
        out.append((start, end))
        k = j + 1
    return out


def _value(text: str) -> float:
    """The value of a number as written (``1,500``, ``350.00``, ``1.500``)."""
    if "," in text:
        return float(text.replace(",", ""))
    if text.count(".") == 1 and len(text) - text.index(".") == 3:
        return float(text)
    return float(text.replace(".", ""))


def _classify(view: str, start: int, end: int) -> list[_Amount | _Unit]:
    """The tokens of one number: a duration (``2 hrs``), an amount, an amount with a
    glued unit (``220hr``), or nothing (a time, a size, an age)."""
    n = len(view)
    after = view[end] if end < n else " "
    if after in _NEVER_AFTER or (
        after in _NOT_BEFORE_DIGIT and end + 1 < n and view[end + 1].isdigit()
    ):
        return []  # "100%", "user0101@", "45+", "9:30", "24/7", "5'4", "5.5"
    if start and view[start - 1] in _NOT_AFTER_DIGIT and start > 1 and view[start - 2].isdigit():
        return []  # the minutes of "9:30", the inches of "5'4", the 25 of "12/25"
    text = view[start:end]
    value = _value(text)
    right = _RIGHT.match(view, end)
    kind = right.lastgroup if right is not None else None
    if kind == "count" and right is not None:
        word = right.group().lstrip(" \t-")
        is_hours = word[:1] not in "mM"
        if text.isdigit():
            limit = _MAX_HOURS if is_hours else _MAX_MINUTES
            if 0 < value <= limit and not (start and view[start - 1] in "$€£"):
                return [_Unit(start, right.end(), int(value) * 60 if is_hours else int(value))]
        unit = _Unit(right.end() - len(word), right.end(), 60 if is_hours else None)
        amount = _amount(view, start, end, value, text, None)
        return [unit] if amount is None else [amount, unit]
    if value < 10:
        return []
    amount = _amount(view, start, end, value, text, right)
    return [] if amount is None else [amount]


def _amount(
    view: str, start: int, end: int, value: float, text: str, post: re.Match[str] | None
) -> _Amount | None:
    """An amount token for the number at ``view[start:end]`` (``post``: its currency
    words after it), or None when the number is something else (a time, a size, an age,
    a year, a ZIP code)."""
    pre_start = _pre_currency(view, start)
    currency: str | None = None
    marked = False
    if pre_start >= 0:
        currency, marked = _currency_of(view[pre_start:start]), True
    if post is not None:
        marked = True
        for word in _CUR_WORD.findall(post.group()):
            if currency is None and not _EUPHEMISM.match(word) and word != ",-":
                currency = _currency_of(word)
    tail = post.end() if post is not None else end
    if not marked:
        if _BAD_AFTER.match(view, end) or text[0] == "0" or not text.isdigit():
            return None
        if value > _MAX_PLAIN or (1900 <= value <= 2099 and len(text) == 4):
            return None  # a ZIP code, an id, a year
        if value == 24 and view.startswith("/", end):
            return None  # "24/7", "24/h"
        if 28 <= value <= 48 and _CUP.match(view, end):
            return None  # "36HH", "42H": a bust size
    elif _OFF.match(view, tail):
        return None  # "$10 off": a discount
    if (
        pre_start < 0
        and start
        and view[start - 1] in _BEFORE_CHECK
        and _BAD_BEFORE.search(view, max(0, start - _BEFORE_WINDOW), start)
    ):
        return None
    if value < 10 or value > 1_000_000:
        return None
    a = _Amount(pre_start if pre_start >= 0 else start, tail, value, currency, marked)
    a.glued_left = pre_start < 0 and start > 0 and view[start - 1].isalpha()
    a.glued_right = post is None and end < len(view) and view[end].isalpha()
    return a


def _pre_currency(view: str, start: int) -> int:
    """Start of a currency word written before the number at ``start`` (``$``, ``$ ``,
    ``EUR ``, ``kr.``), or -1."""
    if start == 0:
        return -1
    i = start - 1 if view[start - 1] != " " else start - 2
    if i < 0:
        return -1
    if view[i] in "$€£":
        return i
    if view[i].isalpha() or view[i] == ".":
        m = _PRE.search(view, max(0, start - 5), start)
        if m is not None:
            return m.start()
    return -1


def _currency_of(word: str) -> str | None:
    """ISO 4217 code (or "$") of a currency word; None for the euphemisms."""
    return _CURRENCY_WORDS.get(word.strip().lower())


def _gap_cost(gap: str) -> int | None:
    """Cost of pairing two tokens separated by ``gap``; None: they do not pair."""
    if not gap:
        return 0
    if len(gap) > _MAX_GAP and (len(gap) > 4 * _MAX_GAP or len(" ".join(gap.split())) > _MAX_GAP):
        return None
    if _HAS_DIGIT.search(gap):
        return None
    words = _GAP_WORD.findall(gap)
    cost = 1
    for word in words:
        low = word.lower()
        if low in _CONNECTORS:
            cost = 2
        elif not _CUR_WORD.fullmatch(low):
            return None
    if any(c in _LIST_SEPARATORS for c in gap):
        cost += 1  # "90/hh.160/hr", "$120 hh, $160 hr": the end of one list item
    elif cost == 1 and not words and len(gap) <= 3 and not any(c.isspace() for c in gap):
        cost = 0  # "100/qs", "60'HH", "qk-?60", "hr$140": kept apart by symbols only
    if "\n" in gap or ("<" in gap and _GAP_BREAK.search(gap)):
        cost += 3
    return cost


def _scan(field_name: str, nt: NormalizedText, region: str) -> list[Entity]:
    """Prices in one field's view, as entities with original spans."""
    view = lower_same_length(nt.text)  # all patterns are written in lower case
    runs, skip = _runs(view)
    if len(skip) == len(runs):
        return []  # no digits, or phone numbers only
    for k, (s, e) in enumerate(runs):
        if e - s == 2 and k not in skip and e < len(view) and view[e] in _MEASUREMENT_NEXT:
            m = _MEASUREMENT.match(view, s)
            if m is not None:  # the runs inside it (runs are in text order)
                j = k
                while j < len(runs) and runs[j][0] < m.end():
                    skip.add(j)
                    j += 1
    if field_name == "title":
        suffix = _TITLE_SUFFIX.search(view, max(0, len(view) - 12))
        if suffix is not None:  # " - 24": the site's age field, not a price
            skip.add(len(runs) - 1)
    tokens: list[_Amount | _Unit] = []
    for start, end in _numbers(view, runs, skip):
        tokens.extend(_classify(view, start, end))
    if not any(isinstance(t, _Amount) for t in tokens):
        return []
    tokens.extend(_units(view, tokens))
    tokens.sort(key=lambda t: t.start)
    _labels(view, tokens)
    _pair(view, tokens)
    amounts = [t for t in tokens if isinstance(t, _Amount)]
    _license(view, amounts)
    _ranges(view, amounts)
    out: list[Entity] = []
    for i, a in enumerate(amounts):
        if a.unit is None and not a.marked:
            if not a.licensed:
                continue
            following = amounts[i + 1] if i + 1 < len(amounts) else None
            if following is not None and _LABEL_GAP.fullmatch(view[a.end : following.start]):
                continue  # "30 100 roses": a bare number before a price labels it
        if not a.marked and a.value < _MIN_UNIT_ONLY:
            continue
        unit_glued_left = a.unit is not None and a.unit.end == a.start
        if a.glued_left and not a.marked and not unit_glued_left:
            continue  # "site3622", "user0101": a number inside a word
        unit_glued_right = a.unit is not None and a.unit.start == a.end
        if a.glued_right and not unit_glued_right and not a.licensed:
            continue  # "2Girl", "4Hands": a number glued to a word
        out.append(_entity(field_name, nt, a, region))
    return out


def _units(view: str, tokens: list[_Amount | _Unit]) -> list[_Unit]:
    """Unit words within :data:`_UNIT_WINDOW` characters of the number tokens."""
    windows: list[list[int]] = []
    n = len(view)
    for t in tokens:
        lo, hi = max(0, t.start - _UNIT_WINDOW), min(n, t.end + _UNIT_WINDOW)
        while hi < n and view[hi - 1].isalpha() and view[hi].isalpha():
            hi += 1  # do not cut a word at the window's end
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], hi)
        else:
            windows.append([lo, hi])
    taken = SpanSet((t.start, t.end) for t in tokens)
    found: list[_Unit] = []
    for lo, hi in windows:
        for m in _UNIT.finditer(view, lo, hi):
            if taken.overlaps(m.start(), m.end()):
                continue
            folded = " ".join(m.group().lower().replace("-", " ").split())
            if folded in UNIT_MINUTES:
                found.append(_Unit(m.start(), m.end(), UNIT_MINUTES[folded]))
            else:
                minutes = unit_minutes(folded)
                if minutes is not None:
                    found.append(_Unit(m.start(), m.end(), minutes))
    return found


def _labels(view: str, tokens: list[_Amount | _Unit]) -> None:
    """``30 100 roses``: a bare session length right before a price is its unit (minutes)."""
    for i in range(len(tokens) - 1):
        a, b = tokens[i], tokens[i + 1]
        if (
            isinstance(a, _Amount)
            and isinstance(b, _Amount)
            and not a.marked
            and b.marked
            and a.value in _SESSION_LENGTHS
            and _LABEL_GAP.fullmatch(view[a.end : b.start])
        ):
            tokens[i] = _Unit(a.start, a.end, int(a.value))


def _pair(view: str, tokens: list[_Amount | _Unit]) -> None:
    """Attach units to amounts, cheapest pairs first (module docstring, step 2)."""
    edges: list[tuple[int, int, int, _Amount, _Unit]] = []  # cost, side, order, amount, unit
    first_side: int | None = None
    lone: list[tuple[int, int, int, _Amount, _Unit]] = []  # "H 150": only in unit-first lists
    for i in range(len(tokens) - 1):
        left, right = tokens[i], tokens[i + 1]
        if isinstance(left, _Amount) and isinstance(right, _Unit):
            amount, unit, side = left, right, 1  # amount first
        elif isinstance(left, _Unit) and isinstance(right, _Amount):
            amount, unit, side = right, left, 0  # unit first
        else:
            continue
        gap = view[left.end : right.start]
        cost = _gap_cost(gap)
        if cost is None:
            continue
        if (
            unit.end - unit.start == 1
            and cost > 0
            and not (side == 1 and _LONE_UNIT_GAP.fullmatch(gap))
        ):
            # a lone "h" pairs glued ("150h", "H-160"), after its amount ("150 h",
            # "120 - h"), or before it with one space in a unit-first list ("HH 100 H 150")
            if side == 0 and gap == " ":
                lone.append((cost, side, i, amount, unit))
            continue
        if first_side is None and cost <= 1:
            first_side = side
        edges.append((cost, side, i, amount, unit))
    if first_side == 0:
        edges.extend(lone)
    preferred = first_side if first_side is not None else 1
    edges.sort(key=lambda e: (e[0], e[1] != preferred, e[2]))
    for _cost, _side, _i, amount, unit in edges:
        if amount.unit is None and not unit.taken:
            amount.unit = unit
            unit.taken = True


def _license(view: str, amounts: list[_Amount]) -> None:
    """Mark the bare amounts next to a price word ("Donation 80", "120Incall")."""
    for a in amounts:
        if a.marked or a.unit is not None:
            continue
        if _KEYWORD_BEFORE.search(view, max(0, a.start - 16), a.start) or _KEYWORD_AFTER.match(
            view, a.end
        ):
            a.licensed = True


def _ranges(view: str, amounts: list[_Amount]) -> None:
    """``80-120 QV``, ``$80-120``: the ends of a range share unit and currency."""
    for first, second in itertools.pairwise(amounts):
        gap = view[first.end : second.start]
        if not re.fullmatch(r"\s?[-–~]\s?|\s?to\s", gap):
            continue
        if not first.value < second.value <= 3 * first.value:
            continue
        if first.unit is None:
            first.unit = second.unit
        first.marked = first.marked or second.marked
        second.marked = second.marked or first.marked
        first.currency = first.currency or second.currency
        second.currency = second.currency or first.currency
        first.licensed = first.licensed or second.licensed


def _entity(field_name: str, nt: NormalizedText, a: _Amount, region: str) -> Entity:
    start, end = a.start, a.end
    if a.unit is not None and (a.unit.end <= a.start or a.unit.start >= a.end):
        start, end = min(start, a.unit.start), max(end, a.unit.end)
    s, e = nt.to_original(start, end)
    written = nt.original[s:e]
    currency = a.currency
    if currency == _DOLLAR:
        currency = REGION_CURRENCY[region] if region in _DOLLAR_REGIONS else "USD"
    elif currency is None:
        currency = REGION_CURRENCY.get(region, _NO_CURRENCY)
    amount: int | float = int(a.value) if a.value.is_integer() else a.value
    value = {"amount": amount, "currency": currency, "minutes": a.unit.minutes if a.unit else None}
    obfuscated = nt.text[a.start : a.end] != nt.original[nt.starts[a.start] : nt.ends[a.end - 1]]
    return Entity("price", value, field_name, s, e, written, obfuscated, "price")


@register("price")
def extract_prices(ctx: ExtractionContext) -> list[Entity]:
    """Prices in the title, body and location fields.

    Returns one Entity per amount: ``value`` ``{"amount": int | float, "currency": ISO
    4217 code, "minutes": int | None}``, the span covering the amount as written with its
    currency words and attached unit. Rules: see the module docstring.
    """
    region = ctx.default_region
    out: list[Entity] = []
    for name in ctx.fields:
        if name == "url":
            continue
        text = ctx.text(name)
        if not text:
            continue
        memo = scoped(_MEMOS, (name, region))
        found = memo.get(text)
        if found is None:
            found = memo.put(text, tuple(_scan(name, ctx.view(name), region)))
        out.extend(found)
    return out


# (field, default region) -> text -> prices
_MEMOS: dict[tuple[str, str], FieldMemo[tuple[Entity, ...]]] = {}
