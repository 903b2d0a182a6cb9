"""Where read models keep their rows: one table per generation, and how far each reaches.

A `ReadModelStore` is an eventsourcing `TrackingRecorder`: the rows a page of events
changed and the position of the page's last event are written in one transaction, so a
crash loses nothing and counts nothing twice. On PostgreSQL a page's rows travel as one
JSON array in one statement; on SQLite as one `executemany`.

A read model's personal columns are sealed under the data key of the row's person, as the
events are: once that person is erased they read as None, here and in every rebuild.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import UUID

import orjson
from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder

from mycity.domain.personal import Retention
from mycity.store.seals import Sealed, key_id
from mycity.store.sql import Cursor, Database
from mycity.store.vault import Vault

Row = dict[str, Any]
V = TypeVar("V")
SEALED = "sealed"  # the column a row's personal values are kept in, sealed together


def to_json(value: Any) -> str:
    """A row's value, or a page of rows, as JSON text. orjson: the standard library's
    encoder costs a rebuild some ten times as much per row (it builds a new C encoder
    every call)."""
    return orjson.dumps(value).decode()


OPENED = "_opened"  # in a loaded row: its personal values as opened, and their seal


@dataclass(frozen=True)
class TableSpec:
    """A read model's table: columns in order (the first is the key), and indexes.

    In a row whose `subject` column (the key by default) names a person, the `personal`
    columns are sealed together under that person's data key of the table's `retention`
    class, stored as one column,
    `sealed` (they read as None once the person is erased), and each `blind` column holds
    a blind index of another column's case-folded value (what it maps to), searchable for
    equality only."""

    columns: tuple[tuple[str, str], ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    json_columns: frozenset[str] = field(default_factory=frozenset)
    personal: frozenset[str] = field(default_factory=frozenset)
    blind: Mapping[str, str] = field(default_factory=dict)
    subject: str | None = None
    retention: Retention = Retention.STATUTORY_RECORD

    @property
    def key(self) -> str:
        return self.columns[0][0]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @functools.cached_property
    def stored(self) -> tuple[tuple[str, str], ...]:
        """The columns as stored: the personal ones sealed together in one, `sealed`."""
        if not self.personal:
            return self.columns
        kept = tuple(c for c in self.columns if c[0] not in self.personal)
        return (*kept, (SEALED, "TEXT"))

    @functools.cached_property
    def stored_names(self) -> list[str]:
        return [name for name, _ in self.stored]


class RowCodec:
    """Rows to and from their stored form: JSON columns encoded, and a row's personal
    values sealed together, as one value, under its person's data key (one seal a row,
    not one a column: what a rebuild spends most on). A row loaded and written back with
    its personal values unchanged keeps its seal."""

    def __init__(self, spec: TableSpec, vault: Vault) -> None:
        self.spec = spec
        self.vault = vault
        self.subject = spec.subject or spec.key
        self.personal = sorted(spec.personal)

    def sealed(self, rows: Iterable[Row]) -> list[Row]:
        """The rows as stored: a page's new seals made together, each person's key looked
        up once."""
        if not (self.spec.personal or self.spec.blind):
            return list(rows)
        stored_rows: list[Row] = []
        to_seal: list[tuple[Row, UUID, bytes]] = []
        for row in rows:
            stored = {n: v for n, v in row.items() if n not in self.spec.personal and n != OPENED}
            for name, source in self.spec.blind.items():
                plain = row.get(source)
                stored[name] = None if plain is None else self.vault.index(plain.casefold())
            stored_rows.append(stored)
            if not self.spec.personal:
                continue
            values = {n: row[n] for n in self.personal if row.get(n) is not None}
            opened = row.get(OPENED)
            if row[self.subject] is None:  # no person's: nothing to seal it under
                stored[SEALED] = to_json(values) if values else None
            elif opened is not None and opened[0] == values:
                stored[SEALED] = opened[1]
            elif values:
                key = key_id(UUID(row[self.subject]), self.spec.retention)
                to_seal.append((stored, key, orjson.dumps(values)))
            else:
                stored[SEALED] = None
        seals = self.vault.seal_each([(subject, text) for _, subject, text in to_seal])
        for (stored, _, _), seal in zip(to_seal, seals, strict=True):
            stored[SEALED] = base64.b64encode(seal.blob).decode()
        return stored_rows

    def decoded(self, stored: Any, *, to_fold: bool = False) -> Row:
        """The row as stored, opened: its personal values are None once its person is
        erased, and then no blind index of theirs shows either. A row `to_fold` keeps its
        seal beside what it opened (`OPENED`), to be written back unchanged."""
        together = SEALED in stored.keys()  # noqa: SIM118  (sqlite3.Row: `in` sees values)
        names = self.spec.stored_names if together else self.spec.names
        json_columns = self.spec.json_columns
        row = {n: orjson.loads(stored[n]) if n in json_columns else stored[n] for n in names}
        if not self.spec.personal:
            return row
        if not together:
            return self._legacy(row)
        blob = row.pop(SEALED)
        if blob is None or blob.startswith("{"):
            values = orjson.loads(blob) if blob else {}
        elif (opened := self.vault.open(Sealed(base64.b64decode(blob)))) is None:
            values = {}
            row |= dict.fromkeys(self.spec.blind)
        else:
            values = orjson.loads(opened)
            if to_fold:
                row[OPENED] = (values, blob)
        return row | {n: values.get(n) for n in self.spec.personal}

    def _legacy(self, row: Row) -> Row:
        """A row of a generation built before personal values were sealed together (one
        seal a column): read as such until the runner's upgrade rebuilds it."""
        if row.get(self.subject) is None:
            return row
        erased = False
        for name in self.spec.personal:
            if row[name] is not None:
                opened = self.vault.open(Sealed(base64.b64decode(row[name])))
                erased = erased or opened is None
                row[name] = None if opened is None else opened.decode()
        return row | dict.fromkeys(self.spec.blind) if erased else row

    def select(
        self, cur: Cursor, table: str, keys: Iterable[str], *, to_fold: bool = False
    ) -> dict[str, Row]:
        """Rows by key (several as `Cursor.select_any` asks them)."""
        keys = list(keys)
        key = self.spec.key
        if not keys:
            return {}
        if len(keys) == 1:  # the commonest read: one row, with no array to build
            found = cur.execute(f"SELECT * FROM {table} WHERE {key} = ?", keys).fetchall()
        else:
            found = cur.select_any(f"SELECT * FROM {table} WHERE {key}", keys)
        return {row[key]: self.decoded(row, to_fold=to_fold) for row in found}


