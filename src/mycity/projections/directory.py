"""The directory staff search: every citizen and enterprise, by name prefix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from mycity.domain.citizen import Citizen, RealNameLevel
from mycity.domain.enterprise import Enterprise
from mycity.domain.identifiers import mask_id_number
from mycity.projections.fold import RowProjection
from mycity.projections.store import LiveRows, Row, TableSpec


class Directory(RowProjection):
    name = "directory"
    version = 1
    creating = (Citizen.Registered, Enterprise.Registered)
    spec = TableSpec(
        columns=(
            ("id", "TEXT"),
            ("kind", "TEXT NOT NULL"),
            ("name", "TEXT NOT NULL"),
            ("name_key", "TEXT NOT NULL"),
            ("identifier", "TEXT NOT NULL"),
            ("real_name_level", "TEXT"),
            ("registered_at", "TEXT NOT NULL"),
        ),
        indexes=(("name_key", "id"), ("kind", "name_key", "id")),
    )

    @singledispatchmethod
    def apply(self, event: Any, row: Row | None) -> Row | None:
        return row

    @apply.register
    def _(self, event: Citizen.Registered, row: Row | None) -> Row:
        return _entry(event, "CITIZEN", event.name, mask_id_number(event.id_number), "REGISTERED")

    @apply.register
    def _(self, event: Citizen.RealNameVerified, row: Row | None) -> Row | None:
        return row and row | {"real_name_level": event.level}

    @apply.register
    def _(self, event: Citizen.TakenOver, row: Row | None) -> Row | None:
        return row and row | {
            "name": event.name,
            "name_key": event.name.casefold(),
            "real_name_level": event.level,
        }

    @apply.register
    def _(self, event: Enterprise.Registered, row: Row | None) -> Row:
        return _entry(event, "ENTERPRISE", event.name, event.credit_code, None)


def _entry(event: Any, kind: str, name: str, identifier: str, level: str | None) -> Row:
    return {
        "id": str(event.originator_id),
        "kind": kind,
        "name": name,
        "name_key": name.casefold(),
        "identifier": identifier,
        "real_name_level": level,
        "registered_at": event.timestamp.isoformat(),
    }


@dataclass(frozen=True)
class DirectoryEntryView:
    id: UUID
    kind: str  # CITIZEN or ENTERPRISE
    name: str
    name_key: str
    identifier: str  # a citizen's masked ID number, or an enterprise's credit code
    real_name_level: RealNameLevel | None
    registered_at: datetime

    @classmethod
    def of(cls, row: Row) -> DirectoryEntryView:
        level = row["real_name_level"]
        return cls(
            id=UUID(row["id"]),
            kind=row["kind"],
            name=row["name"],
            name_key=row["name_key"],
            identifier=row["identifier"],
            real_name_level=RealNameLevel(level) if level else None,
            registered_at=datetime.fromisoformat(row["registered_at"]),
        )


class DirectoryEntries:
    """The reader of `directory`; only `mycity.reads` uses it (the one door)."""

    def __init__(self, rows: LiveRows) -> None:
        self.rows = rows

    def search(
        self, text: str, kind: str | None, first: int, after: tuple[str, str] | None
    ) -> list[DirectoryEntryView]:
        """Entries whose name starts with `text` (case-folded), in (name, id) order."""
        escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where = "WHERE name_key LIKE ? ESCAPE '\\'"
        params: list[Any] = [escaped + "%"]
        if kind:
            where += " AND kind = ?"
            params.append(kind)
        if after:
            where += " AND (name_key > ? OR (name_key = ? AND id > ?))"
            params += [after[0], after[0], after[1]]
        where += " ORDER BY name_key, id LIMIT ?"
        params.append(first)
        return [DirectoryEntryView.of(row) for row in self.rows.select(where, params)]
