"""Working names of the advertised person(s), in the title and the body.

A working name ties ads to one network (one phone with many names, one name with many
phones). The extractor looks for the names an ad uses for the person advertised, as the
labelling rules of ``shared/data/gold/README.md`` (section ``names-locations.jsonl``)
define them, and leaves out words said to the customer ("Papi", "baby"), business, spa
and review-site names, adjectives, ethnicities, cities and ordinary words.

Output: one Entity per mention, ``kind="name"``, ``field`` "title" or "body";
``value`` is the name normalized (each part capitalized, single spaces, spelled-out
letters joined: ``"CaRLa MoNET"`` gives ``"Carla Monet"``, ``"j-a-d-e"`` gives
``"Jade"``); ``text`` is the name as written and ``ad.<field>[start:end] == text``. A
possessive ``'s`` is not part of the span, a name glued to other text is cut out of it
(``"Im'noemi"`` gives ``noemi``, ``"TessaTHE BEST"`` gives ``Tessa``), and a first name
with a surname is one entity (``"Carla Monet"``).

How a word becomes a name. Words are runs of Latin letters (apostrophes split them;
letters of other scripts, such as "ℓ" or "ღ", are decoration in these ads). Each word
is looked up in three lexicons shipped in ``adsentry/data`` and read once per process:

- ``first_names.txt``: US Social Security Administration baby names (public domain),
- ``english_words.txt``: ordinary English words (SCOWL size 35, permissive licence),
- ``name_stopwords.txt``: words that are never a name here (function words, words said
  to the customer, ad vocabulary, ethnicities, places, Spanish and Danish words).

A stop word or an English word that is not a first name is never a name. Any other
word is a *name* (first-name list only: "Jessica"), a *word-name* (also English:
"Amber", "Honey", "Ivy") or *unknown* (in neither list: "Zyraelle"). Then the context
decides (case: "cap" = starts with a capital):

=================  =============================================  ======================
context            examples                                       accepts
=================  =============================================  ======================
naming phrase      "my name is", "name is", "my names", "our      any word but stop and
                   names", "me llamo", "jeg hedder", "mit navn    English words
                   er"
strong trigger     "ask for", "ask 4", "call me", "my friend",    a name; any cap word
                   "introduce myself", "aka"
weak trigger       "I'm", "Im", "I am", "it's", "its", "this is", a name; a cap
                   "soy", "jeg er", "xoxo", "kisses", "miss",     word-name or unknown
                   "mistress"                                     word
call word          "call", "text", "call or text"                 a name; a cap word-name
phone slot         "Tamara 619.555.0133", "(415) 555-0123         a name or word-name;
                   Danica", "... 0188 j-a-d-e"                    a cap unknown word
"X here"           "Jolie here", "Tatum is here"                  a cap word
profile            "Junko, 21 yrs", "Keiko (2nd photo)"           a cap name or unknown
decorated          "💋DANIELA💋", "{{Marcela}}", "★ SWEET RINA ★"  a cap name
title              "Camila ready for you", "Sweet Petite KARINA   a cap name
                   - 22"
=================  =============================================  ======================

Between a trigger and the name there may be emoji and punctuation, never a digit or a
sentence end. A phone slot allows at most 12 characters that are neither letters nor
digits between the name and a phone-like run (10 digits, spelled digits counted). In
capitals, "I AM MERRY" says nothing (the trigger is in capitals too), while "It's
RUBY" does; a word-name after "I'm" that goes on as a description ("I'm Happy to")
is not a name. A word right after a greeting ("Hi Honey") is the customer, and a word
after "in", "at", "near" is a place, unless a trigger says otherwise; so is a word after
a place prefix ("Santa Clara") or before a place word ("Maple Ave", "Marina Beach").
Pieces of words in decorated letters ("G✪LDEN"), words glued between digits,
drawn-out ordinary words ("Sexxxy", "Juicyy"), "-ly" adverbs and camel-case phrases
("NoDrama") are not names. A name is extended by a capitalized next word when the pair
ends at a boundary ("Carla Monet 💎", "Jessica LaRue" at the end of the text), and lists
are followed through ``&``, ``and``, ``or``, ``y``, ``og`` and commas ("Mila & Sasha
818-555-0111"); in a line-up each name is taken by its profile ("Keiko (2nd photo)").

Cost: one regex split per field, a set difference to find the few candidate words, and
the context tests for those only (see the figures in the module's tests and report).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import accumulate, compress

from adsentry.extract import register
from adsentry.extract.context import ExtractionContext, FieldMemo, scoped
from adsentry.model import Entity

__all__ = ["NAME_FIELDS", "Lexicons", "extract_names", "lexicons"]

#: Fields a name is looked for in (the URL slug and the site's location line repeat them).
NAME_FIELDS: tuple[str, ...] = ("title", "body")

# Word classes of a candidate word.
_NAME, _WORDNAME, _UNKNOWN = 1, 2, 3

# Trigger strengths: a naming phrase ("my name is") takes any word that is not a stop
# word; a strong one ("ask for") a name, or any capitalized word; a weak one ("I'm") a
# name, or a capitalized word-name or unknown word; a call word ("call", "text") a name,
# or a capitalized word-name.
_NAMING, _STRONG, _WEAK, _CALL = 4, 3, 2, 1

# Words: runs of Latin letters. Letters of other scripts (ღ, ツ, ℓ, ε) are decoration in
# these ads, and names are written in Latin script. The capturing group makes re.split
# return gaps and words alternately.
_LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
_SPLIT = re.compile(f"([{_LATIN}]+)")
# A capitalized word glued to a word in capitals: "TessaTHE".
_CAMEL_TAIL = re.compile(r"([A-Z]?[a-z]{2,})[A-Z]{2,}")
# Spelled-out letters: "j-a-d-e", "R.U.B.Y" (_SPACED_HINT is a cheap first look).
_SPACED_HINT = re.compile(r"[-•._·][A-Za-z][-•._·]")
_SPACED = re.compile(f"(?<![{_LATIN}])[A-Za-z](?:[-•._·][A-Za-z]){{2,}}(?![{_LATIN}])")
_DIGITWORD = r"(?:zero|one|two|three|four|five|six|seven|eight|nine)"
# A phone-like run: digits or spelled digits with at most three separators between them.
_RUN = rf"(?:\d|{_DIGITWORD})(?:(?:[^\w\n]|_){{0,3}}(?:\d|{_DIGITWORD}))+"
_SLOT_GAP = 12  # non-letter characters allowed between a name and a phone run
_SLOT = rf"(?:[^\w\n]|_){{0,{_SLOT_GAP}}}"
_PHONE_AHEAD = re.compile(rf"{_SLOT}?({_RUN})", re.IGNORECASE)
_PHONE_BEHIND = re.compile(rf"(?<![a-z])({_RUN}){_SLOT}\Z", re.IGNORECASE)
_PHONE_UNIT = re.compile(rf"\d|{_DIGITWORD}", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_DIGIT_WORDS = frozenset(
    {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
)
_DOUBLE = re.compile(r"(.)\1")
_CAMEL_PARTS = re.compile(r"[A-Z][a-z]+")
_LOOK = 60  # characters looked at behind a name for a phone run
_MIN_PHONE_UNITS = 10  # a US number; shorter digit runs are prices, ages, zip codes
_TRIGGER_GAP = 12  # non-letter characters allowed between a trigger and a name
_BAD_GAP = re.compile(r"[^\W_]|[.!?\n]")  # a letter or digit, or a sentence end
_ASK4 = re.compile(r"\s*4\s*")
_AGE_AFTER = re.compile(
    r"[^\w\n]{0,8}(?:\d{2}\s*(?:y\s*[/.]\s*[o0]\b|yrs?\b|years?\b|yo\b)"
    r"|\(\s*\d(?:st|nd|rd|th)\s+(?:pic|photo|foto))",
    re.IGNORECASE,
)
_LIST_JOIN = re.compile(r"\s*(?:&&?|\+|/|,)\s*")
_JOIN_WORDS = frozenset({"and", "or", "y", "og", "n", "und", "e"})
_APOSTROPHES = frozenset("'’`´")
_JOINERS = frozenset(",'’&+/")  # a word joined to the next: not decoration
_PUNCT = frozenset('.,;:!?"“”')  # sentence punctuation: weak decoration
_CONTRACTION_TAILS = frozenset({"t", "ll", "re", "ve", "d"})

_NAMING_TRIGGERS = (
    ("my", "name", "is"),
    ("name", "is"),
    ("names", "is"),
    ("my", "names"),
    ("my", "name"),
    ("our", "names"),
    ("our", "names", "are"),
    ("names", "are"),
    ("me", "llamo"),
    ("mi", "nombre", "es"),
    ("jeg", "hedder"),
    ("mit", "navn", "er"),
)
_STRONG_TRIGGERS = (
    ("ask", "for"),
    ("my", "friend"),
    ("friend", "is"),
    ("call", "me"),
    ("introduce", "myself"),
    ("introduce", "myself", "i", "am"),
    ("introduce", "myself", "i", "m"),
    ("known", "as"),
    ("aka",),
)
_WEAK_TRIGGERS = (
    ("i", "m"),
    ("im",),
    ("i", "am"),
    ("it", "s"),
    ("its",),
    ("this", "is"),
    ("soy",),
    ("jeg", "er"),
    ("xoxo",),
    ("xo",),
    ("muah",),
    ("mwah",),
    ("kisses",),
    ("besos",),
    ("miss",),
    ("ms",),
    ("mistress",),
    ("mademoiselle",),
    ("madame",),
    ("senorita",),
    ("señorita",),
)
_CALL_TRIGGERS = (("call",), ("text",), ("call", "or", "text"))
# After "I'm", a word-name followed by one of these is a description: "I am Happy to
# host", "I'm Worth every penny".
_DESCRIPTION_NEXT = frozenset(
    {"to", "it", "at", "in", "with", "for", "of", "that", "than", "as", "enough", "about",
     "from", "on", "by", "every", "and", "or"}
)  # fmt: skip


def _trigger_index() -> dict[str, list[tuple[tuple[str, ...], int]]]:
    """Trigger phrases by their last word, strongest (and longest) first."""
    index: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    for phrases, strength in (
        (_NAMING_TRIGGERS, _NAMING),
        (_STRONG_TRIGGERS, _STRONG),
        (_WEAK_TRIGGERS, _WEAK),
        (_CALL_TRIGGERS, _CALL),
    ):
        for phrase in phrases:
            index.setdefault(phrase[-1], []).append((phrase, strength))
    for entries in index.values():
        entries.sort(key=lambda e: (-e[1], -len(e[0])))
    return index


_TRIGGER_BY_LAST = _trigger_index()
_NAMING_ENDS = frozenset(p[-1] for p in _NAMING_TRIGGERS)
_PLACE_PREPOSITIONS = frozenset(
    {"in", "at", "near", "from", "to", "visiting", "around", "outside", "en", "cerca"}
)
# Words said to the customer before a "NAME here": "Hey guys Jolie here".
_ADDRESS = frozenset(
    {"guys", "gentlemen", "gentleman", "gents", "fellas", "boys", "babe", "baby", "daddy",
     "papi", "hun", "love", "loves", "everyone", "all", "hey", "hi", "hello", "hola"}
)  # fmt: skip
_GREETINGS = frozenset({"hi", "hey", "hello", "hola", "hiya", "howdy", "dear", "hej"})
_PLACE_PREFIX = frozenset(
    {"san", "santa", "los", "las", "el", "del", "la", "mt", "mount", "fort", "ft", "port",
     "lake", "st", "saint", "palm", "costa", "rancho", "point", "pt"}
)  # fmt: skip
_PLACE_SUFFIX = frozenset(
    {"beach", "valley", "hills", "hill", "heights", "city", "county", "park", "mesa",
     "springs", "gardens", "grove", "lake", "district", "village", "island", "bay",
     "blvd", "ave", "avenue", "st", "street", "rd", "road", "dr", "drive", "way", "ln",
     "lane", "pl", "place", "ct", "court", "hwy", "fwy", "freeway", "spa", "massage",
     "center", "plaza", "mall", "airport", "station", "ranch", "vista", "del", "de",
     "ca", "california", "parkway", "pkwy", "circle", "cir", "terrace", "trail", "bar",
     "expressway", "plz", "sq", "square", "canyon", "creek", "shores", "harbor"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Lexicons:
    """The word lists (lower-case words) and two views of them made once for speed.

    ``names``: first_names.txt; ``english``: english_words.txt; ``stop``:
    name_stopwords.txt; ``kind``: word -> 0 (never a name), ``_NAME`` or ``_WORDNAME``
    (a word missing from it is unknown); ``never``: the words of kind 0, with every
    string of one or two letters a-z that is not a first name.
    """

    names: frozenset[str]
    english: frozenset[str]
    stop: frozenset[str]
    kind: dict[str, int]
    never: frozenset[str]


def _read_words(name: str) -> frozenset[str]:
    """Words of the data file ``adsentry/data/<name>``: whitespace-separated, ``#`` comments."""
    text = resources.files("adsentry").joinpath("data", name).read_text(encoding="utf-8")
    return frozenset(" ".join(line.split("#", 1)[0] for line in text.splitlines()).lower().split())


