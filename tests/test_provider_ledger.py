"""The local payment provider's ledger, in process (docs/payments.md §2): every transfer's
entries add up to zero, no balance but `external`'s goes below zero, a transfer that would is
not made at all, a key answers once, racing refunds stay within their charge, and the day's
statement is the day in Asia/Shanghai, to the second."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mycity.integrations.provider_books import transfer
from mycity.integrations.provider_ledger import CLAIM_TIMEOUT_S, Ledger
from mycity.integrations.provider_requests import MAX_AMOUNT_FEN
from tests.helpers import join_all

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAYER, PAYEE = "p:AAAAAAAAAAAAAAAAAAAAAAAAAA", "merchant:shop-1"


class Clock:
    """A clock the test sets."""

    def __init__(self, at: datetime) -> None:
        self.now = at.timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, at: datetime) -> None:
        self.now = at.timestamp()


def key() -> str:
    return uuid.uuid4().hex


def charge_body(amount: Any = 1250, **more: Any) -> dict[str, Any]:
    body = {"payer": PAYER, "payee": PAYEE, "amount_fen": amount, "currency": "CNY"}
    return body | {"description": "Order 42", "reference": "8f0d"} | more


def refund_body(charge_id: str, amount: int, **more: Any) -> dict[str, Any]:
    return {"charge": charge_id, "amount_fen": amount, "reference": "r-1"} | more


def opened(ledger: Ledger, account: str, kind: str, fen: int = 0) -> None:
    assert ledger.open_account({"id": account, "kind": kind})[0] == 200
    if fen:
        assert ledger.deposit(key(), account, {"amount_fen": fen})[0] == 200


def balance(ledger: Ledger, account: str) -> int:
    return int(ledger.get_account(account)[1]["balance_fen"])


def charged(
    ledger: Ledger, amount: int = 1250, settle_after: float = 0.0, **fields: Any
) -> dict[str, Any]:
    status, answer = ledger.create_charge(key(), charge_body(amount, **fields), settle_after)
    assert status == 200, answer
    return answer


def books(ledger: Ledger) -> sqlite3.Connection:
    return sqlite3.connect(ledger.path)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 6, 13, 0, tzinfo=UTC))


@pytest.fixture
def ledger(tmp_path: Path, clock: Clock) -> Iterator[Ledger]:
    ledger = Ledger(tmp_path / "provider", clock)
    opened(ledger, PAYER, "payer", 10_000)
    opened(ledger, PAYEE, "payee")
    yield ledger
    ledger.close()


def test_every_transfer_adds_up_to_zero_and_each_balance_is_its_entries(ledger: Ledger) -> None:
    charge = charged(ledger)
    assert ledger.create_refund(key(), refund_body(charge["id"], 500))[0] == 200
    charged(ledger, 1_000_000)  # fails: nothing moves
    opened(ledger, "p:other", "payer", 300)
    with books(ledger) as db:
        unbalanced = db.execute(
            "SELECT transfer FROM entries GROUP BY transfer HAVING SUM(amount) != 0"
        ).fetchall()
        kept = db.execute(
            "SELECT a.id, a.balance, (SELECT COALESCE(SUM(amount), 0) FROM entries e "
            "WHERE e.account = a.id) FROM accounts a"
        ).fetchall()
        transfers = db.execute("SELECT COUNT(*) FROM transfers").fetchone()[0]
    assert unbalanced == []
    assert [(name, held) for name, held, entries in kept if held != entries] == []
    assert sum(held for _, held, _ in kept) == 0
    assert {name: held for name, held, _ in kept} == {
        "external": -10_300,
        PAYER: 10_000 - 1250 + 500,
        PAYEE: 1250 - 500,
        "p:other": 300,
    }
    assert transfers == 4  # two deposits, the charge, the refund


def test_a_transfer_that_would_leave_a_balance_below_zero_is_not_made(ledger: Ledger) -> None:
    with books(ledger) as db:
        before = db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
    answer = charged(ledger, 10_001)
    assert (answer["status"], answer["failure"]) == ("failed", "insufficient_funds")
    assert (balance(ledger, PAYER), balance(ledger, PAYEE)) == (10_000, 0)
    with books(ledger) as db:
        assert db.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == before
        assert not transfer(db, 0, "by hand", PAYER, PAYEE, 10_001)  # the table's CHECK
        assert db.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == before
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("UPDATE accounts SET balance = -1 WHERE id = ?", (PAYER,))
    assert charged(ledger, 10_000)["status"] == "succeeded"  # to the last fen
    assert balance(ledger, PAYER) == 0


def test_charges_to_or_from_no_such_account_fail_saying_which(ledger: Ledger) -> None:
    body = charge_body(payer="p:nobody")
    assert ledger.create_charge(key(), body)[1]["failure"] == "unknown_payer"
    body = charge_body(payee="merchant:nobody")
    assert ledger.create_charge(key(), body)[1]["failure"] == "unknown_payee"
    body = charge_body(payer=PAYEE, payee=PAYER)  # both exist, as the other kind
    assert ledger.create_charge(key(), body)[1]["failure"] == "unknown_payer"
    assert balance(ledger, PAYER) == 10_000


def test_a_key_answers_the_same_charge_and_moves_the_money_once(ledger: Ledger) -> None:
    once = key()
    first = ledger.create_charge(once, charge_body())
    again = ledger.create_charge(once, charge_body())
    assert first == again and first[0] == 200
    assert balance(ledger, PAYER) == 10_000 - 1250
    assert ledger.create_charge(once, charge_body(1251)) == (
        409,
        {"error": "idempotency_key_reused"},
    )
    refund = refund_body(first[1]["id"], 1250)
    assert ledger.create_refund(once, refund)[1] == {"error": "idempotency_key_reused"}
    assert ledger.deposit(once, PAYER, {"amount_fen": 5})[1] == {"error": "idempotency_key_reused"}


def test_a_refused_request_leaves_its_key_free(ledger: Ledger) -> None:
    once = key()
    assert ledger.deposit(once, "p:later", {"amount_fen": 5}) == (404, {"error": "not_found"})
    assert ledger.create_charge(once, charge_body(0))[0] == 400
    opened(ledger, "p:later", "payer")
    assert ledger.deposit(once, "p:later", {"amount_fen": 5})[0] == 200
    assert balance(ledger, "p:later") == 5


@contextmanager
def a_charge_held_after_its_claim(
    tmp_path: Path, clock: Clock
) -> Iterator[tuple[Ledger, str, list[Any]]]:
    """A ledger, its key, and the answers of a first charge made by another thread, which
    is held after it claimed the key and before the money moves until the block ends. The
    clock is read as the key is claimed, then before the money moves: the second read holds."""
    reads, held, release = [0], threading.Event(), threading.Event()

    def holding() -> float:
        if threading.current_thread().name == "held":
            reads[0] += 1
            if reads[0] == 2:
                held.set()
                release.wait(10)
        return clock()

    ledger = Ledger(tmp_path / "provider", holding)
    opened(ledger, PAYER, "payer", 10_000)
    opened(ledger, PAYEE, "payee")
    once, answers = key(), []
    first = threading.Thread(
        target=lambda: answers.append(ledger.create_charge(once, charge_body())), name="held"
    )
    first.start()
    try:
        assert held.wait(10)
        yield ledger, once, answers
    finally:
        release.set()
        assert join_all([first])


def test_a_key_whose_request_is_being_answered_is_in_progress(tmp_path: Path, clock: Clock) -> None:
    with a_charge_held_after_its_claim(tmp_path, clock) as (ledger, once, answers):
        in_progress = (409, {"error": "idempotency_in_progress"})
        assert ledger.create_charge(once, charge_body()) == in_progress
        assert ledger.create_charge(once, charge_body(7))[1]["error"] == "idempotency_key_reused"
    assert answers[0][0] == 200
    assert ledger.create_charge(once, charge_body()) == answers[0]
    assert balance(ledger, PAYER) == 10_000 - 1250


def test_a_claim_older_than_any_request_is_taken_over_and_the_money_moves_once(
    tmp_path: Path, clock: Clock
) -> None:
    with a_charge_held_after_its_claim(tmp_path, clock) as (ledger, once, answers):
        clock.now += CLAIM_TIMEOUT_S
        taken_over = ledger.create_charge(once, charge_body())
    assert taken_over[0] == 200
    assert answers == [(409, {"error": "idempotency_in_progress"})]  # its work undone
    assert ledger.create_charge(once, charge_body()) == taken_over
    assert balance(ledger, PAYER) == 10_000 - 1250


@pytest.mark.parametrize(("length", "status"), [(7, 400), (8, 200), (64, 200), (65, 400)], ids=str)
def test_an_idempotency_key_is_8_to_64_characters(ledger: Ledger, length: int, status: int) -> None:
    answer = ledger.create_charge("k" * length, charge_body())
    assert answer[0] == status
    if status == 400:
        assert answer[1]["error"] == "invalid_request"
        assert "Idempotency-Key" in answer[1]["detail"]


@pytest.mark.parametrize("bad", ["", "with space1", "slash/in/it", "dot.in.it", "é" * 8])
def test_an_idempotency_key_is_of_its_alphabet(ledger: Ledger, bad: str) -> None:
    assert ledger.create_charge(bad, charge_body())[0] == 400
    assert ledger.deposit(bad, PAYER, {"amount_fen": 1})[0] == 400


def test_racing_refunds_never_add_up_to_more_than_their_charge(ledger: Ledger) -> None:
    charge = charged(ledger, 10_000)
    start, answers = threading.Barrier(10), []

    def refund() -> None:
        start.wait()
        answers.append(ledger.create_refund(key(), refund_body(charge["id"], 4000)))

    threads = [threading.Thread(target=refund, name=f"refund-{n}") for n in range(10)]
    for thread in threads:
        thread.start()
    assert join_all(threads)
    outcomes = sorted(str(body["failure"]) for _, body in answers)
    assert outcomes == ["None"] * 2 + ["exceeds_charge"] * 8
    assert ledger.get_charge(charge["id"])[1]["refunded_fen"] == 8000
    assert (balance(ledger, PAYER), balance(ledger, PAYEE)) == (8000, 2000)


def test_racing_charges_never_spend_the_same_money_twice(ledger: Ledger) -> None:
    opened(ledger, "p:poor", "payer", 1000)
    start, answers = threading.Barrier(10), []

    def charge() -> None:
        start.wait()
        answers.append(ledger.create_charge(key(), charge_body(300, payer="p:poor")))

    threads = [threading.Thread(target=charge, name=f"charge-{n}") for n in range(10)]
    for thread in threads:
        thread.start()
    assert join_all(threads)
    assert sorted(body["status"] for _, body in answers) == ["failed"] * 7 + ["succeeded"] * 3
    assert balance(ledger, "p:poor") == 100


def test_work_that_fails_midway_keeps_nothing_and_the_next_request_is_answered(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connections are taken up again: a transaction broken off must not be left open on
    one for the next request."""

    def broken(*args: Any) -> None:
        raise OSError("the disk went away midway")

    monkeypatch.setattr("mycity.integrations.provider_ledger.settle", broken)
    with pytest.raises(OSError, match="midway"):
        ledger.create_charge(key(), charge_body(300))
    monkeypatch.undo()
    assert charged(ledger, 300)["status"] == "succeeded"
    with books(ledger) as db:
        assert db.execute("SELECT count(*) FROM charges").fetchone() == (1,)
    assert (balance(ledger, PAYER), balance(ledger, PAYEE)) == (9_700, 300)


