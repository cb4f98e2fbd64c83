"""Normalization of one text field, with an offset map back to the original.

This is the one place in adsentry that knows how posters hide numbers from filters:
Unicode digit forms, keycap emoji, homoglyph letters and spelled numbers. Extractors
(phones, ages, prices) search :attr:`NormalizedText.text` and report their spans in
the original field through :meth:`NormalizedText.to_original`.

The styles handled are those listed in the backpage-ca-2017 data set README (spelled
digits, ``8four``, ``2Osix``, look-alike letters, keycaps, circled, full-width and
mathematical digits) plus the Spanish and Danish number words. What
:func:`normalize` does, in order:

1. **Mojibake** ("cafÃ©", "ðŸ’‹"): a whitespace-delimited token that holds a
   UTF-8-read-as-cp1252 signature goes through ``ftfy.fix_encoding``; the fix is
   aligned with the token by ``difflib``, so offsets stay honest.
2. **Characters** (non-ASCII text only): NFKC per character (full-width ``６``,
   mathematical ``𝟔``, superscript ``⁶``, circled ``⑥``), a table for what NFKC leaves
   alone (dingbat digits ``❻ ➅ ➏ ⓿ ⓺ 🔟``, negative squared and circled letters
   ``🅾 🅞``); variation selectors, the keycap mark U+20E3, zero-width, bidi and tag
   characters are dropped and their offsets go to the character before (``6️⃣`` is a
   ``6`` covering three code points); a combining mark composes with the character
   before (NFC) or, after a Latin letter or digit, is dropped (``6̶`` is ``6``). Decimal
   digits of other scripts (``٦``, ``๖``) become ASCII only in a run of three or more
   digits: alone they are letter look-alikes in decorated text. Cyrillic and Greek
   look-alikes of O, I, S, B, Z and the ideographic ``〇`` become Latin letters only
   next to an ASCII digit (rule 4 then decides). ``º`` and ``ª`` stay (``1º`` is no 10).
3. **Number words** in English, Spanish and Danish, in any case, glued to digits and
   to each other (``8four``, ``sixonenine``, ``5five5``, ``toogtyve``), spaced inside a
   run (``z e r o``), and as compounds (``twenty-two``, ``thirty 8``,
   ``treinta y cuatro``, ``fire og tyve``, ``halvfems``) that become digit strings.
4. **Look-alike letters** in digit runs: ``O o`` -> 0, ``l I i |`` -> 1, ``S s`` -> 5,
   ``B`` -> 8, ``Z z`` -> 2.

Nothing else changes: separators between digits stay as written (the phone extractor
reads them), ``+45`` and ``0045`` stay digits, other letters and punctuation stay.

**Which words become digits.** A *run* is a chain of tokens (digit groups, number
words, look-alike letters) with at most 8 characters between two tokens that are
neither letters nor digits; any other word ends it, and so does a ``y``/``og`` that
joins no compound. A run is *phone-like* when its digit groups and words stand for
at least 7 digits.

* Numbers from ten up (``eleven``, ``twenty-two``, ``veintidós``, ``halvfems``,
  ``toogtyve``) convert anywhere: "I'm twenty-two" -> "I'm 22". Those that are also
  common words convert only like ambiguous digit words: Spanish ``once`` (11,
  English "once") and Danish ``ti`` (10, Spanish "ti"). "7-Eleven" stays a shop.
* A single digit word converts only inside a run, never alone: "one night only",
  "two girls", "zero drama" stay words. A *strong* digit word (``zero two`` ...
  ``nine``, ``cero dos tres cuatro`` ... ``nueve``, ``seks syv otte``) converts when its
  run holds another digit group or number word, or an ambiguous digit word of its
  language next to it ("5five5", "five 5", "one two").
* An *ambiguous* digit word, also an ordinary word (``one``; ``uno una``;
  ``nul en et to tre fire fem ni``), converts next to a converted number word of its
  language ("five one"), in a run with three or more spelled digits of its language
  ("one one one", "tre fire en"), or glued to a digit or between two converted
  tokens ("1one", "619 one 555") unless it is the only word of its language among
  others ("Y4NI ... 01ZeroOne"). So "seks en ni" -> "6 1 9"; "en cinco minutos",
  "dos en uno" and "en 619 555 0100" keep their words.
* ``oh`` and a lone ``o`` are zeros next to a converted number word when between two
  converted tokens ("five oh five") or in a phone-like run, and between two digit
  groups of a phone-like run ("619 555 O 142").
* The puns ``for to too ate won`` convert only next to a converted number word (or
  glued to a digit group: "for80 5fivefive zero1onezero") in a
  phone-like run with three or more English digit words ("for two four five five
  five zero one one eight"). "Call Zoey To 323-555-0102", "10am to 10pm",
  "80 for 15 min", "two for one" and "I want to see you" keep them.
* Words of two languages take the language of the run's one-language words:
  ``tres`` is Spanish 3, or Danish 60 in a Danish run ("tolv tres" -> "12 60");
  ``to`` is an English pun, or Danish 2 in a Danish run.
* Look-alike letters convert only where a digit touches them: inside a word only
  at its edge next to a digit ("2Osix", "4OO"; never in "stress" = s+tres+s or
  "SOLO"); between two digits or converted words when a single ``O``/``o``
  ("6o8") or in a phone-like run ("9l75550100", "619-5S5-0142"); glued on one side
  when at most two of ``O o l`` ("O142", "25O/4OO", "l800"); standing alone, one
  letter of ``O o l I i`` between two digit groups or a lone ``l`` before one, in a
  phone-like run ("l-800-555-0100"). So "Is it you?", "34B", "20s", "I-5", "B2B" keep
  their letters. ``|`` is a 1 only between two digits with a single digit on one
  side ("6|9"), so "619|555|0100" keeps its separators.
* Not read: hundreds and thousands ("two hundred"), and spaced words ("z e r o")
  that are not part of a run with a digit or another number word.

**Offsets.** Normalized character ``i`` comes from ``original[starts[i]:ends[i]]``.
Every normalized character covers at least one original character, ``starts`` and
``ends`` never decrease, and the characters made from one source (a number word, a
compound, an NFKC expansion such as ``⑩`` -> ``10``) all carry that source's span:
``sixonenine`` gives three digits mapped to ``six``, ``one`` and ``nine``;
``twenty-two`` gives ``22`` with both digits mapped to the whole compound.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, TypeAlias

__all__ = ["NormalizedText", "normalize"]


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """A normalized view of one text field and its offset map into the original.

    ``starts`` and ``ends`` have ``len(text)`` items: normalized character ``i`` comes
    from ``original[starts[i]:ends[i]]``, with
    ``0 <= starts[i] < ends[i] <= len(original)``; both never decrease. For a field
    that normalization leaves at its length they are ``range`` objects.
    """

    original: str
    text: str
    starts: Sequence[int]
    ends: Sequence[int]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the span ``[start, end)`` of ``text`` to a span of ``original``.

        Returns ``(starts[start], ends[end - 1])``; always
        ``0 <= s <= e <= len(original)``. Raises ValueError unless
        ``0 <= start < end <= len(text)``.
        """
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"bad span [{start}, {end}) of a text of {len(self.text)}")
        return self.starts[start], self.ends[end - 1]

    @property
    def changed(self) -> bool:
        """True when the normalized view differs from the original."""
        return self.text != self.original


