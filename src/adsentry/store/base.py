"""The store's shared algorithm, written once over SQLAlchemy Core.

A backend (see :mod:`adsentry.store.sqlite`) supplies a few hooks: how to make the
engine, how to create and fill the full-text index, how to query it, and how to insert
while ignoring rows that are already there. Everything else (versioning, batching,
counts, lookups) lives here, as in Splink's one-algorithm-many-backends design.
"""

from __future__ import annotations

import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    String,
    and_,
    bindparam,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy import cast as sa_cast
from sqlalchemy import column as sa_column
from sqlalchemy import literal as sa_literal
from sqlalchemy import table as sa_table
from sqlalchemy import text as sa_text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from adsentry.errors import StoreError
from adsentry.io.readers import Rejected
from adsentry.model import TEXT_FIELDS, Ad, Entity, Indicator, Span
from adsentry.store import schema
from adsentry.store.schema import value_from_text, value_to_text


@dataclass(slots=True)
class BatchResult:
    """What one batch write did: ads stored (new keys), new versions of stored keys,
    ads already stored unchanged, and quarantine rows newly added."""

    stored: int = 0
    new_versions: int = 0
    unchanged: int = 0
    quarantined: int = 0
    entities: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredAd:
    """One stored version of an ad, as read back from the database."""

    pk: int
    source: str
    ad_id: str
    version: int
    is_current: bool
    title: str
    body: str
    url: str
    location: str
    posted_at: str | None
    raw_sha256: str
    ingested_at: str
    site_fields: dict[str, Any]
    images: list[str]


@dataclass(frozen=True, slots=True)
class LinkAd:
    """What linking reads of one current ad: ``pk`` and key, text, the site's
    ``location`` field and ``posted_at`` (ISO 8601 UTC or None)."""

    pk: int
    source: str
    ad_id: str
    title: str
    body: str
    location: str
    posted_at: str | None


@dataclass(frozen=True, slots=True)
class LinkEntity:
    """One stored entity of a current ad, as linking reads it (value in store form)."""

    ad_pk: int
    kind: str
    value: str
    field: str
    start: int
    end: int
    text: str
    obfuscated: bool


@dataclass(frozen=True, slots=True)
class LinkState:
    """What the stored links cover: ``stamp`` (the newest ad pk they were computed
    with), ``params`` (the fingerprint of the linking parameters), ``current`` (current
    ads with ``pk <= stamp``) and ``banded`` (current ads with a band-key row); links
    can be updated incrementally only when ``current == banded``."""

    stamp: int
    params: str
    current: int
    banded: int


