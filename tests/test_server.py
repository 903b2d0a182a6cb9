"""Serving: TCP_NODELAY on every accepted connection, whatever the loop and the socket."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from mycity.server import listening_socket, options
from tests.conftest import free_port
from tests.helpers import join_all


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


@contextmanager
def served(http: str, loop: str, workers: bool) -> Iterator[tuple[uvicorn.Server, str]]:
    """`hello` served as `mycity serve` serves: with its options, on the socket one process
    binds (uvicorn's own) or on the socket each of several workers binds (ours)."""
    config = uvicorn.Config(hello, **options("127.0.0.1", 0, loop, http), lifespan="off")
    sock = listening_socket("127.0.0.1", 0) if workers else config.bind_socket()
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        yield server, f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        assert join_all([thread], timeout=10)
        sock.close()


def no_delay_of_open_connections(server: uvicorn.Server) -> list[int]:
    return [
        c.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        for c in server.server_state.connections
    ]


@pytest.mark.parametrize("workers", [False, True], ids=["one-process", "workers"])
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
@pytest.mark.parametrize("http", ["httptools", "h11"])
def test_accepted_connections_do_not_wait_for_delayed_acks(
    http: str, loop: str, workers: bool
) -> None:
    asyncio.set_event_loop_policy(None)
    with served(http, loop, workers) as (server, url), httpx.Client() as client:
        assert client.get(url).text == "hello"  # the connection stays open (keep-alive)
        flags = no_delay_of_open_connections(server)
    assert flags, "no open connection to look at"
    assert all(flags), (
        "an accepted connection has no TCP_NODELAY, so keep-alive answers wait ~40 ms for "
        "the client's delayed ACK: asyncio sets it only on sockets made with IPPROTO_TCP, "
        "which uvicorn's bind_socket did from 0.55 on; has that changed?"
    )


def pid_app() -> Any:
    """An app that answers with the process serving it."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(os.getpid()).encode()})

    return app


def test_workers_each_listen_and_share_the_connections(tmp_path: Any) -> None:
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "mycity.server", "tests.test_server:pid_app"),
            *("--port", str(port), "--workers", "2", "--loop", "asyncio"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        pids = set()
        for _ in range(400):
            try:
                with httpx.Client() as client:  # a new connection each time
                    pids.add(client.get(f"http://127.0.0.1:{port}/").text)
            except httpx.TransportError:
                threading.Event().wait(0.05)  # not listening yet
            if len(pids) == 2:
                break
        assert len(pids) == 2, pids  # both workers took connections
        assert str(server.pid) not in pids  # the parent only supervises
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
