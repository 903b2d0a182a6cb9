"""`mycity provider serve` as the city meets it: a process of its own, over real HTTP, with
the city's notification address a small HTTP server in the test. Its API wants its key, a
charge moves the money once however often it is sent, its notifications carry a `v1a`
signature the key `mycity provider key` prints verifies, and are sent again until answered
2xx or 409."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from typer.testing import CliRunner

from mycity.cli import cli
from mycity.integrations.webhooks import parse_public_key, verify
from tests.conftest import free_port

PAYER, PAYEE = "p:AAAAAAAAAAAAAAAAAAAAAAAAAA", "merchant:shop-1"
RETRY_SCALE = "0.001"  # the schedule's 5 s, 5 min: 5 ms, 0.3 s
QUIET_S = 1.0  # a retry comes within 0.3 s (and the provider's 0.2 s poll): none in 1 s, none


class Receiver:
    """The city's notification address: each POST kept, and answered with the next status the
    test scripted (204 once none is left)."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.received: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.received.put((headers, body))
                self.send_response(receiver.answers.pop(0) if receiver.answers else 204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/payments/notifications"

    def next(self) -> tuple[dict[str, str], bytes]:
        return self.received.get(timeout=10)

    def nothing_more(self) -> bool:
        try:
            self.received.get(timeout=QUIET_S)
        except queue.Empty:
            return True
        return False


@dataclass
class Served:
    url: str
    client: httpx.Client  # with the API key
    key: str  # the whpk_ key `mycity provider key` prints
    receiver: Receiver


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, name="receiver")
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        thread.join(timeout=10)
        receiver.server.server_close()


@contextmanager
def provider_process(directory: Path, *options: str) -> Iterator[str]:
    """`mycity provider serve` on a free port until the block ends; then stopped (SIGTERM, as
    an operator stops it) and gone, whatever happened."""
    port = free_port()
    mycity = str(Path(sys.executable).with_name("mycity"))
    command = [mycity, "provider", "serve", "--dir", str(directory), "--port", str(port)]
    log = (directory.parent / "provider.log").open("wb")
    process = subprocess.Popen([*command, *options], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/webhook-key")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, "no provider"
                time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
            log.close()
    said = (directory.parent / "provider.log").read_text()
    # uvicorn stops gracefully, then dies of the signal it caught, as a process stopped so does
    assert process.returncode == -signal.SIGTERM and "Traceback" not in said, said


@contextmanager
def serving(directory: Path, *options: str) -> Iterator[Served]:
    """The provider and the city's notification address, a payer with 10,000 fen, a payee."""
    runner = CliRunner()
    with receiving() as receiver:
        more = ["--notify", receiver.url, "--retry-scale", RETRY_SCALE, *options]
        with provider_process(directory, *more) as url:
            api_key = runner.invoke(cli, ["provider", "api-key", "--dir", str(directory)])
            key = runner.invoke(cli, ["provider", "key", "--dir", str(directory)])
            assert api_key.exit_code == 0 and key.exit_code == 0
            headers = {"authorization": f"Bearer {api_key.stdout.strip()}"}
            with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
                for account, kind in ((PAYER, "payer"), (PAYEE, "payee")):
                    opened = client.post("/v1/accounts", json={"id": account, "kind": kind})
                    assert opened.status_code == 200
                deposit = client.post(
                    f"/v1/accounts/{PAYER}/deposits",
                    json={"amount_fen": 10_000},
                    headers={"idempotency-key": uuid.uuid4().hex},
                )
                assert deposit.json()["balance_fen"] == 10_000
                yield Served(url, client, key.stdout.strip(), receiver)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serving(tmp_path / "provider") as found:
        yield found


def charge(served: Served, amount: int = 1250, key: str | None = None) -> httpx.Response:
    body = {"payer": PAYER, "payee": PAYEE, "amount_fen": amount, "currency": "CNY"}
    headers = {"idempotency-key": key or uuid.uuid4().hex}
    body |= {"description": "Order 42", "reference": "8f0d"}
    return served.client.post("/v1/charges", json=body, headers=headers)


def balances(served: Served) -> tuple[int, int]:
    payer, payee = (served.client.get(f"/v1/accounts/{a}").json() for a in (PAYER, PAYEE))
    return payer["balance_fen"], payee["balance_fen"]


def notified(served: Served) -> tuple[str, dict[str, Any]]:
    """The next notification, checked as the city checks it; its id and body."""
    headers, body = served.receiver.next()
    assert headers["content-type"] == "application/json"
    verified = verify([parse_public_key(served.key)], headers, body, time.time())
    return verified.message_id, json.loads(body)


def test_without_the_api_key_nothing_is_answered(served: Served) -> None:
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "Basic x"}):
        for method, path in (("GET", f"/v1/accounts/{PAYER}"), ("POST", "/v1/charges")):
            answer = httpx.request(method, f"{served.url}{path}", headers=headers, json={})
            assert (answer.status_code, answer.json()) == (401, {"error": "unauthorized"})
    assert httpx.get(f"{served.url}/webhook-key").text.strip() == served.key  # open to all


