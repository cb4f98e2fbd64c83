"""Lexicons as data files, and their compiler.

Files (package data, in ``lexicons/``):

* ``codes.toml``: one table per indicator code: ``validated`` (true only for the four
  cues of docs/indicators.md, from the JRSA/NIJ outcome study), ``source`` (the study,
  or why the cue is folk wisdom), ``description`` (one line), ``kind`` (``lexical``
  or ``entity``: from extracted entities, not from words).
* ``<language>.toml`` (``en``, ``es``, ``da``): ``language``, ``[macros]`` (named
  lists of patterns) and one ``[code.<code>]`` table per code with ``status``
  (``validated`` or ``folk``, which must agree with ``codes.toml``) and ``patterns``:
  a list of pattern strings or tables ``{pattern, not_before, not_after, note}``.

**Pattern syntax.** Python regular expressions over the folded view of
:mod:`adsentry.indicators.fold` (lower case, accents folded except ``ñ``), with:

* a space: a separator of zero to six characters that are neither word characters
  nor sentence punctuation (``. ! ? ; ,`` or a newline): ``new in town`` matches
  ``new in town``, ``new-in-town``, ``#newintown`` and ``new 🏙 in town``, not
  ``new. In town``;
* each letter outside ``[...]``: its look-alikes and repeats, ``a`` -> ``[a@]+``,
  ``e`` -> ``[e3]+``, ``i`` -> ``[i1]+``, ``o`` -> ``[o0]+``, ``s`` -> ``[s$]+``,
  other letters ``x`` -> ``x+`` (``y0ung``, ``b@rely``, ``discr33t``, ``yooung``); a run
  of one letter is one class (``discreet`` also matches ``discret``); a letter
  followed by a quantifier keeps it (``girls?``). At the start of an alternative
  the ``+`` is written out, ``[a@][a@]*`` (the same matches): the regex engine then
  skips an alternative whose first character does not fit without entering it, which
  made a failed match of a long alternation (``{eth}``: about 100 names) 2-4 µs;
* ``{name}``: the macro ``name`` of the same file, as a non-capturing alternation;
* every pattern is bounded: no letter or digit right before or after the match;
* ``not_before`` / ``not_after``: patterns (same syntax) that veto a match when they
  end right before it (``not new in town``) or start right after it (``young at
  heart``), with only separators between.

Groups written ``(...)`` become non-capturing. Diacritics in patterns are folded as
in the text, so ``recién`` and ``recien`` are the same pattern.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from adsentry.indicators.fold import fold

__all__ = [
    "LANGUAGES",
    "CodeInfo",
    "Compiled",
    "CompiledEntry",
    "Entry",
    "LexiconError",
    "compile_lexicons",
    "compile_pattern",
    "load_codes",
    "load_entries",
]

#: Languages that have a lexicon file, in the order they are loaded.
LANGUAGES: Final[tuple[str, ...]] = ("en", "es", "da")

SEP: Final = r"[^\w.!?;,\n]{0,6}"
_LEET: Final[dict[str, str]] = {
    "a": "[a@]",
    "e": "[e3]",
    "i": "[i1]",
    "o": "[o0]",
    "s": "[s$]",
}
_QUANT: Final = "?*+{"
_BOUND_BEFORE: Final = r"(?<![^\W_])"
_BOUND_AFTER: Final = r"(?![^\W_])"


class LexiconError(ValueError):
    """A lexicon or codes file is malformed (names the file and the entry)."""


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """One indicator code: whether it is validated, its source, what it means."""

    code: str
    validated: bool
    source: str
    description: str
    kind: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "validated": self.validated,
            "source": self.source,
            "description": self.description,
            "kind": self.kind,
        }


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon entry: a pattern for ``code`` in ``language``."""

    code: str
    language: str
    validated: bool
    pattern: str
    not_before: str = ""
    not_after: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class CompiledEntry:
    """One entry ready to match at a word start: regex, vetoes, code index."""

    entry: Entry
    code_index: int
    regex: re.Pattern[str]
    before: re.Pattern[str] | None
    after: re.Pattern[str] | None


@dataclass(frozen=True, slots=True)
class Compiled:
    """All lexicons of a process, compiled.

    ``codes``: the lexical codes (sorted); ``words``: trigger word (skeleton form, see
    :func:`skeleton`) -> entries that may start there, in lexicon order (a trigger
    matches a whole word of the skeleton); ``literals``: non-word trigger (``💯``) ->
    entries.
    """

    codes: tuple[str, ...]
    words: dict[str, tuple[CompiledEntry, ...]]
    literals: dict[str, tuple[CompiledEntry, ...]]


