"""Before the store is opened: can it be? One line that says what is wrong and what to do,
in seconds, where opening it would wait its pool's time-out and end in a traceback."""

from __future__ import annotations

import os
import re
from pathlib import Path

import psycopg

from mycity.settings import Settings
from mycity.store.environment import schema_of, url_without_schema


class StoreUnavailable(RuntimeError):
    """The store cannot be opened; the message says why and what to do."""


def check_store(settings: Settings, connect_timeout: int = 5) -> None:
    if settings.is_postgres:
        _check_postgres(settings, connect_timeout)
    else:
        _check_writable(
            Path(settings.database_url).parent, "the SQLite store", "MYCITY_DATABASE_URL"
        )


def check_data_dir(settings: Settings) -> None:
    """The data directory can be written; the keys directory, if it is elsewhere, at least
    read (keys are often mounted read-only)."""
    _check_writable(settings.data_dir, "the data directory", "MYCITY_DATA_DIR")
    _check_writable(settings.keys_dir, "the keys directory", "MYCITY_KEYS_DIR", write=False)


def _check_writable(directory: Path, what: str, setting: str, *, write: bool = True) -> None:
    existing = next((d for d in (directory, *directory.parents) if d.exists()), Path("/"))
    if not existing.is_dir():
        reason = f"{existing} is a file, not a directory"
    elif not os.access(existing, (os.W_OK if write else os.R_OK) | os.X_OK):
        reason = f"{existing} is not {'writable' if write else 'readable'} by this user"
    else:
        return
    raise StoreUnavailable(
        f"cannot use {directory} for {what}: {reason}; set {setting} to a directory you own"
    )


def _check_postgres(settings: Settings, connect_timeout: int) -> None:
    url = url_without_schema(settings)
    schema = schema_of(settings)
    try:
        with psycopg.connect(url, connect_timeout=connect_timeout) as conn:
            found = conn.execute(
                "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (schema,)
            ).fetchone()
    except psycopg.Error as e:
        reason = " ".join(str(e).split()) or type(e).__name__
        raise StoreUnavailable(
            f"cannot reach PostgreSQL at {_without_password(url)}: {reason}"
        ) from None
    if found is None:
        raise StoreUnavailable(
            f"PostgreSQL has no schema {schema!r}: create it (CREATE SCHEMA {schema}) "
            "or name another in MYCITY_DATABASE_URL (?schema=…)"
        )


def _without_password(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)
