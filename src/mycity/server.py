"""Serving the app with uvicorn: one process, or N workers beside one read-model runner.

uvicorn never sets TCP_NODELAY on the sockets its multi-worker mode accepts, so every
keep-alive response waits for the client's delayed ACK (about 40 ms, Nagle's algorithm);
uvloop happens to set it, asyncio's loop does not. The protocols here set it on every
accepted connection, whatever the loop.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mycity.bootstrap import City


def _no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayHttpTools(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)


class NoDelayH11(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)


# Import strings: uvicorn hands its config to worker processes it spawns.
HTTP_PROTOCOLS = {
    "httptools": "mycity.server:NoDelayHttpTools",
    "h11": "mycity.server:NoDelayH11",
}


def serve(
    city: City,
    *,
    host: str,
    port: int,
    workers: int = 1,
    loop: str = "auto",
    http: str = "httptools",
    access_log: bool = True,
) -> None:
    """Serve until interrupted.

    With one worker the app runs in this process and keeps its read models itself (unless
    the settings say a separate runner does). With several on PostgreSQL, each worker
    builds its own app from the environment, while this process runs the one runner for
    all of them (runners in every worker would each fold every event) and NOTIFY tells
    the workers how far it got.
    """
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "loop": loop,
        "http": HTTP_PROTOCOLS[http],
        "access_log": access_log,
        "log_level": "info",
        "timeout_graceful_shutdown": 10,
    }
    if workers == 1:
        from mycity.app import create_app

        uvicorn.run(create_app(city=city), **options)
        return
    stop = threading.Event()
    runner = None
    if city.settings.read_models.inline and city.settings.is_postgres:
        # On SQLite there is no NOTIFY to tell the workers how far it got: each worker
        # keeps its own runner, woken by its own saves.
        city.listen()
        runner = threading.Thread(
            target=city.runner().run_forever, args=(stop,), name="runner", daemon=True
        )
        runner.start()
        os.environ["MYCITY_INLINE_PROJECTIONS"] = "0"  # read by the workers' settings
    try:
        uvicorn.run("mycity.app:create_app", factory=True, workers=workers, **options)
    finally:
        stop.set()
        city.read_models.wake.set()
        if runner:
            runner.join(timeout=10)
