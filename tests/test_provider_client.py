"""The city's client of a payment provider, against a real HTTP server that records what it
is asked: the address's path kept before every call's, the key and the idempotency key sent,
a refusal and a silent provider told apart."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from mycity.integrations.payments import HttpProvider, ProviderRefused, ProviderUnreachable

CHARGE = {
    "id": "ch_1",
    "status": "succeeded",
    "failure": "",
    "amount_fen": 100,
    "settled_at": "2026-12-07T12:00:00+08:00",
    "reference": "r",
}


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    asked: ClassVar[list[tuple[str, str, str | None, str | None]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self.asked.append(
            (
                self.command,
                self.path,
                self.headers.get("authorization"),
                self.headers.get("idempotency-key"),
            )
        )
        refused = self.path.endswith("/ch_none")
        body = json.dumps({"error": "not_found"} if refused else CHARGE).encode()
        self.send_response(404 if refused else 200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, *_args: object) -> None:
        return None


@pytest.fixture
def bank() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Recorder.asked = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("path", "prefix"), [("", ""), ("/", ""), ("/api/pay/", "/api/pay")])
def test_calls_go_under_the_addresss_path_with_the_key(bank: str, path: str, prefix: str) -> None:
    provider = HttpProvider(bank + path, "k-1")
    charged = provider.charge(
        key="idem-1", payer="p", payee="q", amount_fen=100, description="d", reference="r"
    )
    assert charged.id == "ch_1" and charged.status == "succeeded"
    assert provider.get_charge("ch_1").amount_fen == 100
    with pytest.raises(ProviderRefused) as refused:
        provider.get_charge("ch_none")
    assert (refused.value.status, refused.value.error) == (404, "not_found")
    provider.close()
    assert Recorder.asked == [
        ("POST", f"{prefix}/v1/charges", "Bearer k-1", "idem-1"),
        ("GET", f"{prefix}/v1/charges/ch_1", "Bearer k-1", None),
        ("GET", f"{prefix}/v1/charges/ch_none", "Bearer k-1", None),
    ]


def test_a_provider_out_of_reach_is_unreachable_not_refused() -> None:
    with pytest.raises(ProviderUnreachable):
        HttpProvider("http://127.0.0.1:9", "k", timeout=0.5).get_charge("ch_1")
