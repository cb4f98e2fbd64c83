"""Processes forked from the server and fed from its event loop over socket pairs.

The screening API sends each batch to a free process and gets the answers back on the
event loop's own thread. :class:`concurrent.futures.ProcessPoolExecutor` does the same
through two helper threads in the server (one that moves work to a queue, one that
feeds the queue's pipe) and a third handoff for the results; on a loaded two-core
machine each handoff waits for the GIL and the scheduler, and a screening process sat
idle 4-6 ms between batches of 20 ms (bench_screen.py, 20 clients; timestamps logged
in the processes and the server). Here a batch is written to the chosen process's
socket the moment it is formed, and its answers are read by the loop when they
arrive.

Frames on a socket: an 8-byte big-endian length, then a pickle. To a process:
``(fn, args)``; back: ``(True, result)`` or ``(False, exception)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import pickle
import socket
import struct
from collections import deque
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any

log = logging.getLogger(__name__)

_HEAD = struct.Struct(">Q")


class _Link(asyncio.Protocol):
    """The server's end of one process's socket: reads framed answers."""

    def __init__(self, pool: ForkedProcesses, slot: int) -> None:
        self.pool = pool
        self.slot = slot
        self.buf = bytearray()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while len(self.buf) >= _HEAD.size:
            (size,) = _HEAD.unpack_from(self.buf)
            if len(self.buf) < _HEAD.size + size:
                return
            frame = bytes(self.buf[_HEAD.size : _HEAD.size + size])
            del self.buf[: _HEAD.size + size]
            self.pool._answered(self.slot, frame)

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool._lost(self.slot)


class ForkedProcesses:
    """``workers`` processes forked from this one, each running ``initializer(*initargs)``
    once and then the calls sent to it, one at a time.

    Started with ``await ForkedProcesses.start(...)`` in the event loop (the server's
    lifespan) whose thread then calls :meth:`submit`. A call goes to a free process at
    once, or waits (in order) for one to free up. ``fn``, its arguments and its result
    are pickled (``fn`` by name: a module-level function).

    Should a process die (killed for memory, say), the call it held fails with
    :class:`~concurrent.futures.process.BrokenProcessPool`, as in a
    ``ProcessPoolExecutor``, and so does every later :meth:`submit` and every call
    still waiting; calls running in the other processes finish, and then those
    processes end (the pool is broken for good: they would only hold memory and a
    database connection). :meth:`shutdown`
    closes the sockets and ends the processes (a process busy with a call is
    terminated after ``timeout`` seconds). Linux and other systems with ``fork`` only.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._procs: list[Any] = []
        self._links: list[asyncio.WriteTransport] = []
        self._busy: list[asyncio.Future[Any] | None] = []
        self._waiting: deque[tuple[asyncio.Future[Any], bytes]] = deque()
        self._broken: str | None = None
        self._closed = False
        self._ending: set[int] = set()  # slots whose socket this side shut down

    @classmethod
    async def start(
        cls,
        workers: int,
        initializer: Callable[..., None],
        initargs: tuple[Any, ...] = (),
    ) -> ForkedProcesses:
        """Fork ``workers`` processes (ValueError below 1) and connect to them."""
        if workers < 1:
            raise ValueError(f"workers must be 1 or more, not {workers}")
        self = cls(asyncio.get_running_loop())
        pairs = [socket.socketpair() for _ in range(workers)]
        ctx = multiprocessing.get_context("fork")
        for slot, (_, child_end) in enumerate(pairs):
            others = [s for k, pair in enumerate(pairs) for s in pair if k != slot]
            others.append(pairs[slot][0])
            proc = ctx.Process(
                target=_serve,
                args=(child_end, others, initializer, initargs),
                name=f"adsentry-screening-{slot}",
                daemon=True,
            )
            proc.start()
            child_end.close()
            self._procs.append(proc)
        self._busy = [None] * workers
        for slot, (own_end, _) in enumerate(pairs):
            link = _Link(self, slot)
            transport, _ = await self._loop.create_unix_connection(
                partial(_same, link), sock=own_end
            )
            self._links.append(transport)
        return self

    @property
    def workers(self) -> int:
        """Number of processes."""
        return len(self._procs)

    @property
    def pids(self) -> list[int | None]:
        """Process ids, in slot order."""
        return [p.pid for p in self._procs]

    @property
    def broken(self) -> str | None:
        """Why the processes can take no more calls (a process died), or None."""
        return self._broken

    def running(self) -> int:
        """How many of the processes are running (0 after :meth:`shutdown`)."""
        return sum(p.is_alive() for p in self._procs)

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """A future of ``fn(*args)`` run in one of the processes (raises
        :class:`~concurrent.futures.process.BrokenProcessPool` once a process has died,
        RuntimeError after :meth:`shutdown`, and what pickling the call raises)."""
        if self._broken is not None:
            raise BrokenProcessPool(self._broken)
        if self._closed:
            raise RuntimeError("the processes were shut down")
        frame = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        fut: asyncio.Future[Any] = self._loop.create_future()
        self._waiting.append((fut, frame))
        self._feed()
        return fut

    def _feed(self) -> None:
        for slot, held in enumerate(self._busy):
            if not self._waiting:
                return
            if held is None:
                fut, frame = self._waiting.popleft()
                self._links[slot].write(_HEAD.pack(len(frame)) + frame)
                self._busy[slot] = fut

    def _answered(self, slot: int, frame: bytes) -> None:
        fut, self._busy[slot] = self._busy[slot], None
        ok, value = pickle.loads(frame)
        if fut is not None and not fut.done():
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)
        if self._broken is not None:  # no more calls will come: let the process end
            self._end(slot)
        self._feed()

    def _lost(self, slot: int) -> None:
        fut, self._busy[slot] = self._busy[slot], None
        if self._closed or slot in self._ending:
            if fut is not None and not fut.done():
                fut.cancel()
            return
        self._procs[slot].join(timeout=1.0)
        code = self._procs[slot].exitcode
        doing = "while screening" if fut is not None else "waiting for work"
        why = f"a screening process ended (exit code {code}) {doing}"
        log.error(
            "screening process %d ended (exit code %s) %s", self._procs[slot].pid, code, doing
        )
        self._broken = why
        for held in [fut, *(f for f, _ in self._waiting)]:
            if held is not None and not held.done():
                held.set_exception(BrokenProcessPool(why))
        self._waiting.clear()
        for other, held in enumerate(self._busy):  # the idle ones end now, the others
            if held is None:  # when their call is done (_answered)
                self._end(other)

    def _end(self, slot: int) -> None:
        """Shut ``slot``'s socket down now (its process exits when it next waits for a
        call), not when the loop next runs: closing the transport waits for that, and
        :meth:`shutdown` holds the loop while it joins the processes."""
        self._ending.add(slot)
        transport = self._links[slot]
        sock = transport.get_extra_info("socket")  # None once closed (uvloop)
        if sock is not None:
            with contextlib.suppress(OSError, ValueError):
                fd = sock.fileno()
                if fd >= 0:
                    with socket.fromfd(fd, socket.AF_UNIX, socket.SOCK_STREAM) as same:
                        same.shutdown(socket.SHUT_RDWR)
        transport.abort()

    def shutdown(self, timeout: float = 5.0) -> None:
        """End the processes: shut their sockets down (a process waiting for a call
        exits at once, one running a call when it is done), wait up to ``timeout``
        seconds, then terminate those still running. Calls not answered yet are
        cancelled."""
        if self._closed:
            return
        self._closed = True
        for fut in [*self._busy, *(f for f, _ in self._waiting)]:
            if fut is not None:
                fut.cancel()
        self._waiting.clear()
        for slot in range(len(self._links)):
            self._end(slot)
        for proc in self._procs:
            proc.join(timeout)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout)


