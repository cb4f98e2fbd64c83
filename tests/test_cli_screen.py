"""`adsentry screen`, `adsentry top` and `adsentry serve` refusing unsafe binds."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from adsentry.cli import app

runner = CliRunner()

STORED = [
    {
        "id": "g1",
        "title": "Mia",
        "body": "I'm Mia, call 619-555-0142. San Diego.",
        "location": "San Diego, CA",
        "posted_at": "2017-03-01T10:00:00Z",
    },
    {
        "id": "g2",
        "title": "Lola",
        "body": "My name is Lola, text (619) 555-0142. Los Angeles.",
        "location": "Los Angeles, CA",
        "posted_at": "2017-03-03T10:00:00Z",
    },
    {
        "id": "g3",
        "title": "Kim",
        "body": "Ask for Kim at 619.555.0142, Fresno.",
        "location": "Fresno, CA",
        "posted_at": "2017-03-05T10:00:00Z",
    },
]
NEW = [
    {"id": "n1", "title": "Young and sweet", "body": "Call six1nine 5five5 O142"},
    {
        "id": "n2",
        "title": "New in town",
        "body": "Just arrived, 2 girls available, text 212-555-0100",
    },
    "{broken",
]


def write(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_screen_top_end_to_end(tmp_path: Path) -> None:
    db = tmp_path / "case.db"
    r = runner.invoke(app, ["analyze", str(write(tmp_path / "a.jsonl", STORED)), "--db", str(db)])
    assert r.exit_code == 0, r.output

    r = runner.invoke(app, ["screen", str(write(tmp_path / "new.jsonl", NEW)), "--db", str(db)])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x.get("ad_id") for x in lines] == ["n1", "n2", None]
    n1, n2, bad = lines
    assert n1["network"]["size"] == 3
    assert {"obscured_contact", "youth_language"} <= {c["code"] for c in n1["contributions"]}
    assert n1["decision"] in ("review", "hold")
    # movement and several-providers wording alone: folk, never past allow
    assert {i["code"] for i in n2["indicators"]} >= {"movement_language", "multiple_providers"}
    assert n2["decision"] == "allow" and n2["score"] < 0.4
    assert n2["network"] is None
    assert bad["rejected"] is True and bad["reason"] == "bad_json"
    assert "screened: 1 allow" in r.stderr

    # nothing was written
    stats = json.loads(runner.invoke(app, ["stats", "--db", str(db), "--json"]).stdout)
    assert stats["ads"] == 3

    r = runner.invoke(app, ["top", "--db", str(db), "--json", "-n", "5"])
    assert r.exit_code == 0, r.output
    nets = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(nets) == 1 and nets[0]["size"] == 3
    codes = [c["code"] for c in nets[0]["contributions"]]
    assert "phone_many_names" in codes and "many_cities_short_time" in codes
    r = runner.invoke(app, ["top", "--ads", "--db", str(db), "--json"])
    assert r.exit_code == 0, r.output
    top_ads = [json.loads(x) for x in r.stdout.splitlines()]
    assert sorted(a["ad_id"] for a in top_ads) == ["g1", "g2", "g3"]
    net_score = nets[0]["score"]
    for a in top_ads:  # no lexical cue in these three: their score is the network's share
        assert [c["code"] for c in a["contributions"]] == ["network"]
        assert a["score"] == round(0.4 * net_score, 4)
    r = runner.invoke(app, ["top", "--ads", "--db", str(db)])
    assert r.exit_code == 0 and "a/g1" in r.stdout

    # --store writes the screened ads
    r = runner.invoke(app, ["screen", str(tmp_path / "new.jsonl"), "--db", str(db), "--store"])
    stats = json.loads(runner.invoke(app, ["stats", "--db", str(db), "--json"]).stdout)
    assert stats["ads"] == 5


def test_screen_with_processes_prints_the_same_lines_in_order(tmp_path: Path) -> None:
    db = tmp_path / "case.db"
    r = runner.invoke(app, ["analyze", str(write(tmp_path / "a.jsonl", STORED)), "--db", str(db)])
    assert r.exit_code == 0, r.output
    # 150 ads: three batches of 64 or fewer, with rejected lines between them
    rows = [dict(ad, id=f"{ad['id']}-{k}") for k in range(50) for ad in NEW[:2]]
    rows[70:70] = ["{broken"] * 50
    new = write(tmp_path / "new.jsonl", rows)
    one = runner.invoke(app, ["screen", str(new), "--db", str(db)])
    two = runner.invoke(app, ["screen", str(new), "--db", str(db), "--workers", "2"])
    assert one.exit_code == 0 and two.exit_code == 0, two.output
    assert two.stdout == one.stdout and len(one.stdout.splitlines()) == 150
    ids = [json.loads(x).get("ad_id") for x in one.stdout.splitlines()]
    assert ids[:2] == ["n1-0", "n2-0"] and ids[70:120] == [None] * 50 and ids[-1] == "n2-49"
    r = runner.invoke(app, ["screen", str(new), "--db", str(db), "--workers", "2", "--store"])
    assert r.exit_code == 1 and "use it with --workers 1" in r.stderr


def test_serve_refuses_a_public_bind_without_keys(tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "case.db"
    runner.invoke(app, ["analyze", str(write(tmp_path / "a.jsonl", STORED)), "--db", str(db)])
    monkeypatch.delenv("ADSENTRY_API_KEYS", raising=False)
    r = runner.invoke(app, ["serve", "--db", str(db), "--host", "0.0.0.0"])
    assert r.exit_code == 1
    assert "refusing to serve on a non-loopback address without authentication" in r.stderr
    r = runner.invoke(app, ["serve", "--db", str(tmp_path / "missing.db")])
    assert r.exit_code == 1 and "no such database" in r.stderr


def test_serve_says_when_the_port_is_taken(tmp_path: Path) -> None:
    import socket

    db = tmp_path / "case.db"
    runner.invoke(app, ["analyze", str(write(tmp_path / "a.jsonl", STORED)), "--db", str(db)])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = runner.invoke(app, ["serve", "--db", str(db), "--port", str(port)])
    assert r.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in r.stderr
    assert "serving" not in r.stderr


def test_serve_binds_loopback_and_cancels_requests_left_after_5_s_when_stopping(
    tmp_path: Path, monkeypatch
) -> None:
    # what `adsentry serve` hands uvicorn: loopback by default, no access log (it would
    # log every request), and a graceful timeout, so that SIGINT or SIGTERM stops the
    # server within seconds even behind a screening that takes minutes (those requests
    # are answered 503: test_web)
    import socket

    import uvicorn

    db = tmp_path / "case.db"
    runner.invoke(app, ["analyze", str(write(tmp_path / "a.jsonl", STORED)), "--db", str(db)])
    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: seen.update(kw, target=target))
    with socket.socket() as probe:  # a port free now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    r = runner.invoke(app, ["serve", "--db", str(db), "--port", str(port)])
    assert r.exit_code == 0, r.output
    assert seen["port"] == port
    assert seen["host"] == "127.0.0.1"
    assert seen["access_log"] is False
    assert seen["timeout_graceful_shutdown"] == 5
