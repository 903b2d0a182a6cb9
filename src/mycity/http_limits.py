"""Size limits on what a client may send, refused before anything reads it.

A GraphQL request is a few kilobytes (the parser stops at 2000 tokens anyway), so a large
body or header is a mistake or an attack: unlimited, three 100 MB bodies took a worker from
250 MB to 1 GB. Bodies over `max_body` answer 413, headers over `max_headers` 431 (a
WebSocket handshake's too). A WebSocket message's limit is the server's (`ws_max_size`). A
document upload is the exception: its body is streamed by its own endpoint, which enforces
its own limit (`http_uploads.py`), so it is never read whole here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 512 * 1024  # an offline batch of 500 scans with long CJK places, \u-escaped: 320 KB
MAX_HEADERS = 16 * 1024
UPLOADS = "/uploads"


class SizeLimits:
    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY, max_headers: int = MAX_HEADERS):
        self.app = app
        self.max_body = max_body
        self.max_headers = max_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        if sum(len(name) + len(value) for name, value in headers) > self.max_headers:
            await self._refuse(scope, send, 431, "Request headers too large")
            return
        if scope["type"] == "websocket" or scope.get("path") == UPLOADS:
            await self.app(scope, receive, send)
            return
        limit = self.max_body
        length = dict(headers).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._refuse(scope, send, 413, "Request body too large")
            return
        body = await self._read(receive, limit)
        if body is None:
            await self._refuse(scope, send, 413, "Request body too large")
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive, limit: int) -> bytes | None:
        """The whole body, or None once it passes the limit (a chunked one may)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, status: int, text: str) -> None:
        """Answer `status`; a WebSocket handshake too, where the server can answer one with
        a response (the ASGI extension `websocket.http.response`), else by closing it."""
        if scope["type"] == "http":
            start, body_type = "http.response.start", "http.response.body"
        elif "websocket.http.response" in scope.get("extensions", {}):
            start, body_type = "websocket.http.response.start", "websocket.http.response.body"
        else:
            await send({"type": "websocket.close", "code": 1009})
            return
        body = text.encode()
        await send(
            {
                "type": start,
                "status": status,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": body_type, "body": body})


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: a disconnect, when it comes

    return replayed
