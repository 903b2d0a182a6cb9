"""Backups of the store, and restores that leave erased people erased.

A backup is a directory: the store (SQLite: a copy made with SQLite's online backup API,
`store.sqlite`; PostgreSQL: `pg_dump --format=custom` of the city's schema, `store.dump`),
the shred ledger as it was (`shred-ledger.jsonl`) and `manifest.json`. A restore puts the
store back, adds the backup's shreddings to the live ledger (which it never replaces), and
then every person in the ledger whose key the restored store holds again has it shredded
again (`Vault.shred_again`, by the caller once the city is open): erased stays erased,
however old the backup. Restore with the servers stopped.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mycity.settings import Settings
from mycity.store.environment import schema_of, url_without_schema
from mycity.store.shred_ledger import ShredLedger

FORMAT = 1
MANIFEST = "manifest.json"
LEDGER = "shred-ledger.jsonl"
SQLITE_COPY = "store.sqlite"
POSTGRES_DUMP = "store.dump"


class BackupError(Exception):
    """A backup or restore that cannot be done as asked: the message says what to do."""


@dataclass(frozen=True)
class Manifest:
    store: str  # "sqlite" or "postgres"
    schema: str | None  # PostgreSQL's schema
    taken_at: str  # ISO 8601, UTC

    def text(self) -> str:
        return json.dumps({"format": FORMAT} | vars(self), indent=2) + "\n"


def take(settings: Settings, target: Path) -> Manifest:
    """Back the store and the ledger up into `target`, a new or empty directory."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} is there already: name a new directory for the backup")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    manifest = Manifest(
        store="postgres" if settings.is_postgres else "sqlite",
        schema=schema_of(settings) if settings.is_postgres else None,
        taken_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    if settings.is_postgres:
        dump = target / POSTGRES_DUMP
        _run("pg_dump", "--format=custom", f"--schema={manifest.schema}", f"--file={dump}",
             f"--dbname={url_without_schema(settings)}")  # fmt: skip
    else:
        _copy_sqlite(Path(settings.database_url), target / SQLITE_COPY)
    if settings.shred_ledger.exists():
        shutil.copyfile(settings.shred_ledger, target / LEDGER)
    (target / MANIFEST).write_text(manifest.text(), encoding="utf-8")
    return manifest


def restore(settings: Settings, source: Path) -> int:
    """Put the store in `source` back, and add its shreddings to the live ledger (how many
    it added). The caller then opens the city and shreds again whom the ledger names."""
    manifest = _manifest(source)
    store = "postgres" if settings.is_postgres else "sqlite"
    if manifest.store != store:
        raise BackupError(
            f"{source} is a backup of a {manifest.store} store; this city's is {store}"
        )
    if settings.is_postgres:
        schema = schema_of(settings)
        if manifest.schema != schema:
            raise BackupError(
                f"{source} is a backup of schema {manifest.schema!r}; name it in "
                f"MYCITY_DATABASE_URL (?schema={manifest.schema}) to restore it"
            )
        url = url_without_schema(settings)
        with tempfile.TemporaryDirectory(prefix="mycity-restore-") as scratch:
            script = Path(scratch) / "restore.sql"  # run with the drop, in one transaction
            _run("pg_restore", "--no-owner", f"--file={script}", str(source / POSTGRES_DUMP))
            _run("psql", "--quiet", "--no-psqlrc", "--single-transaction", "-v", "ON_ERROR_STOP=1",
                 f"--dbname={url}", "--command", f'DROP SCHEMA IF EXISTS "{schema}" CASCADE',
                 f"--file={script}")  # fmt: skip
    else:
        _copy_sqlite(source / SQLITE_COPY, Path(settings.database_url))
    kept = source / LEDGER
    return ShredLedger(settings.shred_ledger).merge(ShredLedger(kept)) if kept.exists() else 0


def _manifest(source: Path) -> Manifest:
    try:
        found: Any = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{source} holds no backup ({MANIFEST} is missing)") from None
    except ValueError:
        raise BackupError(f"{source / MANIFEST} is not JSON: is this a backup?") from None
    if not isinstance(found, dict) or found.get("format") != FORMAT:
        raise BackupError(f"{source / MANIFEST} is not a backup of format {FORMAT}")
    return Manifest(found["store"], found.get("schema"), found["taken_at"])


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while others write, page by page."""
    if not source.exists():
        raise BackupError(f"{source} is not there: nothing to copy")
    with sqlite3.connect(source) as reading, sqlite3.connect(target) as writing:
        reading.backup(writing)
    reading.close()
    writing.close()


def _run(*command: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError:
        raise BackupError(
            f"{command[0]} is not installed: install PostgreSQL's client tools"
        ) from None
    if done.returncode != 0:
        reason = " ".join(done.stderr.split()) or f"exit code {done.returncode}"
        raise BackupError(f"{command[0]} failed: {reason}")