def _read(name: str) -> dict[str, Any]:
    path = resources.files("adsentry.indicators").joinpath("lexicons", name)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LexiconError(f"lexicons/{name}: {exc}") from exc


def load_codes() -> dict[str, CodeInfo]:
    """Read ``lexicons/codes.toml``: code -> :class:`CodeInfo`, in file order.

    Raises :class:`LexiconError` when a field is missing or has the wrong type.
    """
    data = _read("codes.toml")
    codes: dict[str, CodeInfo] = {}
    for code, table in data.items():
        try:
            info = CodeInfo(
                code=code,
                validated=bool(table["validated"]),
                source=str(table["source"]),
                description=str(table["description"]),
                kind=str(table.get("kind", "lexical")),
            )
        except (KeyError, TypeError) as exc:
            raise LexiconError(f"lexicons/codes.toml [{code}]: missing {exc}") from exc
        codes[code] = info
    return codes


def load_entries(codes: Mapping[str, CodeInfo]) -> tuple[list[Entry], dict[str, dict[str, str]]]:
    """Read every language file: (entries in file order, language -> macros).

    Raises :class:`LexiconError` for an unknown code, a ``status`` that disagrees with
    ``codes.toml``, or a malformed entry.
    """
    entries: list[Entry] = []
    macros: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        name = f"{lang}.toml"
        data = _read(name)
        if data.get("language") != lang:
            raise LexiconError(f"lexicons/{name}: language must be {lang!r}")
        raw_macros = data.get("macros", {})
        macros[lang] = {}
        for mname, items in raw_macros.items():
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise LexiconError(f"lexicons/{name}: macro {mname} must be a list of strings")
            macros[lang][mname] = "|".join(items)
        for code, table in data.get("code", {}).items():
            info = codes.get(code)
            if info is None or info.kind != "lexical":
                raise LexiconError(f"lexicons/{name}: {code} is not a lexical code")
            status = table.get("status")
            if status not in ("validated", "folk") or (status == "validated") != info.validated:
                raise LexiconError(
                    f"lexicons/{name}: {code} status {status!r} disagrees with codes.toml"
                )
            for item in table.get("patterns", []):
                if isinstance(item, str):
                    item = {"pattern": item}
                if not isinstance(item, dict) or not isinstance(item.get("pattern"), str):
                    raise LexiconError(f"lexicons/{name}: {code}: bad entry {item!r}")
                entries.append(
                    Entry(
                        code=code,
                        language=lang,
                        validated=info.validated,
                        pattern=item["pattern"],
                        not_before=item.get("not_before", ""),
                        not_after=item.get("not_after", ""),
                        note=item.get("note", ""),
                    )
                )
    return entries, macros


_MACRO: Final = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_GROUP_OPEN: Final = re.compile(r"\(\?(?:<=|<!|[:=!])")


#: Output tokens of :func:`compile_pattern` after which an alternative starts.
_BRANCH_STARTS: Final = frozenset({"(?:", "|"})


def compile_pattern(folded: str) -> str:
    """Translate one folded, macro-expanded pattern to a Python regex.

    See the module docstring for the syntax. Raises :class:`LexiconError` for group
    syntax other than ``(``, ``(?:`` and lookarounds, ValueError for an unclosed
    ``[`` or ``{``.
    """
    pattern = folded
    out: list[str] = []
    i, n = 0, len(folded)
    while i < n:
        c = folded[i]
        if c == "\\":
            out.append(folded[i : i + 2])
            i += 2
        elif c == "[":
            j = folded.index("]", i + 1 if folded[i + 1 : i + 2] != "]" else i + 2)
            out.append(folded[i : j + 1])
            i = j + 1
        elif c == "{":  # a {m,n} quantifier (macros are expanded before)
            j = folded.index("}", i)
            out.append(folded[i : j + 1])
            i = j + 1
        elif c == "(":
            m = _GROUP_OPEN.match(folded, i)
            if m:
                out.append(m.group())
                i = m.end()
            elif folded.startswith("(?", i):
                raise LexiconError(f"unsupported group syntax in {pattern!r}")
            else:
                out.append("(?:")
                i += 1
        elif c == " ":
            out.append(SEP)
            while i < n and folded[i] == " ":
                i += 1
        elif "a" <= c <= "z":
            j = i
            while j + 1 < n and folded[j + 1] == c:
                j += 1
            cls = _LEET.get(c, c)
            quantified = j + 1 < n and folded[j + 1] in _QUANT
            if quantified:
                out.append(cls * (j - i + 1))
            elif not out or out[-1] in _BRANCH_STARTS:
                out.append(cls + cls + "*")  # cls+ (module docstring)
            else:
                out.append(cls + "+")
            i = j + 1
        else:
            out.append(re.escape(c) if c not in "|)?*+.^$" else c)
            i += 1
    return "".join(out)