def normalize(text: str) -> NormalizedText:
    """Return the normalized view of one text field with its offset map.

    ``text`` is one field of an ad: any ``str``, including the empty string, lone
    surrogates (they become U+FFFD), combining marks and right-to-left text. The
    result has ``len(result.text)`` offsets in ``starts`` and ``ends``; the rules are
    in the module docstring. Plain ASCII with nothing to change costs a few C-level
    scans and returns ``range`` offsets. Never raises: were an internal error ever
    to happen, the unchanged field would be returned.
    """
    try:
        return _normalize(text)
    except Exception:  # pragma: no cover - a safety net; the tests call _normalize
        return NormalizedText(text, text, range(len(text)), range(1, len(text) + 1))


# Replacements of spans of the character view: (start, end, digits, one_for_one).
# With one_for_one, digit k comes from view character start + k; otherwise all the
# digits come from the whole span.
_Replacement = tuple[int, int, str, bool]


def _normalize(text: str) -> NormalizedText:
    """:func:`normalize` without its safety net."""
    starts: Sequence[int] | None = None
    ends: Sequence[int] | None = None
    view = text
    if not text.isascii():
        view, starts, ends = _character_view(text)
    replacements = _number_replacements(view)
    if starts is None or ends is None:
        starts, ends = range(len(view)), range(1, len(view) + 1)
    if not replacements:
        if isinstance(starts, range):
            return NormalizedText(text, view, starts, ends)
        return NormalizedText(text, view, tuple(starts), tuple(ends))
    out: list[str] = []
    out_starts: list[int] = []
    out_ends: list[int] = []
    pos = 0
    for start, end, digits, one_for_one in replacements:
        if start < pos:  # replacements never overlap; should one ever, keep the first
            continue
        out.append(view[pos:start])
        out_starts.extend(starts[pos:start])
        out_ends.extend(ends[pos:start])
        out.append(digits)
        if one_for_one:
            out_starts.extend(starts[start:end])
            out_ends.extend(ends[start:end])
        else:
            out_starts.extend([starts[start]] * len(digits))
            out_ends.extend([ends[end - 1]] * len(digits))
        pos = end
    out.append(view[pos:])
    out_starts.extend(starts[pos:])
    out_ends.extend(ends[pos:])
    return NormalizedText(text, "".join(out), tuple(out_starts), tuple(out_ends))


# ===================================================================== characters

# UTF-8 read as cp1252 or Latin-1: a lead byte (Â..ô) then a continuation byte.
_MOJIBAKE: Final = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6"
    "\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc"
    "\u2122\u0161\u203a\u0153\u017e\u0178]"
)
_NON_SPACE_RUN: Final = re.compile(r"\S+")

_DROPPED: Final = frozenset(
    [
        0x00AD,  # soft hyphen
        0x034F,  # combining grapheme joiner
        0x180E,  # Mongolian vowel separator
        0x20E3,  # combining enclosing keycap
        0xFEFF,  # zero-width no-break space
        *range(0x200B, 0x2010),  # zero-width space, joiners, LRM, RLM
        *range(0x202A, 0x202F),  # bidi embeddings and overrides
        *range(0x2060, 0x2065),  # word joiner, invisible operators
        *range(0x2066, 0x206A),  # bidi isolates
        *range(0xFE00, 0xFE10),  # variation selectors
        *range(0xE0000, 0xE0080),  # tags
        *range(0xE0100, 0xE01F0),  # variation selectors supplement
    ]
)


def _build_char_table() -> dict[str, str]:
    """Replacements that NFKC does not make (or makes wrongly)."""
    table: dict[str, str] = {}
    for first, values in (
        (0x2776, range(1, 11)),  # ❶..❿ dingbat negative circled
        (0x2780, range(1, 11)),  # ➀..➉ dingbat circled sans-serif
        (0x278A, range(1, 11)),  # ➊..➓ dingbat negative circled sans-serif
        (0x24EB, range(11, 21)),  # ⓫..⓴ negative circled
        (0x24F5, range(1, 11)),  # ⓵..⓾ double circled
    ):
        for offset, value in enumerate(values):
            table[chr(first + offset)] = str(value)
    table["\u24ff"] = "0"  # ⓿
    table["\U0001f10b"] = "0"  # 🄋
    table["\U0001f10c"] = "0"  # 🄌
    table["\U0001f51f"] = "10"  # 🔟 keycap ten
    for offset in range(26):
        table[chr(0x1F150 + offset)] = chr(ord("A") + offset)  # 🅐 negative circled
        table[chr(0x1F170 + offset)] = chr(ord("A") + offset)  # 🅰 negative squared
    table["º"] = "º"  # NFKC gives "o", and "1º" is an ordinal, not 10
    table["ª"] = "ª"
    return table


_CHAR_TABLE: Final = _build_char_table()
# Letters that look like O, I, S, B, Z but are not Latin: Latin next to a digit.
_CONFUSABLES: Final = {
    "\u041e": "O",  # Cyrillic О
    "\u043e": "o",
    "\u039f": "O",  # Greek Ο
    "\u03bf": "o",
    "\u3007": "O",  # 〇 ideographic number zero, used as a letter O ("N〇")
    "\u0406": "I",  # Cyrillic І
    "\u0456": "i",
    "\u0399": "I",  # Greek Ι
    "\u0405": "S",  # Cyrillic Ѕ
    "\u0455": "s",
    "\u0392": "B",  # Greek Β
    "\u0412": "B",  # Cyrillic В
    "\u0396": "Z",  # Greek Ζ
}
_CONFUSABLE: Final = re.compile("[" + "".join(_CONFUSABLES) + "]")
_DIGIT_RUN_OF_THREE: Final = re.compile(r"\d{3,}")

