"""The commands, end to end through Typer's runner: clean stdout, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adsentry.cli import app

runner = CliRunner()

ADS = [
    {"id": "a1", "title": "Sweet Mia", "body": "Call (619) 555-0142 now, mia@example.com"},
    {"id": "a2", "title": "Back in town", "body": "Text 619.555.0142 http://www.site1.com/x"},
    {"id": "a3", "title": "Nueva", "body": "Llámame ６１９ ５５５ ０１４３"},
]


def corpus(tmp_path: Path, extra: list[str] | None = None) -> Path:
    p = tmp_path / "ads.jsonl"
    lines = [json.dumps(a, ensure_ascii=False) for a in ADS] + (extra or [])
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_analyze_stats_search(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    f = corpus(tmp_path, ['{"id": "bad", "body": '])
    r = runner.invoke(app, ["analyze", str(f), "--db", str(db), "--workers", "1"])
    assert r.exit_code == 0, r.output
    assert r.stdout == ""  # the summary goes to stderr
    assert "ads stored (new)" in r.stderr and "quarantined" in r.stderr

    r = runner.invoke(app, ["stats", "--db", str(db), "--json"])
    assert r.exit_code == 0
    s = json.loads(r.stdout)
    assert s["ads"] == 3 and s["quarantined"] == 1
    assert s["sources"] == {"ads": 3}
    assert s["entities"] == {"email": 1, "name": 1, "phone": 3, "url": 1}  # name: "Mia"

    qfile = Path(str(db) + ".quarantine.jsonl")
    rows = [json.loads(x) for x in qfile.read_text().splitlines()]
    assert [(q["line"], q["reason"]) for q in rows] == [(4, "bad_json")]

    # a second run adds nothing
    r = runner.invoke(app, ["analyze", str(f), "--db", str(db), "--workers", "1"])
    assert r.exit_code == 0
    r = runner.invoke(app, ["stats", "--db", str(db), "--json"])
    assert json.loads(r.stdout)["ads"] == 3 and json.loads(r.stdout)["quarantined"] == 1
    assert len(qfile.read_text().splitlines()) == 1

    # a phone number in any written form finds every ad that carries it
    for q in ["(619) 555-0142", "6195550142", "+1 619 555 0142", "six1nine 555 0142"]:
        r = runner.invoke(app, ["search", q, "--db", str(db), "--json"])
        assert r.exit_code == 0, r.output
        assert sorted(json.loads(x)["ad_id"] for x in r.stdout.splitlines()) == ["a1", "a2"], q
    r = runner.invoke(app, ["search", "nueva", "--db", str(db), "--json"])
    assert [json.loads(x)["ad_id"] for x in r.stdout.splitlines()] == ["a3"]


def test_extract_prints_honest_spans(tmp_path: Path) -> None:
    f = corpus(tmp_path)
    r = runner.invoke(app, ["extract", str(f)])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["id"] for x in lines] == ["a1", "a2", "a3"]
    for rec, line in zip(ADS, lines, strict=True):
        for e in line["entities"]:
            assert rec[e["field"]][e["start"] : e["end"]] == e["text"]
    first = lines[0]["entities"]
    assert {
        "kind": "phone",
        "value": "+16195550142",
        "field": "body",
        "start": 5,
        "end": 19,
        "text": "(619) 555-0142",
        "obfuscated": False,
        "extractor": "phone",
    } in first
    full_width = [e for e in lines[2]["entities"] if e["kind"] == "phone"]
    assert [(e["value"], e["obfuscated"]) for e in full_width] == [("+16195550143", True)]


def test_extract_reports_field_as_named_in_input(tmp_path: Path) -> None:
    p = tmp_path / "g.jsonl"
    p.write_text(json.dumps({"id": "g1", "text": "call 619-555-0142"}) + "\n")
    r = runner.invoke(app, ["extract", str(p)])
    (e,) = json.loads(r.stdout)["entities"]
    assert (e["field"], e["start"], e["end"]) == ("text", 5, 17)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "/no/such/file.jsonl"], "no such file"),
        (["stats", "--db", "/no/such.db"], "no such database"),
        (["extract", "/no/such/file.jsonl"], "no such file"),
        (["analyze", "{f}", "--region", "XX"], "region 'XX' (from --region"),
        (["analyze", "{f}", "--workers", "0"], "workers 0 (from --workers"),
        (["search", "x", "--db", "{bad}"], "cannot open database"),
    ],
)
def test_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    f = corpus(tmp_path)
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database at all" * 50)
    args = [a.format(f=f, bad=bad) for a in args]
    r = runner.invoke(
        app, [*args, "--db", str(tmp_path / "y.db")] if args[0] == "analyze" else args
    )
    assert r.exit_code == 1
    assert r.stdout == ""
    err_lines = r.stderr.strip().splitlines()
    assert len(err_lines) == 1 and err_lines[0].startswith("error:")
    assert message in err_lines[0]
    assert "Traceback" not in r.stderr


def test_search_falls_back_to_a_phrase_and_finds_identifiers(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    runner.invoke(app, ["analyze", str(corpus(tmp_path)), "--db", str(db), "--workers", "1"])
    r = runner.invoke(app, ["search", '"unbalanced', "--db", str(db)])
    assert r.exit_code == 0
    assert "cannot parse the search query" in r.stderr and "as a phrase" in r.stderr
    r = runner.invoke(app, ["search", "mia@example.com OR latina OR (", "--db", str(db)])
    assert "as a phrase" in r.stderr and "mia@example.com" not in r.stderr  # not echoed
    r = runner.invoke(app, ["search", "now, mia", "--db", str(db), "--json"])  # "," breaks FTS5
    assert [json.loads(x)["ad_id"] for x in r.stdout.splitlines()] == ["a1"]
    r = runner.invoke(app, ["search", "MIA@example.com", "--db", str(db), "--json"])
    assert [json.loads(x)["ad_id"] for x in r.stdout.splitlines()] == ["a1"]
    r = runner.invoke(app, ["search", "619-555-0142", "--db", str(db), "--limit", "1"])
    assert "1 of 2 ad(s) for that phone number (use --limit to see more)" in r.stderr
    assert "555" not in r.stderr  # the identifier is not echoed into the log line


def test_bad_input_file_end_to_end(tmp_path: Path) -> None:
    """Each bad record gets its reason; nothing else in the file is lost."""
    big_body = "x" * 1_000_000 + " call 619-555-0142"
    lines = [
        json.dumps({"id": "ok", "body": "fine ad, call 619-555-0143"}),
        '{"id": "cut", "body": "truncated',
        '[{"id": "in-a-list", "body": "x"}]',
        json.dumps({"id": "empty", "title": " ", "body": ""}),
        json.dumps({"id": "dup", "body": "first text"}),
        json.dumps({"id": "dup", "body": "second text"}),
        json.dumps({"id": "big", "body": big_body}),
        "",
    ]
    f = tmp_path / "bad.jsonl"
    f.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "bytes", "body": "caf\xe9"}\n')
    db = tmp_path / "x.db"
    r = runner.invoke(app, ["analyze", str(f), "--db", str(db), "--workers", "1"])
    assert r.exit_code == 0, r.output
    s = json.loads(runner.invoke(app, ["stats", "--db", str(db), "--json"]).stdout)
    # ok, dup (two versions, one ad), big (1 MB body is under the 2 MB limit), bytes
    assert (s["ads"], s["versions"], s["quarantined"]) == (4, 5, 3)
    q = [json.loads(x) for x in Path(str(db) + ".quarantine.jsonl").read_text().splitlines()]
    assert [(x["line"], x["reason"]) for x in q] == [
        (2, "bad_json"),
        (3, "not_object"),
        (4, "no_text"),
    ]
    r = runner.invoke(app, ["search", "second", "--db", str(db), "--json"])
    assert [json.loads(x)["ad_id"] for x in r.stdout.splitlines()] == ["dup"]
    assert runner.invoke(app, ["search", "first", "--db", str(db), "--json"]).stdout == ""
    r = runner.invoke(app, ["search", "(619) 555-0142", "--db", str(db), "--json"])
    assert [json.loads(x)["ad_id"] for x in r.stdout.splitlines()] == ["big"]


def test_empty_file_is_not_an_error(tmp_path: Path) -> None:
    f = tmp_path / "empty.jsonl"
    f.write_text("")
    db = tmp_path / "x.db"
    r = runner.invoke(app, ["analyze", str(f), "--db", str(db), "--workers", "1"])
    assert r.exit_code == 0
    assert json.loads(runner.invoke(app, ["stats", "--db", str(db), "--json"]).stdout)["ads"] == 0


def test_eval_scores_a_small_gold_file_and_refuses_the_wrong_kind(tmp_path: Path) -> None:
    gold = tmp_path / "ages.jsonl"
    gold.write_text(
        json.dumps({"id": "g1", "text": "I'm 22 years old, 34D-24-36", "ages": [22]})
        + "\n"
        + json.dumps({"id": "g2", "text": "Age: 31. $200/hr", "ages": [31]})
        + "\n"
    )
    r = runner.invoke(app, ["eval", str(gold), "--kind", "age", "--json"])
    assert r.exit_code == 0, r.output
    (score,) = json.loads(r.stdout)["scores"]
    assert (score["tp"], score["fp"], score["fn"]) == (2, 0, 0)
    r = runner.invoke(app, ["eval", str(gold), "--kind", "phone"])
    assert r.exit_code == 1 and "not a gold file for --kind phone" in r.stderr