@cache
def lexicons() -> Lexicons:
    """The shipped lexicons, read once per process (about 0.1 s)."""
    names = _read_words("first_names.txt")
    english = _read_words("english_words.txt")
    stop = _read_words("name_stopwords.txt")
    kind = dict.fromkeys(english, 0)
    kind.update((w, _WORDNAME if w in english else _NAME) for w in names)
    kind.update(dict.fromkeys(stop, 0))
    # Words of one or two letters are never names unless the first-name list has them
    # ("Jo", "Ty"); those still need a trigger (see _accept).
    letters = "abcdefghijklmnopqrstuvwxyz"
    short = {a + b for a in letters for b in letters} | set(letters)
    never = frozenset({w for w, k in kind.items() if not k} | (short - names))
    return Lexicons(names=names, english=english, stop=stop, kind=kind, never=never)


def _drawn_out(low: str, lex: Lexicons) -> bool:
    """``low`` is an ordinary word with a letter doubled or tripled ("juicyy", "sexxxy"),
    and not a name spelled so ("roxxxy", "honeyy" stay)."""
    variants = {low[:k] + low[k + 1 :] for k in range(1, len(low)) if low[k] == low[k - 1]}
    variants |= {re.sub(r"(.)\1+", r"\1", low), re.sub(r"(.)\1+", r"\1\1", low)}
    return not any(v in lex.names for v in variants) and any(v in lex.english for v in variants)