# What the character pass does with one code point.
_SAME: Final = 0  # nothing (it may still carry a flag)
_ONE: Final = 1  # replaced by one other character
_DROP: Final = 2  # dropped; its offsets go to the character before
_MARK: Final = 3  # combining mark: composed with, or dropped after, the one before
_EXPAND: Final = 4  # replaced by several characters, all with its span
_OTHER_DIGIT_FLAG: Final = 1  # a decimal digit of another script
_CONFUSABLE_FLAG: Final = 2  # a non-Latin look-alike of O, I, S, B or Z

_CharInfo = tuple[int, str, int]  # (action, replacement, flags)
_CHAR_INFO: dict[str, _CharInfo] = {}  # cache, cleared when it grows past 100,000

# Outside the Basic Multilingual Plane only these blocks are looked at: mathematical
# letters and digits, Arabic mathematical letters, enclosed alphanumerics (🄋 🅐 🅰),
# 🔟, segmented digits (🯰), CJK compatibility ideographs, tags and variation
# selectors. Emoji and everything else pass through untouched.
_ASTRAL_BLOCKS: Final = (
    (0x1D400, 0x1D7FF),
    (0x1EE00, 0x1EEFF),
    (0x1F100, 0x1F2FF),
    (0x1F51F, 0x1F51F),
    (0x1FBF0, 0x1FBF9),
    (0x2F800, 0x2FA1F),
    (0xE0000, 0xE01EF),
)


def _char_info(char: str) -> _CharInfo:
    """(action, replacement, flags) of one non-ASCII code point, cached."""
    info = _CHAR_INFO.get(char)
    if info is not None:
        return info
    code = ord(char)
    flags = _CONFUSABLE_FLAG if char in _CONFUSABLES else 0
    if code in _DROPPED:
        info = (_DROP, "", 0)
    elif 0xD800 <= code <= 0xDFFF:  # a lone surrogate: keep the view encodable
        info = (_ONE, "\ufffd", 0)
    elif char not in _CHAR_TABLE and unicodedata.category(char) in ("Mn", "Me"):
        info = (_MARK, char, 0)
    else:
        mapped = _CHAR_TABLE.get(char) or unicodedata.normalize("NFKC", char) or char
        action = _EXPAND if len(mapped) != 1 else _SAME if mapped == char else _ONE
        if any(c > "\x7f" and c.isdecimal() for c in mapped):
            flags |= _OTHER_DIGIT_FLAG
        info = (action, mapped, flags)
    if len(_CHAR_INFO) > 100_000:
        _CHAR_INFO.clear()
    _CHAR_INFO[char] = info
    return info


@lru_cache(maxsize=1)
def _interesting_characters() -> re.Pattern[str]:
    """A character class of the code points the character pass may change or flag.

    Every non-ASCII BMP code point that is dropped, a lone surrogate, in the table,
    a confusable letter, a decimal digit, a combining mark or changed by NFKC, plus
    the astral blocks above. Built on first use (about 0.1 s).
    """
    ranges: list[tuple[int, int]] = []
    for code in range(0x80, 0x10000):
        char = chr(code)
        if (
            code in _DROPPED
            or 0xD800 <= code <= 0xDFFF
            or char in _CHAR_TABLE
            or char in _CONFUSABLES
            or char.isdecimal()
            or unicodedata.category(char) in ("Mn", "Me")
            or not unicodedata.is_normalized("NFKC", char)
        ):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    ranges.extend(_ASTRAL_BLOCKS)
    body = "".join(f"{re.escape(chr(low))}-{re.escape(chr(high))}" for low, high in ranges)
    return re.compile(f"[{body}]")


def _character_view(text: str) -> tuple[str, list[int] | None, list[int] | None]:
    """Steps 1 and 2 for a non-ASCII field: (view, starts, ends).

    ``starts``/``ends`` index ``text``; they are None when view character ``i`` is
    original character ``i``. Only the characters that :func:`_interesting_characters`
    finds are visited in Python.
    """
    fixed = _fix_mojibake(text) if _MOJIBAKE.search(text) else None
    source = text if fixed is None else fixed[0]
    changes: list[tuple[int, int, str]] = []  # (index, action, replacement)
    flags = 0
    resized = False
    for match in _interesting_characters().finditer(source):
        action, mapped, char_flags = _char_info(match.group())
        flags |= char_flags
        if action != _SAME:
            changes.append((match.start(), action, mapped))
            resized = resized or action != _ONE
    starts: list[int] | None = None
    ends: list[int] | None = None
    if resized:
        view, starts, ends = _apply_changes(source, changes)
    elif changes:
        pieces: list[str] = []
        pos = 0
        for i, _, mapped in changes:
            pieces.append(source[pos:i])
            pieces.append(mapped)
            pos = i + 1
        pieces.append(source[pos:])
        view = "".join(pieces)
    else:
        view = source
    if flags:
        view = _fold_lookalike_characters(view, flags)
    if fixed is None:
        return view, starts, ends
    fixed_starts, fixed_ends = fixed[1], fixed[2]
    if starts is None or ends is None:
        return view, fixed_starts, fixed_ends
    return view, [fixed_starts[s] for s in starts], [fixed_ends[e - 1] for e in ends]


def _apply_changes(
    source: str, changes: list[tuple[int, int, str]]
) -> tuple[str, list[int], list[int]]:
    """Apply (index, action, replacement) changes that alter the length of ``source``."""
    out: list[str] = []  # chunks, never empty
    starts: list[int] = []
    ends: list[int] = []
    lead: int | None = None  # the first dropped character before any output
    pos = 0
    for i, action, mapped in changes:
        if i > pos:
            out.append(source[pos:i])
            starts.extend(range(pos, i))
            ends.extend(range(pos + 1, i + 1))
        pos = i + 1
        if action == _DROP:
            if out:
                ends[-1] = i + 1
            elif lead is None:
                lead = i
            continue
        if action == _MARK and out:
            previous = out[-1][-1]
            composed = unicodedata.normalize("NFC", previous + mapped)
            if len(composed) == 1:
                out[-1] = out[-1][:-1] + composed
                ends[-1] = i + 1
                continue
            if previous < "\u0250" and previous.isalnum():  # "6̶": drop the mark
                ends[-1] = i + 1
                continue
        out.append(mapped)
        starts.extend([i] * len(mapped))
        ends.extend([i + 1] * len(mapped))
    if pos < len(source):
        out.append(source[pos:])
        starts.extend(range(pos, len(source)))
        ends.extend(range(pos + 1, len(source) + 1))
    if lead is not None and starts:
        starts[0] = lead
    return "".join(out), starts, ends


