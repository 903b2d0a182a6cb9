"""Every scan of a city code and every check-in at a place code, newest first.

The citizen lists their own; a partner lists the scans at its own places, the citizens
masked; the health authority asks who was at one place in a span of time (a contact
trace). The place and the colour are the citizen's data, sealed under their key as in the
events: what is searched is the place's blind index, so a trace finds a place without the
table holding where anyone was in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from mycity.domain.personal import Retention
from mycity.domain.scan import Scan
from mycity.projections.fold import RowProjection
from mycity.projections.keysets import cursor, newest_first
from mycity.projections.store import LiveRows, Row, TableSpec
from mycity.projections.subject_history import utc


class ScanLog(RowProjection):
    name = "scan_log"
    version = 3  # 3: sealed under the service-activity key
    creating = (Scan.Recorded,)
    spec = TableSpec(
        columns=(
            ("id", "TEXT"),
            ("citizen", "TEXT NOT NULL"),
            ("partner", "TEXT NOT NULL"),
            ("partner_role", "TEXT NOT NULL"),
            ("partner_name", "TEXT NOT NULL"),
            ("place", "TEXT"),  # sealed
            ("place_key", "TEXT"),  # the place's blind index
            ("purpose", "TEXT NOT NULL"),
            ("colour", "TEXT"),  # sealed
            ("shown", "TEXT NOT NULL"),
            ("direction", "TEXT NOT NULL"),
            ("scanned_at", "TEXT NOT NULL"),
        ),
        indexes=(
            ("citizen", "scanned_at"),
            ("partner", "scanned_at"),
            ("partner", "place_key", "scanned_at"),
        ),
        json_columns=frozenset({"shown"}),
        personal=frozenset({"place", "colour"}),
        retention=Retention.SERVICE_ACTIVITY,
        blind={"place_key": "place"},
        subject="citizen",
    )

    @singledispatchmethod
    def apply(self, event: Any, row: Row | None) -> Row | None:
        return row

    @apply.register
    def _(self, event: Scan.Recorded, row: Row | None) -> Row:
        return {
            "id": str(event.originator_id),
            "citizen": str(event.citizen),
            "partner": event.partner,
            "partner_role": event.partner_role,
            "partner_name": event.partner_name,
            "place": event.place,
            "place_key": None,
            "purpose": event.purpose,
            "colour": event.colour,
            "shown": list(event.shown),
            "direction": event.direction,
            "scanned_at": event.scanned_at,
        }


@dataclass(frozen=True)
class ScanRow:
    id: UUID
    citizen: UUID
    partner: str
    partner_role: str
    partner_name: str
    place: str | None  # None once the citizen is erased
    purpose: str
    colour: str | None
    shown: tuple[str, ...]
    direction: str
    scanned_at: datetime

    @property
    def cursor(self) -> str:
        """Where a list resumes after this scan: "scanned_at|id"."""
        return cursor(utc(self.scanned_at), str(self.id))

    @classmethod
    def of(cls, row: Row) -> ScanRow:
        return cls(
            id=UUID(row["id"]),
            citizen=UUID(row["citizen"]),
            partner=row["partner"],
            partner_role=row["partner_role"],
            partner_name=row["partner_name"],
            place=row["place"],
            purpose=row["purpose"],
            colour=row["colour"],
            shown=tuple(row["shown"]),
            direction=row["direction"],
            scanned_at=datetime.fromisoformat(row["scanned_at"]),
        )


class ScanLogs:
    """The reader of `scan_log`; only `mycity.reads` uses it (the one door)."""

    def __init__(self, rows: LiveRows) -> None:
        self.rows = rows

    def _page(self, where: str, params: list[Any], first: int, after: str | None) -> list[ScanRow]:
        found = newest_first(self.rows, where, params, "scanned_at", first, after)
        return [ScanRow.of(row) for row in found]

    def of_citizen(self, citizen: UUID, first: int, after: str | None) -> list[ScanRow]:
        return self._page("citizen = ?", [str(citizen)], first, after)

    def of_partner(self, partner: str, first: int, after: str | None) -> list[ScanRow]:
        return self._page("partner = ?", [partner], first, after)

    def at_place(
        self, partner: str, place: str, since: datetime, until: datetime, limit: int
    ) -> list[ScanRow]:
        """The scans at one partner's place in [since, until), oldest first."""
        found = self.rows.select(
            "WHERE partner = ? AND place_key = ? AND scanned_at >= ? AND scanned_at < ? "
            "ORDER BY scanned_at, id LIMIT ?",
            [partner, self.rows.vault.index(place.casefold()), utc(since), utc(until), limit],
        )
        return [ScanRow.of(row) for row in found]
