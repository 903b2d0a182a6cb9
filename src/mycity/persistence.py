"""Maps the settings to eventsourcing's persistence, and gives read models and identity
tables one small SQL interface over the same store (SQLite or PostgreSQL)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

from psycopg.conninfo import conninfo_to_dict

from mycity.settings import Settings

Dialect = Literal["sqlite", "postgres"]


def eventsourcing_env(settings: Settings, event_cipher_key: bytes) -> dict[str, str]:
    """The environment eventsourcing reads: store, connection, and AES-GCM at rest."""
    env = {
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
        "CIPHER_KEY": base64.b64encode(event_cipher_key).decode(),
    }
    if not settings.is_postgres:
        return env | {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": settings.database_url,
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    url = re.sub(r"([?&])schema=[^&]*&?", r"\1", settings.database_url).rstrip("?&")
    params = conninfo_to_dict(url)
    return env | {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(params.get("dbname", "mycity")),
        "POSTGRES_HOST": str(params.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(params.get("port", "5432")),
        "POSTGRES_USER": str(params.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(params.get("password", "")),
        "POSTGRES_SCHEMA": schema_of(settings),
        "POSTGRES_POOL_SIZE": "10",
        "POSTGRES_MAX_OVERFLOW": "10",
        "POSTGRES_CONN_MAX_AGE": "",
    }


def schema_of(settings: Settings) -> str:
    """The PostgreSQL schema, from a `?schema=` in the URL; `public` by default."""
    match = re.search(r"[?&]schema=([A-Za-z_][A-Za-z0-9_]*)", settings.database_url)
    return match.group(1) if match else "public"


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

    @property
    def for_update(self) -> str:
        """Lock the rows read (PostgreSQL); SQLite's BEGIN IMMEDIATE already serialises writers."""
        return " FOR UPDATE" if self.dialect == "postgres" else ""

    def table(self, name: str) -> str:
        return f'"{self.schema}"."{name}"' if self.dialect == "postgres" else f'"{name}"'

    @contextmanager
    def transaction(self, *, commit: bool = True) -> Iterator[Cursor]:
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
            cursor = raw.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield Cursor(cursor, self.dialect)
            except BaseException:
                raw.rollback()
                raise
            raw.commit()

    def create_tables(self, statements: Sequence[str]) -> None:
        with self.transaction() as cur:
            for statement in statements:
                cur.execute(statement)