class Store(ABC):
    """A case database. Writes go through one writer (the calling process); reads may
    run in parallel. Every method raises :class:`~adsentry.errors.StoreError` with what
    was being done when the database fails."""

    def __init__(self, engine: Engine, description: str) -> None:
        self.engine = engine
        self.description = description

    # -- hooks -----------------------------------------------------------------

    @abstractmethod
    def _create_fulltext(self, conn: Connection) -> None:
        """Create the full-text index if it does not exist."""

    @abstractmethod
    def _index_fulltext(self, conn: Connection, rows: Sequence[tuple[int, str, str]]) -> None:
        """Add ``(ad_pk, title, body)`` rows to the full-text index."""

    @abstractmethod
    def _search_fulltext(self, conn: Connection, query: str, limit: int) -> list[int]:
        """Return the pks of current ads matching ``query``, best first."""

    @abstractmethod
    def _count_fulltext(self, conn: Connection, query: str) -> int:
        """How many current ads match ``query``."""

    @abstractmethod
    def _insert_ignore(self, conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
        """Insert rows, skipping those that violate a unique constraint."""

    def _bulk_insert(
        self, conn: Connection, table: Any, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
    ) -> None:
        """Insert many rows given as tuples in the order of ``columns``, 5,000 a
        statement (a backend may override this with its driver's fastest path)."""
        for chunk in _chunks(list(rows), 5000):
            conn.execute(table.insert(), [dict(zip(columns, r, strict=True)) for r in chunk])

    def _fetch_in(
        self, conn: Connection, sql: str, lists: Sequence[Sequence[Any]]
    ) -> list[tuple[Any, ...]]:
        """Rows of a read-only ``sql`` whose ``{0}``, ``{1}``, ... stand for the
        placeholders of the values in ``lists[0]``, ``lists[1]``, ... (``IN ({0})``),
        run on the driver's cursor: for the small queries of screening one ad, where
        SQLAlchemy's work per statement (expanding the lists, compiling, wrapping the
        rows) took 160 µs against 45 µs for the query itself (SQLite, 10 ids).
        Placeholders are ``?`` (the qmark style of SQLite's driver; a backend whose
        driver takes another style overrides this). The driver's errors come out as
        SQLAlchemy's, so that the callers' guard names the database and the action."""
        sql = sql.format(*(", ".join("?" * len(values)) for values in lists))
        params = [v for values in lists for v in values]
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql, params)
            return [tuple(row) for row in cursor.fetchall()]
        except conn.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                sql, params, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
            ) from exc
        finally:
            cursor.close()

    # -- lifecycle -------------------------------------------------------------

    def _guard(self, doing: str) -> _Guard:
        return _Guard(self.description, doing)

    def create(self) -> None:
        """Create the tables and indexes if missing (idempotent; an index added in a
        later version is built in a database made before it)."""
        with self._guard("creating the schema"), self.engine.begin() as conn:
            schema.metadata.create_all(conn)
            for table in schema.metadata.sorted_tables:
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
            self._create_fulltext(conn)
            self._insert_ignore(
                conn, schema.meta, [{"key": "schema_version", "value": schema.SCHEMA_VERSION}]
            )

    def close(self) -> None:
        self.engine.dispose()

    # -- writes ----------------------------------------------------------------

    def write_batch(
        self,
        analyzed: Sequence[
            tuple[Ad, Sequence[Entity]] | tuple[Ad, Sequence[Entity], Sequence[Indicator]]
        ],
        rejected: Sequence[Rejected] = (),
    ) -> BatchResult:
        """Store one batch in one transaction.

        ``analyzed``: ``(ad, entities)`` or ``(ad, entities, indicators)``. An ad whose
        ``raw_sha256`` equals that of any stored version of its ``(source, ad_id)`` is
        unchanged and not written; a
        different record under a stored key becomes version ``n + 1`` and the current
        one, the older version kept. ``rejected`` records go to the quarantine table
        (once per file, line and record hash). A failure rolls the whole batch back.
        """
        result = BatchResult()
        now = _utc_now()
        with self._guard("writing a batch of ads"), self.engine.begin() as conn:
            known = self._known_versions(conn, [item[0] for item in analyzed])
            new_rows: list[dict[str, Any]] = []
            new_entities: list[Sequence[Entity]] = []
            new_indicators: list[Sequence[Indicator]] = []
            supersede: list[tuple[str, str]] = []
            for item in analyzed:
                ad, ents = item[0], item[1]
                key = (ad.source, ad.ad_id)
                versions = known.setdefault(key, {})
                if ad.raw_sha256 in versions.values():
                    result.unchanged += 1
                    continue
                version = max(versions, default=0) + 1
                versions[version] = ad.raw_sha256
                if version == 1:
                    result.stored += 1
                else:
                    result.new_versions += 1
                    supersede.append(key)
                new_rows.append(_ad_row(ad, version, now))
                new_entities.append(ents)
                new_indicators.append(item[2] if len(item) > 2 else ())
            if supersede:
                self._supersede(conn, supersede)
            if new_rows:
                pks = self._insert_ads(conn, new_rows)
                # Within one batch, the same key may get several versions: only the
                # last one stays current.
                last_pk: dict[tuple[str, str], int] = {}
                for pk, row in zip(pks, new_rows, strict=True):
                    last_pk[(row["source"], row["ad_id"])] = pk
                stale = [
                    pk
                    for pk, row in zip(pks, new_rows, strict=True)
                    if last_pk[(row["source"], row["ad_id"])] != pk
                ]
                if stale:
                    conn.execute(
                        update(schema.ads)
                        .where(schema.ads.c.pk.in_(stale))
                        .values(is_current=False)
                    )
                entity_rows = []
                counts = result.entities
                for pk, ents in zip(pks, new_entities, strict=True):
                    for e in ents:
                        entity_rows.append(_entity_row(pk, e))
                        counts[e.kind] = counts.get(e.kind, 0) + 1
                self._bulk_insert(conn, schema.entities, _ENTITY_COLUMNS, entity_rows)
                indicator_rows = [
                    _indicator_row(pk, ind, span)
                    for pk, inds in zip(pks, new_indicators, strict=True)
                    for ind in inds
                    for span in ind.spans
                ]
                self._bulk_insert(conn, schema.indicators, _INDICATOR_COLUMNS, indicator_rows)
                self._index_fulltext(
                    conn,
                    [(pk, r["title"], r["body"]) for pk, r in zip(pks, new_rows, strict=True)],
                )
            if rejected:
                before = _count(conn, schema.quarantine)
                self._insert_ignore(
                    conn, schema.quarantine, [_quarantine_row(r, now) for r in rejected]
                )
                result.quarantined = _count(conn, schema.quarantine) - before
        return result

    def already_stored(self, ads: Sequence[Ad]) -> set[tuple[str, str, str]]:
        """``(source, ad_id, raw_sha256)`` of the given ads that some stored version has
        already, so a re-run can skip them before the per-ad stages."""
        with self._guard("looking up stored ads"), self.engine.connect() as conn:
            known = self._known_versions(conn, ads)
        return {(src, aid, sha) for (src, aid), vs in known.items() for sha in vs.values()}

    def _known_versions(
        self, conn: Connection, ads: Sequence[Ad]
    ) -> dict[tuple[str, str], dict[int, str]]:
        known: dict[tuple[str, str], dict[int, str]] = {}
        ids = sorted({ad.ad_id for ad in ads})
        keys = {(ad.source, ad.ad_id) for ad in ads}
        t = schema.ads
        for chunk in _chunks(ids, 500):
            rows = conn.execute(
                select(t.c.source, t.c.ad_id, t.c.version, t.c.raw_sha256).where(
                    t.c.ad_id.in_(chunk)
                )
            )
            for source, ad_id, version, sha in rows:
                if (source, ad_id) in keys:
                    known.setdefault((source, ad_id), {})[version] = sha
        return known

    def _supersede(self, conn: Connection, keys: Sequence[tuple[str, str]]) -> None:
        t = schema.ads
        for source, ad_id in keys:
            conn.execute(
                update(t)
                .where(and_(t.c.source == source, t.c.ad_id == ad_id, t.c.is_current))
                .values(is_current=False)
            )

    def _insert_ads(self, conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
        stmt = schema.ads.insert().returning(schema.ads.c.pk, sort_by_parameter_order=True)
        return [r[0] for r in conn.execute(stmt, rows)]

    # -- reads -----------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counts: ``{"ads": N, "versions": N, "quarantined": N, "sources": {name: N},
        "entities": {kind: N}}`` (ads and entities of current versions only)."""
        a, e = schema.ads, schema.entities
        with self._guard("counting"), self.engine.connect() as conn:
            ads_n = conn.execute(select(func.count()).where(a.c.is_current)).scalar_one()
            versions = _count(conn, a)
            sources: dict[str, int] = dict(
                conn.execute(
                    select(a.c.source, func.count())
                    .where(a.c.is_current)
                    .group_by(a.c.source)
                    .order_by(a.c.source)
                ).all()
            )
            kinds: dict[str, int] = dict(
                conn.execute(
                    select(e.c.kind, func.count())
                    .select_from(e.join(a, a.c.pk == e.c.ad_pk))
                    .where(a.c.is_current)
                    .group_by(e.c.kind)
                    .order_by(e.c.kind)
                ).all()
            )
            quarantined = _count(conn, schema.quarantine)
        return {
            "ads": ads_n,
            "versions": versions,
            "quarantined": quarantined,
            "sources": sources,
            "entities": kinds,
        }

    def search_text(self, query: str, limit: int = 20) -> list[StoredAd]:
        """Full-text search over title and body of current ads (the backend's query
        syntax, FTS5 for SQLite). Raises StoreError with the parser's message when the
        query cannot be parsed."""
        # the query is not repeated in the error: it may hold an identifier
        with self._guard("searching the full text"), self.engine.connect() as conn:
            pks = self._search_fulltext(conn, query, limit)
            return self._ads_by_pk(conn, pks)

    def count_text(self, query: str) -> int:
        """How many current ads :meth:`search_text` would find without a limit."""
        with self._guard("counting full-text matches"), self.engine.connect() as conn:
            return self._count_fulltext(conn, query)

    def count_with_entity(self, kind: str, value: Any) -> int:
        """How many current ads carry an entity of ``kind`` with ``value``."""
        a, e = schema.ads, schema.entities
        with self._guard(f"counting a {kind}"), self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count(func.distinct(a.c.pk)))
                    .select_from(a.join(e, a.c.pk == e.c.ad_pk))
                    .where(e.c.kind == kind, e.c.value == value_to_text(kind, value))
                    .where(a.c.is_current)
                ).scalar_one()
            )

    def ads_with_entity(self, kind: str, value: Any, limit: int = 20) -> list[StoredAd]:
        """Current ads carrying an entity of ``kind`` with normalized ``value``
        (e.g. ``("phone", "+16195550142")``), newest first."""
        a, e = schema.ads, schema.entities
        with self._guard(f"looking up a {kind}"), self.engine.connect() as conn:
            pks = [
                r[0]
                for r in conn.execute(
                    select(a.c.pk)
                    .select_from(a.join(e, a.c.pk == e.c.ad_pk))
                    .where(e.c.kind == kind, e.c.value == value_to_text(kind, value))
                    .where(a.c.is_current)
                    .group_by(a.c.pk)
                    .order_by(a.c.posted_at.desc(), a.c.pk)
                    .limit(limit)
                )
            ]
            return self._ads_by_pk(conn, pks)

    def top_values(self, kind: str, n: int = 10) -> list[tuple[Any, int]]:
        """The ``n`` values of ``kind`` carried by the most current ads, with counts."""
        a, e = schema.ads, schema.entities
        with self._guard(f"counting {kind} values"), self.engine.connect() as conn:
            rows = conn.execute(
                select(e.c.value, func.count(func.distinct(e.c.ad_pk)).label("n"))
                .select_from(e.join(a, a.c.pk == e.c.ad_pk))
                .where(e.c.kind == kind, a.c.is_current)
                .group_by(e.c.value)
                .order_by(func.count(func.distinct(e.c.ad_pk)).desc(), e.c.value)
                .limit(n)
            )
            return [(value_from_text(kind, v), int(c)) for v, c in rows]

    def iter_quarantine(self, after_pk: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """Quarantine rows with ``pk > after_pk`` in insertion order, as
        ``(pk, {"file", "line", "reason", "detail", "raw_sha256", "raw", "recorded_at"})``."""
        q = schema.quarantine
        with self._guard("reading the quarantine"), self.engine.connect() as conn:
            rows = conn.execute(select(q).where(q.c.pk > after_pk).order_by(q.c.pk))
            for r in rows:
                d = dict(r._mapping)
                yield d.pop("pk"), d

    def iter_current_link(
        self, kinds: Sequence[str], chunk: int = 50_000, after: int = 0
    ) -> Iterator[tuple[list[LinkAd], list[LinkEntity]]]:
        """Every current ad with a pk over ``after`` as linking reads it with its
        entities of ``kinds`` (ordered by ad, field and offset), in pages of at most
        ``chunk`` ads by ``pk`` (keyset-paged: memory stays one page, so a caller can
        keep only what it needs of each ad)."""
        a = schema.ads
        cols = (a.c.pk, a.c.source, a.c.ad_id, a.c.title, a.c.body, a.c.location, a.c.posted_at)
        wanted = set(kinds)
        with self._guard("reading ads for linking"), self.engine.connect() as conn:
            while True:
                page = [
                    LinkAd(*r)
                    for r in conn.execute(
                        select(*cols)
                        .where(a.c.is_current, a.c.pk > after)
                        .order_by(a.c.pk)
                        .limit(chunk)
                    )
                ]
                if not page:
                    return
                pks = {ad.pk for ad in page}
                # by pk range on ix_entities_ad and the kinds; versions filtered here.
                # On the driver's cursor: SQLAlchemy's rows cost 5 of the 7 s that
                # reading 100k demo ads took (788k entity rows, when every kind came).
                rows = self._fetch_in(
                    conn, _LINK_ENTITIES_SQL, [[page[0].pk], [page[-1].pk], sorted(wanted)]
                )
                ents = [
                    LinkEntity(pk, kind, value, fld, start, end, text, bool(obf))
                    for pk, kind, value, fld, start, end, text, obf in rows
                    if pk in pks
                ]
                yield page, ents
                after = page[-1].pk

    def replace_links(
        self,
        templates: Sequence[tuple[int, str, float]],
        members: Sequence[tuple[int, str]],
        generic: Sequence[tuple[str, str, str, int]],
        bands: Sequence[tuple[int, bytes | None, str | None]] = (),
        params: str = "",
    ) -> None:
        """Replace the results of linking in one transaction: ``templates`` as
        ``(ad_pk, template_id, similarity)``, ``members`` as ``(ad_pk, network_id)``,
        ``generic`` as ``(kind, value, reason, ads)``, ``bands`` as ``(ad_pk, band_keys,
        component)`` (LSH band keys, None for a text too short to link; template
        component or None); ``params`` names the linking parameters the rows were
        computed with (see :meth:`link_state`)."""
        t, m, g = schema.ad_templates, schema.network_members, schema.generic_identifiers
        b = schema.ad_bands
        with self._guard("writing links"), self.engine.begin() as conn:
            if inspect(conn).has_table(b.name) and "component" not in {
                c["name"] for c in inspect(conn).get_columns(b.name)
            }:
                b.drop(conn)  # written by an earlier version: rebuilt whole here
            for table in (t, m, g, b):
                table.create(conn, checkfirst=True)
                conn.execute(table.delete())
            self._write_links(conn, templates, members, generic, bands, params)

    def update_links(
        self,
        drop: Sequence[int],
        templates: Sequence[tuple[int, str, float]],
        members: Sequence[tuple[int, str]],
        bands: Sequence[tuple[int, bytes | None, str | None]],
        generic_drop: Sequence[tuple[str, str]],
        generic: Sequence[tuple[str, str, str, int]],
        params: str,
    ) -> None:
        """Replace the links of some ads in one transaction (incremental linking):
        delete the template, network and band rows of the ads ``drop``, the generic
        rows ``generic_drop`` (``(kind, value)``), then write the rows as
        :meth:`replace_links` does and move the stamp to the newest ad."""
        t, m, g, b = (
            schema.ad_templates,
            schema.network_members,
            schema.generic_identifiers,
            schema.ad_bands,
        )
        with self._guard("writing links"), self.engine.begin() as conn:
            for chunk in _chunks(sorted(set(drop)), 500):
                for table in (t, m, b):
                    conn.execute(table.delete().where(table.c.ad_pk.in_(chunk)))
            for kind, value in generic_drop:
                conn.execute(g.delete().where(g.c.kind == kind, g.c.value == value))
            self._write_links(conn, templates, members, generic, bands, params)

    def _write_links(
        self,
        conn: Connection,
        templates: Sequence[tuple[int, str, float]],
        members: Sequence[tuple[int, str]],
        generic: Sequence[tuple[str, str, str, int]],
        bands: Sequence[tuple[int, bytes | None, str | None]],
        params: str,
    ) -> None:
        t, m, g = schema.ad_templates, schema.network_members, schema.generic_identifiers
        # The links now cover every ad stored so far (ads are only ever appended).
        facts = {
            "links_upto_ad_pk": str(self._max_ad_pk(conn)),
            "link_params": params,
            "scores_current": "0",  # until the assessments of these links are written
            "links_written": uuid.uuid4().hex,  # for readers holding the links (data_version)
        }
        conn.execute(schema.meta.delete().where(schema.meta.c.key.in_(list(facts))))
        conn.execute(schema.meta.insert(), [{"key": k, "value": v} for k, v in facts.items()])
        self._bulk_insert(conn, t, ("ad_pk", "template_id", "similarity"), templates)
        self._bulk_insert(conn, m, ("ad_pk", "network_id"), members)
        self._bulk_insert(conn, schema.ad_bands, ("ad_pk", "band_keys", "component"), bands)
        if generic:
            conn.execute(
                g.insert(),
                [{"kind": k, "value": v, "reason": r, "ads": n} for k, v, r, n in generic],
            )

    def optimize(self) -> None:
        """Refresh the query planner's statistics (SQL ``ANALYZE``, in SQLite and
        PostgreSQL alike). Without them SQLite reads ``is_current = 1`` as selective
        and scans every current ad for a lookup by id (50-90 ms instead of 0.1 ms on
        100k ads). Run after bulk writes; costs about a second per 100k ads."""
        with self._guard("refreshing planner statistics"), self.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")

    def links_are_current(self) -> bool:
        """Whether the stored links were computed over every ad stored now (written in
        the same transaction as the links, so a relink stopped halfway is not current)."""
        with self._guard("checking the links"), self.engine.connect() as conn:
            stamp = conn.execute(
                select(schema.meta.c.value).where(schema.meta.c.key == "links_upto_ad_pk")
            ).scalar_one_or_none()
            return stamp is not None and stamp == str(self._max_ad_pk(conn))

    @staticmethod
    def _max_ad_pk(conn: Connection) -> int:
        return int(conn.execute(select(func.coalesce(func.max(schema.ads.c.pk), 0))).scalar_one())

    def _has_links(self, conn: Connection) -> bool:
        # Tables are never dropped: once seen, remembered (an inspector query is costly).
        if not getattr(self, "_links_seen", False):
            self._links_seen = bool(inspect(conn).has_table(schema.network_members.name))
        return self._links_seen

    def link_assignments(self) -> list[tuple[str, str, int, str | None, str | None]]:
        """``(source, ad_id, pk, network_id, template_id)`` of every current ad in
        storage order; None where the ad stands alone (or nothing was linked yet)."""
        a = schema.ads
        with self._guard("reading networks"), self.engine.connect() as conn:
            if not self._has_links(conn):
                alone = conn.execute(
                    select(a.c.source, a.c.ad_id, a.c.pk).where(a.c.is_current).order_by(a.c.pk)
                )
                return [(s, i, p, None, None) for s, i, p in alone]
            rows = conn.execute(_ASSIGNMENTS.where(a.c.is_current).order_by(a.c.pk))
            return [(s, i, p, nid, tid) for s, i, p, nid, tid in rows]

    def link_assignments_of(
        self, pks: Sequence[int]
    ) -> list[tuple[str, str, int, str | None, str | None]]:
        """:meth:`link_assignments` of the given ads only, by pk."""
        a = schema.ads
        out: list[tuple[str, str, int, str | None, str | None]] = []
        with self._guard("reading networks"), self.engine.connect() as conn:
            for chunk in _chunks(sorted(set(pks)), 500):
                rows = conn.execute(_ASSIGNMENTS.where(a.c.pk.in_(chunk)).order_by(a.c.pk))
                out.extend((s, i, p, nid, tid) for s, i, p, nid, tid in rows)
        return out

    def network_members_of(self, network_id: str) -> list[tuple[int, str | None, float | None]]:
        """``(ad_pk, template_id, similarity)`` of the ads of one network, by pk."""
        t, m = schema.ad_templates, schema.network_members
        with self._guard("reading a network"), self.engine.connect() as conn:
            if not self._has_links(conn):
                return []
            rows = conn.execute(
                select(m.c.ad_pk, t.c.template_id, t.c.similarity)
                .select_from(m.outerjoin(t, t.c.ad_pk == m.c.ad_pk))
                .where(m.c.network_id == network_id)
                .order_by(m.c.ad_pk)
            )
            return [(p, i, s) for p, i, s in rows]

    def generic_identifiers(self) -> list[tuple[str, str, str, int]]:
        """``(kind, value, reason, ads)`` of the generic identifiers of the last relink,
        most carried first."""
        g = schema.generic_identifiers
        with self._guard("reading generic identifiers"), self.engine.connect() as conn:
            if not self._has_links(conn):
                return []
            rows = conn.execute(select(g).order_by(g.c.ads.desc(), g.c.kind, g.c.value))
            return [(r.kind, r.value, r.reason, r.ads) for r in rows]

    def link_ads_by_pk(self, pks: Sequence[int]) -> list[LinkAd]:
        """The given ads as linking reads them, in the order of ``pks``."""
        found: dict[int, LinkAd] = {}
        with self._guard("reading ads"), self.engine.connect() as conn:
            for chunk in _chunks(list(pks), 500):
                for r in conn.execute(_LINK_ADS, {"pks": list(chunk)}):
                    found[r[0]] = LinkAd(*r)
        return [found[p] for p in pks if p in found]

    def link_entities_of(self, pks: Sequence[int], kinds: Sequence[str]) -> list[LinkEntity]:
        """Entities of ``kinds`` of the given ads, ordered by ad, field and offset."""
        out: list[LinkEntity] = []
        wanted = set(kinds)
        with self._guard("reading entities"), self.engine.connect() as conn:
            for chunk in _chunks(sorted(set(pks)), 500):
                # kinds filtered here, not in SQL: with a kind condition SQLite's planner
                # takes the (kind, value) index and reads every entity of those kinds.
                # On the driver's cursor, as iter_current_link: SQLAlchemy's expanding
                # parameters and rows took most of rescoring 100k demo ads.
                out.extend(
                    LinkEntity(pk, kind, value, fld, start, end, text, bool(obf))
                    for pk, kind, value, fld, start, end, text, obf in self._fetch_in(
                        conn, _LINK_ENTITIES_IN_SQL, [chunk]
                    )
                    if kind in wanted
                )
        return out

    # -- incremental linking ----------------------------------------------------

    def link_state(self) -> LinkState | None:
        """What the stored links cover, or None when nothing was linked yet."""
        a, b, meta = schema.ads, schema.ad_bands, schema.meta
        with self._guard("reading the link state"), self.engine.connect() as conn:
            facts = dict(
                conn.execute(
                    select(meta.c.key, meta.c.value).where(
                        meta.c.key.in_(["links_upto_ad_pk", "link_params"])
                    )
                ).all()
            )
            if "links_upto_ad_pk" not in facts:
                return None
            stamp = int(facts["links_upto_ad_pk"])
            current = int(
                conn.execute(
                    select(func.count()).where(a.c.is_current, a.c.pk <= stamp)
                ).scalar_one()
            )
            banded = 0
            if inspect(conn).has_table(b.name):
                banded = int(
                    conn.execute(
                        select(func.count())
                        .select_from(b.join(a, a.c.pk == b.c.ad_pk))
                        .where(a.c.is_current)
                    ).scalar_one()
                )
            return LinkState(stamp, facts.get("link_params", ""), current, banded)

    def link_ads_after(self, stamp: int) -> list[LinkAd]:
        """The current ads stored after the links were made (``pk > stamp``), by pk."""
        a = schema.ads
        cols = (a.c.pk, a.c.source, a.c.ad_id, a.c.title, a.c.body, a.c.location, a.c.posted_at)
        with self._guard("reading new ads"), self.engine.connect() as conn:
            rows = conn.execute(
                select(*cols).where(a.c.is_current, a.c.pk > stamp).order_by(a.c.pk)
            )
            return [LinkAd(*r) for r in rows]

    def unlinked_versions(self) -> list[int]:
        """Pks of linked ads that a newer version has replaced since (their links are
        still stored and must be withdrawn)."""
        a, b = schema.ads, schema.ad_bands
        with self._guard("reading replaced versions"), self.engine.connect() as conn:
            rows = conn.execute(
                select(b.c.ad_pk)
                .select_from(b.join(a, a.c.pk == b.c.ad_pk))
                .where(~a.c.is_current)
                .order_by(b.c.ad_pk)
            )
            return [int(p) for (p,) in rows]

    def count_current(self) -> int:
        """How many current ads are stored."""
        a = schema.ads
        with self._guard("counting ads"), self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).where(a.c.is_current)).scalar_one())

    def current_carriers(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], list[int]]:
        """``(kind, value)`` (store form) -> pks of the **current** ads carrying it,
        ascending; keys no current ad carries are left out."""
        out: dict[tuple[str, str], set[int]] = {}
        by_kind: dict[str, list[str]] = {}
        for kind, value in set(keys):
            by_kind.setdefault(kind, []).append(value)
        with self._guard("looking up identifiers"), self.engine.connect() as conn:
            for kind, values in sorted(by_kind.items()):
                for chunk in _chunks(sorted(values), 500):
                    for value, pk in conn.execute(
                        _CURRENT_CARRIERS, {"kind": kind, "values": list(chunk)}
                    ):
                        out.setdefault((kind, value), set()).add(int(pk))
        return {k: sorted(v) for k, v in out.items()}

    def iter_band_keys(self, chunk: int = 50_000) -> Iterator[list[tuple[int, bytes]]]:
        """``(ad_pk, keys)`` of every ad of the last link run whose text can link (the
        current ads then, so also versions replaced since), by pk, in lists of at most
        ``chunk`` rows (one query read ``chunk`` rows at a time through the driver: a
        million rows of 336 bytes in a few seconds)."""
        b = schema.ad_bands
        with self._guard("reading band keys"), self.engine.connect() as conn:
            if not inspect(conn).has_table(b.name):
                return
            cur = conn.exec_driver_sql(
                f"SELECT ad_pk, band_keys FROM {b.name} WHERE band_keys IS NOT NULL ORDER BY ad_pk"
            )
            while rows := cur.fetchmany(chunk):
                yield [(int(p), bytes(k)) for p, k in rows]

    def members_of_networks(self, network_ids: Sequence[str]) -> list[int]:
        """Pks of the ads of the given networks, ascending."""
        m = schema.network_members
        with self._guard("reading networks"), self.engine.connect() as conn:
            if not self._has_links(conn):
                return []
            return sorted(_values_where_in(conn, m.c.ad_pk, m.c.network_id, network_ids))

    def components_of(self, pks: Sequence[int]) -> set[str]:
        """The template components (see ``ad_bands``) of the given linked ads."""
        b = schema.ad_bands
        with self._guard("reading template components"), self.engine.connect() as conn:
            found = _values_where_in(conn, b.c.component, b.c.ad_pk, pks)
        return {c for c in found if c is not None}

    def members_of_components(self, components: Sequence[str]) -> list[int]:
        """Pks of the linked ads of the given template components, ascending."""
        b = schema.ad_bands
        with self._guard("reading template components"), self.engine.connect() as conn:
            return sorted(_values_where_in(conn, b.c.ad_pk, b.c.component, components))

    def link_counts(self) -> tuple[int, int, int, int]:
        """``(networks, ads in networks, templates, generic identifiers)`` stored."""
        t, g = schema.ad_templates, schema.generic_identifiers
        nets, in_nets = self.network_count()
        with self._guard("counting links"), self.engine.connect() as conn:
            if not self._has_links(conn):
                return 0, 0, 0, 0
            templates = conn.execute(select(func.count(func.distinct(t.c.template_id))))
            n_templates = int(templates.scalar_one())
            n_generic = int(conn.execute(select(func.count()).select_from(g)).scalar_one())
        return nets, in_nets, n_templates, n_generic

    # -- indicators and assessments ----------------------------------------------

    def indicators_of(self, pks: Sequence[int] | None = None) -> dict[int, list[Indicator]]:
        """The stored indicators of the given ads (of every current ad when ``pks`` is
        None): ad pk -> Indicators, one per code, codes sorted, with their spans in
        the order the matcher gives them (field order of ``TEXT_FIELDS``, then offset),
        so that a stored ad is scored with the same evidence as when it was screened.
        Read on the driver's cursor (SQLAlchemy's rows took most of the reading)."""
        out: dict[int, list[Indicator]] = {}
        with self._guard("reading indicators"), self.engine.connect() as conn:
            if not inspect(conn).has_table(schema.indicators.name):
                return {}
            if pks is None:
                rows = self._fetch_in(conn, _CURRENT_INDICATORS_SQL, [])
            else:
                rows = []
                for chunk in _chunks(sorted(set(pks)), 500):
                    rows.extend(self._fetch_in(conn, _INDICATORS_IN_SQL, [chunk]))
            # rows come grouped by (ad, code), chunks in ascending pk: one pass builds them
            head: tuple[Any, ...] | None = None
            spans: list[Span] = []
            for pk, code, validated, source, language, field, start, end, text in rows:
                if head is None or head[0] != pk or head[1] != code:
                    if head is not None:
                        out.setdefault(head[0], []).append(_indicator(head, spans))
                    head, spans = (pk, code, validated, source, language), []
                spans.append(Span(field, start, end, text))
            if head is not None:
                out.setdefault(head[0], []).append(_indicator(head, spans))
        return out

    def replace_assessments(self, rows: Sequence[tuple[str, str, float, str, str]]) -> None:
        """Replace every assessment in one transaction: ``(subject, subject_id, score,
        decision, contributions_json)``, subject ``"ad"`` or ``"network"``."""
        t = schema.assessments
        with self._guard("writing assessments"), self.engine.begin() as conn:
            t.create(conn, checkfirst=True)
            conn.execute(t.delete())
            self._write_assessments(conn, rows)

    def update_assessments(
        self,
        rows: Sequence[tuple[str, str, float, str, str]],
        drop: Sequence[tuple[str, str]],
    ) -> None:
        """Replace some assessments in one transaction: delete ``drop`` (``(subject,
        subject_id)``) and the ids of ``rows``, then insert ``rows`` (shape as in
        :meth:`replace_assessments`)."""
        t = schema.assessments
        gone: dict[str, set[str]] = {}
        for subject, sid in [*drop, *((r[0], r[1]) for r in rows)]:
            gone.setdefault(subject, set()).add(sid)
        with self._guard("writing assessments"), self.engine.begin() as conn:
            t.create(conn, checkfirst=True)
            for subject, ids in sorted(gone.items()):
                for chunk in _chunks(sorted(ids), 500):
                    conn.execute(
                        t.delete().where(t.c.subject == subject, t.c.subject_id.in_(chunk))
                    )
            self._write_assessments(conn, rows)

    def _write_assessments(
        self, conn: Connection, rows: Sequence[tuple[str, str, float, str, str]]
    ) -> None:
        """Insert assessment rows, and mark the scores as written for the stored links."""
        t, meta = schema.assessments, schema.meta
        cols = ("subject", "subject_id", "score", "decision", "contributions")
        self._bulk_insert(conn, t, cols, rows)
        facts = {"scores_current": "1", "scores_written": uuid.uuid4().hex}
        conn.execute(meta.delete().where(meta.c.key.in_(list(facts))))
        conn.execute(meta.insert(), [{"key": k, "value": v} for k, v in facts.items()])

    def scores_are_current(self) -> bool:
        """False when links were written and the run stopped before their assessments
        were (the next ``analyze`` then rescores)."""
        meta = schema.meta
        with self._guard("checking the scores"), self.engine.connect() as conn:
            value = conn.execute(
                select(meta.c.value).where(meta.c.key == "scores_current")
            ).scalar_one_or_none()
            return value != "0"

    def assessment_counts(self) -> tuple[int, int, int, int]:
        """``(ads, networks, ads not allowed, networks not allowed)`` assessed."""
        t = schema.assessments
        with self._guard("counting assessments"), self.engine.connect() as conn:
            if not inspect(conn).has_table(t.name):
                return 0, 0, 0, 0
            flagged = func.sum(sa_cast(t.c.decision != "allow", Integer))
            counts = dict.fromkeys(("ad", "network"), (0, 0))
            for subject, n, f in conn.execute(
                select(t.c.subject, func.count(), flagged).group_by(t.c.subject)
            ):
                counts[subject] = (int(n), int(f or 0))
        return counts["ad"][0], counts["network"][0], counts["ad"][1], counts["network"][1]

    def assessments_of(
        self, subject: str, ids: Sequence[str]
    ) -> dict[str, tuple[float, str, list[dict[str, Any]]]]:
        """Stored assessments: subject id -> ``(score, decision, contributions)``."""
        out: dict[str, tuple[float, str, list[dict[str, Any]]]] = {}
        with self._guard("reading assessments"), self.engine.connect() as conn:
            if not self._has_links(conn):  # assessments are written after the links
                return out
            for chunk in _chunks(sorted(set(ids)), 500):
                for r in conn.execute(_ASSESSMENTS, {"subject": subject, "ids": list(chunk)}):
                    out[r.subject_id] = (r.score, r.decision, json.loads(r.contributions))
        return out

    def top_assessments(
        self, subject: str, n: int = 20
    ) -> list[tuple[str, float, str, list[dict[str, Any]]]]:
        """The ``n`` highest scores of ``subject`` (``"ad"`` or ``"network"``):
        ``(subject_id, score, decision, contributions)``, highest first, ties by id."""
        t = schema.assessments
        with self._guard("reading top scores"), self.engine.connect() as conn:
            if not inspect(conn).has_table(t.name):
                return []
            rows = conn.execute(
                select(t)
                .where(t.c.subject == subject)
                .order_by(t.c.score.desc(), t.c.subject_id)
                .limit(n)
            )
            return [(r.subject_id, r.score, r.decision, json.loads(r.contributions)) for r in rows]

    def current_dates_places(self) -> dict[int, tuple[str | None, str]]:
        """Ad pk -> ``(posted_at, location)`` of every current ad (``posted_at`` ISO
        8601 UTC or None; ``location`` the site's location field)."""
        a = schema.ads
        with self._guard("reading dates"), self.engine.connect() as conn:
            rows = conn.execute(select(a.c.pk, a.c.posted_at, a.c.location).where(a.c.is_current))
            return {pk: (posted, loc) for pk, posted, loc in rows}

    def dates_places_of(self, pks: Sequence[int]) -> dict[int, tuple[str | None, str]]:
        """:meth:`current_dates_places` of the given ads only."""
        a = schema.ads
        out: dict[int, tuple[str | None, str]] = {}
        with self._guard("reading dates"), self.engine.connect() as conn:
            for chunk in _chunks(sorted(set(pks)), 500):
                rows = conn.execute(
                    select(a.c.pk, a.c.posted_at, a.c.location).where(a.c.pk.in_(chunk))
                )
                out.update((pk, (posted, loc)) for pk, posted, loc in rows)
        return out

    # -- lookups for screening ---------------------------------------------------

    def entity_carriers(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], list[int]]:
        """``(kind, value)`` (value in store form) -> pks of the stored ads that carry
        it, ascending, **current or not** (filter with :meth:`superseded_pks`); keys
        carried by no ad are left out. One index-only query (``kind, value, ad_pk``)."""
        wanted = set(keys)
        out: dict[tuple[str, str], list[int]] = {}
        if not wanted:
            return out
        with self._guard("looking up identifiers"), self.engine.connect() as conn:
            kinds = sorted({k for k, _ in wanted})
            values = sorted({v for _, v in wanted})
            for kind, value, pk in self._fetch_in(conn, _CARRIERS_SQL, [kinds, values]):
                if (kind, value) in wanted:
                    out.setdefault((kind, value), []).append(pk)
        return {k: sorted(set(v)) for k, v in out.items()}

    def superseded_pks(self, keys: Sequence[tuple[str, str]] | None = None) -> set[int]:
        """Pks of stored versions that a newer version replaced (not current): of every
        ad, or of the ads ``(source, ad_id)`` in ``keys``."""
        a = schema.ads
        with self._guard("reading versions"), self.engine.connect() as conn:
            if keys is None:
                return {pk for (pk,) in conn.execute(select(a.c.pk).where(~a.c.is_current))}
            wanted = set(keys)
            out: set[int] = set()
            for chunk in _chunks(sorted({i for _, i in wanted}), 500):
                for pk, source, ad_id in self._fetch_in(conn, _SUPERSEDED_SQL, [chunk]):
                    if (source, ad_id) in wanted:
                        out.add(int(pk))
            return out

    def keys_of(self, pks: Sequence[int]) -> dict[int, tuple[str, str]]:
        """pk -> ``(source, ad_id)`` of the given stored ads."""
        out: dict[int, tuple[str, str]] = {}
        with self._guard("reading ads"), self.engine.connect() as conn:
            for chunk in _chunks(sorted(set(pks)), 500):
                for pk, source, ad_id in self._fetch_in(conn, _KEYS_OF_SQL, [chunk]):
                    out[pk] = (source, ad_id)
        return out

    def current_pks(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """``(source, ad_id)`` -> pk of its current version, for the stored keys (one
        query per 500 ids, on the ``(ad_id, source)`` index)."""
        wanted = set(keys)
        out: dict[tuple[str, str], int] = {}
        with self._guard("looking up ads"), self.engine.connect() as conn:
            for chunk in _chunks(sorted({i for _, i in wanted}), 500):
                for pk, source, ad_id in self._fetch_in(conn, _CURRENT_PKS_SQL, [chunk]):
                    if (source, ad_id) in wanted:
                        out[(source, ad_id)] = int(pk)
        return out

    def networks_of(self, pks: Sequence[int]) -> dict[int, str]:
        """Ad pk -> network id, for the given ads that belong to a network."""
        out: dict[int, str] = {}
        with self._guard("reading networks"), self.engine.connect() as conn:
            if not self._has_links(conn):
                return out
            for chunk in _chunks(sorted(set(pks)), 500):
                out.update((p, n) for p, n in conn.execute(_NETWORKS_OF, {"pks": list(chunk)}))
        return out

    def network_sizes(self, network_ids: Sequence[str]) -> dict[str, int]:
        """Network id -> number of member ads, for the given known networks."""
        out: dict[str, int] = {}
        with self._guard("reading networks"), self.engine.connect() as conn:
            if not self._has_links(conn):
                return out
            for chunk in _chunks(sorted(set(network_ids)), 500):
                out.update((n, int(c)) for n, c in conn.execute(_SIZES, {"ids": list(chunk)}))
        return out

    def _ads_by_pk(self, conn: Connection, pks: Sequence[int]) -> list[StoredAd]:
        if not pks:
            return []
        rows = {r.pk: r for r in conn.execute(select(schema.ads).where(schema.ads.c.pk.in_(pks)))}
        return [_stored_ad(rows[pk]) for pk in pks if pk in rows]

    # -- reads for the investigator's pages (adsentry.web) -------------------------

    def data_version(self) -> tuple[int, str | None]:
        """``(largest ad pk, links stamp)``: the pk grows whenever ads are stored (pks
        only grow, and a new version of an ad gets a new one, so a reader that kept it
        can later read just the ads stored since: ``iter_current_link(after=...)``); the
        stamp changes whenever links or scores are written (by ``analyze``, ``relink``,
        a rescore), even when no ad was added; None before the first link. So that
        readers holding figures (page caches, a screener's networks) know when to read
        again; one query on the driver's cursor (two index reads), about 0.1 ms."""
        with self._guard("reading the data version"), self.engine.connect() as conn:
            rows = self._fetch_in(conn, _DATA_VERSION_SQL, [_VERSION_KEYS])
        facts = dict(rows)
        top = int(facts.pop("", None) or 0)
        stamp = ";".join(f"{k}={facts[k]}" for k in _VERSION_KEYS if k in facts)
        return top, stamp or None

    def ad_by_key(self, source: str, ad_id: str) -> StoredAd | None:
        """The current version of the ad ``(source, ad_id)``, or None when unknown."""
        a = schema.ads
        with self._guard("reading an ad"), self.engine.connect() as conn:
            row = conn.execute(
                select(a).where(a.c.ad_id == ad_id, a.c.source == source, a.c.is_current)
            ).first()
            return None if row is None else _stored_ad(row)

    def count_versions(self, source: str, ad_id: str) -> int:
        """How many versions of the ad ``(source, ad_id)`` are stored."""
        a = schema.ads
        with self._guard("counting versions"), self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).where(a.c.ad_id == ad_id, a.c.source == source)
                ).scalar_one()
            )

    def entity_rows_of(self, pk: int) -> list[dict[str, Any]]:
        """Every stored entity of one ad as dicts ``{"kind", "value", "field", "start",
        "end", "text", "obfuscated", "extractor"}`` (value decoded), by field and offset."""
        e = schema.entities
        cols = (e.c.kind, e.c.value, e.c.field, e.c.start, e.c.end, e.c.text, e.c.extractor)
        with self._guard("reading entities"), self.engine.connect() as conn:
            rows = conn.execute(
                select(*cols, e.c.obfuscated)
                .where(e.c.ad_pk == pk)
                .order_by(e.c.field, e.c.start, e.c.end.desc(), e.c.pk)
            )
            return [
                {
                    "kind": r.kind,
                    "value": value_from_text(r.kind, r.value),
                    "field": r.field,
                    "start": r.start,
                    "end": r.end,
                    "text": r.text,
                    "obfuscated": bool(r.obfuscated),
                    "extractor": r.extractor,
                }
                for r in rows
            ]

    def stored_ads(self, pks: Sequence[int]) -> list[StoredAd]:
        """The given ads (any version) in the order of ``pks``, unknown pks left out."""
        out: list[StoredAd] = []
        with self._guard("reading ads"), self.engine.connect() as conn:
            for chunk in _chunks(list(pks), 500):
                out.extend(self._ads_by_pk(conn, chunk))
        return out

    def recent_ads(self, n: int = 10) -> list[StoredAd]:
        """The ``n`` most recently posted current ads, newest first (index
        ``(is_current, posted_at)``, no scan)."""
        a = schema.ads
        with self._guard("reading recent ads"), self.engine.connect() as conn:
            pks = [
                r[0]
                for r in conn.execute(
                    select(a.c.pk)
                    .where(a.c.is_current == True, a.c.posted_at.is_not(None))  # noqa: E712
                    .order_by(a.c.posted_at.desc())
                    .limit(n)
                )
            ]
            return self._ads_by_pk(conn, pks)

    def quarantine_reasons(self) -> list[tuple[str, int]]:
        """``(reason, records)`` of the quarantine, most frequent first."""
        q = schema.quarantine
        n = func.count().label("n")
        with self._guard("reading the quarantine"), self.engine.connect() as conn:
            rows = conn.execute(
                select(q.c.reason, n).group_by(q.c.reason).order_by(n.desc(), q.c.reason)
            )
            return [(r[0], int(r[1])) for r in rows]

    def network_count(self) -> tuple[int, int]:
        """``(networks, ads in networks)`` of the last relink."""
        m = schema.network_members
        with self._guard("counting networks"), self.engine.connect() as conn:
            if not self._has_links(conn):
                return 0, 0
            nets, ads_n = conn.execute(
                select(func.count(func.distinct(m.c.network_id)), func.count())
            ).one()
            return int(nets), int(ads_n)

    def generic_reason(self, kind: str, value: str) -> tuple[str, int] | None:
        """``(reason, ads)`` when the last relink judged ``(kind, value)`` generic."""
        g = schema.generic_identifiers
        with self._guard("reading generic identifiers"), self.engine.connect() as conn:
            if not self._has_links(conn):
                return None
            row = conn.execute(
                select(g.c.reason, g.c.ads).where(g.c.kind == kind, g.c.value == value)
            ).first()
            return None if row is None else (str(row[0]), int(row[1]))

    def companions_of(
        self, kind: str, value: str, kinds: Sequence[str] = ("name", "location"), n: int = 50
    ) -> dict[str, list[tuple[str, int]]]:
        """Values of ``kinds`` written in the current ads that carry ``(kind, value)``
        (store form): kind -> ``(value, ads)``, most carried first, ``n`` per kind. One
        query over the ``(kind, value)`` and ``ad_pk`` indexes."""
        a, e = schema.ads, schema.entities
        out: dict[str, list[tuple[str, int]]] = {k: [] for k in kinds}
        counts: dict[tuple[str, str], set[int]] = {}
        with self._guard(f"reading what goes with a {kind}"), self.engine.connect() as conn:
            # the carriers first (index on kind, value), then their entities (index on
            # ad_pk): one join would let the planner scan every name and place
            pks = [
                r[0]
                for r in conn.execute(
                    select(a.c.pk)
                    .select_from(e.join(a, a.c.pk == e.c.ad_pk))
                    .where(e.c.kind == kind, e.c.value == value, a.c.is_current)
                    .distinct()
                )
            ]
            wanted = set(kinds)
            for chunk in _chunks(sorted(pks), 500):
                # kinds filtered here, not in SQL: with a kind condition SQLite's planner
                # takes the (kind, value) index and reads every name and place
                rows = conn.execute(_ENTITIES_OF, {"pks": list(chunk)})
                for k, v, p in rows:
                    if k in wanted:
                        counts.setdefault((k, v), set()).add(p)
        for (k, v), carriers in sorted(
            counts.items(), key=lambda kv: (kv[0][0], -len(kv[1]), kv[0][1])
        ):
            if len(out[k]) < n:
                out[k].append((str(v), len(carriers)))
        return out

    def timeline_with_entity(self, kind: str, value: str) -> list[tuple[str, int]]:
        """``(YYYY-MM-DD, ads)`` posted per day by the current ads carrying ``(kind,
        value)`` (store form), by day; ads without a date left out."""
        a, e = schema.ads, schema.entities
        day = func.substr(a.c.posted_at, 1, 10).label("day")
        with self._guard(f"reading the timeline of a {kind}"), self.engine.connect() as conn:
            rows = conn.execute(
                select(day, func.count(func.distinct(a.c.pk)))
                .select_from(e.join(a, a.c.pk == e.c.ad_pk))
                .where(e.c.kind == kind, e.c.value == value, a.c.is_current)
                .where(a.c.posted_at.is_not(None))
                .group_by(day)
                .order_by(day)
            )
            return [(str(d), int(c)) for d, c in rows]

    def facet_values(self, n_cities: int = 200) -> dict[str, list[tuple[str, int]]]:
        """What the search facets offer: ``{"sources": [(source, ads)], "cities":
        [(location value, ads)]}`` over current ads, most frequent first (cities: the
        ``n_cities`` most carried normalized location values). Costs a pass over the
        ads and location entities: callers cache it (see :meth:`data_version`)."""
        a, e = schema.ads, schema.entities
        n = func.count().label("n")
        with self._guard("reading facet values"), self.engine.connect() as conn:
            sources = conn.execute(
                select(a.c.source, n).where(a.c.is_current).group_by(a.c.source).order_by(n.desc())
            ).all()
            cn = func.count(func.distinct(e.c.ad_pk)).label("n")
            cities = conn.execute(
                select(e.c.value, cn)
                .select_from(e.join(a, a.c.pk == e.c.ad_pk))
                .where(e.c.kind == "location", a.c.is_current)
                .group_by(e.c.value)
                .order_by(cn.desc(), e.c.value)
                .limit(n_cities)
            ).all()
        return {
            "sources": [(str(s), int(c)) for s, c in sources],
            "cities": [(str(v), int(c)) for v, c in cities],
        }

    def _fulltext_match(self, query: str, *, ranked: bool = False) -> Any:
        """A subquery of ``pk`` (and ``rank`` when ``ranked``, lower is better) of the
        ads (any version) whose title or body matches the full-text ``query``. The
        SQLite (FTS5) form; a backend with another full-text index overrides it."""
        if self.engine.dialect.name != "sqlite":
            raise StoreError(f"{self.description}: faceted search needs the SQLite backend")
        fts = sa_table("ads_fts", sa_column("rowid"), sa_column("rank"))
        cols = [fts.c.rowid.label("pk")]
        if ranked:  # bm25 is computed for every match only when asked for
            cols.append(fts.c.rank.label("rank"))
        return (
            select(*cols)
            .where(sa_text("ads_fts MATCH :fts_query").bindparams(fts_query=query))
            .subquery("fts")
        )

    def search_ads(self, spec: AdSearch) -> tuple[list[tuple[int, float | None]], int]:
        """Current ads matching ``spec`` (full text or one identifier, with facets),
        sorted and paged: ``([(pk, score or None)], total matching)``.

        Facets use the indexes: the identifier and the city go through
        ``entities(kind, value)``, the date range through ``ads(is_current,
        posted_at)``, the score through the assessments' primary key. Raises
        StoreError with the parser's message when the full-text query cannot be parsed.
        """
        a, e, t = schema.ads, schema.entities, schema.assessments
        with self._guard("searching ads"), self.engine.connect() as conn:
            has_scores = self._has_links(conn) and inspect(conn).has_table(t.name)
            src: Any = a
            conds: list[Any] = [a.c.is_current == True]  # noqa: E712
            rank = None
            if spec.text:
                fts = self._fulltext_match(spec.text, ranked=True)
                # Filter with IN (the matches are read once, rank not computed); join
                # them (driven from the index, rank computed) only to sort by relevance.
                fts_cond = a.c.pk.in_(select(self._fulltext_match(spec.text).c.pk))
                conds.append(fts_cond)
                if spec.sort == "relevance":
                    rank = fts.c.rank
            if spec.identifier is not None:
                kind, value = spec.identifier
                conds.append(
                    a.c.pk.in_(select(e.c.ad_pk).where(e.c.kind == kind, e.c.value == value))
                )
            if spec.source:
                conds.append(a.c.source == spec.source)
            if spec.city:
                conds.append(
                    a.c.pk.in_(
                        select(e.c.ad_pk).where(
                            e.c.kind == "location",
                            e.c.value >= spec.city,
                            e.c.value < spec.city + "\U0010ffff",
                        )
                    )
                )
            if spec.date_from:
                conds.append(a.c.posted_at >= spec.date_from)
            if spec.date_to:
                conds.append(a.c.posted_at < spec.date_to + "\U0010ffff")
            score: Any = None
            if has_scores:
                src = src.outerjoin(
                    t, and_(t.c.subject == "ad", t.c.subject_id == sa_cast(a.c.pk, String))
                )
                score = t.c.score
                if spec.min_score is not None:  # a set of pks, read once off the index
                    conds.append(
                        a.c.pk.in_(
                            select(sa_cast(t.c.subject_id, Integer)).where(
                                t.c.subject == "ad", t.c.score >= spec.min_score
                            )
                        )
                    )
            elif spec.min_score is not None and spec.min_score > 0:
                return [], 0
            count_src = a
            total = int(
                conn.execute(select(func.count()).select_from(count_src).where(*conds)).scalar_one()
            )
            if rank is not None:
                order = [rank, a.c.pk]
                rest = [c for c in conds[1:] if c is not fts_cond]
                conds = [sa_cast(a.c.is_current, Integer) == 1, *rest]
                src = src.join(fts, fts.c.pk == a.c.pk)
            elif spec.sort == "date":
                order = [a.c.posted_at.desc(), a.c.pk]
            elif score is not None:
                order = [func.coalesce(score, -1.0).desc(), a.c.posted_at.desc(), a.c.pk]
            else:
                order = [a.c.posted_at.desc(), a.c.pk]
            cols = [a.c.pk, score if score is not None else sa_literal(None)]
            rows = conn.execute(
                select(*cols)
                .select_from(src)
                .where(*conds)
                .order_by(*order)
                .offset(max(0, spec.offset))
                .limit(max(0, spec.limit))
            ).all()
            return [(int(p), None if s is None else float(s)) for p, s in rows], total


