"""Benchmark: extraction time of long ads, by what they repeat (issue: extraction that
survives obfuscation; the screening API takes ads up to 1 MB).

A key holder of the screening API can send an ad of up to 1 MB, and a scraped dump can
hold one. Every extractor must stay linear in such an ad: a step that checks each
candidate against everything found before it turns a 140 KB ad into a minute of work
in a screening process. For each kind of content below, an ad of that content repeated
is extracted at doubling sizes; the figure to watch is the growth per doubling (about 2
when linear, 4 when quadratic).

Usage: python bench/bench_long_ads.py [--sizes 1000,2000,4000,8000]
"""

from __future__ import annotations

import argparse
import random
import string
import time
from collections.abc import Callable
from itertools import pairwise

from adsentry.extract import extract_all
from adsentry.io.readers import ad_from_record


def _word(rng: random.Random, k: int) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(k))


#: One repeat of each kind of content (the seeded generator makes every repeat differ).
KINDS: dict[str, Callable[[random.Random], str]] = {
    "phones": lambda r: f"call {r.randint(200, 999)} 555 {r.randint(1000, 9999)} now.",
    "spelled digits": lambda r: (
        f"six one nine five five five oh one four two, seis {r.randint(0, 9)}"
    ),
    "digit runs": lambda r: " ".join(str(r.randint(0, 9)) for _ in range(12)),
    "emails": lambda r: f"mail {_word(r, 6)}@{_word(r, 5)}.com or {_word(r, 5)} at gmail dot com,",
    "handles": lambda r: (
        f"IG: @{_word(r, 7)}_{_word(r, 3)} snap {_word(r, 6)} kik me {_word(r, 5)}."
    ),
    "prices": lambda r: (
        f"qv {r.randint(60, 90)} hh {r.randint(100, 160)} hr ${r.randint(180, 300)} 34D-24-36 5'4\""
    ),
    "ages": lambda r: f"{r.randint(19, 29)}yo twenty-two 19 años 22 år",
    "names": lambda r: (
        f"Hi my name is {r.choice(['Mia', 'Candy', 'Jade'])} ask for {r.choice(['Ana', 'Kim'])}."
    ),
    "places": lambda r: (
        f"in {r.choice(['San Diego', 'LA', 'OC', 'Fresno'])} near {r.choice(['LAX', 'Irvine'])}"
    ),
}


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--sizes", default="1000,2000,4000,8000", help="Repeats per ad, comma-separated."
    )
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    extract_all(ad_from_record({"id": "warm", "body": "call 619 555 0142"}))  # load the tables
    print(
        f"{'content':16} "
        + " ".join(f"{'repeats ' + str(n):>22}" for n in sizes)
        + "  growth per doubling"
    )
    for name, make in KINDS.items():
        rng = random.Random(7)
        cells, times = [], []
        for n in sizes:
            body = " ".join(make(rng) for _ in range(n))
            ad = ad_from_record({"id": f"long-{name}-{n}", "title": "t", "body": body})
            started = time.perf_counter()
            extract_all(ad)
            took = time.perf_counter() - started
            times.append(took)
            cells.append(f"{len(body) / 1000:6.0f} KB {took:7.2f} s")
        growth = [b / a for a, b in pairwise(times) if a > 0]
        print(
            f"{name:16} "
            + " ".join(f"{c:>22}" for c in cells)
            + "  "
            + " ".join(f"{g:.1f}" for g in growth),
            flush=True,
        )


if __name__ == "__main__":
    main()
