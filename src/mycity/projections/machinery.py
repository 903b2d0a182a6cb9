"""How read models are built: eventsourcing projections, batched, tracked and rebuildable.

- A read model is an `eventsourcing.projection.Projection` whose `apply` folds one event
  into one row. Its view is a `ReadModelStore`, an eventsourcing `TrackingRecorder`
  that keeps the rows and the position of the last event they include, in one
  transaction, so a crash loses nothing and counts nothing twice.
- The runner reads the global log in pages, folds a whole page in memory and writes the
  changed rows with one `executemany` and one tracking update: a rebuild is one commit
  per page, not per event. While a page is written the next one is already being read.
- The same runner serves SQLite and PostgreSQL: it polls the recorder with
  `select_notifications`, and is woken at once by commands saved in this process and,
  on PostgreSQL, by the LISTEN/NOTIFY channel eventsourcing notifies on every insert.
  (eventsourcing's own `ProjectionRunner` cannot subscribe on SQLite, and commits once
  per event.)
- Each read model lives in generations (`<name>_g<N>` tables), and readers query the
  SQL view `<name>`. A rebuild builds the next generation beside the live one, catches
  it up to the head of the log, then repoints the view in one transaction.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from mycity.persistence import Cursor, Database

log = logging.getLogger(__name__)

Row = dict[str, Any]


@dataclass(frozen=True)
class TableSpec:
    """A read model's table: columns in order (the first is the key), and indexes."""

    columns: tuple[tuple[str, str], ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    json_columns: frozenset[str] = field(default_factory=frozenset)

    @property
    def key(self) -> str:
        return self.columns[0][0]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]


class ReadModelStore(TrackingRecorder):
    """One generation of one read model: its rows, and how far into the log they reach."""

    TRACKING_TABLE = "read_model_tracking"

    def __init__(self, db: Database, name: str, spec: TableSpec, generation: int) -> None:
        self.db = db
        self.spec = spec
        self.generation = generation
        self.view_name = f"{name}_g{generation}"
        self.table = db.table(self.view_name)
        self.tracking = db.table(self.TRACKING_TABLE)

    def create_table(self) -> None:
        columns = ", ".join(f"{n} {t}" for n, t in self.spec.columns)
        statements = [
            f"CREATE TABLE IF NOT EXISTS {self.table} ({columns}, PRIMARY KEY ({self.spec.key}))"
        ]
        for index in self.spec.indexes:
            index_name = f"{self.view_name}_{'_'.join(index)}"
            statements.append(
                f'CREATE INDEX IF NOT EXISTS "{index_name}" ON {self.table} ({", ".join(index)})'
            )
        self.db.create_tables(statements)

    def drop_table(self) -> None:
        with self.db.transaction() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {self.table}")
            cur.execute(f"DELETE FROM {self.tracking} WHERE view = ?", (self.view_name,))

    # -- eventsourcing's TrackingRecorder ---------------------------------------------------

    def insert_tracking(self, tracking: Tracking) -> None:
        with self.db.transaction() as cur:
            self._advance(cur, tracking, expected=None)

    def max_tracking_id(self, application_name: str) -> int | None:
        with self.db.transaction(commit=False) as cur:
            row = cur.execute(
                f"SELECT notification_id FROM {self.tracking} "
                "WHERE view = ? AND application_name = ?",
                (self.view_name, application_name),
            ).fetchone()
        return None if row is None else int(row["notification_id"])

    # -- rows -------------------------------------------------------------------------------

    def load(self, cur: Cursor, keys: Iterable[str]) -> dict[str, Row]:
        return select_rows(cur, self.table, self.spec, keys)

    def get(self, key: str) -> Row | None:
        with self.db.transaction(commit=False) as cur:
            return self.load(cur, [key]).get(key)

    def write(
        self,
        cur: Cursor,
        changed: dict[str, Row | None],
        tracking: Tracking,
        expected: int | None,
    ) -> None:
        """Upsert the changed rows, delete the removed ones, and move the position.

        `expected` is the position the rows were loaded at: if another runner moved it in
        the meantime, the tracking update fails and the whole batch rolls back.
        """
        upserts = [row for row in changed.values() if row is not None]
        deletes = [key for key, row in changed.items() if row is None]
        if upserts and cur.dialect == "postgres":
            self._upsert_postgres(cur, upserts)
        elif upserts:
            self._upsert_sqlite(cur, upserts)
        if deletes:
            cur.executemany(
                f"DELETE FROM {self.table} WHERE {self.spec.key} = ?", [(k,) for k in deletes]
            )
        self._advance(cur, tracking, expected)

    def _conflict_clause(self) -> str:
        updates = ", ".join(f"{n} = excluded.{n}" for n in self.spec.names[1:])
        return f"ON CONFLICT ({self.spec.key}) DO UPDATE SET {updates}"

    def _upsert_sqlite(self, cur: Cursor, rows: list[Row]) -> None:
        names = self.spec.names
        cur.executemany(
            f"INSERT INTO {self.table} ({', '.join(names)}) "
            f"VALUES ({', '.join('?' * len(names))}) {self._conflict_clause()}",
            [self._encode(row) for row in rows],
        )

    def _upsert_postgres(self, cur: Cursor, rows: list[Row]) -> None:
        """One statement per page: the rows travel as one JSON array, expanded by the server
        into the table's own row type (a JSON column's value arrives as its JSON text)."""
        columns = ", ".join(self.spec.names)
        cur.execute(
            f"INSERT INTO {self.table} ({columns}) SELECT {columns} "
            f"FROM json_populate_recordset(NULL::{self.table}, ?) {self._conflict_clause()}",
            (json.dumps(rows, ensure_ascii=False),),
        )

    def _advance(self, cur: Cursor, tracking: Tracking, expected: int | None) -> None:
        if expected is None:
            moved = cur.execute(
                f"UPDATE {self.tracking} SET notification_id = ? "
                "WHERE view = ? AND application_name = ? AND notification_id < ?",
                (
                    tracking.notification_id,
                    self.view_name,
                    tracking.application_name,
                    tracking.notification_id,
                ),
            ).rowcount
        else:
            moved = cur.execute(
                f"UPDATE {self.tracking} SET notification_id = ? "
                "WHERE view = ? AND application_name = ? AND notification_id = ?",
                (tracking.notification_id, self.view_name, tracking.application_name, expected),
            ).rowcount
        if moved == 1:
            return
        if expected in (None, 0):
            try:
                cur.execute(
                    f"INSERT INTO {self.tracking} (view, application_name, notification_id) "
                    "VALUES (?, ?, ?)",
                    (self.view_name, tracking.application_name, tracking.notification_id),
                )
                return
            except Exception as e:  # a unique violation: someone else tracked first
                raise IntegrityError(f"{self.view_name} was advanced concurrently") from e
        raise IntegrityError(f"{self.view_name} is not at position {expected}")

    def _encode(self, row: Row) -> list[Any]:
        return [
            json.dumps(row[n], ensure_ascii=False) if n in self.spec.json_columns else row[n]
            for n in self.spec.names
        ]


