"""The public list of enterprises' administrative decisions (双公示): licensing decisions and
penalty decisions while they are published. It needs no login, like the national 信用中国
site: nothing in it is anyone's personal data (a citizen's penalties are never here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from mycity.domain.public_record import PublicRecord, RecordKind
from mycity.projections.fold import RowProjection, touched
from mycity.projections.keysets import newest_first
from mycity.projections.store import LiveRows, Row, TableSpec, ViewsById


class PublicRecords(RowProjection):
    name = "public_records"
    version = 1
    creating = (PublicRecord.Published,)
    spec = TableSpec(
        columns=(
            ("id", "TEXT"),
            ("kind", "TEXT NOT NULL"),
            ("number", "TEXT NOT NULL"),
            ("enterprise", "TEXT NOT NULL"),
            ("credit_code", "TEXT NOT NULL"),
            ("name", "TEXT NOT NULL"),
            ("item", "TEXT NOT NULL"),
            ("reason", "TEXT NOT NULL"),
            ("legal_basis", "TEXT NOT NULL"),
            ("result", "TEXT NOT NULL"),
            ("authority", "TEXT NOT NULL"),
            ("decided", "TEXT NOT NULL"),
            ("severity", "TEXT NOT NULL"),
            ("points", "INTEGER NOT NULL"),
            ("repairable_from", "TEXT NOT NULL"),
            ("published_until", "TEXT NOT NULL"),
            ("ended", "TEXT NOT NULL"),  # "" while published; else an Ending
            ("ended_on", "TEXT NOT NULL"),
            ("repair_pending", "TEXT NOT NULL"),  # the repair awaiting a decision, or ""
            ("updated_at", "TEXT NOT NULL"),
            ("version", "INTEGER NOT NULL"),
        ),
        indexes=(
            ("ended", "decided", "id"),
            ("credit_code", "decided"),
            ("name", "decided"),
            ("ended", "published_until"),
            ("enterprise", "decided"),
        ),
    )

    @singledispatchmethod
    def apply(self, event: Any, row: Row | None) -> Row | None:
        return row

    @apply.register
    def _(self, event: PublicRecord.Published, row: Row | None) -> Row:
        return {
            "id": str(event.originator_id),
            "kind": event.kind,
            "number": event.number,
            "enterprise": str(event.enterprise),
            "credit_code": event.credit_code,
            "name": event.name,
            "item": event.item,
            "reason": event.reason,
            "legal_basis": event.legal_basis,
            "result": event.result,
            "authority": event.authority,
            "decided": event.decided,
            "severity": event.severity,
            "points": event.points,
            "repairable_from": event.repairable_from,
            "published_until": event.published_until,
            "ended": "",
            "ended_on": "",
            "repair_pending": "",
            "updated_at": event.timestamp.isoformat(),
            "version": event.originator_version,
        }

    @apply.register
    def _(self, event: PublicRecord.RepairApplied, row: Row | None) -> Row | None:
        return row and touched(row, event, repair_pending=str(event.repair))

    @apply.register
    def _(self, event: PublicRecord.RepairDecided, row: Row | None) -> Row | None:
        return row and touched(row, event, repair_pending="")

    @apply.register
    def _(self, event: PublicRecord.PublicationEnded, row: Row | None) -> Row | None:
        return row and touched(row, event, ended=event.ending, ended_on=event.on)


@dataclass(frozen=True)
class PublicRecordView:
    id: UUID
    kind: RecordKind
    number: str
    enterprise: UUID
    credit_code: str
    name: str
    item: str
    reason: str
    legal_basis: str
    result: str
    authority: str
    decided: date
    severity: str
    points: int
    repairable_from: date | None
    published_until: date
    ended: str
    repair_pending: UUID | None

    @property
    def cursor(self) -> str:
        return f"{self.decided.isoformat()}|{self.id}"

    @classmethod
    def of(cls, row: Row) -> PublicRecordView:
        return cls(
            id=UUID(row["id"]),
            kind=RecordKind(row["kind"]),
            number=row["number"],
            enterprise=UUID(row["enterprise"]),
            credit_code=row["credit_code"],
            name=row["name"],
            item=row["item"],
            reason=row["reason"],
            legal_basis=row["legal_basis"],
            result=row["result"],
            authority=row["authority"],
            decided=date.fromisoformat(row["decided"]),
            severity=row["severity"],
            points=row["points"],
            repairable_from=(
                date.fromisoformat(row["repairable_from"]) if row["repairable_from"] else None
            ),
            published_until=date.fromisoformat(row["published_until"]),
            ended=row["ended"],
            repair_pending=UUID(row["repair_pending"]) if row["repair_pending"] else None,
        )


class PublicRecordList(ViewsById[PublicRecordView]):
    """The reader of `public_records`: open to anyone, so it shows only what is published."""

    def __init__(self, rows: LiveRows) -> None:
        super().__init__(rows, PublicRecordView.of)

    def published(
        self,
        search: str | None,
        kind: RecordKind | None,
        first: int,
        after: str | None,
        credit_code: bool = False,
    ) -> list[PublicRecordView]:
        """Newest decision first; `search` is a credit code (exactly) or a name's prefix."""
        where, params = "ended = ''", list[Any]()
        if kind is not None:
            where += " AND kind = ?"
            params.append(kind.value)
        if search and credit_code:
            where += " AND credit_code = ?"
            params.append(search)
        elif search:
            where += " AND substr(name, 1, ?) = ?"
            params.extend([len(search), search])
        rows = newest_first(self.rows, where, params, "decided", first, after)
        return [PublicRecordView.of(row) for row in rows]

    def expiring(self, today: date, limit: int) -> list[UUID]:
        """Records still published whose period ended before or on `today`: the sweep's."""
        rows = self.rows.select(
            "WHERE ended = '' AND published_until <= ? ORDER BY published_until, id LIMIT ?",
            [today.isoformat(), limit],
        )
        return [UUID(row["id"]) for row in rows]