def _symbol_glue(gap: str) -> bool:
    """``gap`` is one symbol or emoji (not punctuation, not a space) gluing two words."""
    return len(gap) == 1 and not gap.isascii() and not gap.isspace() and gap not in _APOSTROPHES


def _wordish(ch: str) -> bool:
    """``ch`` belongs to a word: a letter of any script, or a letter-like numeral (〇)."""
    return ch.isalpha() or (ch.isnumeric() and not ch.isdigit())


def _phone_units(run: str) -> list[tuple[int, int]]:
    """Cut a phone-like run into numbers: ``(start, end)`` of each group of units.

    A number is closed after 10 units (11 when it starts with 1) at the next separator,
    so that a price or an age written right after it ("0123 💕 200%") is not taken in.
    """
    found = _PHONE_UNIT.findall(run)
    if _MIN_PHONE_UNITS <= len(found) <= 11 and len(found) - (found[0] == "1") <= 10:
        # the common case: the run is one number
        ok = sum(u.isdigit() for u in found) >= 3
        return [(0, len(run)) if ok else (-1, -1)]
    units = [(u.start(), u.end(), u.group()) for u in _PHONE_UNIT.finditer(run)]
    out: list[tuple[int, int]] = []
    k = 0
    while k < len(units):
        first, count = k, 0
        limit = 11 if units[k][2] == "1" else 10
        while k < len(units):
            count += 1
            k += 1
            if count >= limit and (k == len(units) or units[k][0] > units[k - 1][1]):
                break
        if count >= _MIN_PHONE_UNITS and sum(u[2].isdigit() for u in units[first:k]) >= 3:
            out.append((units[first][0], units[k - 1][1]))
        else:
            out.append((-1, -1))
    return out


