"""Benchmark of the screening API (issue: explained risk and a screening API).

Prints, for bench/RESULTS.md:
1. the case database: a demo corpus of ``--ads`` ads (default 100k) analyzed into
   ``<workdir>/screen.db`` (reused when it exists);
2. ``adsentry serve`` started on it (``--server-workers`` screening processes) and the start-up
   time until /healthz answers;
3. ``--clients`` concurrent clients (default 20) in a closed loop for ``--seconds``
   each, on the same machine: first against ``GET /healthz`` (the floor that the load
   generator and the HTTP stack cost), then ``POST /v1/screen`` with new demo ads
   (another seed: the same generator, ads not in the database, about 40% of them from
   groups that are); p50 / p95 / p99 latency per request and requests per second,
   with the status codes seen, and the CPU time per request of the server's processes
   and of the load generator (from /proc and getrusage: steadier than latency on a
   shared machine, so the figure to compare two versions by).

The load generator is one asyncio process holding ``--clients`` keep-alive HTTP/1.1
connections (raw streams: no client library's overhead in the figures).

Usage: python bench/bench_screen.py [--ads 100000] [--workdir bench/.work]
       [--clients 20] [--seconds 20] [--server-workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEY = "bench-key-" + "0" * 24


def build_db(workdir: Path, n_ads: int) -> Path:
    db = workdir / f"screen-{n_ads}.db"
    if db.exists():
        print(f"case database: {db} (reused)")
        return db
    from adsentry.demo import write_corpus

    ads, labels = workdir / f"demo-{n_ads}.jsonl", workdir / f"demo-{n_ads}.labels.jsonl"
    if not ads.exists():
        write_corpus(ads, labels, n_ads, seed=7)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "adsentry", "analyze", str(ads), "--db", str(db), "--workers", "2"],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    took = time.perf_counter() - started
    print(f"case database: {n_ads:,} demo ads analyzed into {db} in {took:.0f} s")
    return db


def screening_bodies(n: int) -> list[bytes]:
    """``n`` new demo ads (seed 99, not in the database), as request bodies. The
    warm-up sends the last 20; the clients start at spread offsets of the rest. The
    generator numbers the ads of every seed from demo-0000001, so each id gets the
    prefix ``new-``: otherwise an ad would be screened as a new version of the stored
    ad with its key (source and id), as a platform sees an edited ad."""
    from adsentry.demo import generate

    return [
        json.dumps({**record, "id": f"new-{record['id']}"}).encode("utf-8")
        for record, _ in generate(n, seed=99)
    ]


async def _client(
    port: int,
    method: str,
    path: str,
    bodies: list[bytes],
    offset: int,
    step: int,
    stop_at: float,
    latencies: list[float],
    statuses: dict[int, int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = offset
    try:
        while time.perf_counter() < stop_at:
            body = bodies[i % len(bodies)] if bodies else b""
            i += step
            head = (
                f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            t0 = time.perf_counter()
            writer.write(head + body)
            head_in = await reader.readuntil(b"\r\n\r\n")
            at = head_in.lower().find(b"content-length:")
            length = int(head_in[at + 15 : head_in.index(b"\r\n", at)]) if at >= 0 else 0
            await reader.readexactly(length)
            status_line = head_in[: head_in.index(b"\r\n")]
            latencies.append(time.perf_counter() - t0)
            code = int(status_line.split()[1])
            statuses[code] = statuses.get(code, 0) + 1
    finally:
        writer.close()


def _load(
    port: int, method: str, path: str, bodies: list[bytes], clients: int, seconds: float, out: dict
) -> None:
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def main() -> None:
        stop_at = time.perf_counter() + seconds
        await asyncio.gather(
            *(
                _client(port, method, path, bodies, k, clients, stop_at, latencies, statuses)
                for k in range(clients)
            )
        )

    started = time.perf_counter()
    asyncio.run(main())
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu"] = usage.ru_utime + usage.ru_stime
    out["latencies"] = latencies
    out["statuses"] = statuses
    out["wall"] = wall


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of group ``pgid``
    (Linux /proc; 0.0 elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state ppid pgrp ... utime stime
            total += int(fields[11]) + int(fields[12])
    return total / tick


def run_load(
    port: int,
    method: str,
    path: str,
    bodies: list[bytes],
    clients: int,
    seconds: float,
    server_pgid: int,
) -> str:
    """Run the load generator in its own process; return one line of figures."""
    with multiprocessing.Manager() as m:
        out = m.dict()
        p = multiprocessing.Process(
            target=_load, args=(port, method, path, bodies, clients, seconds, out)
        )
        server_cpu = group_cpu(server_pgid)
        p.start()
        p.join()
        server_cpu = group_cpu(server_pgid) - server_cpu
        lat = sorted(out["latencies"])
        statuses = dict(out["statuses"])
        wall = out["wall"]
        client_cpu = out["cpu"]
    n = len(lat)

    def pct(q: float) -> float:
        return lat[min(n - 1, int(q * n))] * 1000

    return (
        f"{method} {path}: {n:,} requests in {wall:.1f} s, {n / wall:,.0f} req/s, "
        f"p50 {pct(0.50):.1f} ms, p95 {pct(0.95):.1f} ms, p99 {pct(0.99):.1f} ms, "
        f"mean {statistics.fmean(lat) * 1000:.1f} ms; statuses {statuses}; CPU per request: "
        f"server {server_cpu / n * 1000:.2f} ms, load generator {client_cpu / n * 1000:.2f} ms"
        + (f"; {len(bodies):,} distinct bodies, some sent twice" if n > len(bodies) > 0 else "")
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--ads", type=int, default=100_000)
    ap.add_argument("--workdir", type=Path, default=HERE / ".work")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--server-workers", type=int, default=2)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--bodies", type=int, default=20_000, help="New ads to send (seed 99).")
    ap.add_argument("--db", type=Path, help="Use this case database instead of a demo one.")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    db = args.db if args.db else build_db(args.workdir, args.ads)
    # new ads, each sent once in the timed run (no answer or extraction is reused)
    bodies = screening_bodies(args.bodies)
    timed = bodies[:-20]

    env = {**os.environ, "ADSENTRY_API_KEYS": KEY}
    started = time.perf_counter()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "adsentry",
            "serve",
            "--db",
            str(db),
            "--port",
            str(args.port),
            "--workers",
            str(args.server_workers),
        ],
        env=env,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz", timeout=1):
                    break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit("server exited") from None
                time.sleep(0.2)
        # warm the server and its screening processes before timing
        for body in bodies[-20:]:
            req = urllib.request.Request(
                f"http://127.0.0.1:{args.port}/v1/screen",
                data=body,
                headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req, timeout=60) as r:
                r.read()
        print(
            f"server: adsentry serve --workers {args.server_workers}, ready in "
            f"{time.perf_counter() - started:.1f} s; {args.clients} concurrent clients, "
            f"{args.seconds:.0f} s each, {os.cpu_count()} cores shared by server and clients"
        )
        pgid = server.pid  # start_new_session: the server leads its own group
        floor = run_load(args.port, "GET", "/healthz", [], args.clients, args.seconds, pgid)
        print("  floor  " + floor)
        screen = run_load(args.port, "POST", "/v1/screen", timed, args.clients, args.seconds, pgid)
        print("  screen " + screen)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
