"""Client credentials for staff and partners, provisioned from the CLI and stored hashed."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from mycity.domain.errors import ErrorCode, UserError, checked
from mycity.domain.identifiers import validate_name
from mycity.identity.principal import PARTNER_ROLES, STAFF_ROLES, Principal, Role
from mycity.store.sql import Database

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
DEPARTMENT_ROLES = frozenset({Role.OFFICER, Role.AUTHORITY_FEED})
_CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def secret_matches(secret: str, stored: str) -> bool:
    _, salt, _ = stored.split("$")
    return hmac.compare_digest(hash_secret(secret, bytes.fromhex(salt)), stored)


@functools.cache
def _unknown_client() -> str:
    """A hash no secret matches, to check an unknown client's secret against."""
    return hash_secret(secrets.token_urlsafe(24))


@dataclass(frozen=True)
class Client:
    client_id: str
    role: Role
    name: str
    department: str | None
    disabled: bool = False

    @classmethod
    def of(cls, row: Any) -> Client:
        return cls(
            row["client_id"],
            Role(row["role"]),
            row["name"],
            row["department"],
            bool(row["disabled"]),
        )

    def principal(self) -> Principal:
        return Principal(self.client_id, self.role, self.department, self.name)


class Clients:
    """Staff (officers, auditors, admins) and partners (merchants, venues, authority feeds)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = db.table("api_clients")

    def create_tables(self) -> None:
        self.db.create_tables(
            [
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                "client_id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, role TEXT NOT NULL, "
                "name TEXT NOT NULL, department TEXT, created_at DOUBLE PRECISION NOT NULL, "
                "disabled INTEGER NOT NULL DEFAULT 0)"
            ]
        )

    def add(self, client_id: str, role: Role, name: str, department: str | None = None) -> str:
        """Provision a client; returns its secret, which is shown once and never stored."""
        if not _CLIENT_ID.match(client_id):
            raise UserError(
                ErrorCode.INVALID_ID, "Client ids are 3-64 of a-z 0-9 . _ -", "clientId"
            )
        if role not in STAFF_ROLES | PARTNER_ROLES:
            raise UserError(ErrorCode.FORBIDDEN, f"{role.value} is not a staff or partner role")
        if (role in DEPARTMENT_ROLES) != bool(department):
            raise UserError(
                ErrorCode.INVALID_ID,
                "Officers and authority feeds, and only they, have a department (an authority "
                "feed's names which authority it speaks for)",
                "department",
            )
        name = checked("name", validate_name, name)
        secret = secrets.token_urlsafe(24)
        with self.db.transaction() as cur:
            cur.execute(f"SELECT 1 FROM {self.table} WHERE client_id = ?", (client_id,))
            if cur.fetchone():
                raise UserError(ErrorCode.ALREADY_REGISTERED, f"{client_id} exists", "clientId")
            cur.execute(
                f"INSERT INTO {self.table} (client_id, secret_hash, role, name, department, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (client_id, hash_secret(secret), role.value, name, department, time.time()),
            )
        return secret

    def authenticate(self, client_id: str, secret: str) -> Client:
        """The client, if the secret is its own. An unknown client costs the same hashing as a
        known one with a wrong secret, so client ids cannot be found by timing."""
        with self.db.read() as cur:
            row = cur.execute(
                f"SELECT * FROM {self.table} WHERE client_id = ? AND disabled = 0", (client_id,)
            ).fetchone()
        matches = secret_matches(secret, row["secret_hash"] if row else _unknown_client())
        if row is None or not matches:
            raise UserError(ErrorCode.INVALID_CREDENTIALS, "Unknown client or wrong secret")
        return Client.of(row)

    def get(self, client_id: str) -> Client | None:
        """The client, unless there is none or it is disabled."""
        with self.db.transaction(commit=False) as cur:
            row = cur.execute(
                f"SELECT * FROM {self.table} WHERE client_id = ? AND disabled = 0", (client_id,)
            ).fetchone()
        return None if row is None else Client.of(row)

    def listed(self) -> list[Client]:
        """Every client, disabled ones too, by role and id (never a secret's hash)."""
        with self.db.read() as cur:
            rows = cur.execute(
                f"SELECT client_id, role, name, department, disabled FROM {self.table} "
                "ORDER BY role, client_id"
            ).fetchall()
        return [Client.of(row) for row in rows]

    def set_disabled(self, client_id: str, disabled: bool) -> Client | None:
        """Disable a client (it signs in no more) or enable it again; None if there is no
        such client. Ending its sessions is the caller's: see `Sessions.disable_client`."""
        with self.db.transaction() as cur:
            cur.execute(
                f"UPDATE {self.table} SET disabled = ? WHERE client_id = ?",
                (int(disabled), client_id),
            )
            row = cur.execute(
                f"SELECT client_id, role, name, department, disabled FROM {self.table} "
                "WHERE client_id = ?",
                (client_id,),
            ).fetchone()
        return None if row is None else Client.of(row)