def compile_lexicons(entries: list[Entry], macros: Mapping[str, Mapping[str, str]]) -> Compiled:
    """Compile every entry and index it by the words it can start with.

    Entries of one code whose pattern and vetoes repeat an earlier one (``latina`` in
    English and Spanish) are kept once, with the first language. Raises
    :class:`LexiconError` when a pattern is not a valid regex or its first word
    cannot be enumerated.
    """
    codes = tuple(sorted({e.code for e in entries}))
    index = {c: i for i, c in enumerate(codes)}
    seen: set[tuple[str, str, str, str]] = set()
    words: dict[str, list[CompiledEntry]] = {}
    literals: dict[str, list[CompiledEntry]] = {}
    for entry in entries:
        lang_macros = macros.get(entry.language, {})
        where = f"lexicons/{entry.language}.toml {entry.code}: pattern {entry.pattern!r}"
        try:
            expanded = fold(expand_macros(entry.pattern, lang_macros)).text
            body = compile_pattern(expanded)
            key = (entry.code, body, entry.not_before, entry.not_after)
            if key in seen:
                continue
            seen.add(key)
            before = after = None
            if entry.not_before:
                veto = compile_pattern(fold(expand_macros(entry.not_before, lang_macros)).text)
                before = re.compile(_BOUND_BEFORE + "(?:" + veto + ")" + SEP + r"\Z")
            if entry.not_after:
                veto = compile_pattern(fold(expand_macros(entry.not_after, lang_macros)).text)
                after = re.compile(SEP + "(?:" + veto + ")" + _BOUND_AFTER)
            compiled = CompiledEntry(
                entry, index[entry.code], re.compile(body + _BOUND_AFTER), before, after
            )
            starts = first_words(expanded)
        except (re.error, ValueError) as exc:
            raise LexiconError(f"{where}: {exc}") from exc
        for word in sorted(starts):
            if word[0].isalnum():
                for k in {skeleton(word), squeeze(skeleton(word))}:
                    bucket = words.setdefault(k, [])
                    if compiled not in bucket:
                        bucket.append(compiled)
            else:
                literals.setdefault(word, []).append(compiled)
    return Compiled(
        codes,
        {w: tuple(v) for w, v in words.items()},
        {w: tuple(v) for w, v in literals.items()},
    )


# ------------------------------------------------------------------ first words

#: Look-alikes folded in the skeleton used for first-word triggers (1:1).
SKELETON: Final[tuple[tuple[str, str], ...]] = (
    ("0", "o"),
    ("1", "i"),
    ("3", "e"),
    ("@", "a"),
    ("$", "s"),
)
_MAX_FIRST_WORDS: Final = 4000


def skeleton(text: str) -> str:
    """The trigger skeleton of a folded text: look-alikes of SKELETON replaced (1:1)."""
    for a, b in SKELETON:
        if a in text:
            text = text.replace(a, b)
    return text


def squeeze(word: str) -> str:
    """``word`` with each run of one repeated character cut to one (``discreet``)."""
    return "".join(c for i, c in enumerate(word) if i == 0 or word[i - 1] != c)


def expand_macros(pattern: str, macros: Mapping[str, str], _depth: int = 0) -> str:
    """Replace each ``{name}`` by ``(?:alternatives)``; quantifiers ``{m,n}`` stay.

    Raises :class:`LexiconError` for an unknown or too deeply nested macro.
    """
    if _depth > 4:
        raise LexiconError(f"macros nested too deeply in {pattern!r}")

    def repl(m: re.Match[str]) -> str:
        body = macros.get(m.group(1))
        if body is None:
            raise LexiconError(f"unknown macro {{{m.group(1)}}} in {pattern!r}")
        return "(?:" + expand_macros(body, macros, _depth + 1) + ")"

    return _MACRO.sub(repl, pattern)


