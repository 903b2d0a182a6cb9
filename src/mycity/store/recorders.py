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
row (23 ms for 500 events here, against 0.7 ms), and every group commit pays it. And a
save is one call of a function of the log's own, one round trip in autocommit, where
eventsourcing pipelines six statements or more (BEGIN, the lock, the notification, the
insert, the tracking, COMMIT), each through psycopg's pipeline in Python:
`<events table>_insert_v1` for a command's group commit, `_insert_tracked_v1` for a
process's page with its claim and its new position. Client CPU a save: 0.19 against 0.39
ms, and 0.21 against 0.53 with a position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
    Tracking,
)
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteProcessRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Composed, Identifier, Literal


def _refused(tracking: Tracking, start: int) -> IntegrityError:
    return IntegrityError(f"{tracking.application_name} is no longer at position {start}")


# The bodies of the log's functions (`{schema}`, `{table}`, `{tracking}`, `{channel}` are
# filled in). The insert: the table's exclusive lock (commit order is log order), the
# wake-up of every process listening, the events. Tracked: first the page's claim on the
# position it started from (a compare-and-set, as SQLite's `_insert_events` below), then
# the new position, refused if not ahead (as eventsourcing's); each refusal is an
# IntegrityError.
INSERT = (
    "IF cardinality(ids) > 0 THEN "
    "PERFORM set_config('lock_timeout', timeout, true); "
    "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
    "NOTIFY {channel}; "
    "RETURN QUERY INSERT INTO {schema}.{table} "
    "(originator_id, originator_version, topic, state) "
    "SELECT * FROM unnest(ids, versions, topics, states) RETURNING notification_id; "
    "END IF;"
)
TRACKED_PARAMETERS = ", app text, reached bigint, tracked_from bigint"
TRACKED = (
    "IF tracked_from IS NOT NULL THEN "
    "UPDATE {schema}.{tracking} t SET notification_id = t.notification_id "
    "WHERE t.application_name = app AND t.notification_id = tracked_from; "
    "IF NOT FOUND THEN RAISE EXCEPTION '% is no longer at position %', app, tracked_from "
    "USING ERRCODE = 'unique_violation'; END IF; "
    "END IF; "
    "INSERT INTO {schema}.{tracking} AS t (application_name, notification_id) "
    "VALUES (app, reached) ON CONFLICT (application_name) DO UPDATE "
    "SET notification_id = reached WHERE t.notification_id < reached; "
    "IF NOT FOUND THEN RAISE EXCEPTION 'Failed to record tracking for % %', app, reached "
    "USING ERRCODE = 'unique_violation'; END IF; "
)


class PostgresCityRecorder(PostgresProcessRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.datastore.single_row_tracking:  # its saves are this class's own
            raise ProgrammingError("The city's log keeps one tracking row a process")
        # eventsourcing's own insert function is never called here (its insert is this
        # one's), and being replaced at every opening, it made one of two processes opening
        # the store at once fail ("tuple concurrently updated").
        self.sql_create_statements.remove(self.sql_create_pg_function_insert_events)
        self.insert_function = f"{self.events_table_name}_insert_v1"
        self.insert_tracked_function = f"{self.events_table_name}_insert_tracked_v1"
        for name, parameters, body in (
            (self.insert_function, "", INSERT),
            (self.insert_tracked_function, TRACKED_PARAMETERS, TRACKED + INSERT),
        ):
            self.check_identifier_length(name)
            self.sql_create_statements.append(self._create_function(name, parameters, body))
        self.call_insert_function = self._call_of(self.insert_function, 0)
        self.call_insert_tracked_function = self._call_of(self.insert_tracked_function, 3)

    def _call_of(self, name: str, more: int) -> Composed:
        """A call of a function of the log's: the events as four binary arrays, the lock
        timeout, and `more` arguments after them."""
        return SQL(
            "SELECT * FROM {0}.{1}(%b::{2}[], %b::bigint[], %b::text[], %b::bytea[], %s"
            + ", %s" * more
            + ")"
        ).format(
            Identifier(self.datastore.schema),
            Identifier(name),
            Identifier(self.datastore.originator_id_type),
        )

    def _create_function(self, name: str, parameters: str, body: str) -> Composed:
        """A function of the log's, made once: processes opening at once wait for each
        other (the advisory lock), and one made already is left as it is (a replaced
        function is a catalogue row updated, which PostgreSQL refuses to two at once). A
        change to its body is a new function: `_v2`."""
        schema = self.datastore.schema
        return SQL(
            "DO $do$ BEGIN "
            "PERFORM pg_advisory_xact_lock(hashtext({qualified})); "
            "IF NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = {schema_name} "
            "AND p.proname = {function_name}) THEN "
            "CREATE FUNCTION {schema}.{function}(ids {id_type}[], versions bigint[], "
            "topics text[], states bytea[], timeout text" + parameters + ") "
            "RETURNS SETOF bigint LANGUAGE plpgsql AS $fn$ BEGIN " + body + " END $fn$; "
            "END IF; END $do$"
        ).format(
            qualified=Literal(f"{schema}.{name}"),
            schema_name=Literal(schema),
            function_name=Literal(name),
            schema=Identifier(schema),
            function=Identifier(name),
            id_type=Identifier(self.datastore.originator_id_type),
            table=Identifier(self.events_table_name),
            tracking=Identifier(self.tracking_table_name),
            channel=Identifier(self.channel_name),
        )

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Events saved by one call of a function of the log's, with the position of the
        process saving them, if any."""
        tracking: Tracking | None = kwargs.get("tracking")
        ids: Sequence[int] | None
        if tracking is None:
            ids = self._call(self.call_insert_function, stored_events) if stored_events else []
        else:
            at = (tracking.application_name, tracking.notification_id, kwargs.get("tracked_from"))
            ids = self._call(self.call_insert_tracked_function, stored_events, at)
        return ids

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as eventsourcing
    def _call(
        self, call: Composed, stored_events: Sequence[StoredEvent], tracked: tuple[Any, ...] = ()
    ) -> list[int]:
        with self.datastore.get_connection() as conn:
            rows = conn.execute(
                call,
                (
                    [e.originator_id for e in stored_events],
                    [e.originator_version for e in stored_events],
                    [e.topic for e in stored_events],
                    [e.state for e in stored_events],
                    f"{self.datastore.lock_timeout}s",
                    *tracked,
                ),
                prepare=True,
            ).fetchall()
        return [next(iter(row.values())) for row in rows]


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
