"""Template micro-clusters: near-duplicate ads written from one template by one hand.

The text half of linking. A *micro-cluster* is a set of ads whose masked texts are near
copies of each other; its :class:`Template` is the shared text with the *slots* that
vary (names, ages, cities, numbers). The identifier graph is the other half; a
template link never counts a shared identifier, since the caller passes text in which
phones, e-mails, handles and URLs are already ``[PHONE]``, ``[EMAIL]``, ``[HANDLE]``,
``[URL]``, and masks are not terms here.

API
    :func:`cluster` ``(items) -> {ad_key: cluster_id | None}`` in one batch (a part
    of the ads with the buckets' :func:`bucket_cuts` over all of them gives the same
    result for that part); :func:`band_keys` the LSH keys a store keeps; :func:`similarity`,
    :func:`shingles`, :func:`tokenize`, :func:`signature`; :func:`build_template`.

How (as in InfoShield, Lee et al., ICDE 2021 / TKDD 2023: candidates by LSH, then
verification and token alignment; unlike it, digits, emoji and non-Latin letters are
kept, since they are signal, and a new ad is linked without a rebuild)
    1. Tokens: NFKC and case folding; words are runs of letters and digits of any
       script, symbols (emoji, dingbats) are one-character tokens; punctuation goes.
    2. Candidates: MinHash (Broder 1997) of word-and-symbol 2-grams, 128 permutations,
       exactly datasketch's; LSH banding (Leskovec, Rajaraman and Ullman, Mining of
       Massive Datasets, ch. 3.4) into 42 bands of 3 rows: a pair is a candidate when one
       band agrees, ``1 - (1 - J**3)**42`` (J 0.2: 29 %, 0.3: 68 %, 0.5: 99.6 %). A
       bucket of more than 8 distinct texts (near copies of one template, posted
       hundreds of times) yields only the pairs that hold one of its 8 *hubs*, its
       texts with the smallest hub hash (:func:`bucket_cuts`): pairs grow with the
       bucket, not its square.
    3. Verification, :func:`similarity`: the Jaccard index of the term sets with the
       distance scaled up by slot disagreement (first names, digit terms) and down by
       shared numbers; a link when >= 0.66.
    4. Micro-clusters: texts with the same tokens are one node; connected components
       of the links (scipy); chaining control cuts a component into stars around
       medoids: every member has similarity >= 0.45 to its cluster's representative.
    5. Templates: token alignment (rapidfuzz Levenshtein opcodes) of every member to
       the medoid; a slot is a run of the medoid's tokens that some member changes.

Parameters (:class:`TemplateParams`; tuned globally on backpage-ca-2017 with
linkbench's protocol, never per ad): threshold 0.66; name_weight 1.0, digit_weight
0.25, shared_digit_weight 0.2 (a logistic fit on candidate pairs gave the signs and
sizes, a small grid the round values); word-and-symbol 2-grams (char 5-grams: a little
more candidate recall for 4 times the shingles and 20 times the background candidates;
3-grams: less recall); bands x rows 42 x 3 (32 x 4: all R 0.324, and 1.8 instead of 45
background candidates per ad at 1M); medoid_threshold 0.45 (0, plain components:
within 0.002 here, largest cluster 12 either way; the cut bounds chains at scale).

Figures (``linkbench.py score``, 5,429 ads, LSH seed 1; pairwise P/R, B-cubed F1)::

    threshold   all P   all R   all B3   nondup P  nondup R
    0.50        0.869   0.348   0.898    0.806     0.417
    0.60        0.909   0.342   0.900    0.867     0.407
    0.64        0.920   0.335   0.900    0.875     0.390
    0.66        0.923   0.330   0.899    0.879     0.380   <- default
    0.70        0.933   0.318   0.897    0.893     0.363
    0.80        0.947   0.288   0.889    0.907     0.306

    seeds 1-5 at 0.66: all P 0.922-0.926, R 0.330-0.331, B3 0.899;
    nondup P 0.879-0.885, R 0.378-0.382.
    anchors: InfoShield P 0.921 R 0.233 B3 0.870; TF-IDF kNN P 0.915 R 0.293 B3 0.888.

What limits it: 59 % of the same-phone pairs have texts with similarity < 0.2 (a poster
who rewrites her ad), and 43 % of the false links between non-copies are near copies
(similarity >= 0.85) posted under other phone numbers (agencies, copied ads): text
cannot tell them apart. Verifying every pair instead of the LSH candidates gives all R
0.334, nondup P 0.875 at 0.66: the limit is the text, not the index.

Cost: 0.85 s CPU for the 5,429 ads (2.2 s in a fresh process with imports and tables);
where two cores are free, a forked helper process analyzes half of each batch of texts
(:func:`_prepared`: 0.58 to 0.38 s of the 5,429 ads' analysis and MinHash, the same
output); synthetic ads (real ads mutated, in groups of near copies): 1.5 s for 10k, 19 s
for 100k, 51 s for 300k on one core, peak RSS 0.23 / 0.49 / 0.94 GB, so about 3 min and
2.5 GB for 1M; real text adds background candidates, which grow with the square of the
corpus (45 per ad at 1M extrapolated from this corpus: 45M pairs, about 2 min and 2 GB
more at 2 us per pair). Exact copies are one node; m distinct near copies in one LSH
bucket cost m (m - 1) / 2 pairs up to 8 of them, about 8 m beyond (1M demo ads: 48.5M
candidate pairs among 727,532 distinct texts instead of the quadratic count that filled
24 GB, and the whole link step in 529 s, 5.7 GB; on backpage-ca-2017 no bucket holds
more than 23 texts, and hubs from 8 up leave every figure above unchanged, 4 lose one
true pair).
"""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import astuple, dataclass
from functools import cache
from typing import Any, NamedTuple, TypeVar

import numpy as np
import xxhash
from numpy.typing import NDArray
from rapidfuzz.distance import Levenshtein

__all__ = [
    "DEFAULT_PARAMS",
    "BandKeyTable",
    "Features",
    "Slot",
    "Template",
    "TemplateParams",
    "Token",
    "band_key_matrix",
    "band_keys",
    "build_template",
    "cluster",
    "features",
    "pair_similarities",
    "shingles",
    "signature",
    "similarity",
    "tokenize",
]

# --------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TemplateParams:
    """The global parameters of template linking (figures in the module docstring).

    ``num_perm``, ``bands``, ``rows``, ``seed``: MinHash permutations and LSH banding
    (``bands * rows <= num_perm``); a pair of ads is a candidate when their signatures
    agree on all ``rows`` values of at least one band, probability
    ``1 - (1 - J**rows)**bands`` for shingle Jaccard ``J``.
    ``ngram``: shingles are word ``ngram``-grams.
    ``threshold``: two ads link when :func:`similarity` >= ``threshold``.
    ``name_weight``, ``digit_weight``, ``shared_digit_weight``: the slot terms of
    :func:`similarity`.
    ``min_terms``: an ad with fewer distinct terms never links (too little text).
    ``bucket_hubs``: an LSH bucket of more distinct texts than this enumerates only the
    pairs that hold one of its ``bucket_hubs`` *hubs* (the texts with the smallest
    :func:`hub_hashes`), not every pair; see :func:`bucket_cuts`.
    """

    num_perm: int = 128
    bands: int = 42
    rows: int = 3
    seed: int = 1
    ngram: int = 2
    threshold: float = 0.66
    name_weight: float = 1.0
    digit_weight: float = 0.25
    shared_digit_weight: float = 0.2
    min_terms: int = 3
    medoid_threshold: float = 0.45
    bucket_hubs: int = 8

    def __post_init__(self) -> None:
        if self.bands * self.rows > self.num_perm or min(self.bands, self.rows) < 1:
            raise ValueError("need 1 <= bands * rows <= num_perm")
        if self.ngram < 1:
            raise ValueError("ngram must be >= 1")
        if self.bucket_hubs < 1:
            raise ValueError("bucket_hubs must be >= 1")

    def __reduce__(self) -> tuple[type[TemplateParams], tuple[Any, ...]]:
        # Pickled as the constructor's arguments (to :func:`_prepared`'s helper
        # process): compiled, a frozen dataclass cannot be unpickled field by field.
        return (TemplateParams, astuple(self))


