"""The directory staff search: every citizen and enterprise, by name prefix."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from mycity.domain.citizen import Citizen
from mycity.domain.enterprise import Enterprise
from mycity.domain.identifiers import mask_id_number
from mycity.projections.machinery import Row, RowProjection, TableSpec


class Directory(RowProjection):
    name = "directory"
    version = 1
    creates = (Citizen.Registered, Enterprise.Registered)
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
