"""The FastAPI app: the screening API (``POST /v1/screen``), the read-only JSON API
under ``/api`` and the OpenAPI docs (``/docs``, ``/openapi.json``).

Security (issue 5 and the project's standards):

- ``/v1/screen`` always needs an API key, ``Authorization: Bearer KEY``; keys come
  from ``ADSENTRY_API_KEYS`` or ``[server] api_keys`` and are compared in constant
  time. No key configured: every screening request is 401.
- The server binds to 127.0.0.1 by default; there ``/api`` and the docs need no key
  (one analyst on their own machine). On another address (``public=True``) every
  route but ``/healthz`` needs a key, and :func:`create_app` refuses to start without
  keys.
- Bodies over 1 MB are 413, refused without being read whole
  (:class:`~adsentry.web.middleware.BodyLimit`).
- FastAPI's built-in OpenTelemetry hooks are switched off: no telemetry.
- The docs page loads Swagger UI from files shipped in the package
  (``static/swagger-ui``, swagger-ui-dist 5.35.0, Apache-2.0): nothing is fetched from
  outside the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import os
import re
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adsentry.config import Config
from adsentry.errors import AdsentryError
from adsentry.io.encode import dumps
from adsentry.io.readers import RecordError, ad_from_record
from adsentry.model import Ad
from adsentry.pipeline import PipelineConfig, batch_gc
from adsentry.screen import Screener, init_screening_process, screen_json_in_pool
from adsentry.web.middleware import (
    ASGIApp,
    BodyLimit,
    Receive,
    RequireKey,
    Scope,
    Send,
    key_matches,
    send_json_bytes,
)
from adsentry.web.pages import router as pages_router
from adsentry.web.processes import ForkedProcesses

STATIC = Path(__file__).parent / "static"
log = logging.getLogger(__name__)


_UNREAD = object()  # a body that orjson did not read
# 19 digits or more in a row: maybe an integer that orjson would read as a float
_LONG_NUMBER = re.compile(rb"[0-9]{19}")
#: Deepest nesting of objects and lists that a screened body may have. An ad's fields
#: are flat (a list of image URLs is the deepest); deep bodies only serve to exhaust
#: the recursion of the encoders (json, pickle) that handle the ad later.
MAX_NESTING = 32


def _nested_deeper(value: Any, limit: int) -> bool:
    """Whether ``value`` (decoded JSON) nests objects and lists more than ``limit``
    levels deep (the value itself is level 1); without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class ScreenRequest(BaseModel):
    """One ad to screen: the readers' fields (``body`` or ``text``; others go to
    ``site_fields``), and ``store`` to also write it into the database."""

    model_config = ConfigDict(strict=True, extra="allow")

    id: str | None = Field(None, description="The ad's id on its site (stable within source).")
    source: str | None = Field(None, description="The site; default 'screen'.")
    title: str | None = None
    body: str | None = None
    text: str | None = Field(None, description="Alternative name of body.")
    url: str | None = None
    location: str | None = Field(None, description="The site's location field.")
    posted_at: str | None = Field(None, description="ISO 8601; UTC when no offset.")
    images: list[str] | None = None
    store: bool = Field(False, description="Also write the ad into the database.")


class SpanOut(BaseModel):
    field: str
    start: int
    end: int
    text: str


class EntityOut(BaseModel):
    kind: str
    value: Any
    field: str
    start: int
    end: int
    text: str
    obfuscated: bool
    extractor: str


class IndicatorOut(BaseModel):
    code: str
    validated: bool
    source: str
    language: str
    spans: list[SpanOut]


class ContributionOut(BaseModel):
    code: str
    weight: float
    validated: bool
    evidence: str
    spans: list[SpanOut] | None = None
    facts: dict[str, Any] | None = None


class NetworkOut(BaseModel):
    network_id: str
    size: int = Field(description="Stored ads in the network (the screened ad not counted).")
    score: float | None
    evidence: list[dict[str, Any]]
    also_links: list[str]


class ScreenResponse(BaseModel):
    source: str
    ad_id: str
    entities: list[EntityOut]
    indicators: list[IndicatorOut]
    score: float = Field(ge=0, le=1)
    decision: str = Field(pattern="^(allow|review|hold)$")
    contributions: list[ContributionOut]
    network: NetworkOut | None
    stored: bool