DEFAULT_PARAMS = TemplateParams()

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------
# tokens
# --------------------------------------------------------------------------------------

_MASK = re.compile(r"\[(?:phone|email|url|handle)\]")
_TOKEN = re.compile(r"\[(?:phone|email|url|handle)\]|[^\W_]+|[^\w\s\x00-\x7f]")
_KEPT_SYMBOL_CATEGORIES = frozenset({"So", "Sm", "Sc"})


class Token(NamedTuple):
    """One token of an ad: its normalized ``text`` and the character span
    ``[start, end)`` it covers in the original text."""

    text: str
    start: int
    end: int


@cache
def _keep_symbol(ch: str) -> bool:
    """A non-ASCII character outside words is a term when it is a symbol (emoji,
    dingbats, box drawing, currency: Unicode categories So, Sm, Sc). Punctuation,
    combining marks, joiners, variation selectors and skin-tone modifiers are not."""
    return unicodedata.category(ch) in _KEPT_SYMBOL_CATEGORIES


def _normalize(text: str) -> str:
    """NFKC then case folding (mathematical, full-width and circled letters and digits
    become plain ones; digits, emoji and every script are kept)."""
    if text.isascii():
        return text.lower()
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text`` in order, each with its span in ``text``.

    A token is a mask placeholder (``[PHONE]``, ``[EMAIL]``, ``[URL]``, ``[HANDLE]``,
    normalized to lower case), a word (a run of letters and digits of any script,
    NFKC-normalized and case-folded: ``𝐇𝐎𝐓`` is ``hot``, ``①`` is ``1``) or one
    symbol character (emoji and the like; a run of one repeated symbol is one token).
    Punctuation and ASCII symbols are not tokens. Normalization is done per
    whitespace-delimited chunk; a chunk whose length normalization changes (``ﬁne``)
    gives its tokens the span of the whole chunk. These are the tokens that
    :func:`build_template` aligns.
    """
    out: list[Token] = []
    prev = ""
    for chunk in re.finditer(r"\S+", text):
        raw = chunk.group()
        base = chunk.start()
        norm = _normalize(raw)
        exact = len(norm) == len(raw)
        for m in _TOKEN.finditer(norm):
            tok = m.group()
            start, end = (base + m.start(), base + m.end()) if exact else (base, chunk.end())
            if len(tok) == 1 and not tok.isalnum():
                if not _keep_symbol(tok):
                    continue
                if tok == prev:
                    last = out[-1]
                    out[-1] = Token(last.text, last.start, max(last.end, end))
                    continue
            out.append(Token(tok, start, end))
            prev = tok
    return out


_MASK_TOKENS = frozenset({"[phone]", "[email]", "[url]", "[handle]"})


def shingles(text: str, params: TemplateParams = DEFAULT_PARAMS) -> set[str]:
    """The shingles of ``text`` that MinHash sketches: ``params.ngram``-grams of its
    tokens (:func:`tokenize`) with the masks left out, joined by spaces.

    Digits, emoji and every script are kept (``"22 years"``, ``"💋 new"``,
    ``"københavn 💋"``): InfoShield deletes them, but they are the signal. A masked
    identifier is never part of a shingle (``"call [PHONE] now"`` gives ``"call now"``),
    so a phone that two ads share counts once, in the identifier graph, not here too. A
    text of fewer tokens than ``ngram`` gives one shingle of all of them. Internally
    each shingle is a 32-bit hash folded from its tokens' hashes
    (:func:`_analyze_batch`), one per string returned here.
    """
    seq: list[str] = []
    for t in tokenize(text):
        if t.text in _MASK_TOKENS or (seq and t.text == seq[-1] and not t.text.isalnum()):
            continue  # a symbol repeated across a mask is still one token
        seq.append(t.text)
    n = params.ngram
    if len(seq) > n:
        return {" ".join(seq[i : i + n]) for i in range(len(seq) - n + 1)}
    return {" ".join(seq)} if seq else set()


# --------------------------------------------------------------------------------------
# many texts at once: terms, digit terms, names, shingles as hashed ids (vectorized)
# --------------------------------------------------------------------------------------

_LETTER, _NUMERIC, _SYMBOL_CLASS = 1, 2, 3
_TABLE_SIZE = 0x30000
_U64 = np.uint64
_BASE = _U64(0x9E3779B97F4A7C15)  # odd, so invertible modulo 2**64
_BASE_INV = _U64(pow(0x9E3779B97F4A7C15, -1, 1 << 64))
_LEN_SALT = _U64(0xD6E8FEB86659FD93)
_GRAM_MUL = _U64(0xA0761D6478BD642F)
_ID_BITS = 30
_ID_MASK = _U64((1 << _ID_BITS) - 1)
_LOW32 = _U64(0xFFFFFFFF)


def _class_of(ch: str) -> int:
    if ch.isalnum():
        return _LETTER if ch.isalpha() else _NUMERIC
    if ch > "\x7f" and _keep_symbol(ch):
        return _SYMBOL_CLASS
    return 0


@cache
def _char_table() -> NDArray[np.uint8]:
    """Class of every code point below U+30000: 0 (not a term character), letter,
    numeric (``str.isalnum`` and not ``isalpha``), kept symbol. Built once, ~0.1 s."""
    return np.fromiter((_class_of(chr(c)) for c in range(_TABLE_SIZE)), np.uint8, _TABLE_SIZE)


def _classes(cp: NDArray[np.uint32]) -> NDArray[np.uint8]:
    table = _char_table()
    out = table[np.minimum(cp, _TABLE_SIZE - 1)]
    high = cp >= _TABLE_SIZE
    if high.any():
        for c in np.unique(cp[high]).tolist():
            out[cp == c] = _class_of(chr(c))
    return out


_powers: list[NDArray[np.uint64]] = [np.ones(1, _U64), np.ones(1, _U64)]


def _power_tables(n: int) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """``BASE**i`` and ``BASE**-i`` modulo 2**64 for ``i < n`` (cached, grown by doubling)."""
    if len(_powers[0]) < n:
        size = max(n, 2 * len(_powers[0]))
        for k, base in enumerate((_BASE, _BASE_INV)):
            p = np.full(size, base, dtype=_U64)
            p[0] = 1
            _powers[k] = np.cumprod(p, dtype=_U64)  # wraps modulo 2**64
    return _powers[0], _powers[1]


def _fmix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """MurmurHash3's 64-bit finalizer (a bijection that mixes all bits)."""
    x = x ^ (x >> _U64(33))
    x *= _U64(0xFF51AFD7ED558CCD)
    x ^= x >> _U64(33)
    x *= _U64(0xC4CEB9FE1A85EC53)
    x ^= x >> _U64(33)
    return x


def _segment_hashes(
    cp: NDArray[np.uint32], starts: NDArray[np.int64], ends: NDArray[np.int64]
) -> NDArray[np.uint64]:
    """64-bit hash of each code-point segment ``cp[starts[i]:ends[i]]``: a polynomial
    hash modulo 2**64 (computed for all segments from one prefix sum) finalized by
    :func:`_fmix64`. It depends only on the segment's code points, not on its position."""
    pw, inv = _power_tables(len(cp) + 1)
    prefix = np.zeros(len(cp) + 1, dtype=_U64)
    np.cumsum(cp.astype(_U64) * inv[: len(cp)], out=prefix[1:])
    raw = (prefix[ends] - prefix[starts]) * pw[starts]
    return _fmix64(raw + (ends - starts).astype(_U64) * _LEN_SALT)


