"""The server's screening processes: forked, fed over socket pairs from the event loop."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

import pytest

from adsentry.web.processes import ForkedProcesses

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="forks")

T = TypeVar("T")


_Run = Callable[[Callable[[], Coroutine[Any, Any, T]]], T]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Runs ``main()`` on asyncio's own loop, or on uvloop's (the server's: uvicorn takes
    it when installed, and its transports differ), in a thread of its own (a loop may
    be set in this one)."""

    def on_loop(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
        if request.param == "uvloop":
            uvloop = pytest.importorskip("uvloop")
            start: Callable[[], T] = lambda: uvloop.run(main())  # noqa: E731
        else:
            start = lambda: asyncio.run(main())  # noqa: E731
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(start).result()

    return on_loop


def _nothing() -> None:
    pass


def _echo(payload: bytes, pause: float = 0.0) -> tuple[int, bytes, int]:
    time.sleep(pause)
    return len(payload), payload[-3:], os.getpid()


def _fail(message: str) -> None:
    raise ValueError(message)


class _Unpicklable(Exception):
    def __reduce__(self) -> Any:
        raise TypeError("no pickling")


def _fail_unpicklable() -> None:
    raise _Unpicklable("held a socket")


def _die() -> None:
    os._exit(3)  # as a process killed for memory


def test_calls_come_back_with_their_results_whatever_their_size(run: _Run[Any]) -> None:
    big = b"x" * (3 * 1024 * 1024) + b"end"  # far over a socket pair's buffer

    async def main() -> list[Any]:
        pool = await ForkedProcesses.start(2, _nothing)
        try:
            calls = [pool.submit(_echo, big), *(pool.submit(_echo, b"%d" % i) for i in range(5))]
            return [*await asyncio.gather(*calls), pool.pids]
        finally:
            pool.shutdown()

    *out, pids = run(main)
    assert out[0][:2] == (len(big), b"end")
    assert [o[:2] for o in out[1:]] == [(1, b"%d" % i) for i in range(5)]
    # six calls, two processes: both served, none is this one
    assert {o[2] for o in out} == set(pids) and os.getpid() not in pids


def test_a_call_that_raises_gives_its_exception_and_the_process_goes_on(run: _Run[Any]) -> None:
    async def main() -> list[Any]:
        pool = await ForkedProcesses.start(1, _nothing)
        try:
            got = await asyncio.gather(
                pool.submit(_fail, "bad ad"),
                pool.submit(_fail_unpicklable),
                pool.submit(_echo, b"abc"),
                return_exceptions=True,
            )
            return [*got, pool.pids[0]]
        finally:
            pool.shutdown()

    failed, unpicklable, fine, pid = run(main)
    assert isinstance(failed, ValueError) and str(failed) == "bad ad"
    assert isinstance(unpicklable, RuntimeError)
    assert str(unpicklable) == "_Unpicklable: held a socket"
    assert fine == (3, b"abc", pid)


def test_a_dead_process_breaks_the_pool_and_the_others_finish_their_calls(
    caplog: pytest.LogCaptureFixture, run: _Run[Any]
) -> None:
    async def main() -> list[Any]:
        pool = await ForkedProcesses.start(3, _nothing)
        try:
            slow = pool.submit(_echo, b"slow", 0.5)  # in another process meanwhile
            dead = pool.submit(_die)
            got = await asyncio.gather(slow, dead, return_exceptions=True)
            try:
                pool.submit(_echo, b"later")
            except BrokenProcessPool as exc:
                got.append(exc)
            # the survivors have nothing more to do: the idle one ended at the death,
            # the busy one after its call
            deadline = time.monotonic() + 5
            while pool.running() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            got.append(pool.running())
            return got
        finally:
            pool.shutdown()  # also after a death: no error (uvloop's closed transports)

    with caplog.at_level("ERROR", logger="adsentry.web.processes"):
        slow, dead, later, running = run(main)
    assert slow[:2] == (4, b"low")
    assert isinstance(dead, BrokenProcessPool)
    assert str(dead) == "a screening process ended (exit code 3) while screening"
    assert isinstance(later, BrokenProcessPool)
    assert running == 0
    assert caplog.text.count("ended (exit code") == 1  # the death, not the survivors


def test_a_process_that_dies_waiting_for_work_is_told_so(
    caplog: pytest.LogCaptureFixture, run: _Run[Any]
) -> None:
    async def main() -> Any:
        pool = await ForkedProcesses.start(1, _nothing)
        try:
            pid = pool.pids[0]
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while pool.broken is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)  # until the loop has read the socket's end
            try:
                pool.submit(_echo, b"x")
            except BrokenProcessPool as exc:
                return exc
            return None
        finally:
            pool.shutdown()

    with caplog.at_level("ERROR", logger="adsentry.web.processes"):
        broken = run(main)
    assert str(broken) == "a screening process ended (exit code -9) waiting for work"


