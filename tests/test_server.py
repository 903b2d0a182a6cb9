"""Serving: TCP_NODELAY on every accepted connection, whatever the loop and the socket."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from tests.helpers import join_all


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


@contextmanager
def served(http: str, loop: str) -> Iterator[tuple[uvicorn.Server, str]]:
    """Served the way uvicorn's worker processes serve: on a socket it bound itself
    (protocol number 0, which asyncio does not recognise as TCP, so it sets no TCP_NODELAY)."""
    config = uvicorn.Config(hello, host="127.0.0.1", port=0, http=http, loop=loop, lifespan="off")
    sock = config.bind_socket()
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


@pytest.mark.parametrize(
    ("http", "loop", "expected"),
    [
        ("mycity.server:NoDelayHttpTools", "asyncio", 1),
        ("mycity.server:NoDelayH11", "asyncio", 1),
        ("mycity.server:NoDelayHttpTools", "uvloop", 1),
        ("h11", "asyncio", 0),  # what uvicorn's own protocol leaves: the check can fail
    ],
)
def test_accepted_connections_do_not_wait_for_delayed_acks(
    http: str, loop: str, expected: int
) -> None:
    asyncio.set_event_loop_policy(None)
    with served(http, loop) as (server, url), httpx.Client() as client:
        assert client.get(url).text == "hello"  # the connection stays open (keep-alive)
        flags = no_delay_of_open_connections(server)
        assert flags and all(bool(f) == bool(expected) for f in flags), flags