def first_words(pattern: str) -> set[str]:
    """The words a (macro-expanded, folded) pattern can start with.

    A word ends at a space or any character that is not a letter or digit; a pattern
    that starts with such a character (``💯``) yields that character. Supports
    literals, ``[...]`` of single characters, groups with ``|``, ``?`` and ``{m,n}``;
    raises :class:`LexiconError` for anything else before the first word ends (``\\w``,
    ``+``, ``*``) or when there are more than 4,000 first words.
    """
    done: set[str] = set()
    live = _enum(pattern, 0, {""}, done, top=True)[1]
    done |= live
    if len(done) > _MAX_FIRST_WORDS or "" in done:
        raise LexiconError(f"pattern {pattern!r}: first word cannot be enumerated")
    return done


def _alts(pattern: str, i: int) -> tuple[list[tuple[int, int]], int]:
    """Split the group body starting at ``i`` into alternatives; return (ranges, end)."""
    depth, start, out, j = 0, i, [], i
    while j < len(pattern):
        c = pattern[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            j = pattern.index("]", j + 2 if pattern[j + 1 : j + 2] == "]" else j + 1) + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                out.append((start, j))
                return out, j
            depth -= 1
        elif c == "|" and depth == 0:
            out.append((start, j))
            start = j + 1
        j += 1
    out.append((start, j))
    return out, j


def _quant(pattern: str, i: int) -> tuple[int, int, int]:
    """Read a quantifier at ``i``: (min, max, next index); (1, 1, i) when none."""
    if i < len(pattern) and pattern[i] == "?":
        return 0, 1, i + 1
    if i < len(pattern) and pattern[i] in "+*":
        raise LexiconError("unbounded repeat in a first word")
    if i < len(pattern) and pattern[i] == "{":
        j = pattern.index("}", i)
        lo, _, hi = pattern[i + 1 : j].partition(",")
        return int(lo or 0), int(hi or lo), j + 1
    return 1, 1, i


def _enum(pattern: str, i: int, live: set[str], done: set[str], top: bool) -> tuple[int, set[str]]:
    """Enumerate the sequence from ``i`` to its end (or a ``)``/``|`` when nested)."""
    end = len(pattern)
    while i < end and live:
        c = pattern[i]
        if not top and c in "|)":
            break
        if c == "|" and top:  # a top-level alternation: enumerate each side
            ranges, _ = _alts(pattern, 0)
            out: set[str] = set()
            for a, b in ranges:
                out |= first_words(pattern[a:b])
            done |= out
            return end, set()
        options: set[str] | None = None
        nxt = i + 1
        if c == "(":
            m = _GROUP_OPEN.match(pattern, i)
            if m and m.group() != "(?:":  # a lookaround: zero width
                _, close = _alts(pattern, m.end())
                i = close + 1
                continue
            body = m.end() if m else i + 1
            ranges, close = _alts(pattern, body)
            lo, hi, nxt = _quant(pattern, close + 1)
            new_live: set[str] = set()
            reps_live = set(live)
            if lo == 0:
                new_live |= reps_live
            for rep in range(hi):
                step: set[str] = set()
                for a, b in ranges:
                    _, got = _enum(pattern[a:b], 0, set(reps_live), done, top=True)
                    step |= got
                reps_live = step
                if rep + 1 >= lo:
                    new_live |= step
            live = new_live
            i = nxt
            if len(live) + len(done) > _MAX_FIRST_WORDS:
                raise LexiconError(f"pattern {pattern!r}: too many first words")
            continue
        if c == "[":
            close = pattern.index("]", i + 2 if pattern[i + 1 : i + 2] == "]" else i + 1)
            chars = pattern[i + 1 : close]
            if chars.startswith("^") or "-" in chars[1:-1] or "\\" in chars:
                raise LexiconError(f"pattern {pattern!r}: class in a first word")
            options = set(chars)
            nxt = close + 1
        elif c == "\\":
            if pattern[i + 1 : i + 2].isalnum():
                raise LexiconError(f"pattern {pattern!r}: escape in a first word")
            options = {pattern[i + 1]}
            nxt = i + 2
        elif c in "+*{":
            raise LexiconError(f"pattern {pattern!r}: unsupported syntax in a first word")
        else:
            options = {c}
        lo, hi, after = _quant(pattern, nxt)
        new_live = set(live) if lo == 0 else set()
        for w in live:
            for ch in options:
                if ch.isalnum():
                    new_live.add(w + ch)
                elif w:
                    done.add(w)
                else:
                    done.add(ch)
        if hi > 1:
            raise LexiconError(f"pattern {pattern!r}: repeat in a first word")
        live = new_live
        i = after
    return i, live