# Statements of the screening hot path, built once so that SQLAlchemy's compiled
# cache serves them (expanding IN parameters).
_a, _e, _m, _t = schema.ads, schema.entities, schema.network_members, schema.assessments
_LINK_ADS = select(
    _a.c.pk, _a.c.source, _a.c.ad_id, _a.c.title, _a.c.body, _a.c.location, _a.c.posted_at
).where(_a.c.pk.in_(bindparam("pks", expanding=True)))
_ENTITIES_OF = select(_e.c.kind, _e.c.value, _e.c.ad_pk).where(
    _e.c.ad_pk.in_(bindparam("pks", expanding=True))
)
# the screening lookups, run through _fetch_in ({0}, {1}: placeholders of lists)
_CARRIERS_SQL = "SELECT kind, value, ad_pk FROM entities WHERE kind IN ({0}) AND value IN ({1})"
_CURRENT_PKS_SQL = "SELECT pk, source, ad_id FROM ads WHERE ad_id IN ({0}) AND is_current"
_KEYS_OF_SQL = "SELECT pk, source, ad_id FROM ads WHERE pk IN ({0})"
_SUPERSEDED_SQL = "SELECT pk, source, ad_id FROM ads WHERE ad_id IN ({0}) AND NOT is_current"
# the indicators of the current ads, or of some ads (indicators_of)
_INDICATORS_COLUMNS = (
    'i.ad_pk, i.code, i.validated, i.source, i.language, i.field, i.start, i."end", i.text'
)
_INDICATORS_ORDER = "ORDER BY i.ad_pk, i.code, i.field, i.start, i.pk"
_CURRENT_INDICATORS_SQL = (
    f"SELECT {_INDICATORS_COLUMNS} FROM indicators i JOIN ads a ON a.pk = i.ad_pk "
    f"WHERE a.is_current {_INDICATORS_ORDER}"
)
_INDICATORS_IN_SQL = (
    f"SELECT {_INDICATORS_COLUMNS} FROM indicators i WHERE i.ad_pk IN ({{0}}) {_INDICATORS_ORDER}"
)
# the entities of some ads (link_entities_of)
_LINK_ENTITIES_IN_SQL = (
    'SELECT ad_pk, kind, value, field, start, "end", text, obfuscated FROM entities '
    "WHERE ad_pk IN ({0}) ORDER BY ad_pk, field, start, pk"
)
# the entities of a page of ads for linking (iter_current_link)
_LINK_ENTITIES_SQL = (
    'SELECT ad_pk, kind, value, field, start, "end", text, obfuscated FROM entities '
    "WHERE ad_pk BETWEEN {0} AND {1} AND kind IN ({2}) ORDER BY ad_pk, field, start, pk"
)
# The meta facts that change with each write of links or scores, and the largest ad
# pk (under the key ""), for data_version.
_VERSION_KEYS = ("links_upto_ad_pk", "links_written", "scores_current", "scores_written")
_DATA_VERSION_SQL = (
    "SELECT '', CAST(max(pk) AS TEXT) FROM ads UNION ALL SELECT key, value FROM meta "
    "WHERE key IN ({0})"
)
# (source, ad_id, pk, network_id, template_id) of ads: link_assignments and _of
_ASSIGNMENTS = select(
    _a.c.source,
    _a.c.ad_id,
    _a.c.pk,
    schema.network_members.c.network_id,
    schema.ad_templates.c.template_id,
).select_from(
    _a.outerjoin(schema.network_members, schema.network_members.c.ad_pk == _a.c.pk).outerjoin(
        schema.ad_templates, schema.ad_templates.c.ad_pk == _a.c.pk
    )
)
_CURRENT_CARRIERS = (
    select(_e.c.value, _e.c.ad_pk)
    .select_from(_e.join(_a, _a.c.pk == _e.c.ad_pk))
    .where(
        _e.c.kind == bindparam("kind"),
        _e.c.value.in_(bindparam("values", expanding=True)),
        _a.c.is_current,
    )
)
_NETWORKS_OF = select(_m.c.ad_pk, _m.c.network_id).where(
    _m.c.ad_pk.in_(bindparam("pks", expanding=True))
)
_SIZES = (
    select(_m.c.network_id, func.count())
    .where(_m.c.network_id.in_(bindparam("ids", expanding=True)))
    .group_by(_m.c.network_id)
)
_ASSESSMENTS = select(_t).where(
    _t.c.subject == bindparam("subject"), _t.c.subject_id.in_(bindparam("ids", expanding=True))
)


