"""The public list of enterprises' administrative decisions (双公示): licensing decisions and
penalty decisions while they are published. It needs no login, like the national 信用中国
site: nothing in it is anyone's personal data (a citizen's penalties are never here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from mycity.domain.public_record import PublicRecord, RecordKind
from mycity.projections.fold import RowProjection, touched
from mycity.projections.keysets import keyset, newest_first
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
            ("repair_commitment", "TEXT NOT NULL"),  # ... the enterprise's commitment
            ("repair_materials", "TEXT NOT NULL"),  # ... and its evidence (uploads)
            ("repair_applied_at", "TEXT NOT NULL"),
            ("updated_at", "TEXT NOT NULL"),
            ("version", "INTEGER NOT NULL"),
        ),
        indexes=(
            ("ended", "decided", "id"),
            ("credit_code", "decided"),
            ("name", "decided"),
            ("ended", "published_until"),
            ("enterprise", "decided"),
            ("authority", "repair_applied_at"),
        ),
        json_columns=frozenset({"repair_materials"}),
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
            "repair_commitment": "",
            "repair_materials": [],
            "repair_applied_at": "",
            "updated_at": event.timestamp.isoformat(),
            "version": event.originator_version,
        }

    @apply.register
    def _(self, event: PublicRecord.RepairApplied, row: Row | None) -> Row | None:
        return row and touched(
            row,
            event,
            repair_pending=str(event.repair),
            repair_commitment=event.commitment,
            repair_materials=list(event.materials),
            repair_applied_at=event.timestamp.isoformat(),
        )

    @apply.register
    def _(self, event: PublicRecord.RepairDecided, row: Row | None) -> Row | None:
        return row and touched(
            row,
            event,
            repair_pending="",
            repair_commitment="",
            repair_materials=[],
            repair_applied_at="",
        )

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
    repair_commitment: str
    repair_materials: tuple[str, ...]
    repair_applied_at: datetime | None

    @property
    def cursor(self) -> str:
        return f"{self.decided.isoformat()}|{self.id}"

    @property
    def repair_cursor(self) -> str:
        applied = self.repair_applied_at.isoformat() if self.repair_applied_at else ""
        return f"{applied}|{self.id}"

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
            repair_commitment=row["repair_commitment"],
            repair_materials=tuple(row["repair_materials"]),
            repair_applied_at=(
                datetime.fromisoformat(row["repair_applied_at"])
                if row["repair_applied_at"]
                else None
            ),
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

    def repairs_pending(
        self, authority: str, first: int, after: str | None
    ) -> list[PublicRecordView]:
        """The authority's penalties whose repair awaits its decision, oldest application
        first (after the cursor `"applied_at|id"`)."""
        where, params = "WHERE authority = ? AND repair_pending <> ''", list[Any]([authority])
        found = keyset(after, 2)
        if found is not None:
            where += " AND (repair_applied_at > ? OR (repair_applied_at = ? AND id > ?))"
            params += [found[0], found[0], found[1]]
        rows = self.rows.select(f"{where} ORDER BY repair_applied_at, id LIMIT ?", [*params, first])
        return [PublicRecordView.of(row) for row in rows]

    def expiring(self, today: date, limit: int) -> list[UUID]:
        """Records still published whose period ended before or on `today`: the sweep's."""
        rows = self.rows.select(
            "WHERE ended = '' AND published_until <= ? ORDER BY published_until, id LIMIT ?",
            [today.isoformat(), limit],
        )
        return [UUID(row["id"]) for row in rows]
