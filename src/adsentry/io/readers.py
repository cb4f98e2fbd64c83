"""Readers for JSONL and CSV files of ads (plain or gzip), with repair and quarantine.

One input record becomes one :class:`~adsentry.model.Ad`, or one :class:`Rejected`
carrying the file, the line number and the reason it cannot be read. Repairs that keep
a record readable are counted in :class:`ReadStats` so the summary can say so:

- ``nul``: NUL characters are dropped (raw bytes or ``\\u0000`` escapes);
- ``invalid_utf8``: bytes that are not UTF-8 become U+FFFD;
- ``lone_surrogate``: unpaired UTF-16 surrogates (``\\ud800`` escapes) become U+FFFD;
- ``duplicate_key``: a JSON key repeated in one object keeps its last value
  (RFC 8259 section 4 leaves this open; last-wins is what most parsers do);
- ``bad_date``: a ``posted_at`` that cannot be read is kept in
  ``site_fields["posted_at_raw"]`` and the ad gets no date.

Reasons for quarantine (the ``reason`` field): ``bad_json``, ``not_object``,
``no_text``, ``wrong_type``, ``too_large``, ``bad_csv``.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import xxhash

from adsentry.errors import InputError
from adsentry.model import Ad

#: A record larger than this (bytes as read) is quarantined as ``too_large``.
MAX_RECORD_BYTES = 2 * 1024 * 1024

#: Canonical name -> keys looked up in the input record, first present wins.
DEFAULT_FIELD_MAP: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "title": ("title",),
    "body": ("body", "text", "description"),
    "url": ("url",),
    "posted_at": ("posted_at", "date"),
    "location": ("location",),
    "images": ("images",),
    "source": ("source",),
}

_TEXT_TARGETS = ("title", "body", "url", "location")
# re reads the escapes (mypyc compiles no string literal with a surrogate in it)
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# In decoded JSON text without NUL bytes, a NUL character or a lone surrogate can only
# come from a \u escape (RFC 8259, section 7): \u0000, a high surrogate escape not
# followed by a low one, or a low one not after a high one. Without such an escape,
# _sanitize has nothing to do (escaped pairs, as ensure_ascii writes emoji, are fine).
# A "high escape" right after a backslash may be an escaped backslash and the text
# "ud800", so it does not excuse the low one after it; the pattern may find more than
# it must (the repair pass then changes nothing), never less.
_NEEDS_SANITIZE = re.compile(  # a literal first, so that the engine skips to each \u
    r"\\u(?:0000"
    r"|[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
    r"|(?<!(?<!\\)\\u[dD][89abAB][0-9a-fA-F]{2}\\u)[dD][c-fC-F])"
)
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that cannot be read: where it was, why, and the record itself.

    ``line`` is 1-based (for CSV, the line on which the record starts). ``raw`` is the
    record as read (decoded with U+FFFD for bad bytes) so that nothing is lost.
    """

    file: str
    line: int
    reason: str
    detail: str
    raw: str
    raw_sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "reason": self.reason,
            "detail": self.detail,
            "raw_sha256": self.raw_sha256,
            "raw": self.raw,
        }


@dataclass(slots=True)
class ReadStats:
    """What a reader saw: records read, blank lines skipped, repairs and rejections."""

    records: int = 0
    blank: int = 0
    repaired_records: int = 0
    repairs: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)

    def merge(self, other: ReadStats) -> None:
        self.records += other.records
        self.blank += other.blank
        self.repaired_records += other.repaired_records
        self.repairs.update(other.repairs)
        self.rejected.update(other.rejected)


