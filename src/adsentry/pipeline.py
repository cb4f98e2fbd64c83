"""The ordered per-ad stages, run over batches in one process or a process pool.

Modelled on spaCy's ``nlp.pipe``: a stage is a named component registered with
:func:`stage`; its factory takes the :class:`PipelineConfig` and returns a function
that annotates one :class:`Doc` in place. A :class:`Pipeline` runs its stages in
order over every ad, and :meth:`Pipeline.pipe_batches` hides batching and the process
pool from the caller, so later stages (indicators, ad scores) are added by registering
them here, without touching the CLI or the store.

Per-ad stages are pure functions of one ad: the same ad gives the same Doc in one
process or in many.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from adsentry.extract import extract_all
from adsentry.gazetteer import tables_ready
from adsentry.io.quarantine import QuarantineFile, quarantine_path
from adsentry.io.readers import AdReader, ReadStats, Rejected, read_batches
from adsentry.model import Ad, Entity, Indicator
from adsentry.orphans import end_with_parent

if TYPE_CHECKING:  # the corpus stages load scipy and SQLAlchemy: not at import time,
    # so that `adsentry extract`, which runs only the per-ad stages, starts fast
    from adsentry.link.networks import LinkReport
    from adsentry.score import ScoreReport, ScoreSettings
    from adsentry.store import Store

T = TypeVar("T")


@dataclass(slots=True)
class Doc:
    """One ad and what the per-ad stages found in it."""

    ad: Ad
    entities: list[Entity] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """Settings of the per-ad stages.

    ``region``: ISO 3166-1 alpha-2 fallback for phone numbers without country code.
    ``source_regions``: source name -> region, used before ``region``.
    ``extractors``: names of the extractors to run (None = all registered).
    """

    region: str = "US"
    source_regions: dict[str, str] = field(default_factory=dict)
    extractors: tuple[str, ...] | None = None


StageFn = Callable[[Doc], None]
StageFactory = Callable[[PipelineConfig], StageFn]

STAGES: dict[str, StageFactory] = {}

#: The stages ``adsentry analyze`` runs, in order.
DEFAULT_STAGES: tuple[str, ...] = ("extract", "indicators")


def stage(name: str) -> Callable[[StageFactory], StageFactory]:
    """Decorator: register a stage factory under ``name``."""

    def wrap(factory: StageFactory) -> StageFactory:
        STAGES[name] = factory
        return factory

    return wrap


@stage("extract")
def _extract_stage(config: PipelineConfig) -> StageFn:
    def run(doc: Doc) -> None:
        doc.entities.extend(
            extract_all(
                doc.ad,
                region=config.region,
                source_regions=config.source_regions,
                names=config.extractors,
            )
        )

    return run


@stage("indicators")
def _indicators_stage(config: PipelineConfig) -> StageFn:
    from adsentry.indicators import match_indicators

    def run(doc: Doc) -> None:
        doc.indicators.extend(match_indicators(doc.ad, doc.entities))

    return run


class Pipeline:
    """Named per-ad stages in order.

    Raises KeyError naming an unknown stage.
    """

    def __init__(
        self, stages: Sequence[str] = DEFAULT_STAGES, config: PipelineConfig | None = None
    ) -> None:
        self.config = config or PipelineConfig()
        unknown = [s for s in stages if s not in STAGES]
        if unknown:
            raise KeyError(f"unknown stage(s): {', '.join(unknown)}; known: {sorted(STAGES)}")
        self.stage_names = tuple(stages)
        self._fns = [STAGES[s](self.config) for s in self.stage_names]

    def __call__(self, ad: Ad) -> Doc:
        """Run every stage over one ad."""
        doc = Doc(ad)
        for fn in self._fns:
            fn(doc)
        return doc

    def warm_up(self) -> None:
        """Run the stages once over a small made-up ad, so that lazily loaded tables
        (gazetteer, name lexicons) are in memory before the first real ad (each worker
        process of :meth:`pipe_batches` calls it once, as it starts)."""
        self(
            Ad(
                ad_id="warm-up",
                source="warm-up",
                title="Mia - 22",
                body="I'm Mia, in San Diego. Call 619-555-0142, $150/hh, IG: mia.x",
                location="San Diego",
            )
        )

    def run_batch(self, ads: Sequence[Ad]) -> list[Doc]:
        """Run every stage over each ad of a batch, in order."""
        return [self(ad) for ad in ads]

    def pipe_batches(
        self, batches: Iterable[tuple[Sequence[Ad], T]], n_process: int = 1
    ) -> Iterator[tuple[list[Doc], T]]:
        """Process batches in order, yielding ``(docs, payload)`` for each input
        ``(ads, payload)``; ``payload`` is carried through untouched.

        With ``n_process > 1`` the batches run in a process pool (at most two batches
        per process in flight, so memory stays bounded); results still come back in
        input order. Each process loads the stages' tables itself (about 0.3 s and
        57 MiB for the default stages), in parallel, while this one goes on reading:
        loading them here before the pool forks would keep the other cores idle for
        that long, and this process never runs the stages. Only where the gazetteer
        is not cached yet (:func:`adsentry.gazetteer.tables_ready`: 2-4 s to build)
        does this process load them first, for the forked processes to inherit. While
        the batches run, the cyclic garbage collector runs less often (see
        :func:`batch_gc`).
        """
        if n_process <= 1:
            self.warm_up()  # load the tables before they are frozen out of collection
            with batch_gc():
                for ads, payload in batches:
                    yield self.run_batch(ads), payload
            return
        ctx = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        if ctx.get_start_method() == "fork" and not tables_ready():
            # the first run after an install: the gazetteer is built and cached once,
            # here, and inherited, not built by every process at once
            self.warm_up()
        with ProcessPoolExecutor(
            max_workers=n_process,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(self.stage_names, self.config, os.getpid()),
        ) as pool:
            # A worker sends back what it found, not the ads: they are here already.
            pending: deque[tuple[Future[list[_Found]], list[Ad], T]] = deque()
            for ads, payload in batches:
                sent = list(ads)
                pending.append((pool.submit(_run_in_worker, sent), sent, payload))
                if len(pending) >= 2 * n_process:
                    fut, sent, pl = pending.popleft()
                    yield _docs(sent, fut.result()), pl
            while pending:
                fut, sent, pl = pending.popleft()
                yield _docs(sent, fut.result()), pl

    def pipe(self, ads: Iterable[Ad], batch_size: int = 256, n_process: int = 1) -> Iterator[Doc]:
        """Process a stream of ads, yielding one Doc per ad in input order."""

        def batches() -> Iterator[tuple[list[Ad], None]]:
            batch: list[Ad] = []
            for ad in ads:
                batch.append(ad)
                if len(batch) >= batch_size:
                    yield batch, None
                    batch = []
            if batch:
                yield batch, None

        for docs, _ in self.pipe_batches(batches(), n_process=n_process):
            yield from docs


_WORKER: Pipeline | None = None


def _init_worker(stage_names: tuple[str, ...], config: PipelineConfig, parent: int) -> None:
    global _WORKER
    end_with_parent(parent)
    _WORKER = Pipeline(stage_names, config)
    _WORKER.warm_up()
    hold_batch_gc()


def hold_batch_gc() -> None:
    """Enter :func:`batch_gc` for the rest of this process's life (a worker process
    that does batch work until it ends; call it once the tables are loaded)."""
    _HELD_GC.append(batch_gc())
    _HELD_GC[-1].__enter__()


_HELD_GC: list[AbstractContextManager[None]] = []  # entered, never left


#: Allocations between two young-generation collections during batch work (CPython's
#: default is 700).
BATCH_GC_THRESHOLD = 20_000


@contextmanager
def batch_gc(threshold: int = BATCH_GC_THRESHOLD) -> Iterator[None]:
    """Run the block with the cyclic garbage collector tuned for batch work.

    Extraction allocates many short-lived objects (matches, tuples, entities) and no
    reference cycles worth collecting, yet CPython's collector starts a young-generation
    pass every 700 allocations and now and then walks everything alive. Inside the
    block every object alive at its start (modules, compiled patterns, the gazetteer
    and lexicon tables, so call it after they are loaded) is moved out of collection
    (:func:`gc.freeze`) and the young generation is collected every ``threshold``
    allocations. Both are undone when the last of the blocks open at once exits (a
    count, as batch generators may close in any order). Extracting the real corpus
    (5,429 ads) spent 51 µs per ad in 91 collections with CPython's settings, 3 µs in
    one collection with these (measured with ``gc.callbacks``). Cycles are still
    collected, so memory stays bounded.
    """
    with _GC_LOCK:
        if not _GC_STATE:
            saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(threshold, *saved[1:])
            _GC_STATE.append(saved)
        _GC_STATE.append(None)
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_STATE.pop()
            if len(_GC_STATE) == 1:
                before = _GC_STATE.pop()
                assert before is not None
                gc.set_threshold(*before)
                gc.unfreeze()


# [the thresholds before the first open block, then one None per open block]
_GC_STATE: list[tuple[int, int, int] | None] = []
_GC_LOCK = threading.Lock()


#: What the per-ad stages found in one ad: its entities and indicators.
_Found = tuple[list[Entity], list[Indicator]]


def _run_in_worker(ads: list[Ad]) -> list[_Found]:
    assert _WORKER is not None, "worker not initialised"
    return [(doc.entities, doc.indicators) for doc in _WORKER.run_batch(ads)]


def _docs(ads: list[Ad], found: list[_Found]) -> list[Doc]:
    """The Docs of ``ads`` from what a worker found in them, in order."""
    return [Doc(ad, ents, inds) for ad, (ents, inds) in zip(ads, found, strict=True)]


def default_workers() -> int:
    """The number of CPU cores this process may use (the default for ``--workers``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(slots=True)
class AnalyzeReport:
    """What one ``analyze`` run did (counts over all its files).

    ``stored``: ads with a new key; ``new_versions``: changed records under a stored
    key; ``unchanged``: records already stored as they are; ``quarantined``: records
    that could not be read (``quarantine_new`` of them not seen by an earlier run).
    ``link``: what linking at the end found (corpus stage: incremental when the stored
    links allow it, else a full relink); None when nothing new was stored and the links
    already cover every stored ad. ``score``: what the assessments after it found (also
    when an earlier run stopped between its links and its scores; None when nothing
    was assessed).
    """

    files: list[str] = field(default_factory=list)
    read: ReadStats = field(default_factory=ReadStats)
    stored: int = 0
    new_versions: int = 0
    unchanged: int = 0
    quarantined: int = 0
    quarantine_new: int = 0
    entities: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    link: LinkReport | None = None
    score: ScoreReport | None = None

    @property
    def ads_read(self) -> int:
        return self.stored + self.new_versions + self.unchanged

    @property
    def ads_per_second(self) -> float:
        return self.ads_read / self.seconds if self.seconds > 0 else 0.0


ProgressFn = Callable[[int, int, int], None]


def analyze(
    paths: Sequence[str | Path],
    store: Store,
    *,
    db_path: str | Path,
    source: str | None = None,
    field_map: dict[str, tuple[str, ...]] | None = None,
    config: PipelineConfig | None = None,
    workers: int = 1,
    batch_size: int = 500,
    progress: ProgressFn | None = None,
    score_settings: ScoreSettings | None = None,
) -> AnalyzeReport:
    """Read ``paths``, run the per-ad stages and store ads, entities, indicators and
    quarantine; then link the new ads into the stored networks
    (:func:`adsentry.link.incremental.link_stored`: the same networks as a full relink,
    computed over the networks the new ads touch) and assess what changed
    (:func:`adsentry.score.rescore` with ``score_settings``, default weights and policy
    when None).

    Each batch is written in one transaction, so a run stopped at any point leaves a
    consistent database; running it again stores what is missing and nothing twice.
    ``progress(done_bytes, total_bytes, ads_done)`` is called after each batch. Raises InputError
    for a file that cannot be opened (before anything is written) and StoreError when
    the database fails.
    """
    readers = [AdReader(p, source=source, field_map=field_map) for p in paths]
    total = sum(r.total_bytes for r in readers)
    pipeline = Pipeline(DEFAULT_STAGES, config)
    qfile = QuarantineFile(quarantine_path(db_path))
    last_q = _sync_quarantine(store, qfile)
    report = AnalyzeReport(files=[str(p) for p in paths])
    started = time.perf_counter()

    def skip_stored(ads: list[Ad]) -> list[Ad]:
        # A re-run (or the rest of a stopped run) skips the per-ad stages for ads that
        # are stored as they are; write_batch checks again inside its transaction.
        stored = store.already_stored(ads)
        fresh = [a for a in ads if (a.source, a.ad_id, a.raw_sha256) not in stored]
        report.unchanged += len(ads) - len(fresh)
        return fresh

    def batches() -> Iterator[tuple[list[Ad], tuple[list[Rejected], int]]]:
        done_before, sent = 0, 0
        for reader in readers:
            for ads, rejected in read_batches(reader, batch_size):
                fresh = skip_stored(ads)
                yield fresh, (rejected, done_before + reader.bytes_read)
                sent += bool(fresh)  # a run that stores nothing may not link at all
                if sent == workers and fresh:
                    _load_corpus_stages()  # while the pool runs its first batches
            done_before += reader.total_bytes
            report.read.merge(reader.stats)

    for docs, (rejected, done) in pipeline.pipe_batches(batches(), n_process=workers):
        res = store.write_batch([(d.ad, d.entities, d.indicators) for d in docs], rejected)
        report.stored += res.stored
        report.new_versions += res.new_versions
        report.unchanged += res.unchanged
        report.quarantined += len(rejected)
        report.quarantine_new += res.quarantined
        report.entities.update(res.entities)
        if res.quarantined:
            last_q = _append_quarantine(store, qfile, last_q)
        if progress is not None:
            progress(done, total, report.ads_read)
    if report.stored or report.new_versions or not store.links_are_current():
        from adsentry.link.incremental import link_stored
        from adsentry.score import ScoreSettings, rescore

        report.link, scope = link_stored(store)
        report.score = rescore(store, score_settings or ScoreSettings(), scope)
    elif not store.scores_are_current():  # a run stopped between its links and scores
        from adsentry.score import ScoreSettings, rescore

        report.score = rescore(store, score_settings or ScoreSettings())
    report.seconds = time.perf_counter() - started
    return report


def _load_corpus_stages() -> None:
    """Import the corpus stages (linking and scoring: scipy, the template index) and
    load the first-name set that template features use, about 0.5-0.8 s, which
    ``analyze`` needs once the per-ad stages are done. It calls this while the worker
    processes run their first batches, when this process would otherwise wait for
    their results."""
    import adsentry.link.incremental
    import adsentry.score  # noqa: F401
    from adsentry.link.templates import features

    features("warm up")


def _sync_quarantine(store: Store, qfile: QuarantineFile) -> int:
    """Make the quarantine file mirror the quarantine table; return the last pk."""
    rows = list(store.iter_quarantine())
    if qfile.count() != len(rows):
        qfile.rewrite(r for _, r in rows)
    return rows[-1][0] if rows else 0


def _append_quarantine(store: Store, qfile: QuarantineFile, after_pk: int) -> int:
    rows = list(store.iter_quarantine(after_pk))
    qfile.append(r for _, r in rows)
    return rows[-1][0] if rows else after_pk