def test_a_charge_and_a_refund_move_the_money_notify_signed_and_are_in_the_statement(
    served: Served,
) -> None:
    answer = charge(served)
    assert answer.status_code == 200
    paid = answer.json()
    assert paid["status"] == "succeeded" and balances(served) == (10_000 - 1250, 1250)
    _, message = notified(served)
    assert message == {
        "type": "charge.succeeded",
        "timestamp": paid["settled_at"],
        "data": served.client.get(f"/v1/charges/{paid['id']}").json(),
    }
    refund = served.client.post(
        "/v1/refunds",
        json={"charge": paid["id"], "amount_fen": 500, "reason": "退货", "reference": "r-1"},
        headers={"idempotency-key": uuid.uuid4().hex},
    ).json()
    assert refund["status"] == "succeeded" and balances(served) == (10_000 - 750, 750)
    _, message = notified(served)
    assert (message["type"], message["data"]) == ("refund.succeeded", refund)
    lines: dict[str, str] = {}
    for found in (paid, refund):
        at = datetime.fromisoformat(found["settled_at"].replace("Z", "+00:00"))
        day = at.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
        statement = served.client.get(f"/v1/statements/{day}")
        assert statement.headers["content-type"] == "text/csv; charset=utf-8"
        lines |= {line.split(",")[1]: line for line in statement.text.splitlines()}
    assert lines[paid["id"]] == (
        f"charge,{paid['id']},,,8f0d,{PAYER},{PAYEE},1250,succeeded,{paid['settled_at']}"
    )
    assert lines[refund["id"]] == (
        f"refund,{refund['id']},{paid['id']},8f0d,r-1,{PAYER},{PAYEE},500,succeeded,"
        f"{refund['settled_at']}"
    )
    assert served.client.get("/v1/statements/2026-13-01").status_code == 400
    assert served.client.get("/v1/charges/ch_nothing").json() == {"error": "not_found"}


def test_a_notification_is_sent_again_until_2xx_or_409_and_given_up_on_400(
    served: Served,
) -> None:
    served.receiver.answers[:] = [500, 503, 204]
    charge(served)
    ids = [notified(served)[0] for _ in range(3)]
    assert ids[0].startswith("msg_") and len(set(ids)) == 1  # one message, three attempts
    assert served.receiver.nothing_more()
    for status in (409, 400):
        served.receiver.answers[:] = [status]
        charge(served)
        notified(served)
        assert served.receiver.nothing_more(), f"sent again after {status}"


def test_a_pending_charge_settles_in_the_background_and_notifies(tmp_path: Path) -> None:
    # Settled 3 s after the charge: time enough to see it pending on a loaded machine (with
    # 0.5 s, CI once found it settled before the balances were asked).
    with serving(tmp_path / "provider", "--settle-after", "3") as served:
        pending = charge(served).json()
        assert (pending["status"], pending["settled_at"]) == ("pending", None)
        assert balances(served) == (10_000, 0)
        _, message = notified(served)
        assert message["type"] == "charge.succeeded" and message["data"]["id"] == pending["id"]
        assert served.client.get(f"/v1/charges/{pending['id']}").json()["status"] == "succeeded"
        assert balances(served) == (10_000 - 1250, 1250)


def test_twenty_racing_posts_with_one_key_make_one_charge(served: Served) -> None:
    once = uuid.uuid4().hex
    with ThreadPoolExecutor(20, thread_name_prefix="racing") as pool:
        answers = list(pool.map(lambda _: charge(served, key=once), range(20)))
    made = {a.json()["id"] for a in answers if a.status_code == 200}
    others = [a.json() for a in answers if a.status_code != 200]
    assert len(made) == 1 and all(o == {"error": "idempotency_in_progress"} for o in others)
    assert charge(served, key=once).json()["id"] in made
    assert balances(served) == (10_000 - 1250, 1250)


def test_a_body_over_16_kib_is_413_and_one_that_is_not_json_400(served: Served) -> None:
    headers = {"idempotency-key": uuid.uuid4().hex, "content-type": "application/json"}
    big = served.client.post("/v1/charges", content=b" " * (16 * 1024 + 1), headers=headers)
    assert (big.status_code, big.json()) == (413, {"error": "too_large"})
    for body in (b"{", b"\xff", b"[" * 16_000):
        answer = served.client.post("/v1/charges", content=body, headers=headers)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
    assert served.client.delete("/v1/charges").json() == {"error": "method_not_allowed"}


def test_open_account_works_on_the_directory_offline(tmp_path: Path) -> None:
    directory = str(tmp_path / "provider")
    runner = CliRunner()
    command = ["provider", "open-account", "--dir", directory, PAYER, "--kind", "payer"]
    opened = runner.invoke(cli, [*command, "--deposit", "500"])
    assert opened.exit_code == 0, opened.output
    assert json.loads(opened.stdout) == {"id": PAYER, "kind": "payer", "balance_fen": 500}
    again = runner.invoke(cli, ["provider", "open-account", "--dir", directory, PAYER])
    assert again.exit_code == 2 and "--kind" in again.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["open-account", PAYER, "--kind", "payee"], "error: account_exists: it exists as payer"),
        (["open-account", "a/b", "--kind", "payer"], "error: invalid_request: id is 1 to 64"),
        (["open-account", "p:x", "--kind", "payer", "--deposit", "10000000001"], "amount_fen"),
        (["open-account", "p:x", "--kind", "external"], "'external' is not one of"),
        (["serve", "--notify", "file:///etc/passwd"], "not an http:// or https:// address"),
        (["serve", "--retry-scale", "0"], "retry_scale more than 0"),
    ],
)
def test_a_mistake_is_one_line(tmp_path: Path, args: list[str], says: str) -> None:
    directory = str(tmp_path / "provider")
    runner = CliRunner()
    setup = ["provider", "open-account", "--dir", directory, PAYER, "--kind", "payer"]
    assert runner.invoke(cli, setup).exit_code == 0
    result = runner.invoke(cli, ["provider", args[0], "--dir", directory, *args[1:]])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and says in lines[0], result.output
