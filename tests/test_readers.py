"""Readers: field mapping, repairs and the quarantine reasons, on hand-made files."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adsentry.errors import InputError
from adsentry.io.readers import (
    _NEEDS_SANITIZE,
    MAX_RECORD_BYTES,
    AdReader,
    Rejected,
    _sanitize,
    ad_from_record,
    parse_field_map,
)
from adsentry.model import Ad


def write_lines(path: Path, lines: list[str | bytes]) -> Path:
    data = b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)
    path.write_bytes(data)
    return path


def read_all(path: Path, **kw: object) -> tuple[list[Ad], list[Rejected], AdReader]:
    reader = AdReader(path, **kw)  # type: ignore[arg-type]
    items = list(reader)
    ads = [x for x in items if isinstance(x, Ad)]
    rejected = [x for x in items if isinstance(x, Rejected)]
    return ads, rejected, reader


def test_default_mapping_and_site_fields(tmp_path: Path) -> None:
    rec = {
        "id": 17,
        "title": "Hi",
        "text": "call me",
        "url": "http://x.example/1",
        "date": "2017-03-04T21:15:00Z",
        "location": "San Diego",
        "images": ["a.jpg"],
        "site_age": 22,
    }
    ads, rejected, _ = read_all(write_lines(tmp_path / "f.jsonl", [json.dumps(rec)]))
    assert rejected == []
    (ad,) = ads
    assert ad.ad_id == "17"
    assert ad.source == "f"  # file name's stem
    assert ad.body == "call me"
    assert ad.field_names == {"body": "text"}
    assert ad.posted_at == datetime(2017, 3, 4, 21, 15, tzinfo=UTC)
    assert ad.images == ["a.jpg"]
    assert ad.site_fields == {"site_age": 22}
    line = json.dumps(rec).encode()
    assert ad.raw_sha256 == hashlib.sha256(line).hexdigest()


def test_records_of_different_layouts_in_one_file_each_map_their_own_keys(
    tmp_path: Path,
) -> None:
    # the reader keeps one field plan per layout (the record's keys in order)
    records = [
        {"id": "a", "body": "one", "x": 1},
        {"id": "b", "text": "two", "x": 2},
        {"text": "three-t", "id": "c", "body": "three-b"},  # body wins over text
        {"id": "d", "description": "four", "text": None},  # text present but null
        {"id": "e", "body": "five", "x": 5},  # the first layout again
        {"x": 6, "id": "f", "body": "six"},  # the same keys in another order
    ]
    ads, rejected, _ = read_all(write_lines(tmp_path / "f.jsonl", [json.dumps(r) for r in records]))
    assert [r.reason for r in rejected] == ["no_text"]  # d: text wins and is null
    assert [(a.ad_id, a.body, a.field_names, a.site_fields) for a in ads] == [
        ("a", "one", {}, {"x": 1}),
        ("b", "two", {"body": "text"}, {"x": 2}),
        ("c", "three-b", {}, {"text": "three-t"}),
        ("e", "five", {}, {"x": 5}),
        ("f", "six", {}, {"x": 6}),
    ]


def test_source_precedence(tmp_path: Path) -> None:
    p = write_lines(
        tmp_path / "dump.jsonl",
        [json.dumps({"id": "1", "body": "a", "source": "site-a"}), json.dumps({"body": "b"})],
    )
    ads, _, _ = read_all(p)
    assert [a.source for a in ads] == ["site-a", "dump"]
    ads, _, _ = read_all(p, source="given")
    assert {a.source for a in ads} == {"given"}


def test_map_option_overrides(tmp_path: Path) -> None:
    p = write_lines(tmp_path / "f.jsonl", [json.dumps({"pid": "x9", "description": "hello"})])
    ads, _, _ = read_all(p, field_map=parse_field_map(["body=description", "id=pid"]))
    assert (ads[0].ad_id, ads[0].body) == ("x9", "hello")
    with pytest.raises(ValueError, match="unknown field 'bodyy'"):
        parse_field_map(["bodyy=description"])
    with pytest.raises(ValueError, match="expected FIELD=COLUMN"):
        parse_field_map(["body"])


def test_missing_id_gets_stable_content_id(tmp_path: Path) -> None:
    p = write_lines(tmp_path / "f.jsonl", [json.dumps({"title": "t", "body": "b"})])
    a1 = read_all(p)[0][0]
    a2 = read_all(p)[0][0]
    assert a1.ad_id == a2.ad_id and a1.ad_id.startswith("xx-") and len(a1.ad_id) == 19
    other = read_all(p, source="elsewhere")[0][0]
    assert other.ad_id != a1.ad_id


def test_quarantine_reasons_and_nothing_else_lost(tmp_path: Path) -> None:
    good = json.dumps({"id": "ok1", "body": "fine"})
    lines: list[str | bytes] = [
        good,
        '{"id": "t1", "body": "trunc',  # truncated JSON
        '[{"id": "l1", "body": "in a list"}]',  # a list, not an object
        json.dumps({"id": "n1", "title": "  ", "body": ""}),  # no text
        json.dumps({"id": {"x": 1}, "body": "id is an object"}),
        json.dumps({"id": "w2", "body": ["a", "list"]}),
        "",  # blank line: skipped, not quarantined
        "   ",
        json.dumps({"id": "ok2", "title": "also fine"}),
        json.dumps({"id": "big", "body": "x" * (MAX_RECORD_BYTES + 10)}),
    ]
    ads, rejected, reader = read_all(write_lines(tmp_path / "f.jsonl", lines))
    assert [a.ad_id for a in ads] == ["ok1", "ok2"]
    got = [(r.line, r.reason) for r in rejected]
    assert got == [
        (2, "bad_json"),
        (3, "not_object"),
        (4, "no_text"),
        (5, "wrong_type"),
        (6, "wrong_type"),
        (10, "too_large"),
    ]
    assert "'body' is a JSON list" in rejected[4].detail
    assert rejected[0].raw == '{"id": "t1", "body": "trunc'
    assert reader.stats.blank == 2
    assert reader.stats.records == 8
    assert sum(reader.stats.rejected.values()) == 6


def test_repairs_are_counted(tmp_path: Path) -> None:
    lines: list[str | bytes] = [
        b'{"id": "nul", "body": "a\x00b"}',
        b'{"id": "utf", "body": "caf\xe9 \xff"}',
        b'{"id": "sur", "body": "x\\ud800y"}',
        b'{"id": "dup", "body": "first", "body": "second"}',
        b'{"id": "esc", "body": "p\\u0000q"}',
        # json.dumps(ensure_ascii=True) writes an emoji as an escaped surrogate pair
        b'{"id": "pair", "body": "hi \\ud83d\\ude00 x"}',
        b'{"id": "low", "body": "\\ude00\\ud83d\\ude00"}',
        b'{"id": "high", "body": "\\ud83d\\ud83d\\ude00"}',
        # an escaped backslash and the text "ud800", then a lone low surrogate
        b'{"id": "text", "body": "a\\\\ud800\\udc00 b"}',
    ]
    ads, rejected, reader = read_all(write_lines(tmp_path / "f.jsonl", lines))
    assert rejected == []
    bodies = {a.ad_id: a.body for a in ads}
    assert bodies == {
        "nul": "ab",
        "utf": "caf\ufffd \ufffd",
        "sur": "x\ufffdy",
        "dup": "second",
        "esc": "pq",
        "pair": "hi \U0001f600 x",
        "low": "\ufffd\U0001f600",
        "high": "\ufffd\U0001f600",
        "text": "a\\ud800\ufffd b",
    }
    assert reader.stats.repaired_records == 8
    assert reader.stats.repairs == {
        "nul": 2,
        "invalid_utf8": 1,
        "lone_surrogate": 4,
        "duplicate_key": 1,
    }


_TRICKY = st.sampled_from(
    ["a", "\x00", "\ud800", "\udc00", "\U0001f600", "\\", "u", '"', "ud800", "udc00"]
)


@given(st.lists(_TRICKY, max_size=10).map("".join), st.booleans())
def test_sanitize_is_skipped_only_when_it_would_change_nothing(value: str, ascii: bool) -> None:
    # The reader skips _sanitize when _NEEDS_SANITIZE finds no escape in the line.
    text = json.dumps({"body": value}, ensure_ascii=ascii)
    if not ascii and any("\ud800" <= c <= "\udfff" for c in value):
        return  # a raw lone surrogate cannot be in a UTF-8 file
    record = json.loads(text)
    if _NEEDS_SANITIZE.search(text) is None:
        assert _sanitize(record, Counter()) == record


@given(
    st.dictionaries(
        st.lists(_TRICKY, min_size=1, max_size=4).map("".join),
        st.lists(_TRICKY, max_size=8).map("".join) | st.lists(st.lists(_TRICKY).map("".join)),
        max_size=4,
    ),
    st.lists(_TRICKY, min_size=1, max_size=10).map("".join),
)
def test_a_record_is_repaired_and_hashed_as_its_repaired_canonical_json(
    extra: dict[str, object], body: str
) -> None:
    # ad_from_record (the screening API's reader): NUL dropped and lone surrogates
    # replaced in every key and string, and raw_sha256 the SHA-256 of the repaired
    # record's canonical JSON (sorted keys, UTF-8)
    record = {**extra, "id": "r1", "body": body + "x"}
    repaired = _sanitize(record, Counter())
    canonical = json.dumps(repaired, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ad = ad_from_record(record)
    assert ad.raw_sha256 == hashlib.sha256(canonical).hexdigest()
    assert ad.body == repaired["body"]
    assert "\x00" not in ad.body and not any("\ud800" <= c <= "\udfff" for c in ad.body)
    assert ad.site_fields == {k: v for k, v in repaired.items() if k not in ("id", "body")}


def test_bom_gzip_and_crlf(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + json.dumps({"id": "1", "body": "x"}).encode() + b"\r\n"
    data += json.dumps({"id": "2", "body": "y"}).encode() + b"\r\n"
    p = tmp_path / "ads.jsonl.gz"
    p.write_bytes(gzip.compress(data))
    ads, rejected, reader = read_all(p)
    assert [a.ad_id for a in ads] == ["1", "2"] and rejected == []
    assert ads[0].source == "ads"
    assert reader.bytes_read == p.stat().st_size


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.jsonl"
    p.write_bytes(b"")
    ads, rejected, reader = read_all(p)
    assert ads == [] and rejected == [] and reader.stats.records == 0


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        AdReader(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match="is a directory"):
        AdReader(tmp_path)


def test_csv_multiline_quoted_field_and_line_numbers(tmp_path: Path) -> None:
    p = tmp_path / "ads.csv"
    p.write_text(
        "\ufeffid,title,description,city\n"
        '1,First,"line one\nline two",LA\n'
        '2,,"",SD\n'
        "3,Third,plain,OC\n",
        encoding="utf-8",
    )
    ads, rejected, _ = read_all(p, field_map=parse_field_map(["body=description"]))
    assert [a.ad_id for a in ads] == ["1", "3"]
    assert ads[0].body == "line one\nline two"
    assert ads[0].site_fields == {"city": "LA"}
    assert [(r.line, r.reason) for r in rejected] == [(4, "no_text")]


def test_csv_invalid_utf8_and_extra_cells(tmp_path: Path) -> None:
    p = tmp_path / "ads.csv"
    p.write_bytes(b"id,body\n1,caf\xe9,extra\n")
    ads, _, reader = read_all(p)
    assert ads[0].body == "caf\ufffd"
    assert ads[0].site_fields == {"_extra_1": "extra"}
    assert reader.stats.repairs["invalid_utf8"] == 1


def test_bad_date_is_kept_raw(tmp_path: Path) -> None:
    p = write_lines(tmp_path / "f.jsonl", [json.dumps({"id": "1", "body": "x", "date": "soon"})])
    ads, _, reader = read_all(p)
    assert ads[0].posted_at is None
    assert ads[0].site_fields["posted_at_raw"] == "soon"
    assert reader.stats.repairs["bad_date"] == 1


def test_records_without_id_differing_in_any_field_stay_apart(tmp_path: Path) -> None:
    p = write_lines(
        tmp_path / "f.jsonl",
        [
            json.dumps({"body": "same text", "location": "Oakland"}),
            json.dumps({"body": "same text", "location": "Fresno"}),
        ],
    )
    ads, _, _ = read_all(p)
    assert len({a.ad_id for a in ads}) == 2


def test_map_to_a_missing_csv_column_is_an_error(tmp_path: Path) -> None:
    p = tmp_path / "ads.csv"
    p.write_text("id,description\n1,hello\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"--map body=descr: no such column \(columns: id"):
        list(AdReader(p, field_map=parse_field_map(["body=descr"])))
