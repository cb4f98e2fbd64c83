"""The quarantine file: one JSON line per record that could not be read.

The file sits beside the database (``<db>.quarantine.jsonl``) and mirrors its
``quarantine`` table, which is the record of truth: each line is
``{"file", "line", "reason", "detail", "raw_sha256", "raw", "recorded_at"}`` with ``raw``
the record as read, so nothing is lost.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def quarantine_path(db_path: str | Path) -> Path:
    """``<db>.quarantine.jsonl`` for the database at ``db_path``."""
    p = Path(db_path)
    return p.with_name(p.name + ".quarantine.jsonl")


class QuarantineFile:
    """Append-only JSONL file of quarantined records."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def count(self) -> int:
        """Number of complete lines in the file (0 when it does not exist)."""
        if not self.path.exists():
            return 0
        with open(self.path, "rb") as f:
            return sum(1 for line in f if line.endswith(b"\n"))

    def append(self, rows: Iterable[dict[str, Any]]) -> int:
        """Append rows, flushed and synced; returns how many were written."""
        n = 0
        with open(self.path, "a", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
            f.flush()
            os.fsync(f.fileno())
        return n

    def rewrite(self, rows: Iterable[dict[str, Any]]) -> int:
        """Replace the file atomically with ``rows``; returns how many were written."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        n = 0
        with open(tmp, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        return n
