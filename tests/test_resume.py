"""A run killed halfway leaves a consistent database; a re-run completes it, no duplicates."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

N = 40_000


def count(db: Path, sql: str) -> int:
    con = sqlite3.connect(db, timeout=10)
    try:
        return int(con.execute(sql).fetchone()[0])
    finally:
        con.close()


def analyze_cmd(f: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "adsentry.cli", "analyze", str(f), "--db", str(db),
            "--workers", "1", "--batch-size", "200"]  # fmt: skip


def test_kill_halfway_then_rerun(tmp_path: Path) -> None:
    f = tmp_path / "ads.jsonl"
    with open(f, "w") as fh:
        for i in range(N):
            rec = {"id": f"r{i}", "title": f"ad {i}", "body": f"call 619-555-01{i % 100:02d} ok"}
            fh.write(json.dumps(rec) + "\n")
    db = tmp_path / "x.db"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1] / "src"))
    proc = subprocess.Popen(analyze_cmd(f, db), env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if db.exists():
            try:
                stored = count(db, "SELECT count(*) FROM ads")
            except sqlite3.OperationalError:
                continue
            if stored >= 2000:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    partial = count(db, "SELECT count(*) FROM ads")
    assert 0 < partial < N, "the kill must land halfway"
    # consistent: every stored ad has its phone entity, written in the same transaction
    assert count(db, "SELECT count(*) FROM entities") == partial

    done = subprocess.run(analyze_cmd(f, db), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert count(db, "SELECT count(*) FROM ads") == N
    assert count(db, "SELECT count(DISTINCT source || '/' || ad_id) FROM ads") == N
    assert count(db, "SELECT max(version) FROM ads") == 1
    assert count(db, "SELECT count(*) FROM entities") == N
    assert count(db, "SELECT count(*) FROM ads_fts_docsize") == N