class _RecordError(InputError):
    """A record that cannot be read: ``reason`` (a quarantine reason) and ``detail``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


#: Public name of the error :func:`ad_from_record` raises.
RecordError = _RecordError


def read_batches(reader: AdReader, batch_size: int) -> Iterator[tuple[list[Ad], list[Rejected]]]:
    """The reader's records in order, as batches of ``(ads, rejected)`` holding
    ``batch_size`` records together (the last may hold fewer)."""
    ads: list[Ad] = []
    rejected: list[Rejected] = []
    for item in reader:
        if isinstance(item, Rejected):
            rejected.append(item)
        else:
            ads.append(item)
        if len(ads) + len(rejected) >= batch_size:
            yield ads, rejected
            ads, rejected = [], []
    if ads or rejected:
        yield ads, rejected


def parse_field_map(items: list[str] | None) -> dict[str, tuple[str, ...]]:
    """Build a field map from ``--map`` options such as ``["body=description"]``.

    Each item is ``CANONICAL=KEY[,KEY...]``; canonical names are those of
    :data:`DEFAULT_FIELD_MAP`. Raises ValueError naming the bad item.
    """
    mapping = dict(DEFAULT_FIELD_MAP)
    for item in items or []:
        name, sep, keys = item.partition("=")
        name = name.strip()
        if not sep or not keys.strip():
            raise ValueError(f"--map {item!r}: expected FIELD=COLUMN, e.g. body=description")
        if name == "ad_id":
            name = "id"
        if name not in mapping:
            known = ", ".join(sorted(mapping))
            raise ValueError(f"--map {item!r}: unknown field {name!r} (known: {known})")
        mapping[name] = tuple(k.strip() for k in keys.split(",") if k.strip())
    return mapping


def _source_stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".jsonl", ".ndjson", ".json", ".csv", ".tsv"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name or path.stem


class AdReader:
    """Iterate over the records of one JSONL or CSV file (``.gz`` read transparently).

    Yields :class:`Ad` or :class:`Rejected`, in file order. ``bytes_read`` and
    ``total_bytes`` (of the file on disk, compressed if gzip) drive a progress bar.
    The format is taken from the extension (``.csv``/``.tsv`` -> CSV, else JSONL).
    Raises :class:`~adsentry.errors.InputError` when the file cannot be opened.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        source: str | None = None,
        field_map: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise InputError(f"{self.path}: no such file")
        if self.path.is_dir():
            raise InputError(f"{self.path}: is a directory, not a file of ads")
        self.source = source
        self.field_map = dict(field_map or DEFAULT_FIELD_MAP)
        self.stats = ReadStats()
        self.total_bytes = self.path.stat().st_size
        self._raw: IO[bytes] | None = None
        name = self.path.name.lower().removesuffix(".gz")
        self.format = "csv" if name.endswith((".csv", ".tsv")) else "jsonl"
        self._delimiter = "\t" if name.endswith(".tsv") else ","
        self._stem = _source_stem(self.path)
        self._plans: dict[tuple[str, ...], _Plan] = {}  # see _build_ad

    @property
    def bytes_read(self) -> int:
        """Bytes of the file on disk consumed so far (for progress)."""
        if self._raw is None or self._raw.closed:
            return self.total_bytes if self._raw is not None else 0
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0

    def _open(self) -> IO[bytes]:
        try:
            raw = open(self.path, "rb")  # noqa: SIM115 - closed in __iter__
        except OSError as exc:
            raise InputError(f"{self.path}: cannot open ({exc.strerror})") from exc
        self._raw = raw
        head = raw.read(2)
        raw.seek(0)
        if head == _GZIP_MAGIC:
            return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
        return raw

    def __iter__(self) -> Iterator[Ad | Rejected]:
        stream = self._open()
        try:
            if self.format == "csv":
                yield from self._iter_csv(stream)
            else:
                yield from self._iter_jsonl(stream)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(f"{self.path}: cannot read ({exc})") from exc
        finally:
            stream.close()
            if self._raw is not None:
                self._raw.close()

    # -- JSONL -----------------------------------------------------------------

    def _iter_jsonl(self, stream: IO[bytes]) -> Iterator[Ad | Rejected]:
        file = str(self.path)
        stats = self.stats
        # One decoder for the file; its hook counts repeated keys into the current
        # record's repairs (one Counter, emptied before each record that needs it).
        repairs: Counter[str] = Counter()
        decode = json.JSONDecoder(object_pairs_hook=_PairsHook(repairs)).decode
        plans = self._plans
        for line_no, line in enumerate(stream, start=1):
            if line_no == 1 and line.startswith(_BOM):
                line = line[len(_BOM) :]
            line = line.rstrip(b"\r\n")
            if not line or line.isspace():
                stats.blank += 1
                continue
            stats.records += 1
            sha = hashlib.sha256(line).hexdigest()
            if len(line) > MAX_RECORD_BYTES:
                yield self._reject(
                    file,
                    line_no,
                    "too_large",
                    f"record is {len(line):,} bytes, over the {MAX_RECORD_BYTES:,}-byte limit",
                    line,
                    sha,
                )
                continue
            if repairs:
                repairs.clear()
            if b"\x00" in line:
                repairs["nul"] += line.count(b"\x00")
                line_clean = line.replace(b"\x00", b"")
            else:
                line_clean = line
            try:
                text = line_clean.decode("utf-8")
            except UnicodeDecodeError:
                text = line_clean.decode("utf-8", errors="replace")
                repairs["invalid_utf8"] += 1
            try:
                value = decode(text)
            except (json.JSONDecodeError, RecursionError) as exc:
                yield self._reject(file, line_no, "bad_json", _json_detail(exc), line, sha)
                continue
            if not isinstance(value, dict):
                detail = f"a JSON {_json_type(value)}, not an object"
                yield self._reject(file, line_no, "not_object", detail, line, sha)
                continue
            if _NEEDS_SANITIZE.search(text) is not None:
                value = _sanitize(value, repairs)
            try:
                ad = _build_ad(value, sha, repairs, self.field_map, self.source, self._stem, plans)
            except _RecordError as exc:
                yield self._reject(file, line_no, exc.reason, exc.detail, line, sha)
                continue
            if repairs:
                self._count_repairs(repairs)
            yield ad

    # -- CSV -------------------------------------------------------------------

    def _iter_csv(self, stream: IO[bytes]) -> Iterator[Ad | Rejected]:
        file = str(self.path)
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
        nul_lines: Counter[str] = Counter()

        def lines() -> Iterator[str]:
            for ln in text:
                if "\x00" in ln:
                    nul_lines["nul"] += ln.count("\x00")
                    ln = ln.replace("\x00", "")
                yield ln

        csv.field_size_limit(MAX_RECORD_BYTES * 4)
        reader = csv.reader(lines(), delimiter=self._delimiter)
        header: list[str] | None = None
        prev_end = 0
        while True:
            start_line = prev_end + 1
            nul_before = nul_lines["nul"]
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                prev_end = reader.line_num
                self.stats.records += 1
                raw = f"(unreadable CSV near line {start_line})"
                sha = hashlib.sha256(raw.encode()).hexdigest()
                yield self._reject(file, start_line, "bad_csv", str(exc), raw.encode(), sha)
                continue
            prev_end = reader.line_num
            if header is None:
                header = [h.strip() for h in row]
                self._check_mapped_columns(header)
                continue
            if not any(cell.strip() for cell in row):
                self.stats.blank += 1
                continue
            self.stats.records += 1
            record: dict[str, Any] = {}
            for i, cell in enumerate(row):
                key = header[i] if i < len(header) else f"_extra_{i - len(header) + 1}"
                record[key] = cell
            raw_json = json.dumps(record, ensure_ascii=False, sort_keys=True)
            raw_bytes = raw_json.encode("utf-8", errors="surrogatepass")
            sha = hashlib.sha256(raw_bytes).hexdigest()
            if len(raw_bytes) > MAX_RECORD_BYTES:
                detail = f"record is {len(raw_bytes):,} bytes, over the {MAX_RECORD_BYTES:,} limit"
                yield self._reject(file, start_line, "too_large", detail, raw_bytes, sha)
                continue
            repairs: Counter[str] = Counter()
            if nul_lines["nul"] > nul_before:
                repairs["nul"] += nul_lines["nul"] - nul_before
            if "\ufffd" in raw_json:
                repairs["invalid_utf8"] += 1
            if "images" in record and isinstance(record["images"], str):
                record["images"] = _split_images(record["images"])
            try:
                ad = self._build(record, sha, repairs)
            except _RecordError as exc:
                yield self._reject(file, start_line, exc.reason, exc.detail, raw_bytes, sha)
                continue
            self._count_repairs(repairs)
            yield ad

    # -- shared ----------------------------------------------------------------

    def _check_mapped_columns(self, header: list[str]) -> None:
        """A ``--map`` to a column the CSV does not have is a mistake, not 100 %
        quarantine: raise InputError naming the column and the columns there are."""
        for name, keys in self.field_map.items():
            if keys != DEFAULT_FIELD_MAP.get(name) and not set(keys) & set(header):
                raise InputError(
                    f"{self.path}: --map {name}={','.join(keys)}: no such column "
                    f"(columns: {', '.join(header)})"
                )

    def _count_repairs(self, repairs: Counter[str]) -> None:
        if repairs:
            self.stats.repaired_records += 1
            self.stats.repairs.update(repairs.keys())

    def _reject(
        self, file: str, line: int, reason: str, detail: str, raw: bytes, sha: str
    ) -> Rejected:
        self.stats.rejected[reason] += 1
        text = raw.replace(b"\x00", b"").decode("utf-8", errors="replace")
        return Rejected(file, line, reason, detail, text, sha)

    def _build(self, record: dict[str, Any], raw_sha256: str, repairs: Counter[str]) -> Ad:
        return _build_ad(
            record, raw_sha256, repairs, self.field_map, self.source, self._stem, self._plans
        )


