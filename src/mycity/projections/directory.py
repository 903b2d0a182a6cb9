"""The directory staff search: enterprises by name prefix, citizens by their exact name.

A citizen's name is sealed here as everywhere; what is searched is its blind index, so a
citizen is found by the whole name (case-folded), never by a prefix. An erased citizen
leaves the directory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from mycity.domain.citizen import Citizen, RealNameLevel
from mycity.domain.enterprise import Enterprise
from mycity.domain.personal import Kind, Retention, masked
from mycity.projections.fold import RowProjection
from mycity.projections.store import LiveRows, Row, TableSpec


class Directory(RowProjection):
    name = "directory"
    version = 3
    creating = (Citizen.Registered, Enterprise.Registered)
    opens = frozenset({Retention.STATUTORY_RECORD})  # names and ID numbers, not contacts
    spec = TableSpec(
        columns=(
            ("id", "TEXT"),
            ("kind", "TEXT NOT NULL"),
            ("person", "TEXT"),  # a citizen's id: whose name and identifier are sealed
            ("name", "TEXT"),
            ("name_key", "TEXT"),  # an enterprise's folded name; a citizen's blind index
            ("identifier", "TEXT"),
            ("real_name_level", "TEXT"),
            ("registered_at", "TEXT NOT NULL"),
        ),
        indexes=(("name_key", "id"), ("kind", "name_key", "id")),
        personal=frozenset({"name", "identifier"}),
        blind={"name_key": "name"},
        subject="person",
    )

    @singledispatchmethod
    def apply(self, event: Any, row: Row | None) -> Row | None:
        return row

    @apply.register
    def _(self, event: Citizen.Registered, row: Row | None) -> Row | None:
        if event.name is None:  # erased since
            return None
        identifier = masked(Kind.ID_NUMBER, event.id_number)
        return _entry(event, "CITIZEN", event.name, identifier, "REGISTERED")

    @apply.register
    def _(self, event: Citizen.RealNameVerified, row: Row | None) -> Row | None:
        return row and row | {"real_name_level": event.level}

    @apply.register
    def _(self, event: Citizen.TakenOver, row: Row | None) -> Row | None:
        if event.name is None:  # erased since
            return None
        return row and row | {"name": event.name, "real_name_level": event.level}

    @apply.register
    def _(self, event: Citizen.Erased, row: Row | None) -> None:
        return None

    @apply.register
    def _(self, event: Enterprise.Registered, row: Row | None) -> Row:
        return _entry(event, "ENTERPRISE", event.name, event.credit_code, None)


def _entry(event: Any, kind: str, name: str, identifier: str, level: str | None) -> Row:
    return {
        "id": str(event.originator_id),
        "kind": kind,
        "person": str(event.originator_id) if kind == "CITIZEN" else None,
        "name": name,
        "name_key": None if kind == "CITIZEN" else name.casefold(),
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
        """Enterprises whose name starts with `text`, citizens whose name is `text` (both
        case-folded), in (name key, id) order."""
        folded = text.casefold()
        escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where = (
            "WHERE ((person IS NULL AND name_key LIKE ? ESCAPE '\\') "
            "OR (person IS NOT NULL AND name_key = ?))"
        )
        params: list[Any] = [escaped + "%", self.rows.vault.index(folded)]
        if kind:
            where += " AND kind = ?"
            params.append(kind)
        if after:
            where += " AND (name_key > ? OR (name_key = ? AND id > ?))"
            params += [after[0], after[0], after[1]]
        where += " ORDER BY name_key, id LIMIT ?"
        params.append(first)
        return [DirectoryEntryView.of(row) for row in self.rows.select(where, params)]