def ledger_files_open(ledger: Ledger) -> int:
    """The descriptors this process holds on the ledger's files (Linux)."""
    fds = Path("/proc/self/fd")
    return sum(1 for fd in fds.iterdir() if str(ledger.path) in str(fd.resolve()))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts /proc/self/fd (Linux)")
def test_connections_are_as_many_as_requests_at_once_not_as_threads_that_lived(
    ledger: Ledger,
) -> None:
    """The provider's thread pool ends idle threads and starts new ones: their connections
    are taken up again, not left open."""
    balance(ledger, PAYER)
    one = ledger_files_open(ledger)  # the fixture's requests came one at a time
    ten = threading.Barrier(10)

    def read() -> None:
        ten.wait()
        balance(ledger, PAYER)

    for _ in range(3):
        threads = [threading.Thread(target=read) for _ in range(10)]
        for thread in threads:
            thread.start()
        assert join_all(threads)
    assert 0 < one <= ledger_files_open(ledger) <= 10 * one
    ledger.close()
    assert ledger_files_open(ledger) == 0


def test_after_close_the_ledger_opens_again_when_asked(ledger: Ledger) -> None:
    ledger.close()
    assert balance(ledger, PAYER) == 10_000
    ledger.close()


def test_a_refund_fails_on_a_charge_not_succeeded_beyond_it_or_beyond_the_payee(
    ledger: Ledger, clock: Clock
) -> None:
    failed = charged(ledger, 20_000)
    pending = charged(ledger, settle_after=60)
    charge = charged(ledger, 2000)

    def refund(charge_id: str, fen: int) -> str | None:
        answer = ledger.create_refund(key(), refund_body(charge_id, fen))
        assert answer[0] == 200, answer
        return answer[1]["failure"]  # type: ignore[no-any-return]

    assert refund(failed["id"], 1) == "charge_not_succeeded"
    assert refund(pending["id"], 1) == "charge_not_succeeded"
    assert refund(charge["id"], 2001) == "exceeds_charge"
    with books(ledger) as db:  # the merchant's money paid out to its bank
        assert transfer(db, int(clock()), "payout", PAYEE, "external", 1500)
    assert refund(charge["id"], 600) == "insufficient_funds"
    assert refund(charge["id"], 500) is None
    assert ledger.get_charge(charge["id"])[1]["refunded_fen"] == 500
    unknown = refund_body("ch_" + "0" * 24, 1)
    assert ledger.create_refund(key(), unknown) == (404, {"error": "not_found"})


