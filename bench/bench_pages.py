"""Page render times of the investigator's web UI (issue: the web UI).

Serves a demo case database (default: the 100k-ad one that bench_screen.py builds in
``<workdir>/screen-100000.db``) with ``adsentry serve`` and times each kind of page,
one request at a time from one client: the first load of each page (nothing cached),
then the median and the slowest of ``--repeat`` loads of several pages of each kind
(the home page; searches by text, by a phone written another way, with facets; ads;
identifiers, the most carried ones included; networks, the largest included; the
network exports). Prints one line per kind.

Usage: python bench/bench_pages.py [--db PATH] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent


def fetch(url: str) -> tuple[int, float, int]:
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    return status, time.perf_counter() - t0, len(body)


def pages(db: Path) -> dict[str, list[str]]:
    """Paths of the pages to time, chosen from the database."""
    from adsentry.score import top_scores
    from adsentry.store import open_store

    store = open_store(db, create=False)
    try:
        nets = top_scores(store, "network", 3)
        sizes = Counter(nid for *_, nid, _tid in store.link_assignments() if nid)
        biggest = [nid for nid, _ in sizes.most_common(2)]
        ads = top_scores(store, "ad", 3)
        phones = [v for v, _ in store.top_values("phone", 3)]
        emails = [v for v, _ in store.top_values("email", 1)]
    finally:
        store.close()
    q = urllib.parse.quote
    net_ids = list(dict.fromkeys([*biggest, *(n["network_id"] for n in nets)]))
    p1 = phones[0]
    written = f"({p1[2:5]}) {p1[5:8]}-{p1[8:]}" if p1.startswith("+1") else p1
    return {
        "home": ["/"],
        "search": [
            "/search?q=" + q("call"),
            "/search?q=" + q("new in town") + "&sort=score",
            "/search?q=" + q(written),
            "/search?q=" + q("latina") + "&sort=date&page=3",
        ],
        "ad": [f"/ads/{q(a['source'])}/{q(a['ad_id'])}" for a in ads],
        "identifier": [f"/identifiers/phone/{q(p)}" for p in phones]
        + [f"/identifiers/email/{q(e)}" for e in emails],
        "network": [f"/networks/{n}" for n in net_ids],
        "network export": [
            f"/networks/{net_ids[0]}/{what}"
            for what in ("ads.csv", "links.csv", "export.json", "report")
        ],
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--db", type=Path, default=HERE / ".work" / "screen-100000.db")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--port", type=int, default=8766)
    args = ap.parse_args()
    if not args.db.exists():
        raise SystemExit(f"{args.db}: run bench/bench_screen.py first (it builds it)")
    todo = pages(args.db)
    server = subprocess.Popen(
        [sys.executable, "-m", "adsentry", "serve", "--db", str(args.db), "--port", str(args.port)],
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        while True:
            try:
                fetch(base + "/healthz")
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit("server exited") from None
                time.sleep(0.2)
        from adsentry.store import open_store

        store = open_store(args.db, create=False)
        n_ads = store.stats()["ads"]
        store.close()
        print(f"pages of {args.db} ({n_ads:,} ads), one client, {args.repeat} loads each:")
        print("  networks timed: " + ", ".join(p.rsplit("/", 1)[-1] for p in todo["network"]))
        for kind, paths in todo.items():
            # first loads (nothing of that page cached yet), then repeated loads
            first = [fetch(base + p)[1] * 1000 for p in paths]
            times, statuses, sizes = [], set(), []
            for _ in range(args.repeat):
                for p in paths:
                    status, took, size = fetch(base + p)
                    times.append(took * 1000)
                    statuses.add(status)
                    sizes.append(size)
            print(
                f"  {kind:<15} median {statistics.median(times):6.1f} ms, slowest "
                f"{max(times):6.1f} ms over {len(times)} loads of {len(paths)} pages; "
                f"first loads median {statistics.median(first):6.1f} ms, slowest "
                f"{max(first):6.1f} ms; status {sorted(statuses)}, "
                f"{statistics.median(sizes) / 1024:.0f} KB"
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