def _build_ad(
    record: dict[str, Any],
    raw_sha256: str,
    repairs: Counter[str],
    field_map: Mapping[str, tuple[str, ...]],
    source: str | None,
    default_source: str,
    plans: dict[tuple[str, ...], _Plan] | None = None,
) -> Ad:
    """One record as an Ad (the reader's mapping; see :class:`AdReader`), or
    _RecordError with the quarantine reason. ``plans``: a cache of :func:`_plan` by
    the record's keys, for a reader whose records share a layout."""
    cached = None
    if plans is not None:
        layout = tuple(record)
        cached = plans.get(layout)
    if cached is None:
        cached = _plan(field_map, record)
        if plans is not None and len(plans) < _MAX_PLANS:
            plans[layout] = cached
    picks, used = cached
    picked = {name: (record[key], key) for name, key in picks}
    field_names: dict[str, str] = {}
    texts: dict[str, str] = {}
    for name in _TEXT_TARGETS:
        value, key = picked.get(name, _NOTHING)
        texts[name] = value if type(value) is str else _as_text(value, key or name)
        if key is not None and key != name:
            field_names[name] = key
    if not texts["title"].strip() and not texts["body"].strip():
        raise _RecordError("no_text", "no non-blank title, body or text")

    raw_id, id_key = picked.get("id", _NOTHING)
    if isinstance(raw_id, dict | list | bool):
        raise _RecordError(
            "wrong_type", f"field {id_key!r} is a JSON {_json_type(raw_id)}, not a string"
        )
    ad_id = "" if raw_id is None else str(raw_id).strip()

    rec_source, _ = picked.get("source", _NOTHING)
    if not source:
        if isinstance(rec_source, str) and rec_source.strip():
            source = rec_source.strip()
        else:
            source = default_source
    if not ad_id:
        ad_id = "xx-" + _content_id(source, raw_sha256)

    raw_date, _ = picked.get("posted_at", _NOTHING)
    images_value, _ = picked.get("images", _NOTHING)
    site_fields = {k: v for k, v in record.items() if k not in used}

    posted_at = None
    if raw_date not in (None, ""):
        posted_at = parse_datetime(raw_date)
        if posted_at is None:
            site_fields["posted_at_raw"] = raw_date
            repairs["bad_date"] += 1

    images: list[str] = []
    if isinstance(images_value, list) and all(isinstance(x, str) for x in images_value):
        images = list(images_value)
    elif isinstance(images_value, str):
        images = _split_images(images_value)
    elif images_value is not None:
        site_fields["images"] = images_value

    return Ad(
        ad_id=ad_id,
        source=source,
        title=texts["title"],
        body=texts["body"],
        url=texts["url"],
        location=texts["location"],
        posted_at=posted_at,
        images=images,
        site_fields=site_fields,
        raw_sha256=raw_sha256,
        field_names=field_names,
    )