def test_a_pending_charge_settles_when_its_time_comes(ledger: Ledger, clock: Clock) -> None:
    charge = charged(ledger, 1250, settle_after=30)
    assert (charge["status"], charge["failure"], charge["settled_at"]) == ("pending", None, None)
    assert ledger.due_messages() == []
    clock.now += 29
    assert ledger.settle_due() == 0
    clock.now += 1
    assert ledger.settle_due() == 1
    now = ledger.get_charge(charge["id"])[1]
    assert (now["status"], now["settled_at"]) == ("succeeded", "2026-12-06T13:00:30Z")
    assert balance(ledger, PAYER) == 10_000 - 1250
    [message] = ledger.due_messages()
    assert json.loads(message.body) == {
        "type": "charge.succeeded",
        "timestamp": "2026-12-06T13:00:30Z",
        "data": now,
    }


def test_the_outbox_keeps_each_message_until_delivered_or_given_up(
    ledger: Ledger, clock: Clock
) -> None:
    charge = charged(ledger)
    refund = ledger.create_refund(key(), refund_body(charge["id"], 1250))[1]
    first, second = ledger.due_messages()
    assert re.fullmatch(r"msg_[0-9a-f]{24}", first.id) and first.attempts == 0
    assert json.loads(first.body)["data"] == charge
    assert json.loads(second.body) == {
        "type": "refund.succeeded",
        "timestamp": "2026-12-06T13:00:00Z",
        "data": refund,
    }
    ledger.retry_later(first.id, 5)
    ledger.delivered(second.id)
    assert ledger.due_messages() == []
    clock.now += 5
    [again] = ledger.due_messages()
    assert (again.id, again.body, again.attempts) == (first.id, first.body, 1)
    ledger.given_up(again.id)
    clock.now += 86_400
    assert ledger.due_messages() == []


