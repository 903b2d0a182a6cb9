"""A page of the log for one worker of a sharded rebuild, filtered by PostgreSQL.

A worker folds only the streams of its shard, but without this it reads every record of
its topics from the database and drops the others' in Python: with N workers, each reads
the log N times over, and making a record it then drops (its row, its id parsed, its
state copied) costs as much as the database's part of reading it. Here the database
leaves out records of other shards' streams: a stream's shard is the last byte of its id
modulo the number of shards, as `projections.shards.shard_of` computes it from the id's
text. Records of the `everywhere` topics, whose shard only the decoded event tells, are
sent to every worker.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier


def select_shard(
    recorder: PostgresApplicationRecorder,
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
    query = SQL(
        "SELECT * FROM {0}.{1} WHERE notification_id > %s AND notification_id <= %s"
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
    others = [s for s in range(shards) if s != shard]
    params = [start, stop, *([list(topics)] if topics else []), list(everywhere), shards, others]
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(query, [*params, limit], prepare=True)
        return [
            Notification(
                id=row["notification_id"],
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            for row in curs.fetchall()
        ]
