"""SQLite backend: one file, WAL journal, FTS5 full-text index over title and body."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from adsentry.errors import StoreError
from adsentry.store.base import Store, _chunks

# External-content FTS5 table over ads(title, body): the text lives once, in ads; every
# stored version is indexed and searches keep the current ones.
_FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS ads_fts USING fts5("
    "title, body, content='ads', content_rowid='pk', "
    "tokenize='unicode61 remove_diacritics 2')"
)


class SQLiteStore(Store):
    """A case database in one SQLite file (the embedded default).

    ``path``: the database file. With ``create=False`` a missing file is an error
    (commands that only read must not leave an empty database behind). Raises
    StoreError when the file is not an SQLite database or cannot be opened.
    """

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreError(f"{self.path}: no such database (run `adsentry analyze` first)")
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, not a database file")
        if not self.path.parent.exists():
            raise StoreError(f"{self.path}: folder {self.path.parent} does not exist")
        engine = create_engine(f"sqlite:///{self.path}", future=True)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        super().__init__(engine, str(self.path))
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT count(*) FROM sqlite_master")).scalar_one()
        except SQLAlchemyError as exc:
            engine.dispose()
            orig = getattr(exc, "orig", None) or exc
            raise StoreError(f"{self.path}: cannot open database ({orig})") from exc
        if create:
            self.create()

    def _create_fulltext(self, conn: Connection) -> None:
        conn.exec_driver_sql(_FTS_DDL)

    def _index_fulltext(self, conn: Connection, rows: Sequence[tuple[int, str, str]]) -> None:
        conn.exec_driver_sql("INSERT INTO ads_fts(rowid, title, body) VALUES (?, ?, ?)", list(rows))

    def _search_fulltext(self, conn: Connection, query: str, limit: int) -> list[int]:
        try:
            rows = conn.exec_driver_sql(
                "SELECT ads.pk FROM ads_fts JOIN ads ON ads.pk = ads_fts.rowid "
                "WHERE ads_fts MATCH ? AND ads.is_current ORDER BY ads_fts.rank LIMIT ?",
                (query, limit),
            ).all()
        except OperationalError as exc:
            msg = str(getattr(exc, "orig", exc))
            raise StoreError(f"cannot parse the search query: {msg}") from exc
        return [r[0] for r in rows]

    def _count_fulltext(self, conn: Connection, query: str) -> int:
        try:
            return int(
                conn.exec_driver_sql(
                    "SELECT count(*) FROM ads_fts JOIN ads ON ads.pk = ads_fts.rowid "
                    "WHERE ads_fts MATCH ? AND ads.is_current",
                    (query,),
                ).scalar_one()
            )
        except OperationalError as exc:
            msg = str(getattr(exc, "orig", exc))
            raise StoreError(f"cannot parse the search query: {msg}") from exc

    def _bulk_insert(
        self, conn: Connection, table: Any, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
    ) -> None:
        # the driver's executemany: no SQLAlchemy compilation per row
        marks = ", ".join("?" * len(columns))
        names = ", ".join(f'"{c}"' for c in columns)  # "end" is an SQL keyword
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
        for chunk in _chunks(list(rows), 5000):
            conn.exec_driver_sql(sql, list(chunk))

    def _insert_ignore(self, conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
        if rows:
            conn.execute(sqlite_insert(table).on_conflict_do_nothing(), rows)
