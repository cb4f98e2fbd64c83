"""Benchmark of `adsentry analyze` (issue: the main job, end to end).

Prints, for the record in bench/RESULTS.md:
1. the real corpus (../shared/data/backpage-ca-2017/ads.jsonl) analyzed into a fresh
   database: ads read, stored, quarantined, wall time; then a second run, which must
   add nothing;
2. throughput on N demo ads (default 100,000) with 1 and 2 workers: ads/s and the peak
   resident memory of the analyze process (ru_maxrss of the child, workers included
   as the largest one).

Usage: python bench/bench_analyze.py [--demo-ads 100000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REAL = HERE.parent.parent / "shared" / "data" / "backpage-ca-2017" / "ads.jsonl"


# Runs the command in a fresh Python parent whose RUSAGE_CHILDREN covers this one run.
_WRAP = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[2:]); "
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
    "sys.exit(r.returncode)"
)


def run(cmd: list[str]) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS in MiB of its largest process)."""
    wall, rss, _ = run_capturing(cmd)
    return wall, rss


def run_capturing(cmd: list[str]) -> tuple[float, float, str]:
    """:func:`run` that also returns the command's stderr."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _WRAP, rss_file.name, *cmd], capture_output=True, text=True
        )
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
        return wall, int(open(rss_file.name).read()) / 1024, proc.stderr


def stats(db: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "adsentry.cli", "stats", "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


def analyze(files: list[Path], db: Path, workers: int) -> list[str]:
    return [sys.executable, "-m", "adsentry.cli", "analyze", *map(str, files),
            "--db", str(db), "--workers", str(workers)]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demo-ads", type=int, default=100_000)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="adsentry-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    if REAL.exists():
        db = work / "real.db"
        for p in work.glob("real.db*"):
            p.unlink()
        n_lines = sum(1 for line in REAL.open("rb") if line.strip())
        wall, rss = run(analyze([REAL], db, 2))
        s1 = stats(db)
        wall2, _ = run(analyze([REAL], db, 2))
        s2 = stats(db)
        print(f"real corpus: {n_lines} records in {REAL.name}")
        print(f"  first run : {wall:.1f} s, peak RSS {rss:.0f} MiB; stats {json.dumps(s1)}")
        print(f"  second run: {wall2:.1f} s; ads {s2['ads']} versions {s2['versions']} "
              f"quarantined {s2['quarantined']} (unchanged: {s1 == s2})")  # fmt: skip
    else:
        print(f"real corpus not found at {REAL}; skipped")

    from adsentry.demo import write_corpus

    ads_path, labels = work / "demo-ads.jsonl", work / "demo-labels.jsonl"
    t0 = time.perf_counter()
    n = write_corpus(ads_path, labels, args.demo_ads, seed=7)
    print(f"demo corpus: {n} ads generated in {time.perf_counter() - t0:.1f} s")
    for workers in (1, 2):
        db = work / f"demo-{workers}.db"
        for p in work.glob(f"demo-{workers}.db*"):
            p.unlink()
        wall, rss = run(analyze([ads_path], db, workers))
        s = stats(db)
        print(f"  analyze, {workers} worker(s): {wall:.1f} s, {n / wall:,.0f} ads/s, "
              f"peak RSS {rss:.0f} MiB, ads stored {s['ads']}")  # fmt: skip


if __name__ == "__main__":
    main()
