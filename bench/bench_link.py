"""Benchmark of linking (issue: networks, incremental): full relink and incremental runs.

For each size N of demo case database (seed 7, built once with `adsentry analyze` and
reused, as bench_screen.py does), prints:

1. the full link from the stored extractions (templates, generic identifiers,
   networks: :func:`adsentry.link.networks.relink` in a fresh process, imports
   included): wall time and peak RSS; then the scores of every ad and network
   (`adsentry rescore`'s work, :func:`adsentry.score.rescore`) the same way, which
   `adsentry relink` also does;
2. incremental linking: `adsentry analyze` of K new ads (reposts of stored ads under
   new ids, see :func:`reposts`) into a copy of the relinked database, for each K:
   wall time and peak RSS of the whole run (reading, per-ad stages, linking, scoring)
   and how many ads it relinked; for the largest K, whether a full relink of that
   database then gives the same `export networks` (it must);
3. one new ad linked in a warm process through the screening lookup
   (`adsentry.screen.Screener.screen`, 200 new ads one at a time after 20 to warm up):
   median and p95 milliseconds.

Usage: python bench/bench_link.py [--sizes 10000,100000] [--new 1,100,1000]
       [--workdir bench/.work] [--no-check] [--no-relink]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_analyze import run, run_capturing
from bench_screen import build_db

HERE = Path(__file__).resolve().parent


_LINK = (
    "import sys; from adsentry.store import open_store; "
    "from adsentry.link.networks import relink; print(relink(open_store(sys.argv[1])))"
)
_SCORE = (
    "import sys; from adsentry.store import open_store; "
    "from adsentry.score import ScoreSettings, rescore; "
    "print(rescore(open_store(sys.argv[1]), ScoreSettings()))"
)


def adsentry(*args: str) -> list[str]:
    return [sys.executable, "-m", "adsentry", *args]


def reposts(corpus: Path, path: Path, k: int) -> None:
    """Write ``k`` ads of ``corpus`` (evenly spread over it) to ``path`` as reposts: the
    same record under a new id (``repost-`` + id). Each lands in the network of the ad it
    copies, the worst case for incremental linking, which relinks every network a new
    ad touches."""
    lines = corpus.read_text(encoding="utf-8").splitlines()
    step = max(1, len(lines) // k)
    out = []
    for line in lines[::step][:k]:
        record = json.loads(line)
        record["id"] = f"repost-{record['id']}"
        out.append(json.dumps(record) + "\n")
    path.write_text("".join(out), encoding="utf-8")


def export(db: Path) -> str:
    return subprocess.run(
        adsentry("export", "networks", "--db", str(db)), capture_output=True, text=True, check=True
    ).stdout


def screening_latency(db: Path, n: int = 200) -> tuple[float, float, float]:
    """Build a Screener over ``db`` (seconds), then screen ``n`` new ads one by one:
    (build seconds, median ms, p95 ms)."""
    from adsentry.demo import generate
    from adsentry.io.readers import ad_from_record
    from adsentry.screen import Screener
    from adsentry.store import open_store

    store = open_store(db)
    t0 = time.perf_counter()
    screener = Screener(store)
    built = time.perf_counter() - t0
    ads = [ad_from_record({**r, "id": f"screen-{r['id']}"}) for r, _ in generate(n + 20, seed=123)]
    for ad in ads[:20]:
        screener.screen(ad)
    times = []
    for ad in ads[20:]:
        t = time.perf_counter()
        screener.screen(ad)
        times.append((time.perf_counter() - t) * 1000)
    store.close()
    times.sort()
    return built, statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--new", default="1,100,1000")
    parser.add_argument("--workdir", type=Path, default=HERE / ".work")
    parser.add_argument(
        "--no-check", action="store_true", help="skip the second full relink that checks"
    )
    parser.add_argument(
        "--no-relink",
        action="store_true",
        help="use the case database as analyze linked it (skip the timed full relink)",
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    ks = [int(k) for k in args.new.split(",")]
    for n in sizes:
        print(f"== {n:,} demo ads")
        base = build_db(args.workdir, n)
        linked = args.workdir / f"link-{n}.db"
        shutil.copy(base, linked)
        if not args.no_relink:
            wall, rss = run([sys.executable, "-c", _LINK, str(linked)])
            print(f"  full link from stored extractions: {wall:.1f} s, peak RSS {rss:.0f} MiB")
            wall, rss = run([sys.executable, "-c", _SCORE, str(linked)])
            print(f"  then scoring every ad and network: {wall:.1f} s, peak RSS {rss:.0f} MiB")
        for k in ks:
            db = args.workdir / f"link-{n}-plus-{k}.db"
            shutil.copy(linked, db)
            src = args.workdir / f"reposts-{n}-{k}.jsonl"
            reposts(args.workdir / f"demo-{n}.jsonl", src, k)
            cmd = adsentry("analyze", str(src), "--db", str(db), "--workers", "1")
            wall, rss, err = run_capturing(cmd)
            links = [line for line in err.splitlines() if line.startswith(("links", "relink"))]
            print(f"  analyze {k:,} new ads: {wall:.1f} s, peak RSS {rss:.0f} MiB")
            print(f"    {links[-1] if links else '(no link line)'}")
            if k == max(ks) and not args.no_check:
                before = export(db)
                subprocess.run(adsentry("relink", "--db", str(db)), capture_output=True, check=True)
                print(f"    same networks as a full relink: {before == export(db)}")
            db.unlink()
        built, p50, p95 = screening_latency(linked)
        print(
            f"  one new ad through the screening lookup (warm, 200 ads): median {p50:.1f} ms, "
            f"p95 {p95:.1f} ms (screener built in {built:.1f} s)"
        )


if __name__ == "__main__":
    main()