class ReadModelStore(TrackingRecorder):
    """One generation of one read model: its rows, and how far into the log they reach."""

    TRACKING_TABLE = "read_model_tracking"

    def __init__(
        self, db: Database, name: str, spec: TableSpec, generation: int, vault: Vault
    ) -> None:
        self.db = db
        self.spec = spec
        self.codec = RowCodec(spec, vault)
        self.generation = generation
        self.view_name = f"{name}_g{generation}"
        self.table = db.table(self.view_name)
        self.tracking = db.table(self.TRACKING_TABLE)

    def create_table(self, *, indexed: bool = True) -> None:
        """The table with its key; its other indexes too unless not `indexed` (a rebuild
        fills it first and indexes it once, `create_indexes`, rather than row by row)."""
        columns = ", ".join(f"{n} {t}" for n, t in self.spec.stored)
        self.db.create_tables(
            [f"CREATE TABLE IF NOT EXISTS {self.table} ({columns}, PRIMARY KEY ({self.spec.key}))"]
        )
        if indexed:
            self.create_indexes()

    def create_indexes(self) -> None:
        statements = []
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
            self.advance(cur, tracking, expected=None)

    def max_tracking_id(self, application_name: str) -> int | None:
        with self.db.read() as cur:
            row = cur.execute(
                f"SELECT notification_id FROM {self.tracking} "
                "WHERE view = ? AND application_name = ?",
                (self.view_name, application_name),
            ).fetchone()
        return None if row is None else int(row["notification_id"])

    # -- rows -------------------------------------------------------------------------------

    def load(self, cur: Cursor, keys: Iterable[str]) -> dict[str, Row]:
        return self.codec.select(cur, self.table, keys, to_fold=True)

    def write_rows(self, cur: Cursor, changed: dict[str, Row | None]) -> None:
        """Upsert the changed rows and delete the removed ones."""
        upserts = self.codec.sealed(row for row in changed.values() if row is not None)
        deletes = [key for key, row in changed.items() if row is None]
        if upserts and cur.dialect == "postgres":
            self._upsert_postgres(cur, upserts)
        elif upserts:
            self._upsert_sqlite(cur, upserts)
        if deletes:
            cur.executemany(
                f"DELETE FROM {self.table} WHERE {self.spec.key} = ?", [(k,) for k in deletes]
            )

    def _conflict_clause(self) -> str:
        updates = ", ".join(f"{n} = excluded.{n}" for n in self.spec.stored_names[1:])
        return f"ON CONFLICT ({self.spec.key}) DO UPDATE SET {updates}"

    def _upsert_sqlite(self, cur: Cursor, rows: list[Row]) -> None:
        names = self.spec.stored_names
        cur.executemany(
            f"INSERT INTO {self.table} ({', '.join(names)}) "
            f"VALUES ({', '.join('?' * len(names))}) {self._conflict_clause()}",
            [self._encode(row) for row in rows],
        )

    def _upsert_postgres(self, cur: Cursor, rows: list[Row]) -> None:
        """One statement per page: the rows travel as one JSON array, expanded by the server
        into the table's own row type (a JSON column's value arrives as its JSON text)."""
        columns = ", ".join(self.spec.stored_names)
        cur.execute(
            f"INSERT INTO {self.table} ({columns}) SELECT {columns} "
            f"FROM json_populate_recordset(NULL::{self.table}, ?) {self._conflict_clause()}",
            (to_json(rows),),
        )

    def advance(self, cur: Cursor, tracking: Tracking, expected: int | None) -> None:
        """Move the position to `tracking`'s. `expected` is the position the rows were
        loaded at: if another runner moved it in the meantime, this fails and the whole
        transaction rolls back (None: any lower position, as eventsourcing's own)."""
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
            to_json(row[n]) if n in self.spec.json_columns else row[n]
            for n in self.spec.stored_names
        ]