def _same(link: _Link) -> _Link:
    return link


def _serve(
    sock: socket.socket,
    others: list[socket.socket],
    initializer: Callable[..., None],
    initargs: tuple[Any, ...],
) -> None:
    """A forked process: run ``initializer``, then answer the calls read from
    ``sock`` until the server closes it (also while a call runs: then the answer has
    nowhere to go, and the process ends quietly)."""
    for s in others:  # the server's ends and the other processes' sockets
        s.close()
    initializer(*initargs)
    with sock:
        while True:
            try:
                frame = _read(sock)
            except ConnectionError:
                return
            if frame is None:
                return
            try:
                fn, args = pickle.loads(frame)
                answer = pickle.dumps((True, fn(*args)), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:
                answer = _failure(exc)
            try:
                sock.sendall(_HEAD.pack(len(answer)) + answer)
            except ConnectionError:
                return


def _failure(exc: BaseException) -> bytes:
    """``(False, exc)`` pickled, or a RuntimeError naming it when ``exc`` cannot be."""
    try:
        return pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def _read(sock: socket.socket) -> bytes | None:
    """One frame from ``sock``, or None at its end."""
    head = _exactly(sock, _HEAD.size)
    if head is None:
        return None
    (size,) = _HEAD.unpack(head)
    return _exactly(sock, size)


def _exactly(sock: socket.socket, size: int) -> bytes | None:
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        n = sock.recv_into(view[got:])
        if n == 0:
            return None
        got += n
    return bytes(buf)