def select_rows(cur: Cursor, table: str, spec: TableSpec, keys: Iterable[str]) -> dict[str, Row]:
    """Rows by key, JSON columns decoded. PostgreSQL takes the keys as one array parameter
    (one prepared statement whatever their number); SQLite takes them 500 at a time."""
    keys = list(keys)
    if cur.dialect == "postgres":
        cur.execute(f"SELECT * FROM {table} WHERE {spec.key} = ANY(?)", (keys,))
        found = cur.fetchall()
    else:
        found = []
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            found += cur.execute(
                f"SELECT * FROM {table} WHERE {spec.key} IN ({marks})", chunk
            ).fetchall()
    return {row[spec.key]: decode_row(spec, row) for row in found}


def decode_row(spec: TableSpec, row: Any) -> Row:
    return {n: json.loads(row[n]) if n in spec.json_columns else row[n] for n in spec.names}


class RowProjection(Projection[ReadModelStore]):
    """A read model whose rows are each the fold of the events that `key` maps to them.

    Each subclass defines `apply` as a `singledispatchmethod` and registers it for each
    event class it handles; those classes are also the topics it reads. `apply` is pure:
    it takes the event and the row (None if there is none yet) and returns the new row,
    or None to delete it. Purity is what lets a page be folded in memory.
    """

    spec: ClassVar[TableSpec]
    version: ClassVar[int] = 1  # raise it when the table or the rules change: then rebuild
    creates: ClassVar[tuple[type, ...]] = ()  # events whose `apply` ignores the current row

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        registry = cls.__dict__["apply"].dispatcher.registry
        cls.topics = tuple(get_topic(c) for c in registry if c is not object)

    def apply(self, event: Any, row: Row | None) -> Row | None:
        raise NotImplementedError

    def key(self, event: Any) -> str:
        return str(event.originator_id)

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """eventsourcing's one-event entry point: a batch of one."""
        with self.view.db.transaction() as cur:
            self.fold(cur, [domain_event], tracking, expected=None)

    def fold(
        self, cur: Cursor, events: Sequence[Any], tracking: Tracking, expected: int | None
    ) -> None:
        keyed = [(self.key(e), e) for e in events]
        created: set[str] = set()
        needed: set[str] = set()
        for key, event in keyed:  # a row whose first event creates it need not be loaded
            if key not in created and key not in needed:
                (created if isinstance(event, self.creates) else needed).add(key)
        rows: dict[str, Row | None] = dict(self.view.load(cur, needed))
        changed: dict[str, Row | None] = {}
        apply = self.apply
        for key, event in keyed:
            rows[key] = changed[key] = apply(event, rows.get(key))
        self.view.write(cur, changed, tracking, expected)