class Problem(BaseModel):
    detail: str


#: An answer: the dict of :meth:`~adsentry.screen.Screener.screen_many`, or its JSON
#: (from a screening process: :func:`~adsentry.screen.screen_json_in_pool`).
_Answer = dict[str, Any] | bytes
#: A request waiting for its answer: the ad, whether to store it, its future.
_Waiting = tuple[Ad, bool, "asyncio.Future[_Answer]"]


class ScreenBatcher:
    """Screens the requests that wait together as one batch
    (:meth:`~adsentry.screen.Screener.screen_many`: one text analysis and one query of
    each kind for the batch), so that a loaded server spends less per ad. A request
    that arrives alone is screened alone, without waiting; under load, whatever queued
    while the previous batch ran forms the next one (at most ``max_batch``). Each
    answer is the one the ad would get alone. Requests that store their ad run in this
    process, one after another in arrival order (one writer for the database).

    Without ``pool`` the batches run in this process, one at a time (a large one in a
    thread, so that the server goes on answering meanwhile). With ``pool`` (the
    server's :class:`~adsentry.web.processes.ForkedProcesses`, or any executor, of
    ``slots`` processes) up to ``slots`` batches run at once, one per process, all fed
    from this one queue (a freed process gets its next batch as its answers come
    back): the load is shared evenly whatever connection a request came on, and a
    process that frees up takes its share of the requests waiting (one in ``slots``; an
    ad over :data:`LARGE_AD` goes alone). Should a screening process die (killed for memory,
    say), the pool is broken for good: the requests of the batches then running are
    answered :class:`ScreeningUnavailable` (one of them may have killed it, so none is
    tried again here), and later ones are screened in this process; the death is
    logged.
    """

    def __init__(
        self,
        screener: Screener,
        max_batch: int = 16,
        pool: Executor | ForkedProcesses | None = None,
        slots: int = 1,
    ) -> None:
        self.screener = screener
        self.max_batch = max_batch
        self.pool = pool
        self.slots = slots if pool is not None else 1
        #: what runs in the pool: ``ads -> answers`` (each a dict or its JSON bytes)
        self.job: Callable[[list[Ad]], list[Any]] = screen_json_in_pool
        self._waiting: deque[_Waiting] = deque()
        self._taken: list[_Waiting] = []  # off the queue, not yet answered or sent out
        self._arrived = asyncio.Event()
        self._closed: str | None = None  # why no more requests are taken

    async def screen(self, ad: Ad, store: bool) -> _Answer:
        """The answer for one ad, as a dict or as its JSON bytes (raises what screening
        raised, and :class:`ScreeningUnavailable` when it cannot be screened now)."""
        if self._closed is not None:
            raise ScreeningUnavailable(self._closed)
        fut: asyncio.Future[_Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append((ad, store, fut))
        self._arrived.set()
        return await fut

    def stop(self, why: str = "the server is stopping") -> None:
        """Answer every request taken but not sent out and every request waiting with
        :class:`ScreeningUnavailable`, and refuse later ones (call when :meth:`run` has
        ended: cancelled as the server stops, or failed)."""
        self._closed = why
        items = [*self._taken, *self._waiting]
        self._taken = []
        self._waiting.clear()
        _answer([fut for _, _, fut in items], exc=ScreeningUnavailable(why))

    def ended(self, task: asyncio.Task[None]) -> None:
        """Done-callback of the :meth:`run` task: a task that failed (a bug) is logged,
        and the requests it left are answered instead of waiting for ever."""
        if task.cancelled() or task.exception() is None:
            return
        log.error("screening stopped", exc_info=task.exception())
        self.stop("screening stopped after an internal error")

    async def _next(self) -> _Waiting:
        while not self._waiting:
            self._arrived.clear()
            await self._arrived.wait()
        self._taken = [self._waiting.popleft()]
        return self._taken[0]

    async def run(self) -> None:
        """Serve the queue until cancelled."""
        if self.pool is not None:
            await self._run_pool(self.pool)
        while True:
            batch = [await self._next()]
            while len(batch) < self.max_batch and self._waiting:
                batch.append(self._waiting.popleft())
            self._taken = batch
            plain = [b for b in batch if not b[1]]
            try:
                results = await self._in_process(self.screener.screen_many, [b[0] for b in plain])
            except Exception as exc:  # each waiting request gets the error (a 500)
                _answer([fut for _, _, fut in plain], exc=exc)
            else:
                _answer([fut for _, _, fut in plain], results)
            for item in batch:
                if item[1]:
                    await self._store_here(item)
            self._taken = []

    async def _store_here(self, item: _Waiting) -> None:
        """Screen and store one ad in this process, and answer it."""
        ad, _, fut = item
        try:
            store_it = partial(self.screener.screen_many, store_ads=True)
            answer = (await self._in_process(store_it, [ad]))[0]
        except Exception as exc:
            _answer([fut], exc=exc)
        else:
            _answer([fut], [answer])

    async def _in_process(
        self, screen: Callable[[list[Ad]], list[dict[str, Any]]], ads: list[Ad]
    ) -> list[dict[str, Any]]:
        """``screen(ads)`` in this process. A batch of ads over :data:`LARGE_AD`
        in all runs in a thread, so that the event loop goes on accepting and answering
        (/healthz, the pages) meanwhile; others run in the loop's thread, since switching
        threads under load cost 15 % more CPU per request (bench_screen.py, one process:
        3.50 ms against 3.04)."""
        if not ads:
            return []
        if sum(map(_text_size, ads)) > LARGE_AD:
            return await asyncio.to_thread(screen, ads)
        return screen(ads)

    async def _run_pool(self, pool: Executor | ForkedProcesses) -> None:
        """Feed the pool until cancelled, or until a screening process dies (the pool
        is then broken): then return once every batch sent out has come back, for
        :meth:`run` to screen the requests still waiting in this process."""
        loop = asyncio.get_running_loop()
        free = self.slots
        freed = asyncio.Event()
        broken: list[BaseException] = []
        feeding = True

        def send_out() -> None:
            """Send batches to free processes while requests wait; a request that
            stores its ad stops it (the loop below screens that one here)."""
            nonlocal free
            while free and feeding and not broken and self._waiting:
                if self._waiting[0][1]:
                    return
                batch = [self._waiting.popleft()]
                if not _alone(batch[0]):
                    # A freed process takes its share of what waits, not all of it:
                    # the others free up soon, and even batches keep the latency even
                    # (p95 63 ms against 77 when it took all, bench_screen.py, 20
                    # clients).
                    size = min(self.max_batch, -(-(1 + len(self._waiting)) // self.slots))
                    while len(batch) < size and self._waiting and not _alone(self._waiting[0]):
                        batch.append(self._waiting.popleft())
                ads = [ad for ad, _, _ in batch]
                try:
                    if isinstance(pool, ForkedProcesses):
                        job = pool.submit(self.job, ads)
                    else:
                        job = loop.run_in_executor(pool, self.job, ads)
                except BrokenProcessPool as exc:  # known broken before: never ran
                    broken.append(exc)
                    self._waiting.extendleft(reversed(batch))
                    freed.set()
                    return
                except Exception as exc:  # not sent (an ad that does not pickle?): a 500
                    _answer([fut for _, _, fut in batch], exc=exc)
                    continue
                free -= 1
                job.add_done_callback(partial(done, batch))

        def done(batch: list[_Waiting], job: asyncio.Future[list[_Answer]]) -> None:
            nonlocal free
            free += 1
            futures = [fut for _, _, fut in batch]
            if job.cancelled():  # the pool was shut down: the server is stopping
                _answer(futures, exc=ScreeningUnavailable("the server is stopping"))
            elif isinstance(exc := job.exception(), BrokenProcessPool):
                broken.append(exc)
                _answer(futures, exc=ScreeningUnavailable("a screening process died"))
            else:
                # the next batch goes out now, before the answers are sent: waiting
                # for the loop below to wake would leave the process idle meanwhile
                send_out()
                if exc is not None:  # each waiting request gets the error (a 500)
                    _answer(futures, exc=exc)
                else:
                    _answer(futures, job.result())
            freed.set()

        try:
            while not broken:
                while not self._waiting:
                    self._arrived.clear()
                    await self._arrived.wait()
                if self._waiting[0][1]:
                    self._taken = [self._waiting.popleft()]
                    await self._store_here(self._taken[0])
                    self._taken = []
                    continue
                send_out()
                if self._waiting and not free and not broken:  # all busy: wait for one
                    freed.clear()
                    await freed.wait()
        finally:
            feeding = False
        while free < self.slots:  # the batches still out come back (broken too) first
            freed.clear()
            await freed.wait()
        log.error(
            "a screening process died (%s): the requests then in flight were answered 503; "
            "screening in the server process from now on",
            broken[0],
        )


class ScreeningUnavailable(Exception):
    """A request that cannot be screened now (a 503): the server is stopping, or the
    screening process that held it died."""


#: Text (title and body, in characters) over which an ad is screened alone: about ten
#: times a long ad. Such an ad can take seconds (one of 1 MB with 40,000 phone numbers
#: took 3 s) and would hold back every ad batched with it.
LARGE_AD = 16_384


def _alone(item: _Waiting) -> bool:
    """Whether a waiting request goes to a screening process alone (or, storing its
    ad, stays in this process): it stores its ad, or its ad is large."""
    ad, store, _ = item
    return store or _text_size(ad) > LARGE_AD


def _text_size(ad: Ad) -> int:
    """Characters of the title and body (what screening time grows with)."""
    return len(ad.title) + len(ad.body)


def _answer(
    futures: list[asyncio.Future[_Answer]],
    results: Sequence[_Answer] | None = None,
    exc: BaseException | None = None,
) -> None:
    """Give each waiting request its result, or ``exc`` (a request whose client went
    away, and so whose future is cancelled, is skipped)."""
    for n, fut in enumerate(futures):
        if fut.done():
            continue
        if exc is not None:
            fut.set_exception(exc)
        else:
            assert results is not None
            fut.set_result(results[n])


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        where = ".".join(str(x) for x in e["loc"]) or "body"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)


_Headers = list[tuple[bytes, bytes]]


def _problem(
    status: int, detail: str, headers: _Headers | None = None
) -> tuple[int, bytes, _Headers]:
    return status, dumps({"detail": detail}), headers or []


def key_refusal(
    authorization: str | None, keys: tuple[str, ...]
) -> tuple[int, bytes, _Headers] | None:
    """The 401 of ``POST /v1/screen`` for no or a wrong key (``authorization``: the
    header, or None), or None when the key is one of ``keys``. Checked before the
    body is read: a client without the key never gets to send up to 1 MB."""
    if key_matches(authorization, keys):
        return None
    return _problem(
        401,
        "missing or wrong API key (send Authorization: Bearer KEY)",
        [(b"www-authenticate", b"Bearer")],
    )


async def screen_reply(raw: bytes, batcher: ScreenBatcher) -> tuple[int, bytes, _Headers]:
    """The answer of ``POST /v1/screen`` to one request whose key was accepted
    (:func:`key_refusal`): ``(status, JSON body, extra headers)``.

    ``raw``: the request body (at most 1 MB: :class:`~adsentry.web.middleware.BodyLimit`
    has refused larger ones). 200 with the answer of :meth:`ScreenBatcher.screen`; 422
    for a body that is not JSON, not an object, nested over :data:`MAX_NESTING` levels,
    or with a field of the wrong type (the message names the field); 503 when it cannot
    be screened now, or when the server stops while it waits (the request's task is
    cancelled). Raises what screening raised otherwise (a 500).
    """
    record = _UNREAD
    if _LONG_NUMBER.search(raw) is None:  # orjson reads integers over 64 bits as floats
        # orjson (3.6 µs against 13 for json on a demo ad); json where orjson refuses
        # what json reads (UTF-16, a lone surrogate, NaN), and for the message naming
        # where a body is not JSON
        with contextlib.suppress(orjson.JSONDecodeError):
            record = orjson.loads(raw)
    try:
        if record is _UNREAD:
            record = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8 or too deep"
        where = (
            f" at line {exc.lineno} column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        return _problem(422, f"body is not valid JSON: {msg}{where}")
    if not isinstance(record, dict):
        return _problem(422, "body must be a JSON object (one ad)")
    if _nested_deeper(record, MAX_NESTING):
        return _problem(422, f"body is nested more than {MAX_NESTING} levels deep (an ad never is)")
    try:
        req = ScreenRequest.model_validate(record)
    except ValidationError as exc:
        return _problem(422, _validation_message(exc))
    fields = {k: v for k, v in record.items() if k != "store" and v is not None}
    try:
        ad = ad_from_record(fields, default_source="screen")
    except RecordError as exc:
        return _problem(422, f"{exc.reason}: {exc.detail}")
    try:
        answer = await batcher.screen(ad, req.store)
    except ScreeningUnavailable as exc:
        return _problem(503, f"{exc}: send the request again", [(b"retry-after", b"5")])
    except asyncio.CancelledError:
        # The server is stopping: uvicorn cancels the requests still running after its
        # graceful timeout (`adsentry serve`: 5 s). The client is told so, instead of a
        # 500 and a traceback in the log.
        why = "the server is stopping: send the request again"
        return _problem(503, why, [(b"retry-after", b"5")])
    # Sent as it is (the response model documents it; validating it would cost time on
    # every request).
    return 200, answer if isinstance(answer, bytes) else dumps(answer), []


class ScreenFastPath:
    """ASGI middleware that answers ``POST /v1/screen`` itself: :func:`key_refusal`
    before the body is read, then :func:`screen_reply`. It runs before Starlette's and
    FastAPI's routing, request and response layers, which cost about as much as the
    rest of the server process's own work on a request (in process, 240 against 115
    µs; bench_screen.py: 0.25-0.7 ms of CPU less per request). Everything else goes on
    to ``app``. Sits inside :class:`~adsentry.web.middleware.BodyLimit` (and
    :class:`~adsentry.web.middleware.RequireKey`), so their checks hold as for every
    route.
    """

    def __init__(self, app: ASGIApp, keys: tuple[str, ...]) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/screen" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        reply = key_refusal(authorization, self.keys)
        if reply is None:
            chunks: list[bytes] = []
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # the client went away: nobody to answer
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            reply = await screen_reply(b"".join(chunks), scope["app"].state.batcher)
        await send_json_bytes(send, *reply)


def _no_telemetry() -> dict[str, Any]:
    """FastAPI's built-in OpenTelemetry hooks switched off (recent FastAPI versions
    have them): adsentry sends nothing anywhere, even when OTEL_* or
    FASTAPI_OTEL_AUTO_CONFIGURE are set in the environment."""
    import inspect

    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    off = {
        "tracing": False,
        "metrics": False,
        "logs": False,
        "operation_spans": False,
        "auto_configure": False,
    }
    return {"telemetry": off}


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or name (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def create_app(
    db: str | Path,
    config: Config | None = None,
    *,
    public: bool = False,
    region: str = "US",
    screen_workers: int = 1,
) -> FastAPI:
    """The app over the case database ``db`` (which must exist).

    ``config``: keys, weights, policy and source regions (default: none set).
    ``public``: the server listens on a non-loopback address; then every route but
    ``/healthz`` needs an API key, and without keys this raises AdsentryError.
    The database is opened and the :class:`~adsentry.screen.Screener` built at
    start-up (lifespan), once per process. ``screen_workers`` > 1: screening runs in
    that many processes forked from this one after the build
    (:class:`~adsentry.web.processes.ForkedProcesses`), fed from one queue
    (:class:`ScreenBatcher`); this process serves HTTP. Raises AdsentryError for
    ``screen_workers`` < 1.
    """
    from adsentry.store import open_store

    config = config or Config()
    if screen_workers < 1:
        raise AdsentryError(f"screening workers: {screen_workers}, must be 1 or more")
    keys = tuple(config.api_keys)
    if public and not keys:
        raise AdsentryError(
            "refusing to serve on a non-loopback address without authentication: "
            "set ADSENTRY_API_KEYS or [server] api_keys"
        )
    settings = config.score_settings()
    pipeline_config = PipelineConfig(
        region=config.region or region, source_regions=dict(config.source_regions)
    )
    db_path = Path(db)
    open_store(db_path, create=False).close()  # fail now, with a clear message

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(db_path, create=False)
        app.state.store = store
        app.state.screener = Screener(store, config=pipeline_config, settings=settings)
        # The screener's index is built and stays: frozen out of the collector's walks,
        # which otherwise stall a request now and then (the p99 of bench_screen.py),
        # and, in screening processes forked from this one, would copy its pages.
        with batch_gc():
            pool = None
            if screen_workers > 1:
                if "fork" in multiprocessing.get_all_start_methods():
                    pool = await ForkedProcesses.start(
                        screen_workers, init_screening_process, (app.state.screener, os.getpid())
                    )
                else:
                    log.warning("no fork on this platform: screening in the server process")
            app.state.batcher = ScreenBatcher(app.state.screener, pool=pool, slots=screen_workers)
            task = asyncio.create_task(app.state.batcher.run())
            task.add_done_callback(app.state.batcher.ended)
            try:
                yield
            finally:
                task.cancel()
                if pool is not None:
                    pool.shutdown(timeout=2.0)
                app.state.batcher.stop()
                store.close()

    app = FastAPI(
        **_no_telemetry(),
        title="adsentry",
        summary="Screening API and read-only case database API",
        description=(
            "Screen a new ad against a case database of known networks "
            "(`POST /v1/screen`, API key required), and read scores and networks "
            "(`/api`). A score is a ranking aid for people with limited time, never "
            "proof: see docs/scoring.md."
        ),
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="adsentry API",
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/swagger-ui/favicon.png",
        )

    @app.get("/healthz", summary="Liveness check (no key needed).")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(
        "/v1/screen",
        summary="Screen one ad",
        response_model=ScreenResponse,
        responses={
            401: {"model": Problem, "description": "No or wrong API key."},
            413: {"model": Problem, "description": "Body over 1 MB."},
            422: {
                "model": Problem,
                "description": f"Not valid JSON, wrong types, or nested over {MAX_NESTING} levels.",
            },
            503: {
                "model": Problem,
                "description": (
                    "Cannot screen now (the server is stopping, or the screening process "
                    "that held the request died); send it again."
                ),
            },
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ScreenRequest.model_json_schema()}},
            },
            "security": [{"bearer": []}],
        },
    )
    async def screen(request: Request) -> Any:
        """Run the per-ad stages over one ad, look it up against the stored identifiers
        and templates, and answer with its entities, indicators, score, contributions,
        the network it would join and the policy decision. Never writes the ad unless
        `"store": true`."""
        # Under `adsentry serve` ScreenFastPath answers before the router; this route
        # gives the same answer to whatever reaches it, and the schema to /docs.
        reply = key_refusal(request.headers.get("authorization"), keys)
        if reply is None:
            reply = await screen_reply(await request.body(), request.app.state.batcher)
        status, body, headers = reply
        return Response(
            body,
            status,
            headers={k.decode("latin-1"): v.decode("latin-1") for k, v in headers},
            media_type="application/json",
        )

    @app.get("/api/stats", summary="Counts of the case database.")
    def api_stats(request: Request) -> dict[str, Any]:
        stats: dict[str, Any] = request.app.state.store.stats()
        return stats

    @app.get("/api/top", summary="Highest scores with their contributions.")
    def api_top(
        request: Request,
        subject: str = Query("networks", pattern="^(networks|ads)$"),
        n: int = Query(20, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        from adsentry.score import top_scores

        return top_scores(request.app.state.store, "network" if subject == "networks" else "ad", n)

    @app.get(
        "/api/networks/{network_id}",
        summary="One network: summary, templates, evidence, assessment.",
    )
    def api_network(request: Request, network_id: str) -> dict[str, Any]:
        from adsentry.link.networks import network_detail

        store = request.app.state.store
        detail = network_detail(store, network_id)
        if detail is None:
            raise HTTPException(404, f"no network {network_id!r}")
        stored = store.assessments_of("network", [network_id]).get(network_id)
        detail["assessment"] = (
            None
            if stored is None
            else {"score": stored[0], "decision": stored[1], "contributions": stored[2]}
        )
        return detail

    app.include_router(pages_router)  # the investigator's pages and their /api twins

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(ScreenFastPath, keys=keys)  # the innermost of these three
    if public:
        app.add_middleware(RequireKey, keys=keys, open_prefixes=("/healthz",))
    app.add_middleware(BodyLimit)
    return app


def app_from_env() -> FastAPI:
    """App factory for ``adsentry serve`` (uvicorn imports it in each worker): the
    database, config file and exposure come from ``ADSENTRY_SERVE`` (JSON written by
    the command)."""
    import os

    from adsentry.config import load_config

    spec = json.loads(os.environ["ADSENTRY_SERVE"])
    config = load_config(spec["config"] or None)
    return create_app(
        spec["db"],
        config,
        public=bool(spec["public"]),
        screen_workers=int(spec.get("workers", 1)),
    )