class LiveRows:
    """A read model's rows as readers see them: through its view, which a rebuild repoints
    at the new generation in one transaction. Each read model's typed reader wraps one."""

    def __init__(self, db: Database, name: str, spec: TableSpec, vault: Vault) -> None:
        self.db = db
        self.spec = spec
        self.codec = RowCodec(spec, vault)
        self.view = db.table(name)

    @property
    def vault(self) -> Vault:
        return self.codec.vault

    def get_many(self, keys: Iterable[str]) -> dict[str, Row]:
        with self.db.read() as cur:
            return self.codec.select(cur, self.view, keys)

    def select(self, where: str, params: list[Any]) -> list[Row]:
        """Rows matching a condition on the view (`?` placeholders), decoded."""
        with self.db.read() as cur:
            found = cur.execute(f"SELECT * FROM {self.view} {where}", params).fetchall()
        return [self.codec.decoded(row) for row in found]


class ViewsById(Generic[V]):
    """A typed reader of a read model keyed by a file's id: rows as frozen views."""

    def __init__(self, rows: LiveRows, view: Callable[[Row], V]) -> None:
        self.rows = rows
        self.view = view

    def get(self, key: UUID) -> V | None:
        return self.get_many([key]).get(key)

    def get_many(self, keys: Iterable[UUID]) -> dict[UUID, V]:
        found = self.rows.get_many(str(k) for k in keys)
        return {UUID(key): self.view(row) for key, row in found.items()}
