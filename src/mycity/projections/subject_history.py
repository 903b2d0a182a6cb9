"""Every file's history, as an index of the log: which event, of which file, when, where.

One row per stored event: its position in the global log, its stream and version there,
its type, when it was recorded, and the person's or enterprise's file it belongs to. A
citizen's file is their own stream and the streams kept on their behalf (their
applications, their licences and the uses of them, their city-code holder), each of which
names them when it is created (`applicant`, `holder`, `citizen`). So one person's history
reads as one file, in the log's order. Auditors page through it by type and time, find the
version a stream had at a moment, and the position the whole log had reached then. It holds
no personal data: the events themselves are read from the store.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from mycity.projections.fold import RawProjection
from mycity.projections.store import LiveRows, Row, TableSpec
from mycity.store.sql import Cursor

# How a creation event names its owner: a payment its payer, a day's fares its rider, a
# credit file its subject.
ON_BEHALF_OF = ("applicant", "holder", "citizen", "payer", "rider", "subject")
KNOWN_OWNERS = 50_000  # streams whose owner each process remembers (about 8 MB)


class SubjectHistory(RawProjection):
    name = "subject_history"
    version = 3  # 2: the file each event belongs to; 3: payments', fares' and credit's owners
    spec = TableSpec(
        columns=(
            ("position", "BIGINT"),
            ("subject", "TEXT NOT NULL"),
            ("version", "INTEGER NOT NULL"),
            ("type", "TEXT NOT NULL"),
            ("recorded_at", "TEXT NOT NULL"),
            ("file", "TEXT NOT NULL"),
        ),
        indexes=(
            ("subject", "version"),
            ("subject", "recorded_at"),
            ("recorded_at",),
            ("file", "position"),
        ),
    )
    elsewhere = frozenset()  # a stream's events in one shard: each needs its stream's first row
    folds_by_index = True  # a stream's first row, by (subject, version)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._known: OrderedDict[str, str] = OrderedDict()

    def fold_rows(self, cur: Cursor, items: Sequence[Any], decoder: Any = None) -> None:
        """Each event's row, with its file: named by its stream's creation event, in this
        page or already indexed."""
        mapper = decoder or self.mapper
        mapper.prefetch(items)  # the page's people's keys, in one query
        events = [(item, mapper.to_domain_event(item)) for item in items]
        owners: dict[str, str] = {}
        for item, event in events:
            if item.originator_version == 1:
                owners[str(item.originator_id)] = _owner(event)
        earlier = {str(item.originator_id) for item, _ in events} - set(owners)
        owners |= self._owners(cur, earlier)
        self._remember(owners)
        rows: dict[str, Row | None] = {
            str(item.id): {
                "position": item.id,
                "subject": str(item.originator_id),
                "version": item.originator_version,
                "type": event_type(type(event)),
                "recorded_at": utc(event.timestamp),
                "file": owners.get(str(item.originator_id), str(item.originator_id)),
            }
            for item, event in events
        }
        self.view.write_rows(cur, rows)

    def _owners(self, cur: Cursor, streams: set[str]) -> dict[str, str]:
        """Whose file each stream is on: remembered, else from its first row (a stream's
        owner never changes, so a write to a known file asks the store nothing)."""
        known = {s: self._known[s] for s in streams if s in self._known}
        streams = streams - set(known)
        if not streams:
            return known
        marks = ", ".join("?" * len(streams))
        found = cur.execute(
            f"SELECT subject, file FROM {self.view.table} "
            f"WHERE version = 1 AND subject IN ({marks})",
            sorted(streams),
        ).fetchall()
        return known | {row["subject"]: row["file"] for row in found}

    def _remember(self, owners: dict[str, str]) -> None:
        self._known.update(owners)
        for stream in owners:
            self._known.move_to_end(stream)
        while len(self._known) > KNOWN_OWNERS:
            self._known.popitem(last=False)

    def key(self, item: Notification) -> str:
        return str(item.id)

    def creates(self, item: Any) -> bool:
        return True


def _owner(created: Any) -> str:
    """Whose file a stream belongs to: the person it is kept for, else its own."""
    for name in ON_BEHALF_OF:
        owner = getattr(created, name, None)
        if isinstance(owner, UUID):
            return str(owner)
    return str(created.originator_id)


def utc(moment: datetime) -> str:
    """A moment as the index stores it, so that the text sorts as the time does (a moment
    without a zone is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def event_type(cls: type) -> str:
    """An event's type as auditors name it: `Citizen.Registered`."""
    return cls.__qualname__


@dataclass(frozen=True)
class HistoryPage:
    """Which of a file's events: up to `first` after a position of the log, of these types
    (all if none), recorded in [since, until)."""

    first: int
    after_position: int = 0
    types: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class LoggedEvent:
    position: int
    subject: UUID
    version: int
    type: str
    recorded_at: datetime

    @classmethod
    def of(cls, row: Row) -> LoggedEvent:
        return cls(
            position=int(row["position"]),
            subject=UUID(row["subject"]),
            version=int(row["version"]),
            type=row["type"],
            recorded_at=datetime.fromisoformat(row["recorded_at"]),
        )


class SubjectHistories:
    """The reader of `subject_history`; only `mycity.reads` uses it (the one door)."""

    def __init__(self, rows: LiveRows) -> None:
        self.rows = rows

    def page(self, file: UUID, page: HistoryPage) -> list[LoggedEvent]:
        """The page's events of the file (its own stream's and those kept on its behalf),
        in the log's order."""
        where = "WHERE file = ? AND position > ?"
        params: list[Any] = [str(file), page.after_position]
        if page.types:
            where += f" AND type IN ({', '.join('?' * len(page.types))})"
            params += page.types
        if page.since:
            where += " AND recorded_at >= ?"
            params.append(utc(page.since))
        if page.until:
            where += " AND recorded_at < ?"
            params.append(utc(page.until))
        where += " ORDER BY position LIMIT ?"
        params.append(page.first)
        return [LoggedEvent.of(row) for row in self.rows.select(where, params)]

    def version_at(self, subject: UUID, moment: datetime) -> int | None:
        """The file's version at a moment: its last event recorded by then."""
        found = self.rows.select(
            "WHERE subject = ? AND recorded_at <= ? ORDER BY version DESC LIMIT 1",
            [str(subject), utc(moment)],
        )
        return int(found[0]["version"]) if found else None

    def position_at(self, moment: datetime) -> int:
        """How far the whole log reached at a moment (0 before its first event)."""
        found = self.rows.select(
            "WHERE recorded_at <= ? ORDER BY recorded_at DESC, position DESC LIMIT 1",
            [utc(moment)],
        )
        return int(found[0]["position"]) if found else 0
