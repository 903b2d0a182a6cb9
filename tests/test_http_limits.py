"""What a client may send: bodies, headers and WebSocket messages beyond the limits are
refused, not read; each limit is tried at its exact size and one byte more, against the app
served as `mycity serve` serves it."""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from mycity.http_limits import MAX_BODY, MAX_HEADERS
from mycity.usecases.scans import MAX_BATCH

QUERY = b'{"query": "{ __typename }"}'


def post(server: str, body: bytes | Iterator[bytes], **headers: str) -> httpx.Response:
    return httpx.post(
        f"{server}/graphql",
        content=body,
        headers={"content-type": "application/json", **headers},
        timeout=30,
    )


def padded(size: int) -> bytes:
    """A GraphQL request of exactly `size` bytes."""
    head, tail = QUERY[:-1] + b', "extensions": {"pad": "', b'"}}'
    body = head + b"x" * (size - len(head) - len(tail)) + tail
    assert len(body) == size
    return body


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_refused(
    server: str, chunked: bool
) -> None:
    def send(body: bytes) -> httpx.Response:
        chunks = iter([body[i : i + 65536] for i in range(0, len(body), 65536)])
        return post(server, chunks if chunked else body)  # chunked: no content-length

    at = send(padded(MAX_BODY))
    assert (at.status_code, at.json()) == (200, {"data": {"__typename": "Query"}})
    over = send(padded(MAX_BODY + 1))
    assert (over.status_code, over.text) == (413, "Request body too large")
    assert post(server, QUERY).status_code == 200  # the server goes on serving


def test_the_largest_offline_batch_fits_the_limit(server: str) -> None:
    """500 scans with 64-character Chinese places, as a client escaping them sends them."""
    item = {"payload": "MC1:" + "0" * 146, "purpose": "TRANSIT", "place": "站" * 64,
            "scannedAt": "2026-12-01T20:00:00.123456+08:00"}  # fmt: skip
    body = json.dumps(
        {
            "query": "mutation($i: UploadOfflineScansInput!) "
            "{ uploadOfflineScans(input: $i) { recorded } }",
            "variables": {"i": {"scans": [item] * MAX_BATCH}},
        }
    ).encode()
    assert len(body) <= MAX_BODY
    assert post(server, body).status_code == 200  # read, and refused as anonymous


def test_a_lying_content_length_is_refused(server: str) -> None:
    parts = urlsplit(server)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.putrequest("POST", "/graphql")
    connection.putheader("content-type", "application/json")
    connection.putheader("content-length", str(MAX_BODY + 1))
    connection.endheaders()
    assert connection.getresponse().status == 413  # answered before the body was sent
    connection.close()


def answer_to_head(server: str, head: list[tuple[str, str]], body: bytes = b"") -> int:
    """The status of the answer to a request with exactly these request line and headers:
    the first pair is the method and the target, the rest are headers as the app sees them."""
    parts = urlsplit(server)
    (method, target), *headers = head
    lines = [f"{method} {target} HTTP/1.1", *(f"{name}: {value}" for name, value in headers)]
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
        status_line = connection.makefile("rb").readline()
    return int(status_line.split()[1])


def padded_to(headers: list[tuple[str, str]], total: int) -> list[tuple[str, str]]:
    """The headers and a few more, whose names and values together are `total` bytes, as
    SizeLimits counts them (each under 4 KB: a WebSocket handshake's lines are at most 8 KB)."""
    names = [f"x-pad-{n}" for n in range(8)]
    left = total - sum(len(name) + len(value) for name, value in headers + [(n, "") for n in names])
    sizes = [left // len(names) + (1 if n < left % len(names) else 0) for n in range(len(names))]
    padded = [*headers, *((name, "x" * size) for name, size in zip(names, sizes, strict=True))]
    assert sum(len(name) + len(value) for name, value in padded) == total
    return padded


def test_headers_of_exactly_the_limit_are_read_and_one_byte_more_is_refused(server: str) -> None:
    host = urlsplit(server).netloc
    headers = [
        ("host", host),
        ("content-type", "application/json"),
        ("content-length", str(len(QUERY))),
    ]
    for total, status in ((MAX_HEADERS, 200), (MAX_HEADERS + 1, 431)):
        head = [("POST", "/graphql"), *padded_to(headers, total)]
        assert answer_to_head(server, head, QUERY) == status, total


def test_a_websocket_handshake_meets_the_same_header_limit(server: str) -> None:
    headers = [
        ("host", urlsplit(server).netloc),
        ("upgrade", "websocket"),
        ("connection", "Upgrade"),
        ("sec-websocket-key", base64.b64encode(os.urandom(16)).decode()),
        ("sec-websocket-version", "13"),
        ("sec-websocket-protocol", "graphql-transport-ws"),
    ]
    for total, status in ((MAX_HEADERS, 101), (MAX_HEADERS + 1, 431)):
        head = [("GET", "/graphql"), *padded_to(headers, total)]
        assert answer_to_head(server, head) == status, total


def init_message(size: int) -> str:
    """A graphql-transport-ws connection_init of exactly `size` bytes."""
    head, tail = '{"type": "connection_init", "payload": {"pad": "', '"}}'
    message = head + "x" * (size - len(head) - len(tail)) + tail
    assert len(message.encode()) == size
    return message


def closed_with(websocket: ClientConnection, message: str) -> int | None:
    """The code the server closes the connection with once it has this message."""
    try:
        websocket.send(message)
        websocket.recv(timeout=10)
    except ConnectionClosed as e:
        return e.rcvd.code if e.rcvd else None
    return None


@pytest.mark.parametrize("compression", [None, "deflate"])
def test_a_websocket_message_of_exactly_the_limit_is_read_and_one_byte_more_closes(
    server: str, compression: str | None
) -> None:
    """The limit is on the message as read: compressed (permessage-deflate), it is on what
    the message inflates to."""

    def connected() -> ClientConnection:
        return connect(
            server.replace("http://", "ws://") + "/graphql",
            subprotocols=[Subprotocol("graphql-transport-ws")],
            compression=compression,
            open_timeout=10,
        )

    with connected() as websocket:
        websocket.send(init_message(MAX_BODY))
        assert json.loads(websocket.recv(timeout=10)) == {"type": "connection_ack"}
    with connected() as websocket:
        assert closed_with(websocket, init_message(MAX_BODY + 1)) == 1009  # message too big
