"""The holder's wallet of e-licences, and the issuers' lists of flagged licences.

One row per licence. Its field values are the holder's data: they are kept as JSON text in
a personal column, sealed under the holder's key (sealing seals text, so the JSON is
encoded here and decoded by the reader), and read as None once the holder is erased.
Expiry is never recorded: each read derives the status for the day it is asked about.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from mycity.domain.licence import Licence, LicenceStatus
from mycity.projections.fold import RowProjection, touched
from mycity.projections.keysets import cursor, newest_first
from mycity.projections.store import LiveRows, Row, TableSpec
from mycity.projections.subject_history import utc


class Wallet(RowProjection):
    name = "wallet"
    version = 2
    creating = (Licence.Issued,)
    spec = TableSpec(
        columns=(
            ("id", "TEXT"),
            ("identifier", "TEXT NOT NULL"),
            ("type_code", "TEXT NOT NULL"),
            ("type_name", "TEXT NOT NULL"),
            ("issuer", "TEXT NOT NULL"),
            ("holder", "TEXT NOT NULL"),
            ("holder_kind", "TEXT NOT NULL"),
            ("application", "TEXT NOT NULL"),
            ("fields", "TEXT"),  # sealed JSON of the field values; None once erased
            ("valid_from", "TEXT NOT NULL"),
            ("valid_until", "TEXT NOT NULL"),  # "" if it never expires
            ("status_index", "INTEGER NOT NULL"),
            ("suspended", "INTEGER NOT NULL"),
            ("revoked", "INTEGER NOT NULL"),
            ("issued_at", "TEXT NOT NULL"),
            ("updated_at", "TEXT NOT NULL"),
            ("version", "INTEGER NOT NULL"),
        ),
        indexes=(("holder", "issued_at"), ("holder", "type_code"), ("issuer", "status_index")),
        personal=frozenset({"fields"}),
        subject="holder",
    )

    @singledispatchmethod
    def apply(self, event: Any, row: Row | None) -> Row | None:
        return row

    @apply.register
    def _(self, event: Licence.Issued, row: Row | None) -> Row:
        fields = event.fields  # None once the holder is erased: a rebuild keeps it so
        return {
            "id": str(event.originator_id),
            "identifier": event.identifier,
            "type_code": event.type_code,
            "type_name": event.type_name,
            "issuer": event.issuer,
            "holder": str(event.holder),
            "holder_kind": event.holder_kind,
            "application": str(event.application),
            "fields": None if fields is None else json.dumps(fields, ensure_ascii=False),
            "valid_from": event.valid_from,
            "valid_until": event.valid_until,
            "status_index": event.status_index,
            "suspended": 0,
            "revoked": 0,
            "issued_at": utc(event.timestamp),
            "updated_at": event.timestamp.isoformat(),
            "version": event.originator_version,
        }

    @apply.register
    def _(self, event: Licence.Suspended, row: Row | None) -> Row | None:
        return row and touched(row, event, suspended=1)

    @apply.register
    def _(self, event: Licence.Reinstated, row: Row | None) -> Row | None:
        return row and touched(row, event, suspended=0)

    @apply.register
    def _(self, event: Licence.Revoked, row: Row | None) -> Row | None:
        return row and touched(row, event, revoked=1)


def licence_status(
    revoked: bool, suspended: bool, valid_until: date | None, today: date
) -> LicenceStatus:
    """As `Licence.status` derives it: revocation first, then suspension, then expiry."""
    if revoked:
        return LicenceStatus.REVOKED
    if suspended:
        return LicenceStatus.SUSPENDED
    if valid_until is not None and valid_until < today:
        return LicenceStatus.EXPIRED
    return LicenceStatus.VALID


@dataclass(frozen=True)
class WalletLicence:
    """One licence as its holder's wallet shows it, with its status on the day asked
    about; `fields` is None once the holder is erased."""

    id: UUID
    identifier: str
    type_code: str
    type_name: str
    issuer: str
    holder: UUID
    holder_kind: str  # CITIZEN or ENTERPRISE
    application: UUID
    fields: Mapping[str, str] | None
    valid_from: date
    valid_until: date | None  # None: it never expires
    status_index: int
    suspended: bool
    revoked: bool
    status: LicenceStatus
    issued_at: datetime
    updated_at: datetime
    version: int

    @property
    def cursor(self) -> str:
        """Where `Wallets.of` resumes after this licence: "issued_at|id"."""
        return cursor(utc(self.issued_at), str(self.id))

    @classmethod
    def of(cls, row: Row, today: date) -> WalletLicence:
        valid_until = date.fromisoformat(row["valid_until"]) if row["valid_until"] else None
        suspended, revoked = bool(row["suspended"]), bool(row["revoked"])
        return cls(
            id=UUID(row["id"]),
            identifier=row["identifier"],
            type_code=row["type_code"],
            type_name=row["type_name"],
            issuer=row["issuer"],
            holder=UUID(row["holder"]),
            holder_kind=row["holder_kind"],
            application=UUID(row["application"]),
            fields=None if row["fields"] is None else json.loads(row["fields"]),
            valid_from=date.fromisoformat(row["valid_from"]),
            valid_until=valid_until,
            status_index=int(row["status_index"]),
            suspended=suspended,
            revoked=revoked,
            status=licence_status(revoked, suspended, valid_until, today),
            issued_at=datetime.fromisoformat(row["issued_at"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
            version=int(row["version"]),
        )


class Wallets:
    """The reader of `wallet`; only `mycity.reads` uses it (the one door). `today` is the
    caller's: the city's calendar day, decided once per request by the use case or read."""

    def __init__(self, rows: LiveRows) -> None:
        self.rows = rows

    def _views(self, rows: Iterable[Row], today: date) -> list[WalletLicence]:
        return [WalletLicence.of(row, today) for row in rows]

    def of(self, holder: UUID, first: int, after: str | None, today: date) -> list[WalletLicence]:
        """The holder's licences, newest first, after `WalletLicence.cursor`."""
        found = newest_first(self.rows, "holder = ?", [str(holder)], "issued_at", first, after)
        return self._views(found, today)

    def get(self, licence_id: UUID, today: date) -> WalletLicence | None:
        found = self.rows.get_many([str(licence_id)])
        return self._views(found.values(), today)[0] if found else None

    def held(self, holder: UUID, type_code: str, today: date) -> list[WalletLicence]:
        """The holder's valid licences of a type on `today`, newest first: what can stand
        in for a material an application asks for (the no-certificate city)."""
        found = self.rows.select(
            "WHERE holder = ? AND type_code = ? AND revoked = 0 AND suspended = 0 "
            "AND (valid_until = '' OR valid_until >= ?) ORDER BY issued_at DESC, id DESC",
            [str(holder), type_code, today.isoformat()],
        )
        return self._views(found, today)

    def flagged(self, issuer: str) -> tuple[list[int], list[int]]:
        """The status indexes of the issuer's revoked licences and of its suspended (not
        revoked) ones, ascending: the bits of its signed status lists. Read without
        opening any row's sealed fields."""
        with self.rows.db.read() as cur:
            found = cur.execute(
                f"SELECT status_index, revoked FROM {self.rows.view} "
                "WHERE issuer = ? AND (revoked = 1 OR suspended = 1) ORDER BY status_index",
                [issuer],
            ).fetchall()
        revoked = [int(r["status_index"]) for r in found if r["revoked"]]
        suspended = [int(r["status_index"]) for r in found if not r["revoked"]]
        return revoked, suspended
