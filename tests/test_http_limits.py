"""What a client may send: bodies and headers beyond the limits are refused, not read."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx

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


def test_a_body_over_the_limit_is_refused(server: str) -> None:
    padded = QUERY[:-1] + b', "x": "' + b"x" * MAX_BODY + b'"}'
    assert post(server, padded).status_code == 413
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


def test_a_chunked_body_over_the_limit_is_refused(server: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield QUERY[:-1] + b', "x": "'
        for _ in range(MAX_BODY // 4096 + 2):
            yield b"x" * 4096
        yield b'"}'

    assert post(server, chunks()).status_code == 413


def test_a_lying_content_length_is_refused(server: str) -> None:
    parts = urlsplit(server)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.putrequest("POST", "/graphql")
    connection.putheader("content-type", "application/json")
    connection.putheader("content-length", str(MAX_BODY + 1))
    connection.endheaders()
    assert connection.getresponse().status == 413  # answered before the body was sent
    connection.close()


def test_headers_over_the_limit_are_refused(server: str) -> None:
    huge = "Bearer " + "x" * MAX_HEADERS
    assert post(server, QUERY, authorization=huge).status_code == 431
    assert post(server, QUERY, authorization="Bearer " + "x" * 2000).status_code == 200