@cache
def _name_hashes() -> NDArray[np.uint64]:
    names = sorted(_names())
    cp = np.frombuffer("\n".join(names).encode("utf-32-le"), dtype=np.uint32)
    lens = np.fromiter(map(len, names), np.int64, len(names))
    starts = np.concatenate(([0], np.cumsum(lens[:-1] + 1)))
    return _sorted_unique(_segment_hashes(cp, starts, starts + lens))


class _CSR(NamedTuple):
    """Rows of sorted distinct values: row ``i`` is ``values[ptr[i]:ptr[i + 1]]``."""

    ptr: NDArray[np.int64]
    values: NDArray[np.uint64]

    def row(self, i: int) -> NDArray[np.uint64]:
        return self.values[self.ptr[i] : self.ptr[i + 1]]


def _sorted_unique(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """``np.unique`` by sorting (numpy 2's hash-based unique is slower on uint64)."""
    x = np.sort(x)
    if len(x) > 1:
        x = x[np.concatenate(([True], x[1:] != x[:-1]))]
    return x


def _csr(rows: NDArray[np.int64], values: NDArray[np.uint64], n: int) -> _CSR:
    """Distinct 32-bit ``values`` per row, sorted (values must be below 2**32)."""
    key = _sorted_unique((rows.astype(_U64) << _U64(32)) | values)
    counts = np.bincount((key >> _U64(32)).astype(np.int64), minlength=n)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return _CSR(ptr, key & _LOW32)


class _Analysis(NamedTuple):
    """Hashed view of a batch of texts: per text its copy key, term ids, digit-term
    ids, name ids (30-bit) and shingle hashes (32-bit), each as rows of a :class:`_CSR`."""

    copy_keys: list[int]
    terms: _CSR
    digits: _CSR
    names: _CSR
    shingles: _CSR


def _analyze_batch(texts: Sequence[str], ngram: int) -> _Analysis:
    """Analyze many texts with one pass of array operations over their code points.

    Same normalization and the same words as :func:`tokenize` (runs of
    ``str.isalnum`` characters after NFKC and case folding; masks removed); a term is a
    word or a kept symbol; a digit term is a word with a numeric character; a name is a
    word of the first-name list; shingles are token n-grams (see :func:`shingles`).
    """
    n = len(texts)
    norms = []
    for t in texts:
        s = _normalize(t)
        norms.append(_MASK.sub(" ", s) if "[" in s else s)
    lens = np.fromiter(map(len, norms), np.int64, n)
    cp = np.frombuffer("\n".join(norms).encode("utf-32-le"), dtype=np.uint32)
    doc_start = np.zeros(n, dtype=np.int64)
    np.cumsum(lens[:-1] + 1, out=doc_start[1:])
    cls = _classes(cp)
    word = (cls == _LETTER) | (cls == _NUMERIC)
    edge = np.diff(np.concatenate(([0], word.view(np.int8), [0])))
    ws, we = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
    ss = np.flatnonzero(cls == _SYMBOL_CLASS)
    wh = _segment_hashes(cp, ws, we)
    sh = _segment_hashes(cp, ss, ss + 1)
    wdoc = np.searchsorted(doc_start, ws, side="right") - 1
    sdoc = np.searchsorted(doc_start, ss, side="right") - 1
    numeric = np.zeros(len(cp) + 1, dtype=np.int64)
    np.cumsum(cls == _NUMERIC, out=numeric[1:])
    has_digit = numeric[we] > numeric[ws]
    name_h = _name_hashes()
    is_name = name_h[np.minimum(np.searchsorted(name_h, wh), len(name_h) - 1)] == wh
    terms = _csr(np.concatenate((wdoc, sdoc)), np.concatenate((wh, sh)) & _ID_MASK, n)
    digits = _csr(wdoc[has_digit], wh[has_digit] & _ID_MASK, n)
    names = _csr(wdoc[is_name], wh[is_name] & _ID_MASK, n)
    # the token sequence (words and symbols in text order, a repeated symbol once)
    order = np.argsort(np.concatenate((ws, ss)), kind="stable")
    th = np.concatenate((wh, sh))[order]
    tdoc = np.concatenate((wdoc, sdoc))[order]
    tsym = np.concatenate((np.zeros(len(wh), bool), np.ones(len(sh), bool)))[order]
    if len(th) > 1:
        again = np.concatenate(([False], tsym[1:] & (th[1:] == th[:-1]) & (tdoc[1:] == tdoc[:-1])))
        th, tdoc = th[~again], tdoc[~again]
    # n-grams: a fold of n consecutive token hashes of one text; a text with fewer
    # tokens gives one gram of all of them
    count = np.bincount(tdoc, minlength=n)
    gram_rows, gram_vals = [], []
    m = len(th) - ngram + 1
    if m > 0:
        start = np.flatnonzero(tdoc[:m] == tdoc[ngram - 1 :])
        acc = th[start]
        for k in range(1, ngram):
            acc = _fmix64(acc * _GRAM_MUL + th[start + k])
        gram_rows.append(tdoc[start])
        gram_vals.append(acc)
    short = np.flatnonzero((count > 0) & (count < ngram))
    if len(short):
        first = np.searchsorted(tdoc, short)
        acc = th[first]
        for k in range(1, int(count[short].max())):
            more = count[short] > k
            acc[more] = _fmix64(acc[more] * _GRAM_MUL + th[first[more] + k])
        gram_rows.append(short)
        gram_vals.append(acc)
    if gram_rows:
        shingle_csr = _csr(
            np.concatenate(gram_rows), _fmix64(np.concatenate(gram_vals)) & _LOW32, n
        )
    else:
        shingle_csr = _CSR(np.zeros(n + 1, dtype=np.int64), np.empty(0, dtype=_U64))
    # copy key: the token sequence (equal keys: equal features and shingles)
    tptr = np.searchsorted(tdoc, np.arange(n + 1))
    h128 = xxhash.xxh3_128_intdigest
    keys = [h128(th[tptr[i] : tptr[i + 1]].tobytes()) for i in range(n)]
    return _Analysis(keys, terms, digits, names, shingle_csr)


# --------------------------------------------------------------------------------------
# features and similarity
# --------------------------------------------------------------------------------------


@cache
def _names() -> frozenset[str]:
    """First names that are not ordinary English words (SSA baby names minus SCOWL and
    the name stop words), 3 letters or more, from the name extractor's lexicons."""
    from adsentry.extract.name import lexicons

    lex = lexicons()
    return frozenset(w for w in lex.names - lex.english - lex.stop if len(w) >= 3)


class Features(NamedTuple):
    """What verification compares, as sorted distinct 30-bit term ids: all terms
    (words and symbols), the words that hold a digit and the first names. Shapes
    (n_terms,), (n_digit_terms,), (n_names,); dtype uint64."""

    terms: NDArray[np.uint64]
    digits: NDArray[np.uint64]
    names: NDArray[np.uint64]


def _row_features(a: _Analysis, i: int) -> Features:
    return Features(a.terms.row(i), a.digits.row(i), a.names.row(i))


def features(text: str) -> Features:
    """The :class:`Features` of one masked text."""
    return _row_features(_analyze_batch([text], 1), 0)


def _formula(
    inter: NDArray[np.int64],
    n_a: NDArray[np.int64],
    n_b: NDArray[np.int64],
    shared_digits: NDArray[np.int64],
    digit_diff: NDArray[np.int64],
    name_diff: NDArray[np.int64],
    params: TemplateParams,
) -> NDArray[np.float64]:
    """The similarity of :func:`similarity` from its counts (arrays of one shape)."""
    union = n_a + n_b - inter
    jac = inter / np.maximum(union, 1)
    dist = (
        (1.0 - jac)
        * (1.0 + params.name_weight * name_diff + params.digit_weight * digit_diff)
        / (1.0 + params.shared_digit_weight * shared_digits)
    )
    out: NDArray[np.float64] = np.maximum(0.0, 1.0 - dist)
    out[(n_a == 0) | (n_b == 0)] = 0.0
    return out


def _inter(a: NDArray[np.uint64], b: NDArray[np.uint64]) -> int:
    return len(np.intersect1d(a, b, assume_unique=True))


def _sims_to(
    f: Features, others: Sequence[Features], params: TemplateParams
) -> NDArray[np.float64]:
    """Similarity of ``f`` to each of ``others``, shape (len(others),)."""
    m = len(others)

    def arr(values: Iterable[int]) -> NDArray[np.int64]:
        return np.fromiter(values, dtype=np.int64, count=m)

    inter = arr(_inter(f.terms, o.terms) for o in others)
    sd = arr(_inter(f.digits, o.digits) for o in others)
    sn = arr(_inter(f.names, o.names) for o in others)
    return _formula(
        inter,
        np.full(m, len(f.terms), dtype=np.int64),
        arr(len(o.terms) for o in others),
        sd,
        len(f.digits) + arr(len(o.digits) for o in others) - 2 * sd,
        len(f.names) + arr(len(o.names) for o in others) - 2 * sn,
        params,
    )


def similarity(a: str, b: str, params: TemplateParams = DEFAULT_PARAMS) -> float:
    """Template similarity of two masked texts, in [0, 1].

    With ``J`` the Jaccard index of their term sets (words and symbols), slots that
    carry different values push two texts apart and numbers they share pull them
    together::

        1 - (1 - J) * (1 + name_weight * dN + digit_weight * dD) / (1 + shared_digit_weight * sD)

    floored at 0, where ``dN`` and ``dD`` are the sizes of the symmetric differences of
    their first-name sets and of their digit-term sets and ``sD`` the size of the
    intersection of their digit-term sets. A copy has similarity 1; a text without
    terms 0. On the backpage-ca-2017 silver labels, two ads of one template with
    different names share a phone in 2-9 % of cases when 0.5 <= J < 0.8, and in 90 %
    when J >= 0.9: the penalty scales the distance, not the similarity.
    """
    fa, fb = features(a), features(b)
    return float(_sims_to(fa, [fb], params)[0])


# --------------------------------------------------------------------------------------
# MinHash signatures and LSH band keys
# --------------------------------------------------------------------------------------

_MERSENNE = _U64((1 << 61) - 1)
_MAX_HASH = _U64((1 << 32) - 1)
_SHIFT61 = _U64(61)
_CHUNK_ROWS = 512


@cache
def _permutations(num_perm: int, seed: int) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """The ``(a, b)`` of ``datasketch.MinHash(num_perm, seed)``, drawn the way datasketch
    draws them (its ``_init_permutations``), without importing datasketch (which pulls
    in scipy.integrate, ~0.9 s); a test checks they are equal."""
    gen = np.random.RandomState(seed)
    ab = np.array(
        [
            (
                gen.randint(1, int(_MERSENNE), dtype=np.uint64),
                gen.randint(0, int(_MERSENNE), dtype=np.uint64),
            )
            for _ in range(num_perm)
        ],
        dtype=_U64,
    ).T
    return ab[0], ab[1]


def _signatures(sh: _CSR, rows: NDArray[np.int64], params: TemplateParams) -> NDArray[np.uint64]:
    """MinHash signatures of the shingle sets ``sh.row(r)`` for ``r`` in ``rows``, shape
    (len(rows), num_perm), uint64 values below 2**32.

    Row ``i`` equals ``datasketch.MinHash(num_perm, seed, hashfunc=int)`` updated with
    the 32-bit shingle hashes of its set: the permutations ``(a * h + b) mod (2**61 -
    1)`` truncated to 32 bits (Broder 1997) are datasketch's, computed for a block of
    about 512 shingles as one array, the Mersenne reduction done with shifts. An empty
    set keeps 2**32 - 1 everywhere (such a text is never indexed).
    """
    a, b = _permutations(params.num_perm, params.seed)
    out = np.full((len(rows), params.num_perm), _MAX_HASH, dtype=_U64)
    lens = (sh.ptr[rows + 1] - sh.ptr[rows]).tolist()
    starts = sh.ptr[rows].tolist()
    i, n = 0, len(rows)
    while i < n:
        j, size = i, 0
        while j < n and (size == 0 or size + lens[j] <= _CHUNK_ROWS):
            size += lens[j]
            j += 1
        block = [k for k in range(i, j) if lens[k]]
        if block:
            hv = np.concatenate([sh.values[starts[k] : starts[k] + lens[k]] for k in block])
            buf = hv.reshape(-1, 1) * a
            buf += b
            hi = buf >> _SHIFT61
            buf &= _MERSENNE
            buf += hi
            np.minimum(buf, buf - _MERSENNE, out=buf)  # subtracts p where buf >= p
            buf &= _MAX_HASH
            offs = np.cumsum([0] + [lens[k] for k in block[:-1]])
            out[block] = np.minimum.reduceat(buf, offs, axis=0)
        i = j
    return out


def signature(text: str, params: TemplateParams = DEFAULT_PARAMS) -> NDArray[np.uint64]:
    """MinHash signature of the shingles of ``text``, shape (num_perm,), uint64."""
    a = _analyze_batch([text], params.ngram)
    return _signatures(a.shingles, np.zeros(1, dtype=np.int64), params)[0]


def _band_ints(sig: NDArray[np.uint64], params: TemplateParams) -> NDArray[np.uint64]:
    """LSH band keys, shape (n, bands), uint64: xxh3-64 of the big-endian bytes of the
    ``rows`` signature values of each band (banding: Leskovec, Rajaraman and Ullman,
    Mining of Massive Datasets, ch. 3.4; the bytes are those datasketch's MinHashLSH
    hashes)."""
    n = sig.shape[0]
    step = params.rows * 8
    raw = np.ascontiguousarray(sig[:, : params.bands * params.rows]).astype(">u8").tobytes()
    # the slices first, then one map: 85 µs against 122 for six texts with a generator
    bands = [raw[k : k + step] for k in range(0, n * params.bands * step, step)]
    keys = np.fromiter(map(xxhash.xxh3_64_intdigest, bands), dtype=_U64, count=n * params.bands)
    return keys.reshape(n, params.bands)


def _eligible(a: _Analysis, params: TemplateParams) -> NDArray[np.bool_]:
    return (np.diff(a.terms.ptr) >= params.min_terms) & (np.diff(a.shingles.ptr) > 0)


def band_keys(text: str, params: TemplateParams = DEFAULT_PARAMS) -> list[tuple[int, bytes]]:
    """LSH band keys of one masked text: ``(band number, 8-byte key)``, ``params.bands``
    of them, or none for a text too short to link.

    A store keeps these rows (``ad_bands``): the ads that share a key with a new ad
    are its candidates, found without recomputing MinHash. A key is ``xxh3_64_digest`` of the
    band's signature values as big-endian bytes, the key that
    ``datasketch.MinHashLSH(num_perm, params=(bands, rows), hashfunc=xxh3_64_digest)``
    files the same signature under.
    """
    a = _analyze_batch([text], params.ngram)
    if not _eligible(a, params)[0]:
        return []
    keys = _band_ints(_signatures(a.shingles, np.zeros(1, dtype=np.int64), params), params)
    return [(b, int(k).to_bytes(8, "big")) for b, k in enumerate(keys[0].tolist())]


# --------------------------------------------------------------------------------------
# candidate pairs and the partition (shared by the batch and the incremental path)
# --------------------------------------------------------------------------------------


_NO_CUT = np.iinfo(np.uint64).max  # a bucket with no cut: every member is a hub


def hub_hashes(keys: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """The hub hash of each row of band keys, shape (n, bands) -> (n,) uint64.

    :func:`_fmix64` folded over the row: a function of the text's MinHash signature
    alone (copies of a text, and the same text in a batch or in a store, get the same
    hash), uniform over the 64-bit range, so the hubs of a bucket are a random sample
    of its texts."""
    h = np.zeros(len(keys), dtype=_U64)
    for b in range(keys.shape[1] if keys.ndim == 2 else 0):
        h = _fmix64(h ^ keys[:, b])
    return h


class BucketCuts(NamedTuple):
    """The hub cut of every LSH bucket that has one, per band: ``keys[b]`` the sorted
    bucket keys of band ``b`` and ``cuts[b]`` their cuts (uint64 arrays of one length).
    A text of a bucket is a hub when its hub hash is <= the bucket's cut; a bucket
    missing here has no cut (all its texts are hubs)."""

    keys: list[NDArray[np.uint64]]
    cuts: list[NDArray[np.uint64]]

    def of(self, band: int, keys: NDArray[np.uint64]) -> NDArray[np.uint64]:
        """The cut of each bucket key of ``band``, shape of ``keys``; no cut is
        2**64 - 1."""
        known, cuts = self.keys[band], self.cuts[band]
        if not len(known):
            return np.full(len(keys), _NO_CUT, dtype=_U64)
        pos = np.minimum(np.searchsorted(known, keys), len(known) - 1)
        return np.where(known[pos] == keys, cuts[pos], _NO_CUT)


def in_sorted(values: NDArray[Any], members: NDArray[Any]) -> NDArray[np.bool_]:
    """``np.isin(values, members)`` for ``members`` sorted ascending and distinct: a
    binary search per value, about 4 times faster than ``np.isin`` on a million
    values against a few hundred members."""
    if not len(members):
        return np.zeros(len(values), dtype=bool)
    pos = np.minimum(np.searchsorted(members, values), len(members) - 1)
    found: NDArray[np.bool_] = members[pos] == values
    return found


def _runs(sorted_keys: NDArray[np.uint64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Starts and lengths of the runs of equal values of a sorted array."""
    if not len(sorted_keys):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
    return starts, np.diff(np.append(starts, len(sorted_keys)))


def bucket_cuts(
    keys: NDArray[np.uint64],
    hubs: NDArray[np.uint64],
    params: TemplateParams = DEFAULT_PARAMS,
    only: Sequence[NDArray[np.uint64]] | None = None,
) -> BucketCuts:
    """The hub cut of each LSH bucket of rows of band keys, shape (n, bands), with
    their :func:`hub_hashes` ``hubs``, shape (n,).

    A bucket holding more than ``params.bucket_hubs`` distinct hub hashes gets as cut
    its ``bucket_hubs``-th smallest one; its candidate pairs are then those with at
    least one hub (:func:`_band_pairs`), about ``bucket_hubs`` times its size instead
    of its size squared. Near copies fill such buckets (a template posted hundreds of
    times with other names and cities), and every text still meets ``bucket_hubs``
    random members of each bucket it is in. Distinct hash values are counted, so rows
    may repeat (a store's copies of one text). The cut is a function of the bucket's
    members alone: an incremental run that computes it over every stored text gets the
    pairs of a full relink. ``only``: per band, the bucket keys wanted (default all).
    Entity resolution meets the same problem as oversized blocks, handled by block
    purging and comparison cleaning (Papadakis et al., "Blocking and Filtering
    Techniques for Entity Resolution: A Survey", ACM Computing Surveys 53(2), 2020);
    here the bucket is kept and its comparisons are cut to those with a hub."""
    out_keys: list[NDArray[np.uint64]] = []
    out_cuts: list[NDArray[np.uint64]] = []
    limit = params.bucket_hubs
    for b in range(keys.shape[1] if keys.ndim == 2 else 0):
        col, hub = keys[:, b], hubs
        if only is not None:
            mask = in_sorted(col, np.unique(only[b]))
            col, hub = col[mask], hub[mask]
        order = np.lexsort((hub, col))
        sk, sh = col[order], hub[order]
        starts, lens = _runs(sk)
        n = len(sk)
        new_value = np.ones(n, dtype=bool)
        if n > 1:
            new_value[1:] = (sk[1:] != sk[:-1]) | (sh[1:] != sh[:-1])
        rank = np.cumsum(new_value)  # distinct hub values so far, within the run:
        rank -= np.repeat(rank[starts] - 1, lens)
        big = np.repeat(rank[starts + lens - 1] > limit, lens)
        at = np.flatnonzero(big & new_value & (rank == limit))
        out_keys.append(sk[at])
        out_cuts.append(sh[at])
    return BucketCuts(out_keys, out_cuts)


def _band_pairs(
    col: NDArray[np.uint64], hubs: NDArray[np.uint64], cuts: BucketCuts, band: int
) -> NDArray[np.int64]:
    """The candidate pairs ``(i, j)``, ``i < j``, of one band's keys ``col``, shape
    (m, 2): positions with equal keys, at least one of them a hub of its bucket."""
    none = np.empty((0, 2), dtype=np.int64)
    if len(col) < 2:
        return none
    order = np.lexsort((hubs, col))
    sk, sh = col[order], hubs[order]
    starts, lens = _runs(sk)
    starts, lens = starts[lens >= 2], lens[lens >= 2]
    if not len(starts):
        return none
    # sorted by hub hash within a run, so a run's hubs are its first `n_hubs`
    run_cut = np.repeat(cuts.of(band, sk[starts]), lens)
    pos = np.repeat(starts, lens) + (
        np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
    )
    # a hub pairs with every position after it in its run; a non-hub with none
    after = np.where(sh[pos] <= run_cut, np.repeat(starts + lens, lens) - pos - 1, 0)
    first = np.repeat(pos, after)
    second = first + 1 + (np.arange(after.sum()) - np.repeat(np.cumsum(after) - after, after))
    a, b = order[first], order[second]
    return np.stack((np.minimum(a, b), np.maximum(a, b)), axis=1).astype(np.int64)


Edge = tuple[int, int, float]


def _split(
    nodes: list[int],
    edges: list[Edge],
    mult: Callable[[int], int],
    first_key: Callable[[int], str],
    feat: Callable[[int], Features],
    params: TemplateParams,
) -> list[list[int]]:
    """Split one connected component of the link graph into micro-clusters.

    Chaining control: single-link components glue neighbours of neighbours, so each
    component is cut into stars. Its medoid (the text with the largest sum of link
    similarities, copies counted, ties to the smallest ad key) keeps every text of the
    component with similarity >= ``threshold`` to it; the rest is split again by its
    own links. Every ad of a micro-cluster thus has similarity >= ``threshold`` to the
    cluster's representative. ``nodes`` are distinct texts, ``mult`` their copy counts.
    """
    out: list[list[int]] = []
    todo: list[tuple[list[int], list[Edge]]] = [(nodes, edges)]
    while todo:
        part, part_edges = todo.pop()
        if len(part) == 1 or sum(map(mult, part)) <= 2:
            out.append(part)
            continue
        score = {u: float(mult(u) - 1) for u in part}
        for u, v, s in part_edges:
            score[u] += mult(v) * s
            score[v] += mult(u) * s
        med = min(part, key=lambda u: (-round(score[u], 9), first_key(u)))
        others = [u for u in part if u != med]
        sims = _sims_to(feat(med), [feat(u) for u in others], params)
        keep = [med] + [
            u for u, s in zip(others, sims.tolist(), strict=True) if s >= params.medoid_threshold
        ]
        out.append(keep)
        if len(keep) == len(part):
            continue
        kept = set(keep)
        rest = [u for u in part if u not in kept]
        rest_edges = [e for e in part_edges if e[0] not in kept and e[1] not in kept]
        todo.extend(_local_components(rest, rest_edges))
    return out


def _local_components(nodes: list[int], edges: list[Edge]) -> list[tuple[list[int], list[Edge]]]:
    parent = {u: u for u in nodes}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for u, v, _ in edges:
        ru, rv = find(u), find(v)
        if ru != rv:
            parent[ru] = rv
    groups: dict[int, tuple[list[int], list[Edge]]] = {}
    for u in nodes:
        groups.setdefault(find(u), ([], []))[0].append(u)
    for e in edges:
        groups[find(e[0])][1].append(e)
    return list(groups.values())


def _label(clusters: Iterable[list[int]], members: Sequence[list[str]]) -> dict[str, str | None]:
    """Ad key -> cluster id (the smallest ad key of the cluster; None when alone)."""
    out: dict[str, str | None] = {}
    for cl in clusters:
        keys = [k for u in cl for k in members[u]]
        cid = min(keys) if len(keys) > 1 else None
        for k in keys:
            out[k] = cid
    return out


# --------------------------------------------------------------------------------------
# batch
# --------------------------------------------------------------------------------------


class _FeatureTable:
    """Features of the distinct texts of a batch, as three CSR tables (terms, digit
    terms, names) filled chunk by chunk; no Python object per text."""

    def __init__(self) -> None:
        self._parts: list[list[_CSR]] = [[], [], []]
        self._tables: list[_CSR] = []
        self._mats: list[Any] = []  # scipy CSR matrices of the tables, for pair_sims

    def append(self, a: _Analysis, rows: NDArray[np.int64]) -> None:
        for k, csr in enumerate((a.terms, a.digits, a.names)):
            lens = csr.ptr[rows + 1] - csr.ptr[rows]
            take = np.repeat(csr.ptr[rows], lens) + (
                np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
            )
            self._parts[k].append(_CSR(lens, csr.values[take]))  # row lengths, not a ptr

    def freeze(self) -> None:
        for parts in self._parts:
            lens = np.concatenate([p.ptr for p in parts]) if parts else np.zeros(0, np.int64)
            ptr = np.zeros(len(lens) + 1, dtype=np.int64)
            np.cumsum(lens, out=ptr[1:])
            values = np.concatenate([p.values for p in parts]) if parts else np.zeros(0, _U64)
            self._tables.append(_CSR(ptr, values))
        self._parts = [[], [], []]

    def __call__(self, u: int) -> Features:
        t, d, n = self._tables
        return Features(t.row(u), d.row(u), n.row(u))

    def pair_sims(self, pairs: NDArray[np.int64], params: TemplateParams) -> NDArray[np.float64]:
        """Similarity of each pair of rows, shape (len(pairs),): the set intersections
        are sparse row products (scipy), the arithmetic is :func:`_formula`'s."""
        from scipy.sparse import csr_matrix

        n = len(self._tables[0].ptr) - 1
        if not self._mats:  # built once, for every later call
            self._mats = [
                csr_matrix(
                    (np.ones(len(t.values), dtype=np.int8), t.values.astype(np.int32), t.ptr),
                    shape=(n, 1 << _ID_BITS),
                )
                for t in self._tables
            ]
        mats = self._mats
        sizes = [np.diff(t.ptr) for t in self._tables]
        out = np.empty(len(pairs), dtype=np.float64)
        step = 50_000
        for s in range(0, len(pairs), step):
            u, v = pairs[s : s + step, 0], pairs[s : s + step, 1]
            inter = [
                np.asarray(m[u].multiply(m[v]).sum(axis=1), dtype=np.int64).ravel() for m in mats
            ]
            t, d, nm = sizes
            out[s : s + step] = _formula(
                inter[0],
                t[u],
                t[v],
                inter[1],
                d[u] + d[v] - 2 * inter[1],
                nm[u] + nm[v] - 2 * inter[2],
                params,
            )
        return out


def pair_similarities(
    texts: Sequence[str | bytes],
    pairs: NDArray[np.int64],
    params: TemplateParams = DEFAULT_PARAMS,
) -> NDArray[np.float64]:
    """:func:`similarity` of each pair ``(i, j)`` of ``texts`` (str or UTF-8), shape
    (len(pairs),), computed as :func:`cluster` verifies its candidates (texts analyzed
    in batches, intersections as sparse row products)."""
    table = _FeatureTable()
    for at in range(0, len(texts), _BATCH):
        chunk = [t if isinstance(t, str) else t.decode() for t in texts[at : at + _BATCH]]
        table.append(_analyze_batch(chunk, params.ngram), np.arange(len(chunk), dtype=np.int64))
    table.freeze()
    return table.pair_sims(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), params)


def _components(n: int, edges: NDArray[np.int64]) -> NDArray[np.int64]:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not len(edges):
        return np.arange(n, dtype=np.int64)
    g = coo_matrix((np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, labels = connected_components(g.tocsr(), directed=False)
    return labels.astype(np.int64)


_BATCH = 2048


_Item = TypeVar("_Item")


def _batches(items: Iterable[_Item]) -> Iterator[list[_Item]]:
    """Consecutive lists of :data:`_BATCH` items (the last may be shorter)."""
    batch: list[_Item] = []
    for item in items:
        batch.append(item)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _prepare(texts: list[str], params: TemplateParams) -> tuple[_Analysis, NDArray[np.uint64]]:
    """The analysis of a batch of texts and the LSH band keys of its rows, shape
    (len(texts), bands), uint64: those of each text long enough to link, at the first
    row with that text in the batch; zero elsewhere."""
    a = _analyze_batch(texts, params.ngram)
    first: dict[int, int] = {}
    rows = np.asarray(
        [i for i, ck in enumerate(a.copy_keys) if first.setdefault(ck, i) == i], dtype=np.int64
    )
    ok = rows[_eligible(a, params)[rows]]
    keys = np.zeros((len(texts), params.bands), dtype=_U64)
    keys[ok] = _band_ints(_signatures(a.shingles, ok, params), params)
    return a, keys


#: Texts at least (one full batch), for :func:`cluster` to analyze half of each batch
#: in a second process (forked once: about 10 ms, more for a large parent).
HELPER_MIN_TEXTS = _BATCH


def _prepared(
    items: Iterable[tuple[str, str]], params: TemplateParams
) -> Generator[tuple[list[tuple[str, str]], _Analysis, NDArray[np.uint64]], None, None]:
    """``(batch, analysis, band keys)`` for consecutive batches of ``items``
    (:func:`_prepare`), in order. Where this process may use two CPU cores and can
    fork, and the first batch holds :data:`HELPER_MIN_TEXTS` texts, each batch is
    prepared in two halves: the second in a forked helper process while this one
    prepares the first. The analysis and the MinHash signatures are most of what
    :func:`cluster` costs (0.65 of 1.0 s for the 5,429 real ads); each text's result
    depends on that text alone, so the output is the same either way."""
    batches = _batches(items)
    first = next(batches, None)
    if first is None:
        return
    pool = _helper_pool() if len(first) >= HELPER_MIN_TEXTS else None
    rest = itertools.chain([first], batches)
    if pool is None:
        for batch in rest:
            yield (batch, *_prepare([t for _, t in batch], params))
        return
    from concurrent.futures.process import BrokenProcessPool

    # halves sent to the helper one batch ahead, so that it has work while this
    # process files the batch before; None for a half this process prepares itself
    queued: deque[tuple[list[tuple[str, str]], list[tuple[str, str]], Any]] = deque()
    helping = True  # until the helper dies
    with pool:
        for nxt in itertools.chain(rest, [None]):
            if nxt is not None:
                one, two = nxt[: len(nxt) // 2], nxt[len(nxt) // 2 :]
                later = None
                if helping:
                    try:
                        later = pool.submit(_prepare, [t for _, t in two], params)
                    except BrokenProcessPool:
                        helping = _helper_died()
                queued.append((one, two, later))
                if len(queued) < 2:
                    continue
            while queued:
                one, two, later = queued.popleft()
                if one:
                    yield (one, *_prepare([t for _, t in one], params))
                done = None
                if later is not None:
                    try:
                        done = later.result()
                    except BrokenProcessPool:
                        helping = helping and _helper_died()
                yield (two, *(done or _prepare([t for _, t in two], params)))
                if nxt is not None:
                    break


def _helper_died() -> bool:
    log.warning("template analysis: the helper process died; going on alone")
    return False


def _helper_pool() -> Any:
    """A one-process pool forked from this one, or None where this process may use
    only one CPU core, cannot fork, or is daemonic (a :mod:`multiprocessing` worker,
    which may not have children); then :func:`_prepared` works alone. The helper ends
    with this process (:func:`adsentry.orphans.end_with_parent`) and leaves Ctrl-C to
    it."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    from adsentry.orphans import end_with_parent

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    if (
        cores < 2
        or "fork" not in multiprocessing.get_all_start_methods()
        or multiprocessing.current_process().daemon
    ):
        return None
    return ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("fork"),
        initializer=partial(end_with_parent, ignore_sigint=True),
        initargs=(os.getpid(),),
    )


def _candidates(
    keys: NDArray[np.uint64], cuts: BucketCuts | None, params: TemplateParams
) -> NDArray[np.uint64]:
    """Distinct pairs of rows of ``keys`` (n, bands) that agree in a band, one of the
    two a hub of that bucket, as sorted codes ``i * n + j`` (``i < j``); ``cuts``: the
    buckets' cuts over every text linked, when these rows are only some of them
    (default computed from these rows)."""
    n = len(keys)
    if n < 2:
        return np.zeros(0, dtype=_U64)
    hubs = hub_hashes(keys)
    if cuts is None:
        cuts = bucket_cuts(keys, hubs, params)
    codes: list[NDArray[np.uint64]] = []
    for b in range(keys.shape[1]):
        p = _band_pairs(keys[:, b], hubs, cuts, b)
        codes.append(_sorted_unique((p[:, 0] * n + p[:, 1]).astype(_U64)))
        if len(codes) == 8:  # merge as we go: peak memory stays near the distinct pairs
            codes = [_sorted_unique(np.concatenate(codes))]
    return _sorted_unique(np.concatenate(codes))


def _links(
    codes: NDArray[np.uint64],
    uids: NDArray[np.int64],
    table: _FeatureTable,
    params: TemplateParams,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """The candidate pairs (codes over the rows of ``uids``) whose similarity reaches
    ``threshold``: node pairs, shape (m, 2), and their similarities, shape (m,).
    Verified a million at a time, so only the links are ever held as pairs."""
    n = np.int64(len(uids))
    edges: list[NDArray[np.int64]] = [np.zeros((0, 2), dtype=np.int64)]
    sims: list[NDArray[np.float64]] = [np.zeros(0)]
    for at in range(0, len(codes), 1 << 20):
        c = codes[at : at + (1 << 20)].astype(np.int64)
        pairs = np.stack((uids[c // n], uids[c % n]), axis=1)
        s = table.pair_sims(pairs, params)
        keep = s >= params.threshold
        edges.append(pairs[keep])
        sims.append(s[keep])
    return np.concatenate(edges), np.concatenate(sims)


class BandKeyTable:
    """What :func:`cluster` computed that a store keeps for incremental linking:
    ``row_of`` maps the ad key of every text long enough to link to its row of
    ``keys``, shape (distinct eligible texts, bands), uint64 (copies of a text share a
    row; an ad key missing from ``row_of`` has a text too short to link).
    ``component_of`` maps the ad key of every text linked to another distinct text to
    its *template component*: the smallest ad key of its connected component of links,
    before chaining control cuts it into micro-clusters (an ad can link to a neighbour
    and still stand alone, so a new link can re-cut a whole component)."""

    def __init__(self) -> None:
        self.row_of: dict[str, int] = {}
        self.keys: NDArray[np.uint64] = np.zeros((0, 0), dtype=_U64)
        self.component_of: dict[str, str] = {}

    def of(self, ad_key: str) -> NDArray[np.uint64] | None:
        """The band keys of one ad, shape (bands,), or None (too short to link)."""
        row = self.row_of.get(ad_key)
        return None if row is None else self.keys[row]


def band_key_matrix(
    texts: Sequence[str], params: TemplateParams = DEFAULT_PARAMS
) -> tuple[NDArray[np.bool_], NDArray[np.uint64]]:
    """:func:`band_keys` of many texts as arrays: ``(eligible, keys)``, shapes (n,) and
    (n, bands) uint64; rows of texts too short to link are 0. Batched as :func:`cluster`."""
    eligible = np.zeros(len(texts), dtype=bool)
    keys = np.zeros((len(texts), params.bands), dtype=_U64)
    for at in range(0, len(texts), _BATCH):
        a = _analyze_batch(list(texts[at : at + _BATCH]), params.ngram)
        ok = np.flatnonzero(_eligible(a, params))
        eligible[at + ok] = True
        keys[at + ok] = _band_ints(_signatures(a.shingles, ok, params), params)
    return eligible, keys


def cluster(
    items: Iterable[tuple[str, str]],
    params: TemplateParams = DEFAULT_PARAMS,
    *,
    keys_out: BandKeyTable | None = None,
    cuts: BucketCuts | None = None,
) -> dict[str, str | None]:
    """Template micro-clusters of ``(ad_key, masked_text)`` items, in one batch.

    Returns ad key -> cluster id, the smallest ad key of its micro-cluster, or None for
    an ad alone. The same items in any order give the same dict (ids included): links
    are a function of the pair and its buckets, copies are one node, and the cut of a
    component into micro-clusters depends only on its texts and links, which is what
    lets :mod:`adsentry.link.incremental` relink a part. ``items`` may be a generator
    (read once, 2,048 at a time, up to two batches ahead of the one being filed: see
    :func:`_prepared`). Raises ValueError on a repeated ad key. ``keys_out``, when given,
    is filled with the band keys of every item (no second MinHash pass).
    ``cuts``: the hub cuts of the LSH buckets (:func:`bucket_cuts`) when the items are
    part of a larger linked set (incremental linking); by default they are computed
    over the items.

    Steps: texts with the same words and symbols are one node (copies, linked with
    similarity 1); MinHash signatures of the nodes' shingles; the pairs of nodes that
    share an LSH band key are candidates (in a bucket of more than ``bucket_hubs``
    distinct texts, only the pairs with one of its hubs); a candidate pair links when
    :func:`similarity` >= ``threshold``; connected components of the links (scipy);
    each component cut into stars around medoids (chaining control).
    """
    uid_of: dict[int, int] = {}
    seen: set[str] = set()
    members: list[list[str]] = []
    table = _FeatureTable()
    eligible_parts: list[NDArray[np.bool_]] = []
    band_parts: list[NDArray[np.uint64]] = []
    uid_parts: list[NDArray[np.int64]] = []
    prepared = _prepared(items, params)
    try:
        for batch, a, batch_keys in prepared:
            new: list[int] = []
            for i, ((key, _), ck) in enumerate(zip(batch, a.copy_keys, strict=True)):
                if key in seen:
                    raise ValueError(f"repeated ad key {key!r}")
                seen.add(key)
                uid = uid_of.get(ck)
                if uid is None:
                    uid = uid_of[ck] = len(members)
                    members.append([])
                    new.append(i)
                members[uid].append(key)
            rows = np.asarray(new, dtype=np.int64)
            table.append(a, rows)
            ok = _eligible(a, params)[rows]
            eligible_parts.append(ok)
            first_uid = len(members) - len(rows)
            uid_parts.append(first_uid + np.flatnonzero(ok))
            band_parts.append(batch_keys[rows[ok]])
    finally:  # on an error too: the helper process ends now, not when collected
        prepared.close()
    del uid_of, seen
    table.freeze()
    n = len(members)
    eligible = np.concatenate(eligible_parts) if eligible_parts else np.zeros(0, bool)
    keys = np.concatenate(band_parts) if band_parts else np.zeros((0, params.bands), _U64)
    uids = np.concatenate(uid_parts) if uid_parts else np.zeros(0, np.int64)
    codes = _candidates(keys, cuts, params)
    if keys_out is not None:
        keys_out.keys = keys
        keys_out.row_of = {k: row for row, u in enumerate(uids.tolist()) for k in members[u]}
    del keys
    edges, sims = _links(codes, uids, table, params)
    del codes
    if keys_out is not None:
        keys_out.component_of = _component_ids(n, edges, members)
    return _partition(n, edges, sims, members, eligible.tolist(), table, params)


def _component_ids(
    n: int, edges: NDArray[np.int64], members: Sequence[list[str]]
) -> dict[str, str]:
    """Ad key -> smallest ad key of its link component, for components of 2+ texts."""
    labels = _components(n, edges).tolist()
    first: dict[int, str] = {}
    size: dict[int, int] = {}
    for u, lab in enumerate(labels):
        size[lab] = size.get(lab, 0) + 1
        low = min(members[u])
        if lab not in first or low < first[lab]:
            first[lab] = low
    return {k: first[lab] for u, lab in enumerate(labels) if size[lab] > 1 for k in members[u]}


def _partition(
    n: int,
    edges: NDArray[np.int64],
    esims: NDArray[np.float64],
    members: Sequence[list[str]],
    eligible: Sequence[bool],
    feat: Callable[[int], Features],
    params: TemplateParams,
) -> dict[str, str | None]:
    """Ad key -> cluster id from the links between distinct texts (shared by both paths)."""
    labels = _components(n, edges).tolist()
    mult = [len(m) for m in members]
    first_key = [min(m) for m in members]
    nodes_of: dict[int, list[int]] = {}
    for u, lab in enumerate(labels):
        nodes_of.setdefault(lab, []).append(u)
    edges_of: dict[int, list[Edge]] = {}
    for (u, v), s in zip(edges.tolist(), esims.tolist(), strict=True):
        edges_of.setdefault(labels[u], []).append((u, v, s))
    clusters: list[list[int]] = []
    for lab, nodes in nodes_of.items():
        if len(nodes) == 1:
            clusters.append(nodes)
        else:
            clusters.extend(
                _split(nodes, edges_of[lab], mult.__getitem__, first_key.__getitem__, feat, params)
            )
    result = _label(clusters, members)
    for u in range(n):
        if not eligible[u]:  # too short to link, not even to its own copies
            for k in members[u]:
                result[k] = None
    return result


# --------------------------------------------------------------------------------------
# templates: the shared text and its slots
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Slot:
    """A run of tokens that varies across the members of a template.

    ``spans[i]`` is the character span ``[start, end)`` the slot covers in member
    ``i``'s text (empty, ``start == end``, where that member has nothing there) and
    ``values[i]`` that text. ``rep_tokens`` is the range of the representative's
    tokens the slot replaces (empty for text that only other members insert).
    """

    spans: tuple[tuple[int, int], ...]
    values: tuple[str, ...]
    rep_tokens: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Template:
    """The shared text of a micro-cluster with its slots marked.

    ``texts``: the members, in the order given. ``representative``: the index of the
    medoid (the member with the largest sum of token-sequence similarity to the others).
    ``text``: the representative's text with each slot replaced by ``[SLOT1]``,
    ``[SLOT2]``, ... ``slots``: in text order. ``coverage``: the share of the
    representative's tokens that every member has (aligned as equal), in [0, 1].
    """

    texts: tuple[str, ...]
    representative: int
    text: str
    slots: tuple[Slot, ...]
    coverage: float


def _medoid(seqs: Sequence[list[str]]) -> int:
    n = len(seqs)
    if n <= 2:
        return 0
    total = [0.0] * n
    for i in range(n):
        for j in range(i + 1, n):
            s = Levenshtein.normalized_similarity(seqs[i], seqs[j])
            total[i] += s
            total[j] += s
    return max(range(n), key=lambda i: (round(total[i], 9), -i))


def build_template(texts: Sequence[str]) -> Template:
    """Align the members of a micro-cluster and mark what varies.

    InfoShield-style (Lee et al., ICDE 2021; TKDD 2023): every member's tokens
    (:func:`tokenize`) are aligned with the representative's by a token-level
    Levenshtein alignment (rapidfuzz opcodes). A representative token is constant when
    every member aligns an equal token to it; a slot is a maximal run of representative
    positions (tokens, and the gaps between them where some member inserts tokens) that
    are not constant. Two slots are always separated by a constant token, so each
    member's slot span runs from the end of the constant token before it to the start of
    the one after it, trimmed to the member's own tokens. Cost: O(n**2) sequence
    similarities for the medoid plus n alignments. Raises ValueError on no texts.
    """
    if not texts:
        raise ValueError("a template needs at least one text")
    toks = [tokenize(t) for t in texts]
    seqs = [[t.text for t in ts] for ts in toks]
    rep = _medoid(seqs)
    n_rep = len(seqs[rep])
    varying_tok = [False] * n_rep
    varying_gap = [False] * (n_rep + 1)
    # aligned[i][k]: index of member i's token equal to representative token k, or -1
    aligned: list[list[int]] = []
    for seq in seqs:
        pos = [-1] * n_rep
        for op in Levenshtein.opcodes(seqs[rep], seq):
            if op.tag == "equal":
                for d in range(op.src_end - op.src_start):
                    pos[op.src_start + d] = op.dest_start + d
            elif op.tag == "insert":
                varying_gap[op.src_start] = True
            else:  # replace, delete
                for k in range(op.src_start, op.src_end):
                    varying_tok[k] = True
        aligned.append(pos)
    # constant tokens cut the representative into segments; a segment is a slot when
    # it has tokens (all of them vary) or some member inserts tokens in it
    constant = [k for k in range(n_rep) if not varying_tok[k]]
    bounds = [-1, *constant, n_rep]
    runs = [
        (c1 + 1, c2)
        for c1, c2 in itertools.pairwise(bounds)
        if c2 > c1 + 1 or any(varying_gap[c1 + 1 : c2 + 1])
    ]
    slots = []
    for a, b in runs:
        spans = []
        for ts, pos, text in zip(toks, aligned, texts, strict=True):
            lo = pos[a - 1] + 1 if a > 0 else 0  # after the constant token before
            hi = pos[b] if b < n_rep else len(ts)  # up to the constant token after
            if hi > lo:
                spans.append((ts[lo].start, ts[hi - 1].end))
            else:
                p = ts[lo - 1].end if lo > 0 else (ts[hi].start if hi < len(ts) else len(text))
                spans.append((p, p))
        slots.append(
            Slot(
                tuple(spans), tuple(t[s:e] for t, (s, e) in zip(texts, spans, strict=True)), (a, b)
            )
        )
    rep_text = texts[rep]
    parts, at = [], 0
    for number, slot in enumerate(slots, start=1):
        s, e = slot.spans[rep]
        parts.append(rep_text[at:s])
        parts.append(f"[SLOT{number}]")
        at = e
    parts.append(rep_text[at:])
    return Template(
        texts=tuple(texts),
        representative=rep,
        text="".join(parts),
        slots=tuple(slots),
        coverage=len(constant) / n_rep if n_rep else 0.0,
    )
