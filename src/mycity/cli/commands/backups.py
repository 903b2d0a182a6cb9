"""Backing the store up, and restoring it with every erasure since kept."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mycity.cli.app import Failure
from mycity.cli.city import open_city
from mycity.settings import Settings
from mycity.store import backups
from mycity.store.preflight import check_data_dir, check_store


def backup(directory: Annotated[Path, typer.Argument(help="A new directory.")]) -> None:
    """Back the store and the shred ledger up into a new directory."""
    settings = Settings.from_env()
    check_data_dir(settings)
    check_store(settings)
    try:
        taken = backups.take(settings, directory)
    except backups.BackupError as e:
        raise Failure(str(e)) from None
    typer.echo(f"backed up the {taken.store} store at {taken.taken_at} into {directory}")


def restore(directory: Annotated[Path, typer.Argument(help="A backup's directory.")]) -> None:
    """Put a backup's store back (servers stopped), keeping every erasure made since."""
    settings = Settings.from_env()
    check_data_dir(settings)
    if settings.is_postgres:
        check_store(settings)
    try:
        added = backups.restore(settings, directory)
    except backups.BackupError as e:
        raise Failure(str(e)) from None
    city = open_city(settings)  # which shreds again every key the ledger names
    again = city.files.vault.shredded_again
    city.close()
    typer.echo(
        f"restored {directory}; {again} data keys of erased people shredded again "
        f"({added} erasures taken from the backup's ledger)"
    )


def register(cli: typer.Typer) -> None:
    cli.command("backup")(backup)
    cli.command("restore")(restore)
