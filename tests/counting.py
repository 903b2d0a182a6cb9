"""A read model that counts events per citizen: folding an event twice would show."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from mycity.domain.citizen import Citizen
from mycity.projections.fold import RowProjection
from mycity.projections.store import Row, TableSpec


class EventCount(RowProjection):
    name = "event_count"
    spec = TableSpec(columns=(("id", "TEXT"), ("events", "INTEGER NOT NULL")))

    @singledispatchmethod
    def apply(self, event: Any, row: Row | None) -> Row | None:
        return row

    @apply.register
    def _(self, event: Citizen.Registered, row: Row | None) -> Row:
        return {"id": str(event.originator_id), "events": 1}

    @apply.register
    def _(self, event: Citizen.ContactChanged, row: Row | None) -> Row | None:
        return row and row | {"events": row["events"] + 1}

    @apply.register
    def _(self, event: Citizen.RealNameVerified, row: Row | None) -> Row | None:
        return row and row | {"events": row["events"] + 1}
