"""Instructions per ad of the per-ad stages, counted by valgrind (a steady measure).

Wall time on a shared virtual machine drifts by a quarter within minutes, so a change
of a few per cent to extraction or to the indicators cannot be seen in
bench_extract.py's seconds. valgrind's callgrind tool counts the instructions a run
executes, the same to about 0.1 % from run to run. This benchmark counts three runs
of one Python process, in parallel:
1. start-up only: imports, and the tables loaded by ``Pipeline.warm_up``;
2. the same, then the extractors over ``--ads`` real and ``--ads`` demo ads;
3. the same, then extractors and indicators over those ads.
It prints instructions per ad for extraction and for the indicators (run minus
start-up, over the ads), and the start-up's own count. Ads: backpage-ca-2017 from
``--skip`` on (../shared/data), and seed-99 demo ads (adsentry.demo), so that each
ad is seen once (no memo answers for it). Instructions are not time: a cache miss
costs more than an addition. Use it to compare two versions of the code (run it with
``PYTHONPATH`` set to the other version's ``src``), and bench_extract.py for the
figures of the issue.

Needs valgrind (Debian: ``apt-get install valgrind``); the runs take about two minutes.

Usage: python bench/bench_instructions.py [--ads 300] [--skip 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REAL = HERE.parent.parent / "shared" / "data" / "backpage-ca-2017" / "ads.jsonl"

#: The process valgrind runs: argv[1] is a JSONL file of ads, argv[2] the stages.
DRIVER = """
import sys
from adsentry.extract import extract_all
from adsentry.io.readers import AdReader
from adsentry.pipeline import Pipeline, batch_gc

pipeline = Pipeline()
pipeline.warm_up()
ads = list(AdReader(sys.argv[1], source="bench"))
with batch_gc():
    if sys.argv[2] == "extract":
        for ad in ads:
            extract_all(ad)
    elif sys.argv[2] == "all":
        for ad in ads:
            pipeline(ad)
"""


def write_ads(path: Path, n: int, skip: int) -> int:
    """``n`` real ads from line ``skip`` on and ``n`` seed-99 demo ads, as JSONL; the
    number written."""
    from adsentry.demo import generate

    lines: list[str] = []
    if REAL.exists():
        with REAL.open(encoding="utf-8") as f:
            for k, line in enumerate(f):
                if k >= skip + n:
                    break
                if k >= skip:
                    lines.append(line.rstrip("\n"))
    else:
        print(f"note: {REAL} is missing; demo ads only", file=sys.stderr)
    lines += [json.dumps(record) for record, _ in generate(n, seed=99)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def count(ads: Path, stages: str, workdir: Path) -> int:
    """Instructions executed by the driver over ``ads`` with ``stages``."""
    out = workdir / f"callgrind.{stages}"
    run = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-c",
            DRIVER,
            str(ads),
            stages,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or found is None:
        raise SystemExit(f"valgrind run ({stages}) failed:\n{run.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--ads", type=int, default=300, help="real ads, and as many demo ads")
    ap.add_argument("--skip", type=int, default=1000, help="real ads skipped first")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        ads = workdir / "ads.jsonl"
        empty = workdir / "none.jsonl"
        n = write_ads(ads, args.ads, args.skip)
        empty.write_text("", encoding="utf-8")
        runs = [(empty, "none"), (ads, "extract"), (ads, "all")]
        with ThreadPoolExecutor(len(runs)) as pool:
            start, extract, both = pool.map(lambda r: count(r[0], r[1], workdir), runs)
    print(f"per-ad stages over {n} ads ({args.ads} real from line {args.skip}, the rest demo):")
    print(f"  extraction  {(extract - start) / n / 1e6:.3f} M instructions an ad")
    print(f"  indicators  {(both - extract) / n / 1e6:.3f} M instructions an ad")
    print(f"  both        {(both - start) / n / 1e6:.3f} M instructions an ad")
    print(f"  start-up    {start / 1e9:.3f} G instructions (imports and tables)")


if __name__ == "__main__":
    main()
