"""eventsourcing's process recorders, made to refuse a page that another runner has done.

A process saves its new events with its position in the log (eventsourcing's tracking) in
one transaction. eventsourcing's tracking update only refuses to go backwards, so a runner
holding an old page could still record it after another runner had recorded a shorter
one: events in between would be answered twice. Here the transaction first claims the
position the page started from (`tracked_from`, passed through `ProcessingEvent`'s saved
keyword arguments), which fails once anyone has moved it: a compare-and-set, as read
models do on their own tracking table.

On PostgreSQL the events also go in as four binary arrays of plain types, not as
eventsourcing's one array of a composite type: psycopg dumps a composite in Python, row by
row (23 ms for 500 events here, against 0.7 ms), and every group commit pays it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteProcessRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier


def _refused(tracking: Tracking, start: int) -> IntegrityError:
    return IntegrityError(f"{tracking.application_name} is no longer at position {start}")


class PostgresCityRecorder(PostgresProcessRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.insert_columns_statement = SQL(
            "INSERT INTO {0}.{1} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::{2}[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(
            Identifier(self.datastore.schema),
            Identifier(self.events_table_name),
            Identifier(self.datastore.originator_id_type),
        )

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self.insert_columns_statement,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
        )

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        tracking: Tracking | None = kwargs.get("tracking")
        start: int | None = kwargs.get("tracked_from")
        if tracking is not None and start is not None:
            curs.execute(
                SQL(
                    "UPDATE {0}.{1} SET notification_id = notification_id "
                    "WHERE application_name = %s AND notification_id = %s RETURNING 1"
                ).format(Identifier(self.datastore.schema), Identifier(self.tracking_table_name)),
                (tracking.application_name, start),
            )
            if curs.fetchone() is None:
                raise _refused(tracking, start)
        super()._insert_events(curs, stored_events, **kwargs)


class SQLiteCityRecorder(SQLiteProcessRecorder):
    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        tracking: Tracking | None = kwargs.get("tracking")
        start: int | None = kwargs.get("tracked_from")
        if tracking is not None and start is not None:
            c.execute(
                "UPDATE tracking SET notification_id = notification_id "
                "WHERE application_name = ? AND notification_id = ? RETURNING 1",
                (tracking.application_name, start),
            )
            if c.fetchone() is None:
                raise _refused(tracking, start)
        return super()._insert_events(c, stored_events, **kwargs)