_NOTHING: tuple[None, None] = (None, None)

#: What :func:`_plan` decides for one layout of a record: ``(canonical field, key)``
#: of each field found, and the set of those keys (the rest go to site fields).
_Plan = tuple[tuple[tuple[str, str], ...], frozenset[str]]
_MAX_PLANS = 256  # layouts cached per reader (files usually have a handful)


def _plan(field_map: Mapping[str, tuple[str, ...]], record: dict[str, Any]) -> _Plan:
    """For each canonical field name, the first of its keys the record has."""
    picks: list[tuple[str, str]] = []
    for name, keys in field_map.items():
        for key in keys:
            if key in record:
                picks.append((name, key))
                break
    return tuple(picks), frozenset(key for _, key in picks)


def ad_from_record(
    record: dict[str, Any],
    *,
    source: str | None = None,
    default_source: str = "screen",
    field_map: Mapping[str, tuple[str, ...]] | None = None,
) -> Ad:
    """One JSON object as an Ad, with the readers' field mapping (``id``, ``title``,
    ``body``/``text``/``description``, ``url``, ``posted_at``/``date``, ``location``,
    ``images``, ``source``; other keys go to ``site_fields``).

    ``source`` overrides the record's; ``default_source`` is used when neither names
    one. Strings are repaired as the readers repair them (NUL dropped, lone surrogates
    replaced by U+FFFD). ``raw_sha256`` is the SHA-256 of the record's canonical JSON (sorted keys,
    UTF-8). Raises :class:`RecordError` with the quarantine reason (``no_text``,
    ``wrong_type``) and a message naming the field.
    """
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False)
    try:  # a lone surrogate cannot be encoded; a NUL is written \u0000
        raw = canonical.encode("utf-8")
        clean = "\\u0000" not in canonical
    except UnicodeEncodeError:
        clean = False
    if not clean:  # (rare) repair, then hash the repaired record
        record = _sanitize(record, Counter())  # NUL dropped, lone surrogates to U+FFFD
        raw = json.dumps(record, sort_keys=True, ensure_ascii=False).encode("utf-8")
    sha = hashlib.sha256(raw).hexdigest()
    return _build_ad(record, sha, Counter(), field_map or DEFAULT_FIELD_MAP, source, default_source)


