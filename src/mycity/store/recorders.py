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
row (23 ms for 500 events here, against 0.7 ms), and every group commit pays it. Events
saved with no position (every command's group commit) go in by one call of a function of
the log's own (`<events table>_insert_v1`: the lock, the notification and the insert that
eventsourcing pipelines as six statements), one round trip in autocommit: 0.1 against 0.4
ms of the client's CPU a commit, and half the wait.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    StoredEvent,
    Tracking,
)
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteProcessRecorder
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier, Literal


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
        # eventsourcing's own insert function is never called here (its insert is this
        # one's), and being replaced at every opening, it made one of two processes opening
        # the store at once fail ("tuple concurrently updated").
        self.sql_create_statements.remove(self.sql_create_pg_function_insert_events)
        self.insert_function = f"{self.events_table_name}_insert_v1"
        self.check_identifier_length(self.insert_function)
        self.sql_create_statements.append(self._create_insert_function())
        self.call_insert_function = SQL(
            "SELECT * FROM {0}.{1}(%b::{2}[], %b::bigint[], %b::text[], %b::bytea[], %s)"
        ).format(
            Identifier(self.datastore.schema),
            Identifier(self.insert_function),
            Identifier(self.datastore.originator_id_type),
        )

    def _create_insert_function(self) -> Composed:
        """The function, made once: processes opening at once wait for each other (the
        advisory lock), and one made already is left as it is (a replaced function is a
        catalogue row updated, which PostgreSQL refuses to two at once). A change to its
        body is a new function: `_v2`."""
        schema, table = self.datastore.schema, self.events_table_name
        return SQL(
            "DO $do$ BEGIN "
            "PERFORM pg_advisory_xact_lock(hashtext({qualified})); "
            "IF NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = {schema_name} "
            "AND p.proname = {function_name}) THEN "
            "CREATE FUNCTION {schema}.{function}(ids {id_type}[], versions bigint[], "
            "topics text[], states bytea[], timeout text) RETURNS SETOF bigint "
            "LANGUAGE plpgsql AS $fn$ BEGIN "
            "PERFORM set_config('lock_timeout', timeout, true); "
            "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
            "NOTIFY {channel}; "
            "RETURN QUERY INSERT INTO {schema}.{table} "
            "(originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(ids, versions, topics, states) RETURNING notification_id; "
            "END $fn$; "
            "END IF; END $do$"
        ).format(
            qualified=Literal(f"{schema}.{self.insert_function}"),
            schema_name=Literal(schema),
            function_name=Literal(self.insert_function),
            schema=Identifier(schema),
            function=Identifier(self.insert_function),
            id_type=Identifier(self.datastore.originator_id_type),
            table=Identifier(table),
            channel=Identifier(self.channel_name),
        )

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Events saved with a position (a process's) as eventsourcing saves them, in a
        transaction with its tracking; others by one call of the log's function."""
        if kwargs.get("tracking") is not None:
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return ids
        return self._call_insert_function(stored_events) if stored_events else []

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as eventsourcing
    def _call_insert_function(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        with self.datastore.get_connection() as conn:
            rows = conn.execute(
                self.call_insert_function,
                (
                    [e.originator_id for e in stored_events],
                    [e.originator_version for e in stored_events],
                    [e.topic for e in stored_events],
                    [e.state for e in stored_events],
                    f"{self.datastore.lock_timeout}s",
                ),
                prepare=True,
            ).fetchall()
        return [row[self.insert_function] for row in rows]

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
