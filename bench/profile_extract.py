"""Per-part CPU cost of extraction on the real corpus (µs per ad), for bench/RESULTS.md.

Each ad gets one ExtractionContext; the four normalized views and the phone region are
computed first and timed apart, then every registered extractor is timed on its own.
The extractors' memos of fields seen before are emptied after the warm-up, so a field
counts as new unless the corpus itself repeats it (reposts).

Usage: python bench/profile_extract.py [CORPUS.jsonl]
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

from adsentry.extract import EXTRACTORS, _load_builtin, extract_all
from adsentry.extract.context import ExtractionContext, clear_memos
from adsentry.io.readers import AdReader, Rejected
from adsentry.model import TEXT_FIELDS

REAL = Path(__file__).resolve().parents[2] / "shared/data/backpage-ca-2017/ads.jsonl"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else REAL
    _load_builtin()
    ads = [a for a in AdReader(path) if not isinstance(a, Rejected)]
    for ad in ads[:200]:  # warm the lazily loaded tables and caches
        extract_all(ad)
    clear_memos()  # but see each ad's fields for the first time (repeats in it still hit)
    cost: dict[str, float] = defaultdict(float)
    t0 = time.process_time()
    for ad in ads:
        ctx = ExtractionContext(ad)
        t = time.process_time()
        for field in TEXT_FIELDS:
            ctx.view(field)
        cost["normalize (4 fields)"] += time.process_time() - t
        t = time.process_time()
        ctx.phone_region()
        cost["phone region"] += time.process_time() - t
        for name, fn in EXTRACTORS.items():
            t = time.process_time()
            fn(ctx)
            cost[name] += time.process_time() - t
    total = time.process_time() - t0
    for part, seconds in sorted(cost.items(), key=lambda kv: -kv[1]):
        print(f"{part:22} {seconds / len(ads) * 1e6:8.1f} us/ad")
    print(f"total {total / len(ads) * 1e6:.1f} us/ad -> {len(ads) / total:,.0f} ads/s (CPU)")


if __name__ == "__main__":
    main()
