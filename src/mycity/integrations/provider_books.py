"""The local payment provider's tables, and what one transaction does in them: a transfer
(two entries that add up to zero, or nothing), a charge settled, a notification put in the
outbox; and a row read as the protocol's JSON object (docs/payments.md §2).

A balance below zero is refused by the table itself (a CHECK), except the `external` account's,
where deposits come from; a transfer the CHECK refuses is undone whole, by a savepoint.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from datetime import UTC, datetime
from typing import Any

EXTERNAL = "external"

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('payer', 'payee', 'external')),
    balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0 OR kind = 'external'));
CREATE TABLE IF NOT EXISTS transfers (
    id INTEGER PRIMARY KEY, made_at INTEGER NOT NULL, purpose TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    transfer INTEGER NOT NULL REFERENCES transfers (id),
    account TEXT NOT NULL REFERENCES accounts (id),
    amount INTEGER NOT NULL,
    PRIMARY KEY (transfer, account));
CREATE TABLE IF NOT EXISTS charges (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, failure TEXT,
    payer TEXT NOT NULL, payee TEXT NOT NULL, amount INTEGER NOT NULL,
    refunded INTEGER NOT NULL DEFAULT 0, description TEXT, reference TEXT,
    created_at INTEGER NOT NULL, due_at REAL NOT NULL, settled_at INTEGER,
    CHECK (refunded <= amount));
CREATE INDEX IF NOT EXISTS charges_due ON charges (due_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS charges_settled ON charges (settled_at);
CREATE TABLE IF NOT EXISTS refunds (
    id TEXT PRIMARY KEY, charge TEXT NOT NULL REFERENCES charges (id), status TEXT NOT NULL,
    failure TEXT, amount INTEGER NOT NULL, reason TEXT, reference TEXT,
    created_at INTEGER NOT NULL, settled_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS refunds_settled ON refunds (settled_at);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, claimed_at REAL NOT NULL,
    answer TEXT);  -- NULL while the request that claimed it is being answered
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    due_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'given_up')));
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (due_at) WHERE state = 'pending';
"""


def transfer(
    db: sqlite3.Connection, now: int, purpose: str, source: str, target: str, amount: int
) -> bool:
    """Both entries and both balances, or nothing if a balance would go below zero."""
    db.execute("SAVEPOINT transfer")
    try:
        made = db.execute(
            "INSERT INTO transfers (made_at, purpose) VALUES (?, ?)", (now, purpose)
        ).lastrowid
        for account, change in ((source, -amount), (target, amount)):
            db.execute(
                "INSERT INTO entries (transfer, account, amount) VALUES (?, ?, ?)",
                (made, account, change),
            )
            db.execute("UPDATE accounts SET balance = balance + ? WHERE id = ?", (change, account))
    except sqlite3.IntegrityError:
        db.execute("ROLLBACK TO transfer")
        db.execute("RELEASE transfer")
        return False
    db.execute("RELEASE transfer")
    return True


def settle(db: sqlite3.Connection, charge_id: str, now: int) -> None:
    """Move a pending charge's money, or fail it saying why; and notify."""
    charge = read_charge(db, charge_id)
    payer, payee = read_account(db, charge["payer"]), read_account(db, charge["payee"])
    failure = None
    if payer.get("kind") != "payer":
        failure = "unknown_payer"
    elif payee.get("kind") != "payee":
        failure = "unknown_payee"
    elif not transfer(db, now, charge_id, payer["id"], payee["id"], charge["amount_fen"]):
        failure = "insufficient_funds"
    db.execute(
        "UPDATE charges SET status = ?, failure = ?, settled_at = ? WHERE id = ?",
        (status_of(failure), failure, now, charge_id),
    )
    notify(db, "charge", read_charge(db, charge_id), now)


def notify(db: sqlite3.Connection, kind: str, data: dict[str, Any], now: int) -> None:
    """The settled object's notification, into the outbox, due at once."""
    message = {"type": f"{kind}.{data['status']}", "timestamp": iso(now), "data": data}
    db.execute(
        "INSERT INTO outbox (id, body, due_at) VALUES (?, ?, ?)",
        ("msg_" + secrets.token_hex(12), json.dumps(message, ensure_ascii=False), now),
    )


def read_account(db: sqlite3.Connection, account_id: str) -> dict[str, Any]:
    row = db.execute(
        "SELECT id, kind, balance FROM accounts WHERE id = ?", (account_id,)
    ).fetchone()
    return {"id": row[0], "kind": row[1], "balance_fen": row[2]} if row else {}


def read_charge(db: sqlite3.Connection, charge_id: str) -> dict[str, Any]:
    row = db.execute(
        "SELECT id, status, failure, payer, payee, amount, refunded, description, reference, "
        "created_at, settled_at FROM charges WHERE id = ?",
        (charge_id,),
    ).fetchone()
    if row is None:
        return {}
    return {
        "object": "charge",
        "id": row[0],
        "status": row[1],
        "failure": row[2],
        "payer": row[3],
        "payee": row[4],
        "amount_fen": row[5],
        "currency": "CNY",
        "refunded_fen": row[6],
        "description": row[7],
        "reference": row[8],
        "created_at": iso(row[9]),
        "settled_at": None if row[10] is None else iso(row[10]),
    }


def read_refund(db: sqlite3.Connection, refund_id: str) -> dict[str, Any]:
    row = db.execute(
        "SELECT r.id, r.charge, r.status, r.failure, r.amount, r.reason, r.reference, "
        "c.reference, r.created_at, r.settled_at "
        "FROM refunds r JOIN charges c ON c.id = r.charge WHERE r.id = ?",
        (refund_id,),
    ).fetchone()
    return {
        "object": "refund",
        "id": row[0],
        "charge": row[1],
        "status": row[2],
        "failure": row[3],
        "amount_fen": row[4],
        "reason": row[5],
        "reference": row[6],
        "charge_reference": row[7],
        "created_at": iso(row[8]),
        "settled_at": iso(row[9]),
    }


def status_of(failure: str | None) -> str:
    return "succeeded" if failure is None else "failed"


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
