"""One small SQL interface over the event store's own connections, for the tables we define
(read models, identity), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Literal

from psycopg.rows import tuple_row

Dialect = Literal["sqlite", "postgres"]
MANY = 500  # values a statement of `select_any` and `select_ids` asks for


def chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """The values, MANY at a time."""
    for i in range(0, len(values), MANY):
        yield values[i : i + MANY]


class Cursor:
    """A DB-API cursor that takes `?` placeholders on both dialects; rows index by name."""

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self._raw = raw
        self.dialect = dialect

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgres" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        self._raw.execute(self._sql(sql), tuple(params))
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._raw.executemany(self._sql(sql), [tuple(r) for r in rows])

    def select_any(self, query: str, values: Sequence[Any]) -> list[Any]:
        """The rows of `query`, which ends with the column to match, whose column is any of
        the values, MANY at a time: on PostgreSQL as one array parameter (one query text
        whatever their number; psycopg parses a query of more than 50 placeholders afresh
        each time), on SQLite as placeholders. On PostgreSQL more at once would be fewer
        round trips but dearer: from some two thousand values the planner scans the whole
        table (hashing the values), two to three times the server's CPU of looking each one
        up in the index. Never prepared: a prepared statement's generic plan, made without
        the array, may scan the whole table comparing each row with every value (half a
        second for 500 keys among 200,000)."""
        rows: list[Any] = []
        for chunk in chunks(values):
            if self.dialect == "postgres":
                sql = self._sql(f"{query} = ANY(?)")
                rows += self._raw.execute(sql, (list(chunk),), prepare=False).fetchall()
            else:
                rows += self.execute(
                    f"{query} IN ({', '.join('?' * len(chunk))})", chunk
                ).fetchall()
        return rows

    def select_ids(self, query: str, ids: Sequence[str]) -> list[Sequence[Any]]:
        """`select_any` for text ids (no quote or backslash in them: UUIDs), rows by
        position. PostgreSQL gets each MANY as one array literal and answers in binary,
        as tuples: psycopg's array dumper and dict rows cost a data key's look-up five
        times the client's CPU (2.4 against 0.5 us)."""
        if self.dialect == "sqlite":
            return self.select_any(query, ids)  # sqlite3.Row: by position too
        raw = self._raw
        factory = raw.row_factory
        raw.row_factory = tuple_row
        rows: list[Sequence[Any]] = []
        try:
            for chunk in chunks(ids):
                literal = '{"' + '","'.join(chunk) + '"}'
                if literal.count('"') != 2 * len(chunk) or "\\" in literal:
                    raise ValueError("An id to look up holds a quote or a backslash")
                raw.execute(f"{query} = ANY(%s::text[])", (literal,), binary=True, prepare=False)
                rows += raw.fetchall()
        finally:
            raw.row_factory = factory
        return rows

    def fetchone(self) -> Any:
        return self._raw.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._raw.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._raw.rowcount)


class Database:
    """Transactions on the event store's own connection pool, for tables we define."""

    def __init__(self, datastore: Any, dialect: Dialect, schema: str = "public") -> None:
        self.datastore = datastore
        self.dialect = dialect
        self.schema = schema
        self._writing = threading.local()  # SQLite: this thread's open write transaction

    @property
    def for_update(self) -> str:
        """Lock the rows read (PostgreSQL); SQLite's BEGIN IMMEDIATE already serialises writers."""
        return " FOR UPDATE" if self.dialect == "postgres" else ""

    def table(self, name: str) -> str:
        return f'"{self.schema}"."{name}"' if self.dialect == "postgres" else f'"{name}"'

    def read(self) -> AbstractContextManager[Cursor]:
        """Reads outside a transaction: on PostgreSQL one round trip per statement (the pool's
        connections autocommit), where `transaction(commit=False)` adds BEGIN and ROLLBACK."""
        return self._each_statement(commit=False)

    def single(self) -> AbstractContextManager[Cursor]:
        """A write that is one statement, its own transaction: on PostgreSQL one round trip
        (autocommit), where `transaction()` adds BEGIN and COMMIT."""
        return self._each_statement(commit=True)

    @contextmanager
    def _each_statement(self, *, commit: bool) -> Iterator[Cursor]:
        if self.dialect == "sqlite":
            with self.transaction(commit=commit) as cur:
                yield cur
            return
        with self.datastore.cursor() as raw:
            yield Cursor(raw, self.dialect)

    @contextmanager
    def transaction(self, *, commit: bool = True) -> Iterator[Cursor]:
        if self.dialect == "sqlite" and (held := getattr(self._writing, "cursor", None)):
            with self._sqlite_nested(held, commit=commit) as cur:
                yield cur
            return
        if self.dialect == "sqlite" and commit:
            with self._sqlite_write() as cur:
                yield cur
            return
        with self.datastore.transaction(commit=commit) as raw:
            # eventsourcing wraps sqlite3's cursor without rowcount; use the real one.
            yield Cursor(getattr(raw, "sqlite_cursor", raw), self.dialect)

    @contextmanager
    def _sqlite_write(self) -> Iterator[Cursor]:
        """BEGIN IMMEDIATE: our writes read first, and a deferred transaction that reads and
        then writes fails at once ("database is locked") if another process wrote meanwhile,
        instead of waiting its turn."""
        with self.datastore.get_connection(commit=True) as connection:
            raw = connection._sqlite_conn
            cursor = Cursor(raw.cursor(), self.dialect)
            cursor.execute("BEGIN IMMEDIATE")
            self._writing.cursor = cursor
            try:
                yield cursor
            except BaseException:
                raw.rollback()
                raise
            else:
                raw.commit()
            finally:
                self._writing.cursor = None

    @contextmanager
    def _sqlite_nested(self, cursor: Cursor, *, commit: bool) -> Iterator[Cursor]:
        """A transaction begun inside this thread's write transaction joins it (as a
        savepoint): asking the pool for another connection there would wait behind any
        command queued for the writer, which waits for us, until the pool times out."""
        if not commit:
            yield cursor
            return
        cursor.execute("SAVEPOINT nested")
        try:
            yield cursor
        except BaseException:
            cursor.execute("ROLLBACK TO nested")
            raise
        finally:
            cursor.execute("RELEASE nested")

    @contextmanager
    def exclusive(self, key: str) -> Iterator[bool]:
        """Try to hold a lock named `key` for the block, across processes: yields whether it
        is held. PostgreSQL's session advisory lock, on a connection kept for the block; on
        SQLite, a lock file beside the database. A process that dies lets go of either."""
        if self.dialect == "postgres":
            key = f"{self.schema}/{key}"  # advisory locks are the database's, not a schema's
            with self.datastore.get_connection() as conn:
                row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()
                held = bool(next(iter(row.values())))
                try:
                    yield held
                finally:
                    if held:
                        conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
            return
        path = Path(f"{self.datastore.pool.db_name}.{key}.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def columns(self, name: str) -> set[str]:
        """The columns of one of our tables (to migrate it)."""
        with self.read() as cur:
            if self.dialect == "sqlite":
                return {row["name"] for row in cur.execute(f"PRAGMA table_info({name})").fetchall()}
            found = cur.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                (self.schema, name),
            ).fetchall()
        return {row["column_name"] for row in found}

    def create_tables(self, statements: Sequence[str]) -> None:
        with self.transaction() as cur:
            for statement in statements:
                cur.execute(statement)
