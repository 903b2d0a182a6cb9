"""用证记录: every verification of a holder's licence by a partner, newest first.

The holder sees who checked which licence, for what, and which fields they were shown;
the issuer sees the uses of one licence. It names the fields disclosed, never their values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from mycity.domain.licence import LicenceUse
from mycity.projections.fold import RowProjection
from mycity.projections.keysets import cursor, newest_first
from mycity.projections.store import LiveRows, Row, TableSpec
from mycity.projections.subject_history import utc


class LicenceUseList(RowProjection):
    name = "licence_uses"
    version = 1
    creating = (LicenceUse.Recorded,)
    spec = TableSpec(
        columns=(
            ("id", "TEXT"),
            ("licence", "TEXT NOT NULL"),
            ("holder", "TEXT NOT NULL"),
            ("verifier", "TEXT NOT NULL"),
            ("verifier_role", "TEXT NOT NULL"),
            ("verifier_name", "TEXT NOT NULL"),
            ("purpose", "TEXT NOT NULL"),
            ("fields", "TEXT NOT NULL"),
            ("used_at", "TEXT NOT NULL"),
        ),
        indexes=(("holder", "used_at"), ("licence", "used_at")),
        json_columns=frozenset({"fields"}),
    )

    @singledispatchmethod
    def apply(self, event: Any, row: Row | None) -> Row | None:
        return row

    @apply.register
    def _(self, event: LicenceUse.Recorded, row: Row | None) -> Row:
        return {
            "id": str(event.originator_id),
            "licence": str(event.licence),
            "holder": str(event.holder),
            "verifier": event.verifier,
            "verifier_role": event.verifier_role,
            "verifier_name": event.verifier_name,
            "purpose": event.purpose,
            "fields": list(event.fields),
            "used_at": utc(event.timestamp),
        }


@dataclass(frozen=True)
class LicenceUseRow:
    id: UUID
    licence: UUID
    holder: UUID
    verifier: str  # the partner's client id
    verifier_role: str
    verifier_name: str
    purpose: str
    fields: tuple[str, ...]  # the names of the fields disclosed
    used_at: datetime

    @property
    def cursor(self) -> str:
        """Where the lists resume after this use: "used_at|id"."""
        return cursor(utc(self.used_at), str(self.id))

    @classmethod
    def of(cls, row: Row) -> LicenceUseRow:
        return cls(
            id=UUID(row["id"]),
            licence=UUID(row["licence"]),
            holder=UUID(row["holder"]),
            verifier=row["verifier"],
            verifier_role=row["verifier_role"],
            verifier_name=row["verifier_name"],
            purpose=row["purpose"],
            fields=tuple(row["fields"]),
            used_at=datetime.fromisoformat(row["used_at"]),
        )


class LicenceUses:
    """The reader of `licence_uses`; only `mycity.reads` uses it (the one door)."""

    def __init__(self, rows: LiveRows) -> None:
        self.rows = rows

    def _page(self, column: str, value: UUID, first: int, after: str | None) -> list[LicenceUseRow]:
        found = newest_first(self.rows, f"{column} = ?", [str(value)], "used_at", first, after)
        return [LicenceUseRow.of(row) for row in found]

    def of(self, holder: UUID, first: int, after: str | None) -> list[LicenceUseRow]:
        """The uses of the holder's licences, newest first, after `LicenceUseRow.cursor`."""
        return self._page("holder", holder, first, after)

    def of_licence(self, licence: UUID, first: int, after: str | None) -> list[LicenceUseRow]:
        """The uses of one licence, newest first, after `LicenceUseRow.cursor`."""
        return self._page("licence", licence, first, after)