def _normalize(written: str) -> str:
    """Value of a name: parts capitalized, single spaces, spelled-out letters joined."""
    out = []
    for part in written.split():
        letters = "".join(ch for ch in part if ch.isalpha())
        if letters:
            out.append(letters[0].upper() + letters[1:].lower())
    return " ".join(out)


class _Field:
    """One field cut into words and the gaps between them, with the context tests.

    ``words[i]`` is word ``i`` as written, ``lows[i]`` its lower-case letters (spelled-out
    letters joined), ``gaps[i]`` the text before it (``gaps[n]`` the text after the last
    word), so that ``text == gaps[0] + words[0] + gaps[1] + ... + gaps[n]``; word ``i``
    covers ``text[start(i):end(i)]``.
    """

    __slots__ = ("_parts", "_pos", "gaps", "lex", "lows", "n", "text", "words")

    def __init__(self, text: str, lex: Lexicons) -> None:
        parts = _SPLIT.split(text)
        spelled: set[int] = set()
        if _SPACED_HINT.search(text):
            parts, spelled = _merge_spaced(text, parts)
        self.text = text
        self.lex = lex
        self.gaps = parts[0::2]
        self.words = parts[1::2]
        self.n = len(self.words)
        self.lows = list(map(str.lower, self.words))
        for k in spelled:
            self.lows[k] = "".join(ch for ch in self.words[k] if ch.isalpha()).lower()
        self._parts = parts
        self._pos: list[int] | None = None  # offsets, computed when first needed

    def split_camel(self, i: int, cut: int) -> None:
        """Cut word ``i`` after its first ``cut`` letters ("TessaTHE" -> "Tessa", "THE")."""
        w = self.words[i]
        self.words[i : i + 1] = [w[:cut], w[cut:]]
        self.lows[i : i + 1] = [w[:cut].lower(), w[cut:].lower()]
        self.gaps.insert(i + 1, "")
        self.n += 1
        self._parts[2 * i + 1 : 2 * i + 2] = [w[:cut], "", w[cut:]]
        self._pos = None

    @property
    def pos(self) -> list[int]:
        """``pos[k]`` is the offset where part ``k`` (gap, word, gap, ...) starts."""
        if self._pos is None:
            self._pos = list(accumulate(map(len, self._parts), initial=0))
        return self._pos

    def start(self, i: int) -> int:
        return self.pos[2 * i + 1]

    def end(self, i: int) -> int:
        return self.pos[2 * i + 2]

    def cls(self, i: int) -> int:
        """Word class of word ``i`` (0: not a candidate)."""
        low = self.lows[i]
        lex = self.lex
        kind = lex.kind.get(low, _UNKNOWN)
        if not kind or len(low) < 2:
            return 0
        before, after = self.gaps[i], self.gaps[i + 1]
        b, a = before[-1:], after[:1]
        if (b > " " and _wordish(b)) or (a > " " and _wordish(a)):
            return 0  # a piece of a word in decorated letters: "SℓEEPY"
        if (
            len(before) == 1
            and i
            and _symbol_glue(before)
            and (len(self.words[i - 1]) <= 2 or low[0] == self.words[i][0])
        ) or (
            len(after) == 1
            and i + 1 < self.n
            and _symbol_glue(after)
            and (len(self.words[i + 1]) <= 2 or self.words[i + 1][0].islower())
        ):
            # a piece of a word spelled with a symbol: "G✪LDEN", "L💋VE", "Sw🍭eet"
            return 0
        if i + 1 < self.n and self.lows[i + 1] in _CONTRACTION_TAILS and after in _APOSTROPHES:
            return 0  # "Don't", "Won't"
        if kind != _UNKNOWN:
            return kind
        if len(low) < 3 or not self.words[i].isalpha():
            return 0
        if len(low) >= 6 and low.endswith("ly"):
            return 0  # an adverb: "Deliciously"
        w = self.words[i]
        if not w.islower() and not w.isupper() and not w.istitle():
            # camel case: "AnnaMarie" and "SaraJade" are names, "NoDrama" and
            # "PalmHills" are not
            camel = _CAMEL_PARTS.findall(w)
            if (
                len(camel) > 1
                and min(map(len, camel)) >= 3
                and (
                    camel[0].lower() not in lex.names
                    or any(c.lower() in lex.stop or c.lower() in _PLACE_SUFFIX for c in camel)
                )
            ):
                return 0
        if _DOUBLE.search(low) and _drawn_out(low, lex):
            return 0  # a drawn-out word: "Juicyy", "Sexxxy"
        return _UNKNOWN

    # --- contexts ----------------------------------------------------------------------
    def trigger(self, i: int) -> int:
        """Strength of the trigger phrase right before word ``i`` (0 for none)."""
        if i == 0:
            return 0
        lows, gaps = self.lows, self.gaps
        gap = gaps[i]
        if lows[i - 1] == "ask" and _ASK4.fullmatch(gap):
            return _STRONG  # "Ask 4 KiKi"
        entries = _TRIGGER_BY_LAST.get(lows[i - 1])
        if entries is None:
            return 0
        if len(gap) > _TRIGGER_GAP or _BAD_GAP.search(gap):
            return 0
        for phrase, strength in entries:
            k = len(phrase)
            if k > i:
                continue
            ok = True
            for d in range(2, k + 1):
                j = i - d
                inner = gaps[j + 1]
                if lows[j] != phrase[k - d] or len(inner) > 3 or _BAD_GAP.search(inner):
                    ok = False
                    break
            if ok and phrase[-1] in ("m", "s") and k > 1:
                ok = any(c in _APOSTROPHES for c in gaps[i - 1])  # "I'm", not "I m"
            if ok:
                return strength
        return 0

    def next_word(self, i: int) -> str:
        """The next word (lower-case) when only a space separates it from word ``i``."""
        k = i + 1
        return self.lows[k] if k < self.n and self.gaps[k] == " " else ""

    def after_preposition(self, i: int) -> bool:
        """Word ``i`` follows "in", "at", "near"...: a place ("in Ensenada", "near LAX")."""
        return i > 0 and self.lows[i - 1] in _PLACE_PREPOSITIONS and self.gaps[i] == " "

    def greeted(self, i: int) -> bool:
        """Word ``i`` comes right after a greeting ("Hi Honey"): said to the customer."""
        return i > 0 and self.lows[i - 1] in _GREETINGS and len(self.gaps[i]) <= 3

    def in_place(self, i: int, j: int) -> bool:
        """Words ``i..j`` read as part of a place name ("Santa Clara", "Maple Ave")."""
        if i > 0 and self.lows[i - 1] in _PLACE_PREFIX and self.gaps[i].strip() == "":
            return True
        k = j + 1
        return (
            k < self.n
            and self.lows[k] in _PLACE_SUFFIX
            and self.gaps[k].strip(" ,") == ""
            and self.words[k][0].isupper()
        )

    def shouting(self, i: int) -> bool:
        """The word before word ``i`` is in capitals too, so capitals say nothing."""
        return i > 0 and self.words[i - 1].isupper()

    def starts_clear(self, i: int) -> bool:
        """No word precedes word ``i`` in its phrase: the field starts, or the nearest
        character before it (spaces skipped) is neither a letter nor a digit."""
        left = self.gaps[i].rstrip()
        if i == 0:
            return left == "" or not _wordish(left[-1])
        return left != "" and not _wordish(left[-1])

    def ends_clear(self, j: int) -> bool:
        """No word follows word ``j`` in its phrase (the mirror of starts_clear)."""
        right = self.gaps[j + 1].lstrip()
        if j + 1 >= self.n:
            return right == "" or not _wordish(right[0])
        return right != "" and not _wordish(right[0])

    def decorated(self, i: int, j: int) -> bool:
        """Words ``i..j`` stand between decoration (emoji, symbols, brackets, dashes, the
        field's edge), one side at least being more than sentence punctuation: so
        "💋DANIELA💋" and "!! RINA 🌟" are decorated, and "Fremont. Hayward. Dublin" is not."""
        if not (self.starts_clear(i) and self.ends_clear(j)):
            return False
        left = self.gaps[i].rstrip()
        right = self.gaps[j + 1].lstrip()
        if (left and left[-1] in _JOINERS) or (right and right[0] in _JOINERS):
            return False
        return bool(left and left[-1] not in _PUNCT) or bool(right and right[0] not in _PUNCT)

    def inside_number(self, i: int, j: int) -> bool:
        """Words ``i..j`` are glued between digits ("415.KAZZ.555"): part of a number."""
        left, right = self.gaps[i], self.gaps[j + 1]
        return (
            " " not in left
            and " " not in right
            and any(c.isdigit() for c in left)
            and any(c.isdigit() for c in right)
        )

    def digit_near(self, i: int) -> bool:
        """A digit (or a spelled digit) is next to word ``i``: a phone number or an age
        may stand there."""
        gaps, n = self.gaps, self.n
        return bool(
            _DIGIT.search(gaps[i])
            or _DIGIT.search(gaps[i + 1])
            or (i and self.lows[i - 1] in _DIGIT_WORDS)
            or (i + 1 < n and self.lows[i + 1] in _DIGIT_WORDS)
            # after a surname: "Carla Monet 626-555-0100"
            or (i + 1 < n and gaps[i + 1] == " " and _DIGIT.search(gaps[i + 2]))
        )

    def phone_next(self, i: int, j: int) -> bool:
        """A phone run stands right before word ``i`` or right after word ``j``."""
        text = self.text
        end = self.end(j)
        near = _SLOT_GAP + 15  # a phone run has a digit among its first units ("five5")
        m = _PHONE_AHEAD.match(text, end) if _DIGIT.search(text, end, end + near) else None
        if m is not None:
            first = _phone_units(m.group(1))[0]
            if first[0] == 0 and not any(c.isalnum() for c in text[end : m.start(1)]):
                return True
        start = self.start(i)
        if start and _DIGIT.search(text, max(0, start - 17), start) and self.ends_clear(j):
            window = text[max(0, start - _LOOK) : start]
            m = _PHONE_BEHIND.search(window)
            if m is not None:
                run = m.group(1)
                last = _phone_units(run)[-1]
                if last[1] == len(run) and not any(c.isalnum() for c in window[m.end(1) :]):
                    return True
        return False

    def age_after(self, j: int) -> bool:
        """An age or a picture number follows word ``j`` ("Junko, 21 yrs", "(2nd photo")."""
        return _AGE_AFTER.match(self.text, self.end(j)) is not None

    def here_after(self, j: int) -> bool:
        """ "here" or "is here" follows word ``j``."""
        lows, gaps, n = self.lows, self.gaps, self.n
        k = j + 1
        if k < n and lows[k] == "is" and gaps[k] == " ":
            k += 1
        return k < n and lows[k] == "here" and gaps[k] == " "

    def surname(self, i: int) -> int:
        """Index of the last word of the full name starting at word ``i`` ("Carla Monet")."""
        k = i + 1
        if k >= self.n or self.gaps[k] != " ":
            return i
        w, low, lex = self.words[k], self.lows[k], self.lex
        if not w[0].isupper() or low in lex.stop or len(low) < 2 or not w.isalpha():
            return i
        if low in _PLACE_SUFFIX:
            return i
        if low in lex.names and low not in lex.english:
            return k
        return k if self.ends_clear(k) else i


