"""Template micro-clusters: tokens, shingles, similarity, LSH keys, clusters, templates."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import numpy as np
import pytest
import xxhash
from datasketch import LeanMinHash, MinHash, MinHashLSH
from hypothesis import given
from hypothesis import strategies as st

from adsentry.link.templates import (
    DEFAULT_PARAMS,
    BandKeyTable,
    TemplateParams,
    _analyze_batch,
    _band_pairs,
    _permutations,
    band_keys,
    bucket_cuts,
    build_template,
    cluster,
    features,
    hub_hashes,
    in_sorted,
    shingles,
    signature,
    similarity,
    tokenize,
)
from adsentry.pipeline import default_workers

# Ads written for these tests: one template each in English, Danish and Spanish, with
# the name, the age and the city as the slots.
EN = (
    "💋 NEW IN TOWN 💋 Sexy {name} is here\n"
    "Hi gentlemen, my name is {name} and I am {age} years old, visiting {city} this week "
    "only. I am 5'4, 120 lbs, 34C, 100% real pics, no rush, no games. Incall and outcall "
    "available 24/7 🌹 Rates: 150 half hour, 250 hour. Text me at [PHONE] and tell me "
    "what you like 😘"
)
DA = (
    "💋 NY PIGE I BYEN 💋 Søde {name} er her\n"
    "Hej søde mand, jeg hedder {name} og er {age} år gammel, og jeg er i {city} hele "
    "ugen. Jeg er 165 cm, 55 kg, 100% ægte billeder, ingen stress. Jeg tager imod hjemme "
    "og kommer også ud til dig 🌹 Priser: 1000 kr halv time, 1500 kr time. Skriv til mig "
    "på [PHONE] og fortæl hvad du kan lide 😘"
)
ES = (
    "💋 CHICA NUEVA 💋 Hermosa {name} está aquí\n"
    "Hola papi, me llamo {name} y tengo {age} años, estoy en {city} solo esta semana. "
    "Mido 1.60, peso 55 kilos, fotos 100% reales, sin prisa. Servicio en mi depa o a "
    "domicilio 🌹 Tarifas: 100 media hora, 180 la hora. Mándame mensaje al [PHONE] y "
    "dime qué te gusta 😘"
)
FILLS = {
    "en": [("Anna", "22", "San Diego"), ("Jessica", "25", "Riverside")],
    "da": [("Sofie", "23", "København"), ("Camilla", "27", "Aarhus")],
    "es": [("Valentina", "21", "Santa Ana"), ("Camila", "24", "Pomona")],
}
TEMPLATES = {"en": EN, "da": DA, "es": ES}

UNRELATED = [
    "Sweet Asian girl, body to body massage, open 10am to 10pm daily. Walk ins welcome.",
    "Looking for a generous gentleman tonight, upscale and discreet, hotel friendly ✨",
    "Grand opening!!! New spa with new staff, table shower, free parking in the back.",
]


def ads(lang: str) -> list[str]:
    return [TEMPLATES[lang].format(name=n, age=a, city=c) for n, a, c in FILLS[lang]]


def slot_spans(text: str, fill: tuple[str, str, str]) -> list[tuple[int, int]]:
    """Spans of the name (its second occurrence: the first is in the title), the age and
    the city in one ad, found by hand."""
    name, age, city = fill
    body = text.index("\n")
    spans = [(text.index(name), text.index(name) + len(name))]
    second = text.index(name, body)
    spans.append((second, second + len(name)))
    at = text.index(f" {age} ", body) + 1
    spans.append((at, at + len(age)))
    at = text.index(city, body)
    spans.append((at, at + len(city)))
    return spans


# --------------------------------------------------------------------------------------
# tokens and shingles
# --------------------------------------------------------------------------------------


def test_tokens_keep_digits_emoji_and_scripts_with_spans() -> None:
    text = "𝐇𝐎𝐓 Søde ①② 💋💋 💋! años [PHONE]"
    toks = tokenize(text)
    assert [t.text for t in toks] == ["hot", "søde", "12", "💋", "años", "[phone]"]
    assert [text[t.start : t.end] for t in toks] == [
        "𝐇𝐎𝐓",
        "Søde",
        "①②",
        "💋💋 💋",  # a run of one symbol is one token
        "años",
        "[PHONE]",
    ]


def test_shingles_keep_digits_and_emoji_and_drop_masks() -> None:
    sh = shingles("💋 Sexy Anna 22 is here, call [PHONE] now 😘")
    assert sh == {
        "💋 sexy",
        "sexy anna",
        "anna 22",
        "22 is",
        "is here",
        "here call",
        "call now",
        "now 😘",
    }
    assert shingles("Hi") == {"hi"}
    assert shingles("[PHONE] !!!") == set()
    # what MinHash sketches is one hash per shingle string
    text = EN.format(name="Anna", age="22", city="San Diego")
    a = _analyze_batch([text], DEFAULT_PARAMS.ngram)
    assert len(a.shingles.row(0)) == len(shingles(text))


def test_a_shared_phone_does_not_count() -> None:
    a, b = ads("en")
    assert similarity(a, b) == similarity(a.replace("[PHONE]", ""), b.replace("[PHONE]", ""))
    for x, y in zip(features("call me [PHONE]"), features("call me [EMAIL]"), strict=True):
        assert np.array_equal(x, y)


# --------------------------------------------------------------------------------------
# similarity
# --------------------------------------------------------------------------------------


def test_similarity_by_hand() -> None:
    # terms {sweet, anna|jessica, 22, new, in, town}: J = 5/7; names differ on both
    # sides (dN = 2), the digit term 22 is shared (sD = 1, dD = 0):
    # 1 - (2/7) * (1 + 1.0 * 2) / (1 + 0.2 * 1) = 1 - 5/7 = 0.2857...
    s = similarity("Sweet Anna, 22, new in town", "Sweet Jessica, 22, new in town")
    assert s == pytest.approx(2 / 7)
    # without the name change the same edit distance is a near copy
    assert similarity("Sweet Anna, 22, new in town", "Sweet Anna, 22, new in city") == (
        pytest.approx(1 - (2 / 7) / 1.2)
    )
    assert similarity("Anna 22", "Anna 22") == 1.0
    assert similarity("", "Anna 22") == 0.0


def test_one_template_with_other_names_ages_cities_links() -> None:
    for lang in TEMPLATES:
        a, b = ads(lang)
        assert similarity(a, b) >= DEFAULT_PARAMS.threshold, lang


def test_unrelated_ads_do_not_link() -> None:
    for x, y in itertools.combinations(UNRELATED + ads("en")[:1], 2):
        assert similarity(x, y) < 0.3


# --------------------------------------------------------------------------------------
# MinHash and LSH keys
# --------------------------------------------------------------------------------------


def test_signature_and_band_keys_are_datasketchs() -> None:
    text = ads("en")[0]
    params = DEFAULT_PARAMS
    a = _analyze_batch([text], params.ngram)
    m = MinHash(num_perm=params.num_perm, seed=params.seed, hashfunc=int)
    m.update_batch(a.shingles.row(0).tolist())
    sig = signature(text)
    assert sig.shape == (params.num_perm,)
    assert np.array_equal(_permutations(params.num_perm, params.seed), m.permutations)
    assert np.array_equal(sig, m.hashvalues)
    lsh = MinHashLSH(
        num_perm=params.num_perm,
        params=(params.bands, params.rows),
        hashfunc=xxhash.xxh3_64_digest,
    )
    lsh.insert("ad", LeanMinHash(m))
    keys = band_keys(text)
    assert [b for b, _ in keys] == list(range(params.bands))
    assert [k for _, k in keys] == list(lsh.keys["ad"])
    assert band_keys("hi there") == []  # too short to link: not indexed


# --------------------------------------------------------------------------------------
# micro-clusters
# --------------------------------------------------------------------------------------


def corpus() -> list[tuple[str, str]]:
    items = [(f"{lang}{i}", t) for lang in TEMPLATES for i, t in enumerate(ads(lang))]
    items += [(f"x{i}", t) for i, t in enumerate(UNRELATED)]
    items += [("copy", UNRELATED[0]), ("short1", "hi [PHONE]"), ("short2", "hi [PHONE]")]
    return items


def test_cluster_by_template_and_language() -> None:
    got = cluster(corpus())
    assert got == {
        "en0": "en0",
        "en1": "en0",
        "da0": "da0",
        "da1": "da0",
        "es0": "es0",
        "es1": "es0",
        "x0": "copy",  # an exact copy; the id is the smallest key of the cluster
        "copy": "copy",
        "x1": None,
        "x2": None,
        "short1": None,  # too short to link, not even to its copy
        "short2": None,
    }


def test_cluster_is_the_same_in_any_order() -> None:
    items = corpus()
    # a third member whose text only the other members' links reach
    items.append(("en2", EN.format(name="Lucia", age="29", city="Oceanside")))
    want = cluster(items)
    assert want["en2"] == "en0"
    for seed in range(5):
        order = items[:]
        random.Random(seed).shuffle(order)
        assert cluster(order) == want


# --------------------------------------------------------------------------------------
# hubs: the pairs of a bucket of many near copies
# --------------------------------------------------------------------------------------


def test_bucket_cut_is_the_kth_smallest_distinct_hub_hash() -> None:
    # one band; bucket 7 holds hub hashes 50, 10, 40, 10 (a copy), 30, 20: five
    # distinct values, so with 3 hubs its cut is the 3rd smallest, 30; bucket 9 holds
    # three distinct values, no more than 3: no cut
    keys = np.array([[7], [7], [7], [7], [7], [7], [9], [9], [9]], dtype=np.uint64)
    hubs = np.array([50, 10, 40, 10, 30, 20, 5, 6, 7], dtype=np.uint64)
    cuts = bucket_cuts(keys, hubs, TemplateParams(bucket_hubs=3))
    assert cuts.keys[0].tolist() == [7] and cuts.cuts[0].tolist() == [30]
    got = cuts.of(0, np.array([9, 7, 8], dtype=np.uint64)).tolist()
    assert got == [2**64 - 1, 30, 2**64 - 1]
    # only the buckets asked for
    assert (
        bucket_cuts(keys, hubs, TemplateParams(bucket_hubs=3), [np.array([9], np.uint64)])[1][
            0
        ].tolist()
        == []
    )


def test_a_cut_bucket_pairs_every_text_with_the_hubs_only() -> None:
    keys = np.array([7, 7, 7, 7, 7, 7, 9, 9, 9], dtype=np.uint64)
    hubs = np.array([50, 10, 40, 11, 30, 20, 5, 6, 7], dtype=np.uint64)
    cuts = bucket_cuts(keys[:, None], hubs, TemplateParams(bucket_hubs=3))
    got = {tuple(p) for p in _band_pairs(keys, hubs, cuts, 0).tolist()}
    # bucket 7: hubs are the rows with hashes 10, 11, 20 (rows 1, 3, 5), each paired
    # with every other row of the bucket; rows 0, 2, 4 (50, 40, 30) not with each other
    want = {(i, j) for i in range(6) for j in range(i + 1, 6) if {i, j} & {1, 3, 5}}
    want |= {(6, 7), (6, 8), (7, 8)}  # bucket 9: every pair
    assert got == want and len(want) == 12 + 3
    assert (
        hub_hashes(np.array([[1, 2], [1, 2], [2, 1]], dtype=np.uint64)).tolist()[:2]
        == [hub_hashes(np.array([[1, 2]], dtype=np.uint64))[0]] * 2
    )


def test_hubs_keep_a_family_of_near_copies_together() -> None:
    """60 ads from one template with other names, ages and cities: with 4 hubs a
    bucket they fall in the same micro-cluster as with every pair enumerated."""
    names = ["Anna", "Mia", "Ava", "Lily", "Rosa", "Ivy", "Zoe", "Lea", "Kim", "Eva"]
    cities = ["San Diego", "Riverside", "Pomona", "Oceanside", "Fresno", "Irvine"]
    items = [
        (f"f{i:02d}", EN.format(name=names[i % 10], age=str(19 + i % 7), city=cities[i % 6]))
        for i in range(60)
    ]
    items += [(f"u{i}", t) for i, t in enumerate(UNRELATED)]
    every = cluster(items, TemplateParams(bucket_hubs=10_000))
    assert {every[f"f{i:02d}"] for i in range(60)} == {"f00"}
    assert cluster(items, TemplateParams(bucket_hubs=4)) == every


def letters(i: int) -> str:
    return chr(97 + i // 26) + chr(97 + i % 26)


def test_chaining_is_cut_at_the_medoid() -> None:
    # ad k has its first 5k words rewritten: neighbours share 35 of 45 words (J 0.78),
    # ads k apart (40 - 5k) of (40 + 5k); single link would chain all eight
    chain = []
    for k in range(8):
        words = [("new" if j < 5 * k else "old") + letters(j) for j in range(40)]
        chain.append((f"c{k}", " ".join(words)))
    params = TemplateParams(threshold=0.6, medoid_threshold=0.6)
    assert similarity(chain[0][1], chain[1][1], params) == pytest.approx(35 / 45)
    chained = cluster(chain, TemplateParams(threshold=0.6, medoid_threshold=0.0))
    assert set(chained.values()) == {"c0"}
    # links: ads at most 2 apart (J >= 0.6). Link sums: c2..c5 have 2 * 7/9 + 2 * 0.6,
    # the most; the tie goes to the smallest key, c2, which keeps c0..c4 (at most 2
    # apart); the rest c5, c6, c7 is one star around c6
    got = cluster(chain, params)
    assert got == {**{f"c{k}": "c0" for k in range(5)}, **{f"c{k}": "c5" for k in range(5, 8)}}
    assert cluster(reversed(chain), params) == got


def test_repeated_key_is_an_error() -> None:
    with pytest.raises(ValueError):
        cluster([("a", "one two three"), ("a", "four five six")])


# --------------------------------------------------------------------------------------
# templates
# --------------------------------------------------------------------------------------


def test_template_slots_are_exactly_the_names_ages_cities() -> None:
    for lang in TEMPLATES:
        texts = ads(lang)
        t = build_template(texts)
        assert t.representative == 0
        spans = [slot_spans(text, fill) for text, fill in zip(texts, FILLS[lang], strict=True)]
        assert [list(s.spans) for s in t.slots] == [list(x) for x in zip(*spans, strict=True)], lang
        name, age, city = FILLS[lang][0]
        assert [s.values[0] for s in t.slots] == [name, name, age, city]
        title_marked = TEMPLATES[lang].replace("{name}", "[SLOT1]", 1)
        assert t.text == title_marked.format(name="[SLOT2]", age="[SLOT3]", city="[SLOT4]")
        assert 0.8 < t.coverage < 1.0


def test_template_of_copies_and_insertions() -> None:
    t = build_template(["Call Anna now", "Call Anna now"])
    assert t.slots == () and t.coverage == 1.0 and t.text == "Call Anna now"
    t = build_template(["Call Anna now", "Call now", "Call Anna Lee now"])
    assert t.representative == 0
    (slot,) = t.slots
    assert slot.values == ("Anna", "", "Anna Lee")
    assert slot.spans == ((5, 9), (4, 4), (5, 13))
    assert t.text == "Call [SLOT1] now"
    with pytest.raises(ValueError):
        build_template([])


@given(
    st.lists(st.integers(0, 50), max_size=60),
    st.lists(st.integers(0, 50), max_size=20),
)
def test_in_sorted_is_isin(values: list[int], members: list[int]) -> None:
    v = np.asarray(values, dtype=np.uint64)
    m = np.unique(np.asarray(members, dtype=np.uint64))
    assert in_sorted(v, m).tolist() == np.isin(v, m).tolist()


# --------------------------------------------------------------------------------------
# the helper process that analyzes half of each batch
# --------------------------------------------------------------------------------------


def many_items() -> list[tuple[str, str]]:
    """212 ads: each template filled 60 ways, copies of some of them under other
    keys, the unrelated ads and the short ones, in a shuffled order (so that copies of
    one text fall in both halves of a batch)."""
    names = ["Anna", "Mia", "Lola", "Sofie", "Camila", "Jade", "Ruby", "Nina", "Zoe", "Ivy"]
    cities = ["San Diego", "Riverside", "Aarhus", "Pomona", "Odense", "Fresno"]
    items = [
        (f"{lang}-t{i}", TEMPLATES[lang].format(name=names[i % 10], age=20 + i % 7, city=c))
        for lang in TEMPLATES
        for i in range(60)
        for c in [cities[i % 6]]
    ]
    items += [(f"dup{k}", text) for k, (_, text) in enumerate(items[::9])]
    items += corpus()
    random.Random(3).shuffle(items)
    return items


@pytest.mark.skipif(default_workers() < 2, reason="the helper process needs two cores")
def test_the_helper_process_gives_the_same_clusters(monkeypatch: pytest.MonkeyPatch) -> None:
    from adsentry.link import templates

    items = many_items()
    assert len(items) == 212
    monkeypatch.setattr(templates, "HELPER_MIN_TEXTS", 10**9)
    alone_keys = BandKeyTable()
    alone = cluster(items, keys_out=alone_keys)
    assert [len(b) for b, _, _ in templates._prepared(iter(items), DEFAULT_PARAMS)] == [212]
    monkeypatch.setattr(templates, "HELPER_MIN_TEXTS", 100)
    assert [len(b) for b, _, _ in templates._prepared(iter(items), DEFAULT_PARAMS)] == [106, 106]
    helped_keys = BandKeyTable()
    helped = cluster(items, keys_out=helped_keys)
    assert helped == alone
    assert helped_keys.row_of == alone_keys.row_of
    assert helped_keys.component_of == alone_keys.component_of
    assert np.array_equal(helped_keys.keys, alone_keys.keys)
    # an error ends the helper at once, not when the generator is collected
    import multiprocessing

    with pytest.raises(ValueError, match="repeated ad key"):
        cluster(items + items[:1])
    assert multiprocessing.active_children() == []
    # every template's 60 fills form micro-clusters of that template only
    for lang in TEMPLATES:
        labels = {helped[f"{lang}-t{i}"] for i in range(60)}
        assert None not in labels
        assert all(lab.startswith(lang) or lab.startswith("dup") for lab in labels)


@pytest.mark.skipif(default_workers() < 2, reason="the helper process needs two cores")
@pytest.mark.parametrize("when", ["while reading", "after reading"])
def test_a_helper_killed_is_replaced_by_this_process(
    when: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The helper is killed (SIGKILL, as the OOM killer would) while cluster() reads
    its input, or once it has read it all: one warning, the same clusters, no child
    left."""
    import multiprocessing
    import os
    import signal
    import time

    from adsentry.link import templates

    items = [
        (f"{k}-{n}", f"{text} ref{n}")
        for n in range(25)
        for k, text in many_items()
        if not k.startswith("short")
    ]
    assert len(items) == 5_250  # three batches: 2,048, 2,048 and 1,154
    monkeypatch.setattr(templates, "HELPER_MIN_TEXTS", 10**9)
    want = cluster(items)
    monkeypatch.setattr(templates, "HELPER_MIN_TEXTS", 2_048)

    def kill_helper() -> None:
        helpers = multiprocessing.active_children()
        assert len(helpers) == 1
        os.kill(helpers[0].pid, signal.SIGKILL)
        time.sleep(0.3)  # for the pool to see it

    def read() -> Iterator[tuple[str, str]]:
        for i, item in enumerate(items):
            if when == "while reading" and i == 3_000:
                kill_helper()
            yield item
        if when == "after reading":
            kill_helper()

    with caplog.at_level("WARNING", logger="adsentry.link.templates"):
        assert cluster(read()) == want
    assert [r.getMessage() for r in caplog.records] == [
        "template analysis: the helper process died; going on alone"
    ]
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("how", ["submit", "result"])
def test_a_dead_helper_pool_is_replaced_by_this_process(how: str) -> None:
    """In a pure-Python process (where the helper pool can be swapped for one whose
    helper is dead, raising at submit or at the result), cluster() logs one warning and
    finishes alone, with the same result."""
    import json
    import subprocess
    import sys

    code = """
import json, logging, sys
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from adsentry.link import templates

class Dead:
    def __enter__(self): return self
    def __exit__(self, *exc): return None
    def submit(self, fn, *args):
        if sys.argv[1] == "submit":
            raise BrokenProcessPool("gone")
        f = Future(); f.set_exception(BrokenProcessPool("gone")); return f

items = [tuple(i) for i in json.load(sys.stdin)]
templates.HELPER_MIN_TEXTS = 10**9
want = templates.cluster(items)
templates.HELPER_MIN_TEXTS = 100
templates._helper_pool = lambda: Dead()
seen = []
logging.getLogger("adsentry.link.templates").addHandler(
    type("H", (logging.Handler,), {"emit": lambda self, r: seen.append(r.getMessage())})())
got = templates.cluster(items)
print(got == want, seen)
"""
    env = {**__import__("os").environ, "ADSENTRY_PURE_PYTHON": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code, how],
        input=json.dumps(many_items()),
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert out.strip() == "True ['template analysis: the helper process died; going on alone']"
