"""A page of the log for one worker of a sharded rebuild, filtered by the database.

A worker folds only the streams of its shard, but without this it reads every record of
its topics from the database and drops the others' in Python: with N workers, each reads
the log N times over, and making a record it then drops (its row, its id parsed, its
state copied) costs as much as the database's part of reading it. Here the database
leaves out records of other shards' streams: a stream's shard is the last byte of its id
modulo the number of shards, as `projections.shards.shard_of` computes it from the id's
text. Records of the `everywhere` topics, whose shard only the decoded event tells, are
sent to every worker.

PostgreSQL stores a stream's id as a UUID, whose last byte it reads as such; SQLite stores
its 32 hex digits, whose last two it reads (`_LAST_BYTE_OF_TEXT`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

# A stream id's last byte from its text (lower-case hex, as eventsourcing stores it), in SQL.
_DIGITS = "'0123456789abcdef'"
_LAST_BYTE_OF_TEXT = (
    f"((instr({_DIGITS}, substr(originator_id, -2, 1)) - 1) * 16 "
    f"+ instr({_DIGITS}, substr(originator_id, -1)) - 1)"
)


def select_shard(
    recorder: PostgresApplicationRecorder | SQLiteApplicationRecorder,
    start: int,
    limit: int,
    stop: int,
    topics: Sequence[str],
    everywhere: Collection[str],
    shard: int,
    shards: int,
) -> list[Notification]:
    """Up to `limit` records after `start` up to `stop`, of these topics (all if none), of
    this shard's streams or of the `everywhere` topics, in the log's order."""
    others = [s for s in range(shards) if s != shard]
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _select_sqlite(recorder, start, limit, stop, topics, everywhere, shards, others)
    query = SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state "
        "FROM {0}.{1} WHERE notification_id > %s AND notification_id <= %s"
        "{2} AND (topic = ANY(%s) OR get_byte(uuid_send(originator_id), 15) %% %s <> ALL(%s)) "
        "ORDER BY notification_id LIMIT %s"
    ).format(
        Identifier(recorder.datastore.schema),
        Identifier(recorder.events_table_name),
        SQL(" AND topic = ANY(%s)") if topics else SQL(""),
    )
    # "Not any other shard's", not "this shard's": the planner guesses an equality on an
    # expression holds for one row in 200, takes a page for a scan of the whole range,
    # and sends it to parallel workers (ten times the page's cost); an inequality it
    # guesses holds for nearly every row, and it reads the index in order up to the limit.
    params = [start, stop, *([list(topics)] if topics else []), list(everywhere), shards, others]
    # Rows as tuples, in binary: no dict a row, and a UUID and the state's bytes as sent.
    with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
        curs.execute(query, [*params, limit], prepare=True, binary=True)
        return _notifications(curs.fetchall(), lambda stored: stored)


def _select_sqlite(
    recorder: SQLiteApplicationRecorder,
    start: int,
    limit: int,
    stop: int,
    topics: Sequence[str],
    everywhere: Collection[str],
    shards: int,
    others: list[int],
) -> list[Notification]:
    def marks(values: Collection[object]) -> str:
        return ", ".join("?" * len(values))

    query = (
        "SELECT rowid, originator_id, originator_version, topic, state "
        f"FROM {recorder.events_table_name} WHERE rowid > ? AND rowid <= ?"
        f"{f' AND topic IN ({marks(topics)})' if topics else ''} AND (topic IN "
        f"({marks(everywhere)}) OR {_LAST_BYTE_OF_TEXT} % ? NOT IN ({marks(others)})) "
        "ORDER BY rowid LIMIT ?"
    )
    params = [start, stop, *topics, *everywhere, shards, *others, limit]
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(query, params)
        return _notifications(cursor.fetchall(), recorder.convert_originator_id)


def _notifications(
    rows: Iterable[Sequence[Any]], originator_id: Callable[[Any], UUID | str]
) -> list[Notification]:
    """The rows (position, stream, version, topic, state) as eventsourcing's recorders
    return them; a stream's id as each store gives it back (`originator_id`)."""
    return [
        Notification(
            id=position,
            originator_id=originator_id(stream),
            originator_version=version,
            topic=topic,
            state=bytes(state),
        )
        for position, stream, version, topic, state in rows
    ]