def test_the_objects_are_as_the_protocol_has_them(ledger: Ledger) -> None:
    charge = charged(ledger)
    assert re.fullmatch(r"ch_[0-9a-f]{24}", charge["id"])
    assert charge == {
        "object": "charge",
        "id": charge["id"],
        "status": "succeeded",
        "failure": None,
        "payer": PAYER,
        "payee": PAYEE,
        "amount_fen": 1250,
        "currency": "CNY",
        "refunded_fen": 0,
        "description": "Order 42",
        "reference": "8f0d",
        "created_at": "2026-12-06T13:00:00Z",
        "settled_at": "2026-12-06T13:00:00Z",
    }
    refund = ledger.create_refund(key(), refund_body(charge["id"], 500, reason="退货"))[1]
    assert re.fullmatch(r"re_[0-9a-f]{24}", refund["id"])
    assert refund == {
        "object": "refund",
        "id": refund["id"],
        "charge": charge["id"],
        "status": "succeeded",
        "failure": None,
        "amount_fen": 500,
        "reason": "退货",
        "reference": "r-1",
        "charge_reference": "8f0d",
        "created_at": "2026-12-06T13:00:00Z",
        "settled_at": "2026-12-06T13:00:00Z",
    }
    assert ledger.get_account(PAYEE) == (200, {"id": PAYEE, "kind": "payee", "balance_fen": 750})
    assert ledger.get_account("p:nobody") == (404, {"error": "not_found"})
    assert ledger.get_charge("ch_nothing") == (404, {"error": "not_found"})


def test_an_account_opens_once_with_its_kind(ledger: Ledger) -> None:
    assert ledger.open_account({"id": PAYER, "kind": "payer"})[1]["balance_fen"] == 10_000
    assert ledger.open_account({"id": PAYER, "kind": "payee"})[0] == 409
    assert ledger.open_account({"id": "external", "kind": "payer"})[0] == 409
    for bad in ({"id": "", "kind": "payer"}, {"id": "a/b", "kind": "payer"}, {"id": "x" * 65}):
        assert ledger.open_account(bad)[0] == 400
    assert ledger.open_account({"id": "x", "kind": "external"})[0] == 400
    assert ledger.deposit(key(), "external", {"amount_fen": 1})[0] == 404