def _merge_spaced(text: str, parts: list[str]) -> tuple[list[str], set[int]]:
    """Merge spelled-out letters ("j-a-d-e") into one word of ``parts``.

    Returns the new parts and the word indices of the merged words.
    """
    spans = [(m.start(), m.end()) for m in _SPACED.finditer(text)]
    if not spans:
        return parts, set()
    out: list[str] = []
    merged: set[int] = set()
    pos, k = 0, 0
    for a, b in spans:
        while pos < a:  # parts wholly before the span (it starts at a word)
            out.append(parts[k])
            pos += len(parts[k])
            k += 1
        if k % 2 == 0:  # an empty gap before the first letter
            out.append(parts[k])
            k += 1
        merged.add(len(out) // 2)
        out.append(text[a:b])
        while pos < b:
            pos += len(parts[k])
            k += 1
    out.extend(parts[k:])
    return out, merged


def _accept(f: _Field, i: int, title: bool) -> tuple[int, str]:
    """The last word index of the name accepted at word ``i`` and the rule that took it;
    ``(-1, "")`` when word ``i`` is not a name."""
    w = f.words[i]
    cap = w[0].isupper()
    prev = f.lows[i - 1] if i else ""
    if not cap and prev not in _NAMING_ENDS and f.lex.kind.get(f.lows[i]) is None:
        return -1, ""  # an unknown word in lower case counts only after "my name is"
    trig = f.trigger(i) if prev in _TRIGGER_BY_LAST or prev == "ask" else 0
    if (
        not trig
        and (not cap or f.lex.kind.get(f.lows[i]) != _NAME)
        and f.next_word(i) not in ("here", "is")
        and not f.digit_near(i)
    ):
        # Without a trigger, only a phone slot or a profile (both with digits near) or
        # "here" can make a name of a lower-case word, a word-name or an unknown word;
        # decoration and the title need a word from the first-name list.
        return -1, ""
    cls = f.cls(i)
    if not cls:
        return -1, ""
    spelled = not w.isalpha()
    if cls == _UNKNOWN and not cap and trig != _NAMING:
        return -1, ""
    j = f.surname(i) if cap and not spelled else i
    if f.in_place(i, j):
        return -1, ""
    if trig == _NAMING:
        return j, "naming"
    if trig == _STRONG and (cls == _NAME or cap):
        return j, "strong"
    if len(w) < 3:
        return -1, ""
    if (
        trig == _WEAK
        and (cls == _NAME or (cap and not (w.isupper() and f.shouting(i))))
        and not (cls == _WORDNAME and j == i and f.next_word(i) in _DESCRIPTION_NEXT)
    ):
        return j, "weak"
    if trig == _CALL and (cls == _NAME or (cls == _WORDNAME and cap)):
        return j, "call"
    if f.greeted(i) or f.after_preposition(i):
        return -1, ""
    if f.phone_next(i, j) and not f.inside_number(i, j):
        if cls == _NAME or (
            cap and cls == _UNKNOWN and f.starts_clear(i) and not (w.isupper() and len(w) <= 4)
        ):
            return j, "phone"
        if cls == _WORDNAME and (f.starts_clear(i) or (w.isupper() and not f.shouting(i))):
            return j, "phone"
    if not cap or spelled:
        return -1, ""
    if (f.starts_clear(i) or (i and f.lows[i - 1] in _ADDRESS)) and f.here_after(j):
        return j, "here"  # "Jolie here", "Hey guys JOLIE HERE"
    if (cls == _NAME or (cls == _UNKNOWN and not w.isupper())) and f.age_after(j):
        return j, "profile"
    if cls == _NAME and f.decorated(i, j):
        return j, "decorated"
    # Titles are short and mostly ad words: a name opens the title ("Camila ready for
    # you") or closes a phrase ("Sweet Petite KARINA - 22").
    if title and cls == _NAME and not f.gaps[j + 1].startswith("'") and (i == 0 or f.ends_clear(j)):
        return j, "title"
    return -1, ""


def _list_item(f: _Field, edge: int, step: int) -> int:
    """The word joined as a list item to word ``edge`` on side ``step`` (-1 before, +1
    after): "Mila & Sasha", "Mila and Sasha", "Yumi, Lena, Kim";
    -1 when there is none."""
    n = f.n
    k = edge + step
    if not 0 <= k < n:
        return -1
    gap = f.gaps[edge] if step < 0 else f.gaps[k]  # between edge and k
    by_word = False
    if f.lows[k] in _JOIN_WORDS and gap.isspace():
        after = f.gaps[k] if step < 0 else f.gaps[k + 1] if k + 1 < n else ""
        if not (after.isspace() or after.strip() == ","):
            return -1
        k += step
        by_word = True
        if not 0 <= k < n:
            return -1
    elif not _LIST_JOIN.fullmatch(gap):
        return -1
    w = f.words[k]
    if not w[0].isupper() or len(w) < 3 or not f.cls(k):
        return -1
    if not by_word and gap.strip() == ",":
        # after a bare comma the far side of the item must be clear or another joiner:
        # "Yumi, Lena, Kim", but not "Semper Fidelis, Brooke"
        far = f.gaps[k] if step < 0 else f.gaps[k + 1]
        clear = f.starts_clear(k) if step < 0 else f.ends_clear(k)
        nxt = k + step
        joined_on = 0 <= nxt < n and f.lows[nxt] in _JOIN_WORDS
        if not (clear or joined_on or _LIST_JOIN.fullmatch(far)):
            return -1
    return k


def _names_in(text: str, lex: Lexicons, title: bool) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of the names in one field, in text order."""
    f = _Field(text, lex)
    lows = f.lows
    # Candidates: words that are not ordinary (a cheap set pass before the context tests).
    cands = set(lows) - lex.never
    if not cands:
        return []
    idx = list(compress(range(len(lows)), map(cands.__contains__, lows)))
    for i in reversed(idx):
        w = f.words[i]
        if not w.islower() and not w.isupper():
            m = _CAMEL_TAIL.fullmatch(w)
            if m is not None:
                f.split_camel(i, m.end(1))
    if f.n != len(lows):  # rare: words were cut, look again
        lows = f.lows
        cands = set(lows) - lex.never
        idx = list(compress(range(len(lows)), map(cands.__contains__, lows)))
    accepted: list[tuple[int, int]] = []  # word index ranges
    last = -1
    for i in idx:
        if i <= last:
            continue
        j, _rule = _accept(f, i, title)
        if j >= 0:
            accepted.append((i, j))
            last = j
    if not accepted:
        return []
    # Lists of women: follow "&", "and", commas from accepted names.
    seen = {k for a, b in accepted for k in range(a, b + 1)}
    extra: list[tuple[int, int]] = []
    for a, b in accepted:
        for step, edge in ((-1, a), (1, b)):
            k = _list_item(f, edge, step)
            while k >= 0 and k not in seen:
                extra.append((k, k))
                seen.add(k)
                k = _list_item(f, k, step)
    return sorted((f.start(a), f.end(b)) for a, b in accepted + extra)


@register("name")
def extract_names(ctx: ExtractionContext) -> list[Entity]:
    """Working names in the title and the body; value normalized, text as written."""
    lex = lexicons()
    out: list[Entity] = []
    for field in NAME_FIELDS:
        text = ctx.text(field)
        if not text:
            continue
        memo = scoped(_MEMOS, field)
        found = memo.get(text)
        if found is None:
            found = memo.put(
                text,
                tuple(
                    Entity("name", _normalize(text[s:e]), field, s, e, text[s:e], False, "name")
                    for s, e in _names_in(text, lex, field == "title")
                ),
            )
        out.extend(found)
    return out


_MEMOS: dict[str, FieldMemo[tuple[Entity, ...]]] = {}  # field -> text -> names
