"""Schema and queries, one implementation per backend behind one interface."""

from __future__ import annotations

from pathlib import Path

from adsentry.store.base import BatchResult, Store, StoredAd
from adsentry.store.sqlite import SQLiteStore


def open_store(path: str | Path, *, create: bool = True) -> Store:
    """Open the case database at ``path`` (an SQLite file, the embedded default).

    ``create=False`` refuses a missing file. Raises StoreError when it cannot be opened.
    """
    return SQLiteStore(path, create=create)


__all__ = ["BatchResult", "SQLiteStore", "Store", "StoredAd", "open_store"]
