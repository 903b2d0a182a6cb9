"""The local payment provider's books (docs/payments.md §2): a double-entry ledger in SQLite,
`<directory>/provider.sqlite` (its tables, and the moves one transaction makes in them:
`provider_books.py`; what a request must be, the cap on one amount among it:
`provider_requests.py`).

Each operation is one `BEGIN IMMEDIATE` transaction, on a connection of its own while it lasts
(taken from the idle ones): two requests racing for the same money are decided one after the
other, so a balance never goes below zero and a charge's refunds never add up to more than
it, however they race.

An idempotent request first claims its key (a transaction of its own, so that a second request
with it sees `idempotency_in_progress`), then moves the money and keeps the answer with the key
(a second transaction). A claim left by a process that died is taken over after
CLAIM_TIMEOUT_S; only a `200` is kept, a refusal leaves the key free. Each charge or refund
that settles puts its notification in the outbox, in the transaction that settles it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import queue
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from mycity.integrations.provider_books import (
    EXTERNAL,
    SCHEMA,
    iso,
    notify,
    read_account,
    read_charge,
    read_refund,
    settle,
    status_of,
    transfer,
)
from mycity.integrations.provider_requests import (
    InvalidRequest,
    account_request,
    charge_request,
    deposit_amount,
    idempotency_key,
    refund_request,
)
from mycity.private import private_dir, private_file

STATE_FILE = "provider.sqlite"
CLAIM_TIMEOUT_S = 60.0  # far longer than any request takes: older, its process died
BUSY_TIMEOUT_S = 30.0
STATEMENT_ZONE = ZoneInfo("Asia/Shanghai")
STATEMENT_COLUMNS = (
    "type,id,charge,charge_reference,reference,payer,payee,amount_fen,status,settled_at"
)

Answer = tuple[int, dict[str, Any]]  # an HTTP status and its JSON body


@dataclass(frozen=True)
class Message:
    """A notification to deliver: its id (`webhook-id`), its body exactly as sent every time,
    and how many attempts were made before."""

    id: str
    body: bytes
    attempts: int


class Ledger:
    """The provider's books, in `<directory>/provider.sqlite`; each answer is an HTTP status
    and its JSON body, as the protocol has them."""

    def __init__(self, directory: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = private_file(private_dir(directory) / STATE_FILE)
        self._clock = clock
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        with closing(self._open()) as db:
            db.execute("PRAGMA journal_mode = WAL")
            db.executescript(SCHEMA)
            db.execute(
                "INSERT OR IGNORE INTO accounts (id, kind) VALUES (?, 'external')", (EXTERNAL,)
            )

    def open_account(self, body: object) -> Answer:
        """`{"id", "kind"}`: the account, opened if new; 409 if it exists with another kind."""
        try:
            request = account_request(body)
        except InvalidRequest as e:
            return _invalid(e)
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO accounts (id, kind) VALUES (?, ?)",
                (request.id, request.kind),
            )
            found = read_account(db, request.id)
        if found["kind"] != request.kind:
            return 409, {"error": "account_exists", "detail": f"it exists as {found['kind']}"}
        return 200, found

    def get_account(self, account_id: str) -> Answer:
        with self._connection() as db:
            return _found(read_account(db, account_id))

    def deposit(self, key: str, account_id: str, body: object) -> Answer:
        """`{"amount_fen"}` from outside into a payer's or payee's account, once per key."""
        try:
            amount = deposit_amount(body)
        except InvalidRequest as e:
            return _invalid(e)

        def move(db: sqlite3.Connection, now: int) -> Answer:
            found = read_account(db, account_id)
            if found.get("kind") not in ("payer", "payee"):
                return 404, {"error": "not_found"}
            transfer(db, now, "deposit", EXTERNAL, account_id, amount)
            return 200, read_account(db, account_id)

        return self._idempotent(key, {"deposit": account_id, "amount": amount}, move)

    def create_charge(self, key: str, body: object, settle_after: float = 0.0) -> Answer:
        """A charge, settled at once, or pending until `settle_due` after settle_after s."""
        try:
            request = charge_request(body)
        except InvalidRequest as e:
            return _invalid(e)

        def make_charge(db: sqlite3.Connection, now: int) -> Answer:
            charge_id = "ch_" + secrets.token_hex(12)
            db.execute(
                "INSERT INTO charges (id, status, payer, payee, amount, description, reference, "
                "created_at, due_at) VALUES (:id, 'pending', :payer, :payee, :amount, "
                ":description, :reference, :now, :due)",
                asdict(request) | {"id": charge_id, "now": now, "due": now + settle_after},
            )
            if settle_after <= 0:
                settle(db, charge_id, now)
            return _found(read_charge(db, charge_id))

        return self._idempotent(key, {"charge": asdict(request)}, make_charge)

    def get_charge(self, charge_id: str) -> Answer:
        with self._connection() as db:
            return _found(read_charge(db, charge_id))

    def create_refund(self, key: str, body: object) -> Answer:
        """`{"charge", "amount_fen", "reason"?, "reference"}`: money back from the payee to the
        payer at once, or a failed refund that says why."""
        try:
            request = refund_request(body)
        except InvalidRequest as e:
            return _invalid(e)

        def make_refund(db: sqlite3.Connection, now: int) -> Answer:
            charge = read_charge(db, request.charge)
            if not charge:
                return 404, {"error": "not_found"}
            failure = None
            if charge["status"] != "succeeded":
                failure = "charge_not_succeeded"
            elif charge["refunded_fen"] + request.amount > charge["amount_fen"]:
                failure = "exceeds_charge"
            refund_id = "re_" + secrets.token_hex(12)
            if failure is None:
                if transfer(db, now, refund_id, charge["payee"], charge["payer"], request.amount):
                    db.execute(
                        "UPDATE charges SET refunded = refunded + ? WHERE id = ?",
                        (request.amount, request.charge),
                    )
                else:
                    failure = "insufficient_funds"
            db.execute(
                "INSERT INTO refunds (id, charge, status, failure, amount, reason, reference, "
                "created_at, settled_at) VALUES "
                "(:id, :charge, :status, :failure, :amount, :reason, :reference, :now, :now)",
                asdict(request)
                | {"id": refund_id, "status": status_of(failure), "failure": failure, "now": now},
            )
            found = read_refund(db, refund_id)
            notify(db, "refund", found, now)
            return 200, found

        return self._idempotent(key, {"refund": asdict(request)}, make_refund)

    def settle_due(self) -> int:
        """Settle the pending charges whose time has come; how many."""
        now = self._clock()
        with self._transaction() as db:
            due = db.execute(
                "SELECT id FROM charges WHERE status = 'pending' AND due_at <= ? "
                "ORDER BY due_at, id",
                (now,),
            ).fetchall()
            for (charge_id,) in due:
                settle(db, charge_id, int(now))
        return len(due)

    def statement(self, day: date) -> str:
        """The day's 对账单 (Asia/Shanghai): the charges and refunds settled on it, as CSV."""
        start = datetime(day.year, day.month, day.day, tzinfo=STATEMENT_ZONE)
        bounds = (start.timestamp(), (start + timedelta(days=1)).timestamp())
        with self._connection() as db:
            rows = db.execute(
                "SELECT 'charge', id, '', '', reference, payer, payee, amount, status, settled_at "
                "FROM charges WHERE settled_at >= ? AND settled_at < ? UNION ALL "
                "SELECT 'refund', r.id, r.charge, c.reference, r.reference, c.payer, c.payee, "
                "r.amount, r.status, r.settled_at FROM refunds r JOIN charges c ON c.id = r.charge "
                "WHERE r.settled_at >= ? AND r.settled_at < ? ORDER BY 10, 2",
                bounds + bounds,
            ).fetchall()
        text = io.StringIO()
        out = csv.writer(text, lineterminator="\n")
        out.writerow(STATEMENT_COLUMNS.split(","))
        out.writerows((*row[:9], iso(row[9])) for row in rows)
        return text.getvalue()

    def due_messages(self, limit: int = 100) -> list[Message]:
        """The notifications due now, the longest due first."""
        with self._connection() as db:
            rows = db.execute(
                "SELECT id, body, attempts FROM outbox WHERE state = 'pending' AND due_at <= ? "
                "ORDER BY due_at, rowid LIMIT ?",
                (self._clock(), limit),
            ).fetchall()
        return [Message(row[0], row[1].encode(), row[2]) for row in rows]

    def delivered(self, message_id: str) -> None:
        self._outcome(message_id, "delivered", 0.0)

    def given_up(self, message_id: str) -> None:
        self._outcome(message_id, "given_up", 0.0)

    def retry_later(self, message_id: str, after_s: float) -> None:
        self._outcome(message_id, "pending", after_s)

    def _outcome(self, message_id: str, state: str, after_s: float) -> None:
        due = self._clock() + after_s
        with self._transaction() as db:
            db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1, due_at = ? WHERE id = ?",
                (state, due, message_id),
            )

    def _idempotent(
        self, key: str, request: dict[str, Any], work: Callable[[sqlite3.Connection, int], Answer]
    ) -> Answer:
        """The answer kept under the key for this request, or the work's, done once and kept if
        it is a 200."""
        try:
            idempotency_key(key)
        except InvalidRequest as e:
            return _invalid(e)
        canonical = json.dumps(request, sort_keys=True, ensure_ascii=False)
        fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
        claimed_at = self._clock()
        with self._transaction() as db:
            found = db.execute(
                "SELECT fingerprint, claimed_at, answer FROM idempotency WHERE key = ?", (key,)
            ).fetchone()
            if found and found[0] != fingerprint:
                return 409, {"error": "idempotency_key_reused"}
            if found and found[2] is not None:
                return 200, dict(json.loads(found[2]))
            if found and claimed_at - found[1] < CLAIM_TIMEOUT_S:
                return 409, {"error": "idempotency_in_progress"}
            db.execute(
                "INSERT OR REPLACE INTO idempotency (key, fingerprint, claimed_at) "
                "VALUES (?, ?, ?)",
                (key, fingerprint, claimed_at),
            )
        now = int(self._clock())
        try:
            with self._transaction() as db:
                answer = work(db, now)
                if (
                    answer[0] == 200
                    and not db.execute(
                        "UPDATE idempotency SET answer = ? WHERE key = ? AND claimed_at = ? "
                        "AND answer IS NULL",  # still this request's claim, not taken over
                        (json.dumps(answer[1], ensure_ascii=False), key, claimed_at),
                    ).rowcount
                ):
                    answer = (409, {"error": "idempotency_in_progress"})
                if answer[0] != 200:
                    raise _Undone(answer)
        except _Undone as undone:
            self._release(key, claimed_at)
            return undone.answer
        except BaseException:
            self._release(key, claimed_at)
            raise
        return answer

    def _release(self, key: str, claimed_at: float) -> None:
        with self._transaction() as db:
            db.execute(
                "DELETE FROM idempotency WHERE key = ? AND claimed_at = ? AND answer IS NULL",
                (key, claimed_at),
            )

    def close(self) -> None:
        """Close the idle connections (at the provider's end, nothing being answered)."""
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """An idle connection, or a new one, given back when done: opening and closing one
        for each call cost more than the call (and the last one closed checkpoints the
        WAL). As many are open as requests were ever answered at once, on any threads."""
        try:
            db = self._idle.get_nowait()
        except queue.Empty:
            db = self._open()
        try:
            yield db
        finally:
            if db.in_transaction:  # its rollback failed too: not given to the next
                db.close()
            else:
                self._idle.put(db)

    def _open(self) -> sqlite3.Connection:
        # One thread at a time uses it, not always the same one.
        db = sqlite3.connect(
            self.path, isolation_level=None, timeout=BUSY_TIMEOUT_S, check_same_thread=False
        )
        db.execute("PRAGMA foreign_keys = ON")
        # WAL without a sync at every commit: a crash of the process loses nothing, a
        # power cut the last moments (the local provider; a bank's ledger syncs).
        db.execute("PRAGMA synchronous = NORMAL")
        return db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")  # the write lock first: what it reads stays so
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # the work failed, or its commit did: nothing is kept
                    db.execute("ROLLBACK")
                raise


class _Undone(Exception):
    """The work's transaction rolled back, and why: a refusal, or its claim taken over."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer[0])
        self.answer = answer


def _found(found: dict[str, Any]) -> Answer:
    return (200, found) if found else (404, {"error": "not_found"})


def _invalid(error: InvalidRequest) -> Answer:
    return 400, {"error": "invalid_request", "detail": str(error)}
