"""E-mail addresses, plain and spelled out, as lower-case ``local@domain`` values.

Plain addresses follow RFC 5322's addr-spec (the common dot-atom subset) and are
reported with ``obfuscated=False``.

Spelled addresses are the forms posters use to slip past filters (collected from the
obfuscation styles listed in ``shared/data/backpage-ca-2017/README.md`` and
seen in that corpus: ``user(at)example(dot)com``, ``user @ example.com``,
``user@example .com``, ``user at example.com``, ``name@yahoo``):

* the ``@`` written as ``@`` or ``＠`` with spaces around it, ``(at)``, ``[at]``,
  ``{at}``, ``<at>`` (spaces allowed inside and around), or the word ``at`` between
  spaces, in any case;
* each ``.`` of the domain written as ``.`` with spaces around it, ``(dot)``,
  ``[dot]``, ``{dot}``, ``<dot>``, or the word ``dot`` between spaces, in any case.

They are reported with ``obfuscated=True``, with the value rebuilt
(``name at gmail dot com`` -> ``name@gmail.com``) and the span covering the whole
spelled form. Ads use "at" and "dot" in prose too ("meet me at the hotel", "call me
at 6195550100"), so a spelled address needs a plausible domain:

* its last label is a known top-level domain (:data:`TLDS`) and the domain's first
  label has a letter; or
* it is a known mail provider (:data:`PROVIDERS`: gmail, yahoo, hotmail, outlook,
  icloud, aol, protonmail...), with or without its TLD: ``name@yahoo`` is read as
  ``name@yahoo.com``.

And when ``at`` is a bare word, the local part must look like an address (a digit,
``.``, ``_``, ``-`` or ``+`` in it) unless the domain is a known provider: so
"sarah at gmail dot com" and "user0654 at example.com" are addresses, "me at
hotel.com" and "Available at Marriott.com" are not. A provider without a TLD needs
an ``@``-like mark, or a bare ``at`` with an address-like local part.
"""

from __future__ import annotations

import re
from typing import Final

from adsentry.extract import register
from adsentry.extract.context import ExtractionContext, FieldMemo, SpanSet, scoped
from adsentry.model import Entity

__all__ = ["PROVIDERS", "TLDS", "extract_emails", "find_emails"]

_EMAIL: Final = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)

#: Mail providers and the domain a bare mention ("name@yahoo") stands for.
PROVIDERS: Final[dict[str, str]] = {
    "gmail": "gmail.com",
    "googlemail": "googlemail.com",
    "yahoo": "yahoo.com",
    "ymail": "ymail.com",
    "rocketmail": "rocketmail.com",
    "hotmail": "hotmail.com",
    "outlook": "outlook.com",
    "live": "live.com",
    "msn": "msn.com",
    "icloud": "icloud.com",
    "aol": "aol.com",
    "protonmail": "protonmail.com",
    "proton": "proton.me",
    "pm": "pm.me",
    "gmx": "gmx.com",
    "zoho": "zoho.com",
    "yandex": "yandex.com",
    "mail": "mail.com",
    "comcast": "comcast.net",
    "sbcglobal": "sbcglobal.net",
    "att": "att.net",
    "verizon": "verizon.net",
    "tutanota": "tutanota.com",
}
#: Providers whose name is also a common word: they count only with a TLD.
_PROVIDERS_WITH_TLD_ONLY: Final = frozenset({"live", "mail", "pm", "att", "proton"})

#: Top-level domains common in ads (generic, and the country codes of the regions
#: served); a spelled address must end in one of them unless it names a provider.
TLDS: Final = frozenset(
    """
    com net org edu gov mil int info biz io co me us ca uk de fr es it nl be ch at se
    no dk fi pl pt ie nz au za mx br ar cl jp cn kr in ru tv cc ly xyz club online site
    top live email app dev world xxx porn sex adult vip fun mobi name pro
    """.split()
)

_LABEL: Final = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#: The bracketed at-marks: "(at)", "[ at ]", "{at}", "<at>".
_BRACKET_AT: Final = re.compile(r"[(\[{<][ \t]*[aA][tT][ \t]*[)\]}>]")
#: The word "at" between spaces, in its three usual cases (found with str.find,
#: which costs less than a regex pass whose first character is a space).
_WORD_AT: Final = (" at ", " AT ", " At ")
#: The dot-marks between domain labels (matched at a position).
_DOT_SEP: Final = re.compile(
    r"[ \t]*\.[ \t]*|[ \t]*[(\[{<][ \t]*(?i:dot)[ \t]*[)\]}>][ \t]*|[ \t]+(?i:dot)[ \t]+"
)
_LABEL_RE: Final = re.compile(_LABEL + r"(?![\w-])")
_LOCAL_CHARS: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-"
)
#: Words that are not the local part of a spelled address written with spaces
#: ("email me at gmail dot com", "IG @ amber.co"): pronouns, contact verbs and
#: social-platform names.
_NOT_LOCAL: Final = frozenset(
    """
    me us you u him her them it here there i im email mail text txt contact reach
    message msg dm hit find on is or and to ig sc snap snapchat insta instagram twitter
    kik telegram whatsapp wechat line onlyfans tiktok
    """.split()
)
_MAX_LOCAL: Final = 64


def _local_before(text: str, end: int) -> int:
    """Start of the local part that ends at ``end`` (== ``end`` when there is none)."""
    start = end
    while start > 0 and end - start < _MAX_LOCAL and text[start - 1] in _LOCAL_CHARS:
        start -= 1
    # It starts with a letter or digit, and is not glued to more word characters.
    while start < end and not text[start].isalnum():
        start += 1
    if start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        return end
    return start


