"""Network scores and networks against the demo corpus's labels.

Prints, for bench/RESULTS.md:
1. ROC AUC of the network scores for organised groups against independent posters: a
   network is *organised* when most of its ads come from an organised group (the
   label's ``group``), *independent* otherwise; AUC is the Mann-Whitney probability
   that an organised network outscores an independent one (ties count one half).
   Beside it, the same for ad scores (ads of groups against ads of independent
   posters), and the decisions by class.
2. The networks against the true groups (issue 4): pairwise precision, recall and
   B-cubed F1 over all ads, where an ad's true cluster is its group, or its poster
   for an independent poster, and its predicted cluster is its network (an ad alone
   is its own cluster).

The weights are the defaults: they were not tuned to this generator (docs/scoring.md).

Usage: python bench/bench_scores.py [--ads 20000] [--seed 7] [--workdir bench/.work]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

HERE = Path(__file__).resolve().parent


def auc(pos: list[float], neg: list[float]) -> float:
    """ROC AUC by the Mann-Whitney U statistic (average ranks for ties)."""
    if not pos or not neg:
        return float("nan")
    ranks = rankdata(np.concatenate([pos, neg]))
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


def print_decisions(what: str, by_class: dict[str, Counter[str]]) -> None:
    """One line per class: how many of its ``what`` got each decision."""
    for cls, c in by_class.items():
        counts = ", ".join(f"{k} {c[k]:,}" for k in ("allow", "review", "hold"))
        print(f"  {cls:<11} {what} by decision: {counts}")


def pair_scores(pred: list[str], true: list[str]) -> tuple[float, float, float]:
    """Pairwise precision and recall, and B-cubed F1, of a clustering."""

    def pairs(labels: list[str]) -> int:
        return sum(n * (n - 1) // 2 for n in Counter(labels).values())

    both = pairs([f"{p}\x1f{t}" for p, t in zip(pred, true, strict=True)])
    pp, tp = pairs(pred), pairs(true)
    precision = both / pp if pp else 1.0
    recall = both / tp if tp else 1.0
    size_p, size_t = Counter(pred), Counter(true)
    size_pt = Counter(zip(pred, true, strict=True))
    b_p = sum(size_pt[(p, t)] / size_p[p] for p, t in zip(pred, true, strict=True)) / len(pred)
    b_r = sum(size_pt[(p, t)] / size_t[t] for p, t in zip(pred, true, strict=True)) / len(pred)
    return precision, recall, 2 * b_p * b_r / (b_p + b_r)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--ads", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workdir", type=Path, default=HERE / ".work")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    from adsentry.demo import write_corpus
    from adsentry.store import open_store

    ads_path = args.workdir / f"scores-{args.ads}-{args.seed}.jsonl"
    labels_path = args.workdir / f"scores-{args.ads}-{args.seed}.labels.jsonl"
    db = args.workdir / f"scores-{args.ads}-{args.seed}.db"
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        p.unlink(missing_ok=True)
    write_corpus(ads_path, labels_path, args.ads, args.seed)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "adsentry", "analyze", str(ads_path), "--db", str(db)],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    print(
        f"demo corpus: {args.ads:,} ads (seed {args.seed}) analyzed in "
        f"{time.perf_counter() - started:.0f} s"
    )
    labels = {}
    with labels_path.open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            labels[r["ad_id"]] = r
    store = open_store(db, create=False)
    try:
        assignments = store.link_assignments()
        net_rows = store.top_assessments("network", 10**9)
        ad_rows = {sid: (sc, dec) for sid, sc, dec, _ in store.top_assessments("ad", 10**9)}
    finally:
        store.close()

    members: dict[str, list[str]] = defaultdict(list)
    for _source, ad_id, _pk, nid, _tid in assignments:
        if nid is not None:
            members[nid].append(ad_id)
    pos, neg = [], []
    decisions: dict[str, Counter[str]] = {"organised": Counter(), "independent": Counter()}
    for nid, score, decision, _ in net_rows:
        ids = members[nid]
        organised = sum(labels[i]["group"] is not None for i in ids) * 2 > len(ids)
        (pos if organised else neg).append(score)
        decisions["organised" if organised else "independent"][decision] += 1
    print(
        f"networks: {len(net_rows):,} ({len(pos):,} organised, {len(neg):,} independent); "
        f"ROC AUC of network scores {auc(pos, neg):.3f}"
    )
    print_decisions("networks", decisions)

    ad_pos, ad_neg = [], []
    ad_dec: dict[str, Counter[str]] = {"group": Counter(), "independent": Counter()}
    for _source, ad_id, pk, _nid, _tid in assignments:
        score, decision = ad_rows.get(str(pk), (0.0, "allow"))
        grouped = labels[ad_id]["group"] is not None
        (ad_pos if grouped else ad_neg).append(score)
        ad_dec["group" if grouped else "independent"][decision] += 1
    print(
        f"ads: {len(ad_pos) + len(ad_neg):,} ({len(ad_pos):,} of groups); "
        f"ROC AUC of ad scores {auc(ad_pos, ad_neg):.3f}"
    )
    print_decisions("ads", ad_dec)

    pred, true = [], []
    for _source, ad_id, _pk, nid, _tid in assignments:
        lab = labels[ad_id]
        pred.append(nid or f"alone:{ad_id}")
        true.append(lab["group"] or lab["poster"])
    p, r, b3 = pair_scores(pred, true)
    print(
        f"networks against true groups (group, or poster when independent): pairwise "
        f"precision {p:.4f}, recall {r:.4f}, B-cubed F1 {b3:.4f}"
    )


if __name__ == "__main__":
    main()
