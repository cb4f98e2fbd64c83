"""Benchmark of extraction (issue: extraction that survives obfuscation).

Prints, for the record in bench/RESULTS.md:
1. every extractor scored on the gold files of ../shared/data/gold (`adsentry eval`),
   with phonenumbers' PhoneNumberMatcher alone beside the phone rows;
2. on the real corpus: ads with at least one phone, phone mentions, distinct numbers,
   obfuscated mentions, entities by kind, and a check that every span is honest
   (record[field][start:end] == text) over the whole corpus;
3. throughput of the whole `adsentry extract` command (start-up included) on a file
   of about 20k ads (the real corpus repeated with new ids), one process, and its
   peak memory. The copies repeat every text, as reposts do, so the extractors'
   memos of fields seen before answer for all but the first copy; with
   ``--distinct`` every copy's text fields get a mark of their own (copy k appends k
   spaces to title, body and location, and ``?v=k`` to the url; on backpage-ca-2017
   that changes one name, at the very end of a body), so each ad is new and the
   figure is that of unseen ads. The command runs ``--runs`` times (default 3) and
   each run is printed with the median: on a shared virtual machine one run can be
   25 % slower than the next. The package's bytecode is compiled first (``python -m
   compileall``), as ``pip install`` or a first run would have it: a machine that sets
   PYTHONDONTWRITEBYTECODE=1 (this one does) otherwise compiles adsentry's sources at
   every start, about 0.45 G instructions (0.15-0.2 s).

Usage: python bench/bench_extract.py [--copies 4] [--distinct] [--runs 3] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"
REAL = DATA / "backpage-ca-2017" / "ads.jsonl"
GOLD = {
    "phone": "phones.jsonl",
    "age": "ages.jsonl",
    "price": "prices.jsonl",
    "handle": "handles.jsonl",
    "name": "names-locations.jsonl",
    "location": "names-locations.jsonl",
}


def adsentry(*args: str) -> list[str]:
    return [sys.executable, "-m", "adsentry.cli", *args]


def timed(cmd: list[str], stdout_path: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of ``cmd`` with stdout sent to a file."""
    wrap = (
        "import resource, subprocess, sys\n"
        "with open(sys.argv[1], 'w') as out:\n"
        "    r = subprocess.run(sys.argv[3:], stdout=out)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "open(sys.argv[2], 'w').write(str(peak))\n"
        "sys.exit(r.returncode)\n"
    )
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", wrap, str(stdout_path), rss.name, *cmd])
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"failed: {' '.join(cmd)}")
        return wall, int(open(rss.name).read()) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=4, help="copies of the real corpus")
    ap.add_argument("--distinct", action="store_true", help="no text repeated across copies")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of the throughput")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    if not REAL.exists():
        sys.exit(f"needs the shared data at {DATA}")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="adsentry-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    print("== gold (adsentry eval GOLD --kind KIND --json)")
    for kind, name in GOLD.items():
        out = subprocess.run(
            adsentry("eval", str(DATA / "gold" / name), "--kind", kind, "--json"),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        doc = json.loads(out)
        for s in doc["scores"] + doc["baseline"]:
            print(f"  {s['name']:36} P {s['precision']:.3f}  R {s['recall']:.3f}  "
                  f"F1 {s['f1']:.3f}  exact-set {s['exact_share']:.3f}  "
                  f"(TP {s['tp']} FP {s['fp']} FN {s['fn']})")  # fmt: skip

    print(f"== real corpus: adsentry extract {REAL}")
    out_path = work / "real.entities.jsonl"
    wall, rss = timed(adsentry("extract", str(REAL)), out_path)
    records = {}
    with open(REAL, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            records[rec["id"]] = rec
    kinds: Counter[str] = Counter()
    with_phone = mentions = obfuscated = dishonest = 0
    distinct: set[str] = set()
    with open(out_path, encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            rec = records[doc["id"]]
            phones = [e for e in doc["entities"] if e["kind"] == "phone"]
            with_phone += bool(phones)
            mentions += len(phones)
            obfuscated += sum(e["obfuscated"] for e in phones)
            distinct.update(e["value"] for e in phones)
            for e in doc["entities"]:
                kinds[e["kind"]] += 1
                if rec[e["field"]][e["start"] : e["end"]] != e["text"]:
                    dishonest += 1
    print(f"  {len(records)} ads; {with_phone} with a phone; {mentions} phone mentions of "
          f"{len(distinct)} distinct numbers; {obfuscated} obfuscated")  # fmt: skip
    print(f"  entities by kind: {dict(sorted(kinds.items()))}")
    print(f"  spans that are not honest: {dishonest}")
    print(f"  one pass: {wall:.2f} s, {len(records) / wall:,.0f} ads/s, peak RSS {rss:.0f} MiB")

    big = work / "ads-20k.jsonl"
    n = 0
    with open(big, "w", encoding="utf-8") as out:
        for copy in range(args.copies):
            for rec in records.values():
                rec = {**rec, "id": f"{rec['id']}-{copy}"}
                if args.distinct and copy:
                    for field in ("title", "body", "location"):
                        if rec.get(field):
                            rec[field] += " " * copy
                    if rec.get("url"):
                        rec["url"] += ("&" if "?" in rec["url"] else "?") + f"v={copy}"
                out.write(json.dumps(rec, ensure_ascii=False))
                out.write("\n")
                n += 1
    from importlib.util import find_spec

    spec = find_spec("adsentry")
    assert spec is not None and spec.origin is not None, "adsentry is not installed"
    package = str(Path(spec.origin).parent)
    subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=True)
    kind = "distinct ads" if args.distinct else "ads"
    print(f"== throughput: adsentry extract on {n} {kind} (one process, start-up included)")
    walls = []
    for _ in range(args.runs):
        wall, rss = timed(adsentry("extract", str(big)), work / "big.entities.jsonl")
        walls.append(wall)
        print(f"  {wall:.2f} s, {n / wall:,.0f} ads/s, peak RSS {rss:.0f} MiB")
    median = statistics.median(walls)
    print(f"  median of {len(walls)}: {median:.2f} s, {n / median:,.0f} ads/s")


if __name__ == "__main__":
    main()