def _fold_lookalike_characters(view: str, flags: int) -> str:
    """Other-script digits in runs of 3+ -> ASCII; confusables next to a digit -> Latin.

    One character for one character, so the offsets stay as they are.
    """
    chars = list(view)
    if flags & _OTHER_DIGIT_FLAG:
        for match in _DIGIT_RUN_OF_THREE.finditer(view):
            for i in range(match.start(), match.end()):
                if chars[i] > "\x7f":
                    chars[i] = str(unicodedata.decimal(chars[i], 0))
    if flags & _CONFUSABLE_FLAG:
        for match in _CONFUSABLE.finditer(view):
            i = match.start()
            if (i > 0 and "0" <= chars[i - 1] <= "9") or (
                i + 1 < len(chars) and "0" <= chars[i + 1] <= "9"
            ):
                chars[i] = _CONFUSABLES[chars[i]]
    return "".join(chars)


def _fix_mojibake(text: str) -> tuple[str, list[int], list[int]] | None:
    """ftfy-repair the tokens that look like mojibake: (fixed, starts, ends) or None.

    ftfy is imported here, on the first field that looks like mojibake (importing it
    costs about 0.1 s of start-up, and most corpora have few such fields).
    """
    import ftfy

    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for match in _NON_SPACE_RUN.finditer(text):
        token = match.group()
        if not _MOJIBAKE.search(token):
            continue
        try:
            fixed = ftfy.fix_encoding(token)
        except Exception:  # ftfy is a heuristic; it never gets to break normalize
            continue
        if fixed == token:
            continue
        start = match.start()
        pieces.append(text[pos:start])
        starts.extend(range(pos, start))
        ends.extend(range(pos + 1, start + 1))
        for s, e in _align(token, fixed):
            starts.append(start + s)
            ends.append(start + e)
        pieces.append(fixed)
        pos = match.end()
    if not pieces:
        return None
    pieces.append(text[pos:])
    starts.extend(range(pos, len(text)))
    ends.extend(range(pos + 1, len(text) + 1))
    return "".join(pieces), starts, ends


