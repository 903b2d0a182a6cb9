"""The local provider posts its notifications over one kept-alive connection: many over one,
a connection the city closed meanwhile met by sending once more on a new one, and a city
that does not answer not asked twice."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mycity.integrations.provider_courier import Courier
from mycity.integrations.provider_ledger import Message


class City(http.server.ThreadingHTTPServer):
    """A city's notification endpoint that counts connections and what it was sent."""

    def __init__(self, behaviour: str) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.behaviour = behaviour  # keep, drop (close after answering, without saying), mute
        self.connections = 0
        self.received: list[str] = []


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: City

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        self.server.received.append(self.headers["webhook-id"])
        if self.server.behaviour == "mute":
            self.close_connection = True  # no answer at all
            return
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()
        if self.server.behaviour == "drop":
            self.close_connection = True

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def served(behaviour: str) -> Iterator[City]:
    city = City(behaviour)
    thread = threading.Thread(target=city.serve_forever, daemon=True)
    thread.start()
    try:
        yield city
    finally:
        city.shutdown()
        city.server_close()
        thread.join()


def courier(city: City) -> Courier:
    url = f"http://127.0.0.1:{city.server_address[1]}/payments/notifications"
    return Courier(url, Ed25519PrivateKey.generate(), timeout=5)


def message(n: int) -> Message:
    return Message(f"msg_{n}", b'{"type": "charge.succeeded"}', 0)


def test_many_notifications_go_over_one_connection() -> None:
    with served("keep") as city:
        sender = courier(city)
        assert [sender.post(message(n)) for n in range(3)] == [204, 204, 204]
        sender.close()
    assert city.connections == 1 and city.received == ["msg_0", "msg_1", "msg_2"]


def test_a_connection_closed_by_the_city_is_met_by_sending_again_on_a_new_one() -> None:
    with served("drop") as city:
        sender = courier(city)
        assert [sender.post(message(n)) for n in range(3)] == [204, 204, 204]
        sender.close()
    assert city.received == ["msg_0", "msg_1", "msg_2"]  # each once
    assert city.connections == 3


def test_a_city_that_does_not_answer_is_not_asked_twice() -> None:
    with served("mute") as city:
        sender = courier(city)
        assert sender.post(message(0)) is None
        sender.close()
    assert city.received == ["msg_0"]