def touched(row: Row, event: Any, **changes: Any) -> Row:
    """A file's row after one of its events: the changes, and the file's new version."""
    return (
        row
        | changes
        | {
            "updated_at": event.timestamp.isoformat(),
            "version": event.originator_version,
        }
    )


@dataclass(frozen=True)
class Page:
    events: list[Any]
    last: int  # the position this page reaches, even if none of its events matched


class ReadModelRegistry:
    """Which generation of each read model is live, at which version of its rules."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = db.table("read_models")

    def create_tables(self) -> None:
        self.db.create_tables(
            [
                f"CREATE TABLE IF NOT EXISTS {self.table} (name TEXT PRIMARY KEY, "
                "generation INTEGER NOT NULL, version INTEGER NOT NULL, "
                "activated_at DOUBLE PRECISION NOT NULL)",
                f"CREATE TABLE IF NOT EXISTS {self.db.table(ReadModelStore.TRACKING_TABLE)} ("
                "view TEXT NOT NULL, application_name TEXT NOT NULL, "
                "notification_id BIGINT NOT NULL, PRIMARY KEY (view, application_name))",
            ]
        )

    def active(self, name: str) -> tuple[int, int] | None:
        with self.db.transaction(commit=False) as cur:
            row = cur.execute(
                f"SELECT generation, version FROM {self.table} WHERE name = ?", (name,)
            ).fetchone()
        return None if row is None else (int(row["generation"]), int(row["version"]))

    def activate(self, name: str, store: ReadModelStore, version: int) -> None:
        """Point readers at this generation, atomically."""
        view = self.db.table(name)
        with self.db.transaction() as cur:
            cur.execute(f"DROP VIEW IF EXISTS {view}")
            cur.execute(f"CREATE VIEW {view} AS SELECT * FROM {store.table}")
            cur.execute(
                f"INSERT INTO {self.table} VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE "
                "SET generation = excluded.generation, version = excluded.version, "
                "activated_at = excluded.activated_at",
                (name, store.generation, version, time.time()),
            )


class Catchup:
    """Feeds one projection from the application's log, a page at a time."""

    def __init__(
        self,
        app: Any,
        projection: RowProjection,
        page_size: int = 1000,
    ) -> None:
        self.app = app
        self.projection = projection
        self.page_size = page_size

    @property
    def store(self) -> ReadModelStore:
        return self.projection.view

    def position(self) -> int:
        return self.store.max_tracking_id(self.app.name) or 0

    def pages(self, start: int, head: int) -> Iterator[Page]:
        """Pages of decoded events after `start` up to `head`, read one page ahead."""
        pending: queue.Queue[Page | BaseException | None] = queue.Queue(maxsize=2)
        abandoned = threading.Event()

        def hand_over(item: Page | BaseException | None) -> None:
            while not abandoned.is_set():
                try:
                    pending.put(item, timeout=0.1)
                    return
                except queue.Full:
                    continue

        def read() -> None:
            position = start
            try:
                while position < head and not abandoned.is_set():
                    notifications = self.app.recorder.select_notifications(
                        start=position,
                        limit=self.page_size,
                        stop=head,
                        topics=self.projection.topics,
                        inclusive_of_start=False,
                    )
                    events = [self.app.mapper.to_domain_event(n) for n in notifications]
                    full = len(notifications) == self.page_size
                    position = notifications[-1].id if full else head
                    hand_over(Page(events, position))
            except BaseException as e:  # handed to the consumer, which re-raises it
                hand_over(e)
            else:
                hand_over(None)

        threading.Thread(target=read, daemon=True, name="read-model-pages").start()
        try:
            while (page := pending.get()) is not None:
                if isinstance(page, BaseException):
                    raise page
                yield page
        finally:
            abandoned.set()

    def run_once(self) -> int:
        """Fold everything recorded so far; returns the number of events folded.

        If another runner moves the position first, this one stops: the other did the work.
        """
        start = self.position()
        head = self.app.recorder.max_notification_id() or 0
        if start >= head:
            return 0
        folded = 0
        for page in self.pages(start, head):
            try:
                with self.store.db.transaction() as cur:
                    self.projection.fold(
                        cur, page.events, Tracking(self.app.name, page.last), expected=start
                    )
            except IntegrityError:
                log.info("%s was advanced by another runner", self.store.view_name)
                break
            folded += len(page.events)
            start = page.last
        return folded