def _align(source: str, fixed: str) -> list[tuple[int, int]]:
    """For each character of ``fixed``, the span of ``source`` it comes from."""
    spans: list[tuple[int, int]] = []
    lead: int | None = None
    matcher = difflib.SequenceMatcher(None, source, fixed, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            spans.extend((i, i + 1) for i in range(i1, i2))
        elif j1 == j2:  # deleted: the characters go to the one before
            if spans:
                spans[-1] = (spans[-1][0], i2)
            elif lead is None:
                lead = i1
        elif i1 == i2:  # inserted: the characters share a neighbour's span
            anchor = max(i1 - 1, 0)
            spans.extend([(anchor, anchor + 1)] * (j2 - j1))
        else:  # replaced: the source range is split in proportion
            width, count = i2 - i1, j2 - j1
            for k in range(count):
                s = i1 + k * width // count
                e = max(i1 - (-(k + 1) * width // count), s + 1)
                spans.append((s, e))
    if lead is not None and spans:
        spans[0] = (lead, spans[0][1])
    return spans


# ===================================================================== vocabulary

# A reading of a number word: (language, kind, digits). Kinds:
#   W  strong digit word, converts inside a run
#   R  ambiguous digit word, also an ordinary word (and "once", "ti")
#   Q  "oh", a zero
#   P  pun: for, to, too, ate, won
#   C  number from ten up, converts anywhere
#   T  tens that can take a unit (twenty, treinta, tyve), converts anywhere
#   X  the connector of a compound ("y", "og")
# Items of a run also have the kinds N (digit group) and L (look-alike letters).
_Reading = tuple[str, str, str]

_EN_DIGITS: Final = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_ES_DIGITS: Final = {
    "cero": 0,
    "uno": 1,
    "una": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
}
_DA_DIGITS: Final = {
    "nul": 0,
    "en": 1,
    "et": 1,
    "to": 2,
    "tre": 3,
    "fire": 4,
    "fem": 5,
    "seks": 6,
    "syv": 7,
    "otte": 8,
    "ni": 9,
}
_AMBIGUOUS_DIGITS: Final = frozenset(
    {"one", "uno", "una", "nul", "en", "et", "to", "tre", "fire", "fem", "ni"}
)
_EN_PUNS: Final = {"for": 4, "to": 2, "too": 2, "ate": 8, "won": 1}
_EN_TEENS: Final = (
    "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_EN_TENS: Final = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_ES_TEENS: Final = {
    "diez": 10,
    "once": 11,
    "doce": 12,
    "trece": 13,
    "catorce": 14,
    "quince": 15,
    "dieciséis": 16,
    "dieciseis": 16,
    "diecisiete": 17,
    "dieciocho": 18,
    "diecinueve": 19,
    "veintiuno": 21,
    "veintiuna": 21,
    "veintiún": 21,
    "veintiun": 21,
    "veintidós": 22,
    "veintidos": 22,
    "veintitrés": 23,
    "veintitres": 23,
    "veinticuatro": 24,
    "veinticinco": 25,
    "veintiséis": 26,
    "veintiseis": 26,
    "veintisiete": 27,
    "veintiocho": 28,
    "veintinueve": 29,
}
_ES_TENS: Final = {
    "veinte": 20,
    "treinta": 30,
    "cuarenta": 40,
    "cincuenta": 50,
    "sesenta": 60,
    "setenta": 70,
    "ochenta": 80,
    "noventa": 90,
}
_DA_TEENS: Final = {
    "ti": 10,
    "elleve": 11,
    "tolv": 12,
    "tretten": 13,
    "fjorten": 14,
    "femten": 15,
    "seksten": 16,
    "sytten": 17,
    "atten": 18,
    "nitten": 19,
}
# Danish counts in twenties from 50: halvtreds(indstyve) = 2.5 x 20, and so on.
_DA_TENS: Final = {
    "tyve": 20,
    "tredive": 30,
    "fyrre": 40,
    "fyrretyve": 40,
    "halvtreds": 50,
    "halvtredsindstyve": 50,
    "tres": 60,
    "tresindstyve": 60,
    "halvfjerds": 70,
    "halvfjerdsindstyve": 70,
    "firs": 80,
    "firsindstyve": 80,
    "halvfems": 90,
    "halvfemsindstyve": 90,
}


def _build_vocabulary() -> dict[str, tuple[_Reading, ...]]:
    """Lower-case word -> its readings, the default reading first."""
    vocabulary: dict[str, list[_Reading]] = {}

    def add(word: str, lang: str, kind: str, value: int | str) -> None:
        vocabulary.setdefault(word, []).append((lang, kind, str(value)))

    for value, word in enumerate(_EN_DIGITS):
        add(word, "en", "R" if word in _AMBIGUOUS_DIGITS else "W", value)
    for word, value in _ES_DIGITS.items():
        add(word, "es", "R" if word in _AMBIGUOUS_DIGITS else "W", value)
    for word, value in _EN_PUNS.items():
        add(word, "en", "P", value)
    for word, value in _DA_DIGITS.items():  # after the puns: "to" is a pun by default
        add(word, "da", "R" if word in _AMBIGUOUS_DIGITS else "W", value)
    add("oh", "en", "Q", 0)
    for offset, word in enumerate(_EN_TEENS):
        add(word, "en", "C", 10 + offset)
    for word, value in _ES_TEENS.items():
        add(word, "es", "R" if word == "once" else "C", value)
    for word, value in _DA_TEENS.items():
        add(word, "da", "R" if word == "ti" else "C", value)
    for tens, lang in ((_EN_TENS, "en"), (_ES_TENS, "es"), (_DA_TENS, "da")):
        for word, value in tens.items():
            add(word, lang, "T", value)
    # Glued compounds ("twentytwo", "fireogtyve") are read piece by piece and joined
    # by _merge_compounds. "toog..." must be whole words: the greedy segmentation
    # would read "too" + "g...".
    for word, value in _DA_TENS.items():
        add(f"toog{word}", "da", "C", value + 2)
    add("y", "es", "X", "")
    add("og", "da", "X", "")
    return {word: tuple(readings) for word, readings in vocabulary.items()}


_VOCABULARY: Final = _build_vocabulary()
_LOOKALIKE_DIGIT: Final = {
    "O": "0",
    "o": "0",
    "l": "1",
    "I": "1",
    "i": "1",
    "|": "1",
    "S": "5",
    "s": "5",
    "B": "8",
    "Z": "2",
    "z": "2",
}
# The accented letters of the vocabulary ("veintidós") and their plain forms.
_VOCABULARY_ACCENTS: Final = tuple(
    (char, unicodedata.normalize("NFD", char)[0])
    for char in sorted({c for word in _VOCABULARY for c in word if not c.isascii()})
)

_Trie: TypeAlias = dict[str, "_Trie"]


def _trie_pattern(words: Iterable[str], joiner: str = "") -> str:
    """A regex that matches any of ``words``, shaped as a trie, longest match first.

    ``joiner`` goes between the letters ("z e r o" with ``[ .\\-]``). A trie keeps the
    regex engine from trying hundreds of alternatives one after the other.
    """
    trie: _Trie = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: _Trie, first: bool) -> str:
        branches = [
            ("" if first else joiner) + re.escape(char) + emit(child, False)
            for char, child in sorted(node.items())
            if char
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" not in node:
            return body
        return f"(?:{body})?" if len(branches) == 1 else body + "?"

    return emit(trie, True)


# Word matching runs on a lower-cased copy of the view (of the same length), so the
# patterns are case-free; look-alike letters are checked in the original case.
_LETTER_CLASS: Final = r"[^\W\d_]"
_NO_LETTER_BEFORE: Final = rf"(?<!{_LETTER_CLASS})"
_NO_LETTER_AFTER: Final = rf"(?!{_LETTER_CLASS})"
_MAX_GAP: Final = 8
_GAP: Final = rf"[\W_]{{0,{_MAX_GAP}}}+"
_SPACED_WORDS: Final = sorted(
    w for w, rs in _VOCABULARY.items() if len(w) >= 3 and w.isascii() and rs[0][1] in "WC"
)
_SPACED_JOINER: Final = r"[ .\-]"
_PIECE_SOURCE: Final = rf"{_trie_pattern(_VOCABULARY)}|[olisbz]"
_SPACED_SOURCE: Final = (
    _NO_LETTER_BEFORE + _trie_pattern(_SPACED_WORDS, _SPACED_JOINER) + _NO_LETTER_AFTER
)
_WORD_RUN_SOURCE: Final = rf"{_NO_LETTER_BEFORE}(?:{_PIECE_SOURCE})++{_NO_LETTER_AFTER}"
_TOKEN_SOURCE: Final = rf"{_SPACED_SOURCE}|[0-9]+|{_WORD_RUN_SOURCE}"
_REVERSED_PIECE_SOURCE: Final = rf"{_trie_pattern(w[::-1] for w in _VOCABULARY)}|[olisbz]"
_REVERSED_TOKEN_SOURCE: Final = (
    _NO_LETTER_BEFORE
    + _trie_pattern((w[::-1] for w in _SPACED_WORDS), _SPACED_JOINER)
    + _NO_LETTER_AFTER
    + rf"|[0-9]+|{_NO_LETTER_BEFORE}(?:{_REVERSED_PIECE_SOURCE})++{_NO_LETTER_AFTER}"
)

#: A number word or look-alike letter inside a letter run.
_PIECE: Final = re.compile(_PIECE_SOURCE)
_PIECES: Final = re.compile(rf"(?:{_PIECE_SOURCE})++")
#: One token of a run: a spaced word (group 1), a digit group, or a whole letter run
#: made of number words and look-alike letters.
_TOKEN: Final = re.compile(rf"({_SPACED_SOURCE})|[0-9]+|{_WORD_RUN_SOURCE}")
#: A digit group with the rest of its run to the right. The leading [0-9] lets the
#: regex engine skip to digits, so one C-level scan finds every digit seed.
_DIGIT_SEED: Final = re.compile(rf"[0-9]+(?:{_GAP}(?:{_TOKEN_SOURCE}))*+")
#: A run grows to the right over gaps and tokens ...
_GROW_RIGHT: Final = re.compile(rf"(?:{_GAP}(?:{_TOKEN_SOURCE}))*+")
#: ... and to the left the same way, on the reversed text with reversed words.
_GROW_LEFT: Final = re.compile(rf"(?:{_GAP}(?:{_REVERSED_TOKEN_SOURCE}))*+")
_LETTER: Final = re.compile(_LETTER_CLASS)
_LETTER_OR_DIGIT: Final = re.compile(r"[^\W_]")
_COMPOUND_GAP: Final = re.compile(r"[ \-]{0,2}")
_SPACED_JOINERS: Final = re.compile(_SPACED_JOINER)
_PIPE: Final = re.compile(r"(?<=[0-9])\|(?=[0-9])")

# Seeds of runs without digits are found on the letters-only projection of the
# view (each character that is no ASCII letter becomes a space, by one
# bytes.translate): strong words with str.find, three ambiguous digit words in a row
# with this pattern (the literal " " in front lets the regex engine skip to spaces).
_LETTERS_ONLY: Final = bytes(c if 0x61 <= c <= 0x7A else 0x20 for c in range(256))
_AMBIGUOUS_WORDS: Final = _trie_pattern(
    w for w, rs in _VOCABULARY.items() if w != "to" and any(r[1] == "R" for r in rs)
)
_THREE_AMBIGUOUS_WORDS: Final = re.compile(
    rf" {_AMBIGUOUS_WORDS} +{_AMBIGUOUS_WORDS} +{_AMBIGUOUS_WORDS} "
)
_SEED_STRONG: Final = 1  # the word holds a strong number word
_SEED_AMBIGUOUS: Final = 2  # the word holds an ambiguous digit word (not "to")
# The seed flags of the words seen so far: 0 in _PLAIN_WORDS, others in _WORD_FLAGS
# (caches, both cleared when together they grow past _WORD_CACHE_SIZE).
_PLAIN_WORDS: set[str] = set()
_WORD_FLAGS: dict[str, int] = {}
_WORD_CACHE_SIZE: Final = 200_000


# ===================================================================== number words


@dataclass(slots=True)
class _Item:
    """One token of a run, or one number word or look-alike letter group of a token."""

    start: int
    end: int
    kind: str  # N, L, or a reading kind (W R Q P C T X)
    value: str  # the digits it stands for
    readings: tuple[_Reading, ...] = ()
    lang: str = ""
    glued: bool = False  # nothing between this item and the one before
    convert: bool = False


def lower_same_length(text: str) -> str:
    """``text`` in lower case, character for character: the few characters whose lower
    case is longer (such as "İ") stay as they are, so offsets into the result are
    offsets into ``text``."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _number_replacements(view: str) -> list[_Replacement]:
    """Steps 3 and 4: the spans of ``view`` to replace with digits, in order.

    Runs are found from seeds (digit groups; strong number words; three ambiguous
    digit words in a row) and grown token by token in both directions.
    """
    low = lower_same_length(view)
    # (start, end, grown): a digit seed comes grown to the right already.
    seeds = [(*m.span(), True) for m in _DIGIT_SEED.finditer(low)]
    word_seeds = _word_seeds(low)
    if word_seeds:
        seeds = sorted(seeds + [(start, end, False) for start, end in word_seeds])
    replacements: list[_Replacement] = []
    covered = 0
    reversed_low = ""
    for seed_start, seed_end, grown in seeds:
        if seed_end <= covered or (not grown and seed_start < covered):
            continue
        if grown:
            if _LETTER.search(view, max(seed_start - _MAX_GAP - 1, 0), seed_end) is None:
                covered = seed_end
                continue  # digits and separators, and no letter to the left
            token = (seed_start, seed_end)
        else:
            found = _seed_token(view, low, seed_start)
            if found is None:
                continue
            token = found
        if not reversed_low:
            reversed_low = low[::-1]
        left = _GROW_LEFT.match(reversed_low, len(low) - token[0])
        start = max(len(low) - left.end() if left else token[0], covered)
        end = token[1]
        if not grown:
            right = _GROW_RIGHT.match(low, end)
            end = right.end() if right else end
        covered = end
        if _LETTER.search(view, start, end) is None:
            continue  # digits and separators only
        # What becomes of a run depends on it and the character on each side only.
        before = max(start - 1, 0)
        for change_start, change_end, digits, one_for_one in _run_replacements(
            view[before : end + 1], start - before, end - before
        ):
            replacements.append((change_start + before, change_end + before, digits, one_for_one))
    if "|" in view:
        replacements.extend(_pipe_replacements(view))
        replacements.sort()
    return replacements


def _word_seeds(low: str) -> list[tuple[int, int]]:
    """Where a run without a digit may start: (start, end) spans in ``low``.

    A strong number word (maybe glued into a longer letter run), or the first of
    three ambiguous digit words in a row ("tre fire en"). Checked by _seed_token.
    """
    # An ASCII projection, one character for one character: the vocabulary's
    # accented letters lose their accents, other non-ASCII characters become "?".
    projected = low
    if not low.isascii():
        for accented, plain in _VOCABULARY_ACCENTS:
            if accented in projected:
                projected = projected.replace(accented, plain)
    letters = projected.encode("ascii", "replace").translate(_LETTERS_ONLY).decode("ascii")
    words = letters.split()
    if _PLAIN_WORDS.issuperset(words):
        return []
    strong: list[str] = []
    flags = 0
    for word in set(words).difference(_PLAIN_WORDS):
        word_flags = _word_flags(word)
        flags |= word_flags
        if word_flags & _SEED_STRONG:
            strong.append(word)
    seeds: list[tuple[int, int]] = []
    padded = f" {letters} "  # index i of padded is index i - 1 of low
    for word in strong:
        found = padded.find(f" {word} ")
        while found >= 0:
            seeds.append((found, found + len(word)))
            found = padded.find(f" {word} ", found + len(word) + 1)
    if flags & _SEED_AMBIGUOUS:
        seeds.extend((m.start(), m.start() + 1) for m in _THREE_AMBIGUOUS_WORDS.finditer(padded))
    return seeds


def _word_flags(word: str) -> int:
    """Seed flags of one lower-case ASCII word (cached)."""
    cached = _WORD_FLAGS.get(word)
    if cached is not None:
        return cached
    flags = 0
    if _PIECES.fullmatch(word) is not None:
        # A word with look-alike letters ("stress" = s + tres + s) matters only
        # glued to digits, and then the digits are seeds.
        for piece in _PIECE.finditer(word):
            readings = _VOCABULARY.get(piece.group())
            if readings is None:
                flags = 0
                break
            if any(r[1] in "WCT" for r in readings):
                flags |= _SEED_STRONG
            elif piece.group() != "to" and any(r[1] == "R" for r in readings):
                flags |= _SEED_AMBIGUOUS
    if len(_WORD_FLAGS) + len(_PLAIN_WORDS) > _WORD_CACHE_SIZE:
        _WORD_FLAGS.clear()
        _PLAIN_WORDS.clear()
    if flags:
        _WORD_FLAGS[word] = flags
    else:
        _PLAIN_WORDS.add(word)
    return flags


def _seed_token(view: str, low: str, start: int) -> tuple[int, int] | None:
    """The letter run around ``start`` when it is a whole token, else None."""
    run_start, run_end = start, start
    while run_start > 0 and view[run_start - 1].isalpha():
        run_start -= 1
    while run_end < len(view) and view[run_end].isalpha():
        run_end += 1
    match = _TOKEN.match(low, run_start)
    if match is None or match.end() != run_end:
        return None
    return run_start, run_end


def _pipe_replacements(view: str) -> list[_Replacement]:
    """``|`` between two digits, with a single digit on one side ("6|9"), is a 1."""
    found: list[_Replacement] = []
    for match in _PIPE.finditer(view):
        i = match.start()
        left_single = i < 2 or not view[i - 2].isdigit()
        right_single = i + 2 >= len(view) or not view[i + 2].isdigit()
        if left_single or right_single:
            found.append((i, i + 1, "1", True))
    return found


@lru_cache(maxsize=16384)
def _run_replacements(context: str, start: int, end: int) -> tuple[_Replacement, ...]:
    """The replacements of the run ``context[start:end]`` (cached: ads repeat a lot)."""
    low = lower_same_length(context)
    items = _merge_compounds(context, _tokenize(context, low, start, end))
    replacements: list[_Replacement] = []
    run: list[_Item] = []
    for item in [*items, None]:
        if item is not None and item.kind != "X":
            run.append(item)
            continue
        if run:
            _decide(context, run)
            replacements.extend(
                (it.start, it.end, it.value, it.kind == "L") for it in run if it.convert
            )
        run = []
    return tuple(replacements)


def _tokenize(view: str, low: str, start: int, end: int) -> list[_Item]:
    """The items of ``view[start:end]``; anything that is no token becomes an X."""
    items: list[_Item] = []
    previous_end = start
    for match in _TOKEN.finditer(low, start, end):
        glued = match.start() == previous_end and bool(items)
        if match.start() > previous_end and _LETTER_OR_DIGIT.search(
            low, previous_end, match.start()
        ):
            items.append(_Item(previous_end, match.start(), "X", ""))
        previous_end = match.end()
        token = match.group()
        if "0" <= token[0] <= "9":
            items.append(_Item(match.start(), match.end(), "N", token, glued=glued))
        elif match.group(1) is not None:  # a spaced word
            readings = _VOCABULARY[_SPACED_JOINERS.sub("", token)]
            kind, value = readings[0][1], readings[0][2]
            items.append(_Item(match.start(), match.end(), kind, value, readings, glued=glued))
        else:
            items.extend(_segment(view, low, match.start(), match.end(), glued))
    return items


def _segment(view: str, low: str, start: int, end: int, glued: bool) -> list[_Item]:
    """Split one letter run into number words and look-alike letter groups.

    The run is no token (one X item) when a look-alike letter is none in its
    original case ("b", "L"), or sits inside a word where no digit touches it.
    """
    items: list[_Item] = []
    pos = start
    while pos < end:
        match = _PIECE.match(low, pos, end)
        if match is None:  # cannot happen for a _TOKEN match
            return [_Item(start, end, "X", "", glued=glued)]
        readings = _VOCABULARY.get(match.group())
        if readings is not None:
            kind, value = readings[0][1], readings[0][2]
            items.append(_Item(pos, match.end(), kind, value, readings, glued=glued or pos > start))
        else:
            digit = _LOOKALIKE_DIGIT.get(view[pos])
            if digit is None:
                return [_Item(start, end, "X", "", glued=glued)]
            if items and items[-1].kind == "L":
                items[-1].end = match.end()
                items[-1].value += digit
            else:
                items.append(_Item(pos, match.end(), "L", digit, glued=glued or pos > start))
        pos = match.end()
    if end - start > 1:  # "2Osix", "4OO", "B00BS38" count; "stress", "Osix" do not
        digit_before = start > 0 and "0" <= view[start - 1] <= "9"
        digit_after = end < len(view) and "0" <= view[end] <= "9"
        for item in items:
            if item.kind == "L" and not (
                (item.start == start and digit_before) or (item.end == end and digit_after)
            ):
                return [_Item(start, end, "X", "", glued=glued)]
    return items


def _reading(item: _Item, kinds: str, langs: tuple[str, ...]) -> _Reading | None:
    """The first reading of ``item`` of one of ``kinds`` in one of ``langs``."""
    for reading in item.readings:
        if reading[1] in kinds and reading[0] in langs:
            return reading
    return None


def _unit(item: _Item | None, lang: str) -> int | None:
    """The value 1-9 of ``item`` as a digit word of ``lang``, else None."""
    if item is None:
        return None
    reading = _reading(item, "WR", (lang,))
    return int(reading[2]) if reading is not None and reading[2] != "0" else None


def _merge_compounds(view: str, items: list[_Item]) -> list[_Item]:
    """Join "twenty two", "thirty-8", "treinta y cuatro", "fire og tyve" into one C."""

    def close(left: _Item, right: _Item) -> bool:
        return _COMPOUND_GAP.fullmatch(view, left.end, right.start) is not None

    def connector(item: _Item | None, word: str) -> bool:
        return item is not None and item.kind == "X" and view[item.start : item.end].lower() == word

    merged: list[_Item] = []
    i = 0
    while i < len(items):
        item = items[i]
        after = items[i + 1] if i + 1 < len(items) else None
        third = items[i + 2] if i + 2 < len(items) else None
        tens = _reading(item, "T", ("en", "es"))
        if tens is not None and after is not None and close(item, after):
            lang, value = tens[0], int(tens[2])
            unit = _unit(third, "es") if lang == "es" and connector(after, "y") else None
            if third is not None and unit is not None and close(after, third):
                merged.append(_compound(item, third, value + unit, lang))  # treinta y cuatro
                i += 3
                continue
            unit = _unit(after, lang)
            if unit is None and (
                after.kind == "N"
                and len(after.value) == 1
                and after.value != "0"
                and not after.glued
                and (third is None or not third.glued)
            ):
                unit = int(after.value)  # "fifty 7"
            if unit is not None:
                merged.append(_compound(item, after, value + unit, lang))  # twenty-two
                i += 2
                continue
        unit = _unit(item, "da")
        if (
            unit is not None
            and after is not None
            and third is not None
            and connector(after, "og")
            and close(item, after)
            and close(after, third)
            and (danish_tens := _reading(third, "T", ("da",))) is not None
        ):
            merged.append(_compound(item, third, int(danish_tens[2]) + unit, "da"))
            i += 3
            continue
        merged.append(item)
        i += 1
    return merged


def _compound(first: _Item, last: _Item, value: int, lang: str) -> _Item:
    reading = (lang, "C", str(value))
    return _Item(first.start, last.end, "C", str(value), (reading,), lang, first.glued)


def _resolve_languages(run: list[_Item]) -> None:
    """Give each word of a run one reading: its language's if the run has one-language
    words of that language, else its default. A lone "o" becomes "oh"."""
    langs = {
        item.readings[0][0]
        for item in run
        if item.readings and all(r[0] == item.readings[0][0] for r in item.readings)
    }
    for i, item in enumerate(run):
        if item.readings:
            chosen = next((r for r in item.readings if r[0] in langs), item.readings[0])
            item.lang, item.kind, item.value = chosen
        elif (
            item.kind == "L"
            and item.value == "0"
            and item.end - item.start == 1
            and not item.glued
            and not (i + 1 < len(run) and run[i + 1].glued)
        ):
            item.kind, item.lang = "Q", "en"


def _decide(view: str, run: list[_Item]) -> None:
    """Set ``convert`` on the items of one run (the rules are in the module docstring)."""
    _resolve_languages(run)
    n = len(run)
    for item in run:
        item.convert = item.kind in "CT"
    for i in range(1, n):  # 7-Eleven is a shop
        if (
            run[i].value == "11"
            and run[i - 1].value == "7"
            and view[run[i].start : run[i].end].lower() == "eleven"
            and view[run[i - 1].end : run[i].start].strip() in ("", "-")
        ):
            run[i].convert = False
    if n == 1:
        return
    spelled: dict[str, int] = {}  # spelled digits and numbers per language
    for item in run:
        if item.kind in "WCTR":
            spelled[item.lang] = spelled.get(item.lang, 0) + 1
    phone_like = sum(len(item.value) for item in run if item.kind != "L") >= 7
    strong = sum(1 for item in run if item.kind in "NWCT")
    member = [item.kind in "NCT" for item in run]  # digits, or becomes digits

    def neighbours(i: int) -> tuple[int, ...]:
        return tuple(j for j in (i - 1, i + 1) if 0 <= j < n)

    def glued_to_member(i: int) -> bool:
        return (i > 0 and run[i].glued and member[i - 1]) or (
            i + 1 < n and run[i + 1].glued and member[i + 1]
        )

    def sandwiched(i: int) -> bool:
        return 0 < i < n - 1 and member[i - 1] and member[i + 1]

    for i, item in enumerate(run):
        if item.kind == "W" and (
            strong >= 2
            or any(run[j].kind == "R" and run[j].lang == item.lang for j in neighbours(i))
        ):
            member[i] = item.convert = True
    changed = True
    while changed:
        changed = False
        for i, item in enumerate(run):
            if member[i] or item.kind not in "RQP":
                continue
            words = [j for j in neighbours(i) if member[j] and run[j].kind in "WCTRQP"]
            if item.kind == "R":
                own = spelled.get(item.lang, 0)
                ok = (
                    any(run[j].lang == item.lang for j in words)
                    or (
                        own >= 3
                        and any(
                            run[j].kind in "WCTR" and run[j].lang == item.lang
                            for j in neighbours(i)
                        )
                    )
                    or (
                        not (own <= 1 and len(spelled) > 1)  # alone among other languages
                        and (glued_to_member(i) or sandwiched(i))
                    )
                )
            elif item.kind == "Q":
                ok = (bool(words) and (phone_like or sandwiched(i) or glued_to_member(i))) or (
                    sandwiched(i) and phone_like
                )
            else:  # a pun: next to a number word, or glued to digits ("for80 5five5...")
                ok = (
                    (bool(words) or glued_to_member(i)) and phone_like and spelled.get("en", 0) >= 3
                )
            if ok:
                member[i] = item.convert = True
                changed = True
    for i, item in enumerate(run):
        if item.kind == "L":
            item.convert = _lookalike_converts(view, run, member, i, phone_like)


def _lookalike_converts(
    view: str, run: list[_Item], member: list[bool], i: int, phone_like: bool
) -> bool:
    """Whether the look-alike letter group ``run[i]`` becomes digits."""
    item = run[i]
    letters = view[item.start : item.end]
    left = i > 0 and member[i - 1]
    right = i + 1 < len(run) and member[i + 1]
    glued_left = left and item.glued
    glued_right = right and run[i + 1].glued
    if glued_left and glued_right:  # "6o8", "2Osix"; "9l7", "B00BS38" in a phone only
        return letters in ("O", "o") or phone_like
    if glued_left or glued_right:  # "O142", "4OO", "l800"; "97I", "oI64" in a phone only
        return len(letters) <= 2 and all(c in ("OolIi" if phone_like else "Ool") for c in letters)
    if item.glued or (i + 1 < len(run) and run[i + 1].glued):
        return False
    if len(letters) != 1 or not phone_like:
        return False
    if left and right:  # "619 555 O 142"
        return letters in "OolIi"
    return letters == "l" and right  # "l-800-555-0100"