def test_shutdown_ends_the_processes_and_cancels_what_waits(run: _Run[Any]) -> None:
    async def main() -> tuple[list[int], list[bool], bool]:
        pool = await ForkedProcesses.start(2, _nothing)
        busy = pool.submit(_echo, b"a", 30.0)  # terminated, not waited for
        idle = pool.submit(_echo, b"b")  # answered: its process waits for the next call
        await idle
        waiting = [pool.submit(_echo, b"c", 30.0), pool.submit(_echo, b"d")]
        before = pool.running()
        started = time.monotonic()
        pool.shutdown(timeout=0.5)
        quick = time.monotonic() - started < 5
        await asyncio.sleep(0)
        return [before, pool.running()], [f.cancelled() for f in (busy, *waiting)], quick

    running, cancelled, quick = run(main)
    assert running == [2, 0]
    assert cancelled == [True, True, True] and quick


def test_screening_processes_die_of_sigterm_and_ignore_sigint(
    db_path: Path, run: _Run[Any]
) -> None:
    # uvicorn catches SIGTERM in the server; a screening process forked from it must
    # not, or stopping it would hang
    from adsentry.screen import Screener, init_screening_process
    from adsentry.store import open_store

    store = open_store(db_path, create=False)

    async def main() -> list[Any]:
        pool = await ForkedProcesses.start(
            1, init_screening_process, (Screener(store), os.getpid())
        )
        try:
            return list(
                await asyncio.gather(
                    pool.submit(signal.getsignal, signal.SIGTERM),
                    pool.submit(signal.getsignal, signal.SIGINT),
                )
            )
        finally:
            pool.shutdown()

    before = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        assert run(main) == [signal.SIG_DFL, signal.SIG_IGN]
    finally:
        signal.signal(signal.SIGTERM, before)
        store.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A small analyzed case database."""
    from adsentry.demo import write_corpus
    from adsentry.pipeline import analyze
    from adsentry.store import open_store

    ads, labels = tmp_path / "ads.jsonl", tmp_path / "labels.jsonl"
    write_corpus(ads, labels, 60, seed=3)
    db = tmp_path / "case.db"
    store = open_store(db)
    try:
        analyze([ads], store, db_path=db)
    finally:
        store.close()
    return db


def test_a_process_whose_server_went_away_mid_call_ends_quietly(
    capfd: pytest.CaptureFixture[str], run: _Run[Any]
) -> None:
    async def main() -> tuple[int, float]:
        pool = await ForkedProcesses.start(2, _nothing)
        pool.submit(_echo, b"a", 0.5)
        await asyncio.sleep(0.1)
        started = time.monotonic()
        # the idle process ends at once, the busy one when its call is done: neither
        # waits out the timeout to be terminated
        pool.shutdown(timeout=5.0)
        return pool.running(), time.monotonic() - started

    running, took = run(main)
    assert running == 0 and took < 3.0
    assert "Traceback" not in capfd.readouterr().err