class _PairsHook:
    """``object_pairs_hook`` that keeps the last value of a repeated key and counts it."""

    __slots__ = ("repairs",)

    def __init__(self, repairs: Counter[str]) -> None:
        self.repairs = repairs

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            self.repairs["duplicate_key"] += len(pairs) - len(result)
        return result


def _sanitize(value: Any, repairs: Counter[str]) -> Any:
    """Drop NUL characters and replace lone surrogates in every string of ``value``."""
    if isinstance(value, str):
        if "\x00" in value:
            repairs["nul"] += value.count("\x00")
            value = value.replace("\x00", "")
        if _SURROGATE.search(value):
            repairs["lone_surrogate"] += 1
            value = _SURROGATE.sub("\ufffd", value)
        return value
    if isinstance(value, dict):
        return {_sanitize(k, repairs): _sanitize(v, repairs) for k, v in value.items()}
    if isinstance(value, list):
        return [_sanitize(v, repairs) for v in value]
    return value


def _as_text(value: Any, key: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        raise _RecordError(
            "wrong_type", f"field {key!r} is a JSON {_json_type(value)}, not a string"
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return "string"


def _json_detail(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc.msg} (column {exc.colno})"
    return "invalid JSON: nested too deeply"


def _content_id(source: str, raw_sha256: str) -> str:
    """Stable id of a record without one: xxh3-64 of its source and the whole record as
    read, so reposts that differ in any field (a city, a date) stay distinct ads."""
    return xxhash.xxh3_64_hexdigest(f"{source}\x1f{raw_sha256}".encode())


def _split_images(value: str) -> list[str]:
    value = value.strip()
    if not value:
        return []
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed):
            return parsed
    return [p for p in re.split(r"[\s,;|]+", value) if p]


def parse_datetime(value: Any) -> datetime | None:
    """Read a posting time as an aware UTC datetime, or None when it cannot be read.

    Accepts ISO 8601 (``2017-03-04T21:15:00Z``, ``2017-03-04 21:15``, ``2017-03-04``;
    a time without offset is taken as UTC) and Unix epoch seconds (int, float or digits).
    """
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(float(value), tz=UTC)
        if not isinstance(value, str):
            return None
        text = value.strip()
        if not text:
            return None
        if re.fullmatch(r"\d{9,11}(\.\d+)?", text):
            return datetime.fromtimestamp(float(text), tz=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