def _domain_after(text: str, pos: int) -> list[tuple[int, int]]:
    """Spans of the domain labels from ``pos``, joined by dot-marks (greedy)."""
    labels: list[tuple[int, int]] = []
    m = _LABEL_RE.match(text, pos)
    while m is not None:
        labels.append((m.start(), m.end()))
        sep = _DOT_SEP.match(text, m.end())
        if sep is None:
            break
        m = _LABEL_RE.match(text, sep.end())
    return labels


def _at_marks(text: str) -> list[tuple[int, int, bool]]:
    """Candidate at-marks as ``(start, end, is_word)``, by position: ``@``/``＠``,
    bracketed ``(at)`` forms and the word ``at`` between spaces (spaces included).
    Substring tests come first, so that an ad without any costs a few passes."""
    marks: list[tuple[int, int, bool]] = []
    for needle in ("@",) if text.isascii() else ("@", "＠"):
        i = text.find(needle)
        while i >= 0:
            marks.append((i, i + 1, False))
            i = text.find(needle, i + 1)
    if "(" in text or "[" in text or "{" in text or "<" in text:
        marks.extend((m.start(), m.end(), False) for m in _BRACKET_AT.finditer(text))
    for needle in _WORD_AT:
        i = text.find(needle)
        while i >= 0:
            marks.append((i, i + 4, True))
            i = text.find(needle, i + 3)
    marks.sort()
    return marks


def _spelled(text: str, plain: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """Spelled addresses in ``text`` as ``(start, end, value)``, outside ``plain``."""
    found: list[tuple[int, int, str]] = []
    marks = _at_marks(text)
    if not marks:
        return found
    in_plain = SpanSet(plain)
    for at_start, at_end, word_at in marks:
        glued = not word_at and at_start > 0 and text[at_start - 1] in _LOCAL_CHARS
        if in_plain.overlaps(at_start, at_start + 1) or (found and at_start < found[-1][1]):
            continue
        local_end = at_start
        while local_end > 0 and text[local_end - 1] in " \t":
            local_end -= 1
        start = _local_before(text, local_end)
        local = text[start:local_end]
        if not local or local.endswith("."):
            continue
        if not glued and (local.lower() in _NOT_LOCAL or len(local) < 2):
            continue
        pos = at_end
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        labels = _domain_after(text, pos)
        if not labels:
            continue
        names = [text[a:b].lower() for a, b in labels]
        domain, end = None, 0
        # The longest run of labels that ends in a known TLD.
        for k in range(len(names), 1, -1):
            if names[k - 1] in TLDS and any(c.isalpha() for c in names[0]):
                domain, end = ".".join(names[:k]), labels[k - 1][1]
                break
        if domain is None:
            provider = names[0]
            if provider not in PROVIDERS or provider in _PROVIDERS_WITH_TLD_ONLY:
                continue
            if word_at and not _address_like(local):
                continue
            domain, end = PROVIDERS[provider], labels[0][1]
        elif word_at and not _address_like(local) and names[0] not in PROVIDERS:
            continue
        found.append((start, end, f"{local.lower()}@{domain}"))
    return found


def _address_like(local: str) -> bool:
    """A local part that prose would not produce: a digit or ``. _ - +`` in it."""
    return any(c.isdigit() or c in "._-+" for c in local)


def _trim_glued_word(address: str) -> str:
    """Cut a word glued to the top-level domain ("x@example.comText: 619..." gives
    "x@example.com"): when the last label turns from lower to upper case and the part
    before the turn is a known TLD."""
    head, _, last = address.rpartition(".")
    turn = next((i for i in range(1, len(last)) if last[i - 1].islower() and last[i].isupper()), 0)
    if turn and last[:turn].lower() in TLDS:
        return f"{head}.{last[:turn]}"
    return address


def find_emails(text: str, field: str = "body") -> list[Entity]:
    """E-mail addresses in one text field, plain and spelled, in order of appearance.

    ``text``: the original field text; ``field``: its name (for the Entities). Values
    are lower-case ``local@domain``; spans are character offsets into ``text``;
    ``obfuscated`` is True for spelled forms (rules in the module docstring).
    """
    out: list[Entity] = []
    plain: list[tuple[int, int]] = []
    if "@" in text:
        for m in _EMAIL.finditer(text):
            written = _trim_glued_word(m.group())
            end = m.start() + len(written)
            out.append(
                Entity("email", written.lower(), field, m.start(), end, written, False, "email")
            )
            plain.append((m.start(), end))
    spelled = _spelled(text, plain)
    if spelled:
        for start, end, value in spelled:
            out.append(Entity("email", value, field, start, end, text[start:end], True, "email"))
        out.sort(key=lambda e: e.start)
    return out


@register("email")
def extract_emails(ctx: ExtractionContext) -> list[Entity]:
    """E-mail addresses in title, body and location (value lower-case); spelled forms
    ("name at gmail dot com") are found too, with ``obfuscated=True``."""
    out: list[Entity] = []
    for field in ctx.fields:
        if field == "url":
            continue
        text = ctx.text(field)
        if text:
            memo = scoped(_MEMOS, field)
            found = memo.get(text)
            if found is None:
                found = memo.put(text, tuple(find_emails(text, field)))
            out.extend(found)
    return out


_MEMOS: dict[str, FieldMemo[tuple[Entity, ...]]] = {}  # field -> text -> e-mails