class _Guard:
    """Turn database errors into StoreError naming the database and the action."""

    def __init__(self, description: str, doing: str) -> None:
        self.description = description
        self.doing = doing

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        if isinstance(exc, SQLAlchemyError):
            orig = getattr(exc, "orig", None) or exc
            raise StoreError(f"{self.description}: {self.doing} failed: {orig}") from exc
        return False


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _count(conn: Connection, table: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _indicator(head: tuple[Any, ...], spans: list[Span]) -> Indicator:
    _pk, code, validated, source, language = head
    spans.sort(key=lambda s: (_FIELD_ORDER.get(s.field, len(_FIELD_ORDER)), s.start, s.end))
    return Indicator(code, bool(validated), source, tuple(spans), language)


_FIELD_ORDER = {f: n for n, f in enumerate(TEXT_FIELDS)}


def _values_where_in(conn: Connection, column: Any, key: Any, values: Iterable[Any]) -> set[Any]:
    """The distinct values of ``column`` in rows whose ``key`` is one of ``values``
    (queried 500 values at a time)."""
    out: set[Any] = set()
    for chunk in _chunks(sorted(set(values)), 500):
        out.update(v for (v,) in conn.execute(select(column).where(key.in_(chunk))))
    return out


def _chunks(items: Sequence[Any], n: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _ad_row(ad: Ad, version: int, now: str) -> dict[str, Any]:
    return {
        "source": ad.source,
        "ad_id": ad.ad_id,
        "version": version,
        "is_current": True,
        "title": ad.title,
        "body": ad.body,
        "url": ad.url,
        "location": ad.location,
        "posted_at": ad.posted_at.isoformat() if ad.posted_at else None,
        "images": json.dumps(ad.images, ensure_ascii=False),
        "site_fields": json.dumps(ad.site_fields, ensure_ascii=False, default=str),
        "raw_sha256": ad.raw_sha256,
        "ingested_at": now,
    }


_ENTITY_COLUMNS = (
    "ad_pk", "kind", "value", "field", "start", "end", "text", "obfuscated", "extractor",
)  # fmt: skip


def _entity_row(ad_pk: int, e: Entity) -> tuple[Any, ...]:
    """A row of ``entities`` in the order of :data:`_ENTITY_COLUMNS`."""
    value = value_to_text(e.kind, e.value)
    return (ad_pk, e.kind, value, e.field, e.start, e.end, e.text, e.obfuscated, e.extractor)


_INDICATOR_COLUMNS = (
    "ad_pk", "code", "validated", "source", "language", "field", "start", "end", "text",
)  # fmt: skip


def _indicator_row(ad_pk: int, ind: Indicator, span: Any) -> tuple[Any, ...]:
    """A row of ``indicators`` in the order of :data:`_INDICATOR_COLUMNS`."""
    return (
        ad_pk, ind.code, ind.validated, ind.source, ind.language,
        span.field, span.start, span.end, span.text,
    )  # fmt: skip


def _quarantine_row(r: Rejected, now: str) -> dict[str, Any]:
    return {
        "file": r.file,
        "line": r.line,
        "reason": r.reason,
        "detail": r.detail,
        "raw_sha256": r.raw_sha256,
        "raw": r.raw,
        "recorded_at": now,
    }


def _stored_ad(r: Any) -> StoredAd:
    return StoredAd(
        pk=r.pk,
        source=r.source,
        ad_id=r.ad_id,
        version=r.version,
        is_current=bool(r.is_current),
        title=r.title,
        body=r.body,
        url=r.url,
        location=r.location,
        posted_at=r.posted_at,
        raw_sha256=r.raw_sha256,
        ingested_at=r.ingested_at,
        site_fields=json.loads(r.site_fields),
        images=json.loads(r.images),
    )


@dataclass(frozen=True, slots=True)
class AdSearch:
    """What :meth:`Store.search_ads` looks for: a full-text query (``text``, the
    backend's syntax) or one identifier (``(kind, value)`` in store form) or neither
    (every current ad), narrowed by source, city (normalized location value or its
    prefix, e.g. ``"Fresno"``), date range (ISO ``YYYY-MM-DD``, both ends included)
    and lowest score; sorted by ``"score"``, ``"date"`` or ``"relevance"`` (full text
    only), and paged by ``offset`` and ``limit``."""

    text: str | None = None
    identifier: tuple[str, str] | None = None
    source: str | None = None
    city: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    min_score: float | None = None
    sort: str = "score"
    offset: int = 0
    limit: int = 20
