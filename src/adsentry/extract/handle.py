"""Social-media handles, as ``platform:handle`` values.

Platforms: instagram, snapchat, twitter, kik, telegram, whatsapp, wechat, line,
onlyfans, tiktok. The value is ``"<platform>:<handle>"`` with the platform in lower
case and the handle as written, minus a leading ``@`` (dots and underscores kept;
compare values case-insensitively: the platforms do). Facebook, Tumblr and the like
are not handles here; their links are reported by the url extractor.

Three sources, in this order of trust (rules collected from the forms in
``shared/data/gold/handles.jsonl`` and the Backpage corpus README, and from the
username rules each platform publishes: ASCII letters, digits, ``_`` and ``.``;
Snapchat and WeChat also allow ``-``):

1. **Profile URLs**, in every text field including ``url``: ``instagram.com/<h>``,
   ``instagr.am/<h>``, ``snapchat.com/add/<h>``, ``twitter.com/<h>``, ``x.com/<h>``,
   ``t.me/<h>``, ``telegram.me/<h>``, ``wa.me/<number>``, ``onlyfans.com/<h>``,
   ``tiktok.com/@<h>``, ``kik.me/<h>``, ``line.me/ti/p/~<h>``. Reserved paths
   (``instagram.com/p/``, ``twitter.com/intent``, ``t.me/joinchat``...) are not
   handles. The span is the URL up to the end of the handle. Any other address (the
   ad's own page, a personal site such as ``www.<handle>.com``) gives no handle. In
   the ``url`` field only this source is read: the rest of that field is a slug of
   the title.
2. **A platform keyword, then the handle** (``IG: x``, ``sc - x``, ``kik me x``,
   ``wechat id: x``, ``Snapchat 👻: @x``, ``Add my Snapchat (x)``, ``Instagram=x``).
   Between keyword and handle stand at most :data:`_MAX_GAP` characters of spaces,
   gap marks and the filler words of :data:`_FILLERS` (``me is at as now id name
   username user handle``). The gap is *marked* when it holds ``:``, ``=``, ``@``, a
   symbol or emoji, or an ``id``/``name``-like filler; *punctuated* when it holds only
   joining punctuation (``- / ( [ ~ | > * # "``); *plain* when it is only spaces and
   ``me``/``is``/``at``/``as``/``now``. A keyword never pairs with text in another
   field.
3. **``@name`` near a platform keyword**: a keyword ending at most
   :data:`_AT_WINDOW` characters before the ``@`` (the nearest wins: "Twitter/
   Instagram @x" is Instagram's), or right after the name ("@x on IG", "@x (IG)").
   A bare ``@name`` with no platform near it is **not** reported: the value needs a
   platform, and a guessed one would link ads across platforms on a name alone
   ("@ the door", "@ 8pm" and "Hosting @ your place" are far more common than bare
   handles in ads). An ``@`` glued to a word is an e-mail address, never a handle.

Which words after a keyword are handles (the generic-word rule). Ads follow a
keyword with a verb, a noun or a function word as often as with a handle
("snapchat me", "IG only", "kik ok", "snapchat shenanigans", "Twitter feed"). A token
is a handle when it has 2 to 32 characters, at least one letter, is not in
:data:`STOPWORDS` (common English words of ads, platform names, filler words), is not
a time or measure ("8pm", "34dd", "2hrs"), is not a domain or e-mail local part, and:

* after ``@``, or when it is *handle-shaped* (a digit, ``_``, ``.`` or ``-`` in it):
  always;
* after a marked gap: at least 3 letters; after a punctuated gap the same, but not
  after an ambiguous keyword (``ig``, ``sc``, ``snap``, ``X``, ``line``: "Greenville,
  SC - Tiffany");
* after a plain gap: the keyword is unambiguous, no ``is``/``now`` filler stands
  before it ("my Instagram is amazing"), it has at least 6 letters and it ends its
  clause (the next non-space character is not a letter): "Snapchat ccchanelcc", but
  not "snapchat shenanigans and fun" nor "Instagram Elite Aria".

``X`` (Twitter) counts only as an upper-case word followed by ``:`` or ``@``;
``line`` only followed by ``id``, or by a marked or punctuated gap and a
handle-shaped token;
``tweet`` only as context for an ``@name``. WhatsApp has phone numbers, not names:
those are the phone extractor's, so a keyword never yields a WhatsApp number
(tokens need a letter) and only ``wa.me/<number>`` links give ``whatsapp:<digits>``.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import Final, NamedTuple

from adsentry.extract import register
from adsentry.extract.context import ExtractionContext, FieldMemo, SpanSet, scoped
from adsentry.model import Entity

__all__ = ["STOPWORDS", "extract_handles", "find_handles"]

# ----------------------------------------------------------------------- keywords

#: Lower-cased keyword (inner spaces removed) -> platform.
_PLATFORM_OF: Final[dict[str, str]] = {
    "instagram": "instagram",
    "insta": "instagram",
    "ig": "instagram",
    "snapchat": "snapchat",
    "snap": "snapchat",
    "sc": "snapchat",
    "twitter": "twitter",
    "tweet": "twitter",
    "x": "twitter",
    "kik": "kik",
    "telegram": "telegram",
    "whatsapp": "whatsapp",
    "wechat": "wechat",
    "weixin": "wechat",
    "line": "line",
    "onlyfans": "onlyfans",
    "tiktok": "tiktok",
}
#: Keywords that are also ordinary words or abbreviations: a weak gap needs a
#: handle-shaped token after them.
_AMBIGUOUS: Final = frozenset({"ig", "sc", "snap", "x", "line"})
#: Keywords that only give context to a nearby ``@name``.
_CONTEXT_ONLY: Final = frozenset({"tweet"})


def _word_start(first: str) -> str:
    """``first``, then a check that no word character, ``.``, ``/``, ``@`` or ``-``
    stands before it (a fixed-width look-behind, so the regex keeps its fast scan)."""
    return f"{first}(?<![\\w./@-]{first})"


#: Keywords, matched on the lower-cased text. Written as a trie whose branches start
#: with a literal letter, so that the regex engine skips quickly to candidates.
_KEYWORD: Final = re.compile(
    "(?:"
    + "|".join(
        (
            _word_start("i") + r"(?:nsta(?:gram)?|g)",
            _word_start("s") + r"(?:nap(?:[ \t]?chat)?|c)",
            _word_start("t") + r"(?:w(?:itter|eet)|elegram|ik[ \t]?tok)",
            _word_start("k") + r"ik",
            _word_start("w") + r"(?:hats[ \t]?app|e(?:[ \t]?chat|ixin))",
            _word_start("l") + r"ine",
            _word_start("o") + r"nly[ \t]?fans",
            _word_start("x") + r"(?=[ \t]*[:@＠])",  # kept only where written "X"
        )
    )
    + r")(?!\w)(?!\.\w)"
)
#: The same keywords on text whose lower-cased form has another length (rare).
_KEYWORD_ANY_CASE: Final = re.compile(
    r"(?i)(?<![\w./@-])(?:insta(?:gram)?|ig|snap(?:[ \t]?chat)?|sc|twitter|tweet|telegram"
    r"|tik[ \t]?tok|kik|whats[ \t]?app|we[ \t]?chat|weixin|line|only[ \t]?fans"
    r"|(?-i:X)(?=[ \t]*[:@＠]))(?!\w)(?!\.\w)"
)

# -------------------------------------------------------------------- the gap

_MAX_GAP: Final = 16
_MAX_FILLERS: Final = 3
#: Filler words between a keyword and its handle; True: the word makes the gap strong.
_FILLERS: Final[dict[str, bool]] = {
    "me": False,
    "is": False,
    "at": False,
    "as": False,
    "now": False,
    "id": True,
    "name": True,
    "username": True,
    "user": True,
    "handle": True,
}
_FILLER_RE: Final = re.compile(r"(?i)(?:username|handle|name|user|now|me|is|at|as|id)(?![\w])")
#: Gap marks: ``_MARKS`` (and any symbol, emoji or invisible character) mark what
#: follows as a handle; ``_PUNCTUATION`` only joins ("Greenville, SC - Tiffany").
_MARKS: Final = frozenset(":=：»•·")
_PUNCTUATION: Final = frozenset("-/([{<>~|*#\"'–—")
_INVISIBLE: Final = frozenset("\u200b\u200c\u200d\u2060\ufeff")
#: Fillers after which a handle must be handle-shaped ("my Instagram is amazing").
_SHAPE_ONLY_FILLERS: Final = frozenset({"is", "now"})

# --------------------------------------------------------------------- tokens

_TOKEN: Final = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.]|-(?=[A-Za-z0-9_]))*")
_HYPHEN_OK: Final = frozenset({"snapchat", "wechat"})
_MIN_LEN: Final = 2
_MAX_LEN: Final = 32
_WEAK_MIN_LETTERS: Final = 6
_STRONG_MIN_LETTERS: Final = 3
#: Times, sizes, durations and counts that follow "@" or a keyword in ads.
_MEASURE: Final = re.compile(
    r"\d+(?:[.:]\d+)?(?:am|pm|a|p|hr|hrs|h|hh|min|mins|k|ft|in|lbs|lb|yo|yrs|y|"
    r"a{1,3}|b{1,3}|c{1,3}|d{1,4}|dd|st|nd|rd|th|s|x|xx|xxx)?"
)
_DOMAIN_LIKE: Final = re.compile(
    r"(?i)(?:www\..*|.+\.(?:com|net|org|info|biz|co|io|me|us|ca|uk|tv|xxx|xyz|html?|php))"
)

#: Words that are not handles after a keyword or "@" (compared lower-cased): function
#: words, common verbs and nouns of ads, times of day, the platform keywords and the
#: filler words. Collected from the text that follows platform keywords in the
#: Backpage corpus and in the handles gold file, plus the English function words.
STOPWORDS: Final[frozenset[str]] = frozenset(
    """
    a about above after again against all also always am an and any anytime app are
    around as ask at available avail away babe babes baby back be because been before
    being below between both but by call can cant come contact content could daily
    daddy day dm do does doing done down during each either else email ever every
    everyday exclusive few find first follow for free friend friendly friends from fun
    games get gets give go going gone good got guys had has have having he her here
    hers him his hit hmu honey hot how i if im in inbox info into is it its just kik
    later latest let like link links live look love lovers make many may me message
    messages messenger more most msg much must my myself need new next no nope not
    now of off ok okay on once one only or other our ours out over page papi photo
    photos pic pics picture pictures play please pls plz premium private profile
    proof public rated real reviews review see send sessions shenanigans should show
    shows sms so some soon story stories stuff such take talk text texts than thank
    thanks that the their them then there these they things this those through to
    today tonight too under until up updates update upon us verification verify
    verified very via video videos vids was watch we well were what when where which
    while who why will with would xxx yes yet you your yours account acct accounts
    feed gram channel cam cams facetime skype kik viber fans followers follower
    pm am morning night afternoon evening weekend weekends monday tuesday wednesday
    thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun
    instagram insta ig snapchat snap sc twitter tweet tweets x telegram whatsapp
    wechat weixin line onlyfans tiktok facebook fb tumblr youtube
    id name username user handle also add added adding asap sexy required needed must
    check checked model models influencer famous star official verified only
    """.split()
)


class _Keyword(NamedTuple):
    start: int
    end: int
    word: str  # lower-cased, inner spaces removed
    platform: str


class _Hit(NamedTuple):
    """A handle found in a text: its platform, the handle, and its span."""

    start: int
    end: int
    platform: str
    handle: str


# ---------------------------------------------------------------- profile URLs

_URL: Final = re.compile(
    r"(?i)(?:https?://|(?<![\w.@/-]))(?:(?:www|m|mobile)\.)?(?:"
    r"(?:instagram\.com|instagr\.am)/(?P<instagram>[A-Za-z0-9_.]{1,30})"
    r"|snapchat\.com/add/(?P<snapchat>[A-Za-z0-9_.-]{2,30})"
    r"|(?:twitter\.com|x\.com)/(?:#!/)?@?(?P<twitter>[A-Za-z0-9_]{1,30})"
    r"|(?:t|telegram)\.me/(?P<telegram>[A-Za-z0-9_]{3,32})"
    r"|(?:wa\.me/|api\.whatsapp\.com/send/?\?phone=)\+?(?P<whatsapp>[0-9]{6,15})"
    r"|onlyfans\.com/(?P<onlyfans>[A-Za-z0-9_.-]{1,30})"
    r"|tiktok\.com/@(?P<tiktok>[A-Za-z0-9_.]{1,30})"
    r"|kik\.me/(?P<kik>[A-Za-z0-9_.]{2,30})"
    r"|line\.me/(?:R/)?ti/p/~?(?P<line>[A-Za-z0-9_.-]{1,30})"
    r")(?![A-Za-z0-9_])"
)
_URL_GATE: Final = re.compile(r"\.(?:com|me|am)/")
#: Host names (on the lower-cased text) without which no profile URL can match.
_URL_HINT: Final = re.compile(
    r"instagr|snapchat\.com/|twitter\.com/|x\.com/|t\.me/|telegram\.me/|wa\.me/|whatsapp\.com/"
    r"|onlyfans\.com/|tiktok\.com/|kik\.me/|line\.me/"
)
#: First path segments that are site pages, not profiles.
_RESERVED: Final[dict[str, frozenset[str]]] = {
    "instagram": frozenset(
        "p explore accounts stories reel reels tv direct about legal developer web "
        "challenge emails privacy".split()
    ),
    "twitter": frozenset(
        "i intent share home search hashtag login signup settings explore notifications "
        "messages status statuses tos privacy about download".split()
    ),
    "telegram": frozenset("joinchat addstickers share proxy socks iv".split()),
    "onlyfans": frozenset("my action files terms privacy help".split()),
    "snapchat": frozenset(),
    "tiktok": frozenset(),
    "kik": frozenset(),
    "line": frozenset(),
    "whatsapp": frozenset(),
}


def _url_handles(text: str, low: str) -> list[_Hit]:
    """Handles in profile URLs; ``low`` is ``text`` lower-cased (for the cheap tests)."""
    if _URL_GATE.search(low) is None or _URL_HINT.search(low) is None:
        return []
    out: list[_Hit] = []
    for m in _URL.finditer(text):
        platform = m.lastgroup
        if platform is None:
            continue
        handle = m.group(platform).rstrip(".")
        if not handle or handle.lower() in _RESERVED[platform]:
            continue
        if platform != "whatsapp" and not any(c.isalpha() for c in handle):
            continue
        out.append(_Hit(m.start(), m.start(platform) + len(handle), platform, handle))
    return out


# ---------------------------------------------------------------------- helpers


def _entity(hit: _Hit, field: str, text: str, offset: int = 0) -> Entity:
    """The Entity of ``hit`` found at ``offset`` + its span in ``text`` (field ``field``)."""
    start, end = hit.start - offset, hit.end - offset
    return Entity("handle", f"{hit.platform}:{hit.handle}", field, start, end, text[start:end],
                  False, "handle")  # fmt: skip


def _shaped(token: str) -> bool:
    """Handle-shaped: a digit, ``_``, ``.`` or ``-`` inside the token."""
    return any(c.isdigit() or c in "_.-" for c in token)


def _plausible(token: str) -> bool:
    """Length, a letter, not a stopword, time, measure or domain."""
    if not _MIN_LEN <= len(token) <= _MAX_LEN:
        return False
    if not any(c.isalpha() for c in token):
        return False
    low = token.lower()
    if low in STOPWORDS or _MEASURE.fullmatch(low):
        return False
    return not _DOMAIN_LIKE.fullmatch(token)


def _read_token(text: str, pos: int, platform: str) -> tuple[str, int] | None:
    """The handle token at ``pos`` (trailing dots dropped) and its end, or None when
    the token is glued to more word characters, an e-mail address or a URL."""
    m = _TOKEN.match(text, pos)
    if m is None:
        return None
    token = m.group()
    if "-" in token and platform not in _HYPHEN_OK:
        return None  # "IG: Mary-Jane": not an Instagram name
    token = token.rstrip(".")
    end = pos + len(token)
    if not token:
        return None
    nxt = text[end : end + 1]
    if nxt and (nxt.isalnum() or nxt == "@"):
        return None  # non-ASCII letters glued on, or an e-mail's local part
    if text.startswith("://", end) or text.startswith("@", end):
        return None
    return token, end


def _next_is_letter(text: str, pos: int) -> bool:
    """Whether the next non-space character after ``pos`` is a letter."""
    n = len(text)
    while pos < n and text[pos].isspace():
        pos += 1
    return pos < n and text[pos].isalpha()


def _keywords(text: str, low: str) -> list[_Keyword]:
    """Platform keywords in ``text`` (``low``: its lower-cased form), in order."""
    if len(low) != len(text):  # lower-casing changed the length: offsets would drift
        return [
            _Keyword(m.start(), m.end(), w, _PLATFORM_OF[w])
            for m in _KEYWORD_ANY_CASE.finditer(text)
            if (w := m.group().lower().replace(" ", "").replace("\t", ""))
        ]
    found = []
    for m in _KEYWORD.finditer(low):
        word = m.group().replace(" ", "").replace("\t", "")
        if word == "x" and text[m.start()] != "X":
            continue
        found.append(_Keyword(m.start(), m.end(), word, _PLATFORM_OF[word]))
    return found


def _gap_kind(ch: str) -> int:
    """0: not part of a gap; 1: a joining punctuation mark; 2: a marking one (``:``,
    ``=``, a symbol or emoji, an invisible character)."""
    if ch in _MARKS or ch in _INVISIBLE:
        return 2
    if ch in _PUNCTUATION:
        return 1
    cat = unicodedata.category(ch)
    return 2 if cat[0] == "S" or cat in ("Mn", "Me", "Cf", "Co", "Cs") else 0


def _after_keyword(text: str, kw: _Keyword) -> tuple[str, int, int, int] | None:
    """Read the gap and the token after keyword ``kw`` (rule 2 of the module docstring).

    Returns ``(handle, start, end, at)``: the handle, its span, and the position of
    its ``@`` (-1 if none); or None when no handle follows.
    """
    pos, n = kw.end, len(text)
    limit = min(n, kw.end + _MAX_GAP)
    gap = 0  # the strongest gap mark seen: 0 spaces only, 1 punctuation, 2 marked
    at = -1
    fillers: list[str] = []
    while pos < limit:
        ch = text[pos]
        if ch.isspace():
            pos += 1
        elif ch == "@" or ch == "＠":
            at, gap = pos, 2
            pos += 1
        elif kind := _gap_kind(ch):
            gap = max(gap, kind)
            pos += 1
        elif at < 0 and len(fillers) < _MAX_FILLERS and (fm := _FILLER_RE.match(text, pos)):
            # "at sc_user1" is a filler, "Snapchat: Id_like" is not: a filler word is
            # followed by a space, a gap mark or the end.
            if fm.end() < n and not (text[fm.end()].isspace() or _gap_kind(text[fm.end()])):
                break
            word = fm.group().lower()
            if _FILLERS[word]:
                gap = 2
            fillers.append(word)
            pos = fm.end()
        else:
            break
    if pos >= n or (at >= 0 and pos - at > 2):
        return None
    read = _read_token(text, pos, kw.platform)
    if read is None:
        return None
    token, end = read
    if not _plausible(token):
        return None
    shaped = _shaped(token)
    if kw.word == "line" and not ("id" in fillers or (gap and shaped)):
        return None
    if at >= 0 or shaped:
        return token, pos, end, at
    ambiguous = kw.word in _AMBIGUOUS
    letters = sum(c.isalpha() for c in token)
    if gap == 2 or (gap == 1 and not ambiguous):
        ok = letters >= _STRONG_MIN_LETTERS
    else:
        ok = (
            gap == 0
            and not ambiguous
            and not any(f in _SHAPE_ONLY_FILLERS for f in fillers)
            and letters >= _WEAK_MIN_LETTERS
            and not _next_is_letter(text, end)
        )
    return (token, pos, end, at) if ok else None


#: Joins the fields of one ad for a single scan; breaks every gap, token and window.
_FIELD_BREAK: Final = "\x00"
_AT: Final = re.compile(r"(?<![\w.@+-])[@＠][ \t]?(?=[A-Za-z0-9_])")
_AT_WINDOW: Final = 40
_AFTER: Final = re.compile(r"(?i)[ \t]*(?:(?:on|via|at|in)[ \t]+)?[(\[]?[ \t]*")


def _at_handles(text: str, keywords: list[_Keyword], taken: SpanSet) -> list[_Hit]:
    """``@name`` with a platform keyword near it (rule 3 of the module docstring).
    ``keywords`` in text order (so their starts and ends are sorted: found by binary
    search, as ``taken`` is, and a long ad of handles stays linear)."""
    out: list[_Hit] = []
    starts = [k.start for k in keywords]
    ends = [k.end for k in keywords]
    for m in _AT.finditer(text):
        at = m.start()
        if taken.overlaps(at, at + 1):
            continue
        platform = None
        before = bisect_right(ends, at) - 1  # the last keyword ending before the @
        if before >= 0:
            kw = keywords[before]
            if at - kw.end <= _AT_WINDOW and _FIELD_BREAK not in text[kw.end : at]:
                platform = kw.platform
        read = _read_token(text, m.end(), platform or "")
        if read is None:
            continue
        token, end = read
        if platform is None:
            after = _AFTER.match(text, end)
            k = bisect_left(starts, end)  # the first keyword from the token's end on
            nxt = keywords[k] if k < len(keywords) else None
            if after is None or nxt is None or nxt.start != after.end():
                continue
            platform = nxt.platform
            if "-" in token and platform not in _HYPHEN_OK:
                continue
        if not _plausible(token) or (m.end() - at > 1 and not _shaped(token)):
            continue
        out.append(_Hit(m.end(), end, platform, token))
        taken.add(at, end)
    return out


def _scan(text: str, *, urls_only: bool = False) -> list[_Hit]:
    """All handles in ``text`` (profile URLs only when ``urls_only``), by position."""
    low = text.lower()
    hits = _url_handles(text, low) if "/" in text else []
    if urls_only:
        return hits
    keywords = _keywords(text, low)
    if not keywords:
        return hits
    taken = SpanSet((h.start, h.end) for h in hits)
    if hits:
        keywords = [k for k in keywords if not taken.overlaps(k.start, k.start + 1)]
    for kw in keywords:
        if kw.word in _CONTEXT_ONLY:
            continue
        found = _after_keyword(text, kw)
        if found is None:
            continue
        token, start, end, at = found
        if taken.overlaps(start, end):
            continue
        hits.append(_Hit(start, end, kw.platform, token))
        taken.add(at if at >= 0 else start, end)
    if "@" in text or "＠" in text:
        hits.extend(_at_handles(text, keywords, taken))
    hits.sort()
    return hits


# --------------------------------------------------------------------- the API


def find_handles(text: str, field: str = "body", *, urls_only: bool = False) -> list[Entity]:
    """Handles in one text field, as ``handle`` Entities in order of appearance.

    ``text``: the original field text; ``field``: its name (for the Entities);
    ``urls_only``: read profile URLs only (as for the ad's ``url`` field). Spans are
    character offsets into ``text``: the handle as written without its ``@``, or the
    profile URL up to the end of the handle.
    """
    return [_entity(h, field, text) for h in _scan(text, urls_only=urls_only)]


@register("handle")
def extract_handles(ctx: ExtractionContext) -> list[Entity]:
    """Social handles (``platform:handle``) in every text field; profile URLs only in
    the ``url`` field. Rules and their sources: see the module docstring.

    The fields other than ``url`` are scanned as one string joined by
    :data:`_FIELD_BREAK` (one lower-casing and one regex pass per ad); no rule reads
    across that character, and spans are mapped back to each field.
    """
    names = tuple(f for f in ctx.fields if f != "url")
    texts = [ctx.text(f) for f in names]
    # The texts as one string that tells them apart (their lengths first).
    key = ",".join([str(len(t)) for t in texts]) + ":" + "".join(texts)
    memo = scoped(_MEMOS, names)
    found = memo.get(key)
    if found is None:
        found = memo.put(key, tuple(_scan_fields(names, texts)))
    out = list(found)
    if "url" in ctx.fields:
        url = ctx.text("url")
        if url:
            memo = scoped(_MEMOS, ("url",))
            found = memo.get(url)
            if found is None:
                found = memo.put(
                    url, tuple(_entity(h, "url", url) for h in _scan(url, urls_only=True))
                )
            out.extend(found)
    return out


# field names -> their texts -> handles
_MEMOS: dict[tuple[str, ...], FieldMemo[tuple[Entity, ...]]] = {}


def _scan_fields(names: Sequence[str], texts: Sequence[str]) -> list[Entity]:
    """Handles of the fields ``names`` (their ``texts``), scanned as one joined string."""
    out: list[Entity] = []
    joined = _FIELD_BREAK.join(texts)
    if joined.strip(_FIELD_BREAK):
        starts = list(accumulate((len(t) + 1 for t in texts[:-1]), initial=0))
        for hit in _scan(joined):
            i = bisect_right(starts, hit.start) - 1
            out.append(_entity(hit, names[i], texts[i], starts[i]))
    return out
