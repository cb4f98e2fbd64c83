"""ASGI pieces of the web app that must act before a route runs: the body-size limit
and the API-key check.

Both are plain ASGI middleware (Starlette's pattern for code that must see the raw
``receive`` stream), so that a body over the limit is refused without being read
whole, also when it comes chunked with no ``Content-Length``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Largest request body accepted, in bytes (issue: "a body over 1 MB is 413").
MAX_BODY_BYTES = 1_000_000


async def send_json(
    send: Send, status: int, payload: dict[str, Any], headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """Send a complete JSON response."""
    await send_json_bytes(send, status, json.dumps(payload).encode("utf-8"), headers)


async def send_json_bytes(
    send: Send, status: int, body: bytes, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """Send a complete response whose ``body`` is JSON already encoded."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413.

    A ``Content-Length`` over the limit is refused before anything is read; a chunked
    body is counted as it arrives and refused as soon as it passes the limit (the rest
    is never read).
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = {
            "detail": f"request body over {self.max_bytes:,} bytes",
        }
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    await send_json(send, 400, {"detail": "Content-Length is not a number"})
                    return
                if too_big:
                    await send_json(send, 413, message, [(b"connection", b"close")])
                    return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return msg

        async def tracked(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited, tracked)
        except _TooLarge:
            if not started:
                await send_json(send, 413, message, [(b"connection", b"close")])


def key_matches(header: str | None, keys: Iterable[str]) -> bool:
    """Whether an ``Authorization: Bearer KEY`` header carries one of ``keys``.

    Compared with :func:`hmac.compare_digest` against every key (no early exit), so the
    time taken does not tell how much of a key was right.
    """
    if not header:
        return False
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    given = token.strip().encode("utf-8")
    ok = False
    for key in keys:
        ok |= hmac.compare_digest(given, key.encode("utf-8"))
    return ok


class RequireKey:
    """Require an API key on every request whose path does not start with one of
    ``open_prefixes`` (used when the server listens on a non-loopback address: then
    every page needs authentication)."""

    def __init__(
        self, app: ASGIApp, keys: tuple[str, ...], open_prefixes: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.keys = keys
        self.open_prefixes = open_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.open_prefixes):
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                header = value.decode("latin-1")
        if not key_matches(header, self.keys):
            await send_json(
                send,
                401,
                {"detail": "missing or wrong API key (send Authorization: Bearer KEY)"},
                [(b"www-authenticate", b"Bearer")],
            )
            return
        await self.app(scope, receive, send)