def test_the_statement_is_the_day_in_shanghai_to_the_second(ledger: Ledger, clock: Clock) -> None:
    def at(day: int, hour: int, minute: int = 0, second: int = 0) -> None:
        clock.set(datetime(2026, 12, day, hour, minute, second, tzinfo=SHANGHAI))

    at(5, 23, 59, 59)
    last = charged(ledger, 100, reference="last")
    at(6, 0)
    first = charged(ledger, 200, reference="first")
    pending = charged(ledger, 300, reference="pending", settle_after=86_400 - 1)
    at(6, 23, 59, 59)
    refund = ledger.create_refund(key(), refund_body(first["id"], 50, reference="back"))[1]
    failed = charged(ledger, 1_000_000, reference="too-much")
    at(7, 0)
    ledger.settle_due()  # the pending one, settled on the 7th
    assert ledger.statement(date(2026, 12, 5)) == (
        "type,id,charge,charge_reference,reference,payer,payee,amount_fen,status,settled_at\n"
        f"charge,{last['id']},,,last,{PAYER},{PAYEE},100,succeeded,2026-12-05T15:59:59Z\n"
    )
    assert ledger.statement(date(2026, 12, 6)).splitlines()[1:] == [
        f"charge,{first['id']},,,first,{PAYER},{PAYEE},200,succeeded,2026-12-05T16:00:00Z",
        f"charge,{failed['id']},,,too-much,{PAYER},{PAYEE},1000000,failed,2026-12-06T15:59:59Z",
        f"refund,{refund['id']},{first['id']},first,back,{PAYER},{PAYEE},50,succeeded,"
        "2026-12-06T15:59:59Z",
    ]
    assert ledger.statement(date(2026, 12, 7)).splitlines()[1:] == [
        f"charge,{pending['id']},,,pending,{PAYER},{PAYEE},300,succeeded,2026-12-06T16:00:00Z"
    ]


BAD_AMOUNTS = st.one_of(
    st.booleans(),
    st.integers(max_value=0),
    st.integers(min_value=MAX_AMOUNT_FEN + 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=BAD_AMOUNTS)
def test_an_amount_that_is_not_whole_positive_fen_within_the_cap_is_refused(
    ledger: Ledger, amount: object
) -> None:
    answer = ledger.create_charge(key(), charge_body(amount))
    assert answer[0] == 400 and answer[1]["error"] == "invalid_request", answer
    assert ledger.deposit(key(), PAYER, {"amount_fen": amount})[0] == 400


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.integers(min_value=1, max_value=MAX_AMOUNT_FEN))
def test_any_whole_amount_from_1_fen_to_the_cap_is_taken(ledger: Ledger, amount: int) -> None:
    answer = ledger.create_charge(key(), charge_body(amount))
    assert answer[0] == 200 and answer[1]["amount_fen"] == amount


@pytest.mark.parametrize(
    ("amount", "taken"),
    [
        (1, True),
        (MAX_AMOUNT_FEN, True),
        (MAX_AMOUNT_FEN + 1, False),
        (0, False),
        (-1, False),
        (True, False),
        (1250.0, False),
        ("1250", False),
    ],
    ids=repr,
)
def test_the_bounds_of_an_amount(ledger: Ledger, amount: object, taken: bool) -> None:
    assert (ledger.create_charge(key(), charge_body(amount))[0] == 200) is taken
    assert (ledger.deposit(key(), PAYER, {"amount_fen": amount})[0] == 200) is taken


@pytest.mark.parametrize(
    "body",
    [
        charge_body(currency="USD"),
        charge_body(description="x" * 129),
        charge_body(reference="x" * 65),
        charge_body(description="\ud800"),
        charge_body(description=42),
        charge_body(description=None),
        {k: v for k, v in charge_body().items() if k != "reference"},
        charge_body(payee=PAYER),
        charge_body(payer="p/slash"),
        charge_body(extra=1),
        {"payer": PAYER, "payee": PAYEE, "amount_fen": 1},
        [charge_body()],
        "a charge",
    ],
    ids=repr,
)
def test_a_body_not_as_the_protocol_has_it_is_refused_and_stores_nothing(
    ledger: Ledger, body: object
) -> None:
    once = key()
    answer = ledger.create_charge(once, body)
    assert answer[0] == 400 and answer[1]["error"] == "invalid_request" and answer[1]["detail"]
    assert ledger.create_charge(once, charge_body())[0] == 200  # the key was left free
    longest = charge_body(description="x" * 128, reference="y" * 64)
    assert ledger.create_charge(key(), longest)[0] == 200
