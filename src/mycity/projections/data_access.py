"""Who read each person's data: one row per person per recorded read, newest first.

The person lists it in the app; auditors list it to check staff. It is built from the
`AccessRecord` events, and from the scans of city codes (a scan is its own record of what
the partner was told), read only for what they hold in clear, so an erasure leaves it
readable: the record of who read an erased person's data is kept as long as the
retention asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from mycity.domain.access import AccessRecord
from mycity.domain.scan import SCAN_READ, Direction, Scan
from mycity.projections.fold import KeyedFold
from mycity.projections.store import LiveRows, Row, TableSpec
from mycity.store.sql import Cursor


class DataAccess(KeyedFold):
    name = "data_access"
    opens = frozenset()  # who read what and when: no personal field
    version = 2  # 2: scans of city codes
    topics = (get_topic(AccessRecord.Recorded), get_topic(Scan.Recorded))
    spec = TableSpec(
        columns=(
            ("id", "TEXT"),  # <person>/<access record>
            ("subject", "TEXT NOT NULL"),
            ("at", "TEXT NOT NULL"),
            ("reader_role", "TEXT NOT NULL"),
            ("reader_department", "TEXT NOT NULL"),
            ("reader_name", "TEXT NOT NULL"),
            ("read", "TEXT NOT NULL"),
            ("fields", "TEXT NOT NULL"),
            ("unmasked", "TEXT NOT NULL"),
            ("purpose", "TEXT NOT NULL"),
        ),
        indexes=(("subject", "at", "id"), ("at",)),
        json_columns=frozenset({"fields", "unmasked"}),
    )

    def fold_rows(self, cur: Cursor, items: Sequence[Any], decoder: Any = None) -> None:
        """Each read is new rows, one per person whose data it showed: nothing to load."""
        rows: dict[str, Row | None] = {}
        for record in items:
            if isinstance(record, Scan.Recorded):
                rows |= _scanned(record)
                continue
            for subject in record.subjects:
                key = f"{subject}/{record.originator_id}"
                rows[key] = {
                    "id": key,
                    "subject": str(subject),
                    "at": record.timestamp.isoformat(),
                    "reader_role": record.reader_role,
                    "reader_department": record.reader_department,
                    "reader_name": record.reader_name,
                    "read": record.read,
                    "fields": list(record.fields),
                    "unmasked": list(record.unmasked),
                    "purpose": record.purpose,
                }
        self.view.write_rows(cur, rows)


def _scanned(scan: Scan.Recorded) -> dict[str, Row | None]:
    """A partner's scan of the citizen's code, as a read of what it was told; a citizen's
    own check-in at a place is no one else's read."""
    if scan.direction != Direction.CODE:
        return {}
    key = f"{scan.citizen}/{scan.originator_id}"
    told = list(scan.shown)
    return {
        key: {
            "id": key,
            "subject": str(scan.citizen),
            "at": scan.timestamp.isoformat(),
            "reader_role": scan.partner_role,
            "reader_department": "",
            "reader_name": scan.partner_name,
            "read": SCAN_READ,
            "fields": told,
            "unmasked": told,
            "purpose": scan.purpose.lower(),
        }
    }


@dataclass(frozen=True)
class DataAccessView:
    id: str
    subject: UUID
    at: datetime
    reader_role: str
    reader_department: str
    reader_name: str
    read: str
    fields: tuple[str, ...]
    unmasked: tuple[str, ...]
    purpose: str

    @classmethod
    def of(cls, row: Row) -> DataAccessView:
        return cls(
            id=row["id"],
            subject=UUID(row["subject"]),
            at=datetime.fromisoformat(row["at"]),
            reader_role=row["reader_role"],
            reader_department=row["reader_department"],
            reader_name=row["reader_name"],
            read=row["read"],
            fields=tuple(row["fields"]),
            unmasked=tuple(row["unmasked"]),
            purpose=row["purpose"],
        )


class DataAccesses:
    """The reader of `data_access`; only `mycity.reads` uses it (the one door)."""

    def __init__(self, rows: LiveRows) -> None:
        self.rows = rows

    def of_subject(
        self, subject: UUID, first: int, before: tuple[str, str] | None
    ) -> list[DataAccessView]:
        """The reads of this person's data, newest first, from before `(at, id)`."""
        where = "WHERE subject = ?"
        params: list[Any] = [str(subject)]
        if before:
            where += " AND (at < ? OR (at = ? AND id < ?))"
            params += [before[0], before[0], before[1]]
        where += " ORDER BY at DESC, id DESC LIMIT ?"
        params.append(first)
        return [DataAccessView.of(row) for row in self.rows.select(where, params)]
