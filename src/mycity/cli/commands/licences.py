"""Licences: verify a presentation offline, from its QR text or a picture of it.

Offline means with keys and status lists at hand, not the server: the verifier a hotel or
a police officer would run. Without `--keys` it uses this city's own trust list.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from mycity.cli.app import Failure
from mycity.cli.city import open_city
from mycity.cli.scanned import code_text
from mycity.verifier.licence import (
    QR_PREFIX,
    Keys,
    Reason,
    StatusList,
    load_keys,
    read_status_list,
    verify_presentation,
)

group = typer.Typer(help="E-licences: verify a presentation offline.", no_args_is_help=True)


def register(cli: typer.Typer) -> None:
    cli.add_typer(group, name="licence")


def trusted_keys(keys_file: Path | None) -> Keys:
    if keys_file is None:
        city = open_city()
        try:
            return load_keys(city.licences.trust_list())
        finally:
            city.close()
    try:
        return load_keys(keys_file.read_text())
    except ValueError as e:
        raise Failure(f"{keys_file} is not a trust list (a JWKS of licence keys): {e}") from None


@group.command()
def verify(
    presentation: Annotated[
        str, typer.Argument(help="The QR text (LC1:...), or a PNG/JPEG of the code, or a file.")
    ],
    keys_file: Annotated[
        Path | None,
        typer.Option("--keys", help="The trust list (GET /licences/keys); default: this city's."),
    ] = None,
    status_lists: Annotated[
        list[Path] | None,
        typer.Option("--status-list", help="An issuer's status list (GET /licences/status/X)."),
    ] = None,
    skew: Annotated[float, typer.Option(help="Clock skew allowed, seconds.")] = 30.0,
) -> None:
    """Say whether a presentation shows a genuine, current licence, and what it reveals;
    exit 1 if it does not."""
    text = code_text(presentation, QR_PREFIX)
    keys = trusted_keys(keys_file)
    now = time.time()
    lists: dict[str, StatusList] = {}
    for path in status_lists or []:
        read = read_status_list(path.read_text(), keys, now=now, skew=skew)
        if isinstance(read, Reason):
            raise Failure(f"{path}: the status list is {read.value.replace('_', ' ')}")
        lists[read.issuer] = read
    verdict = verify_presentation(text, keys, now=now, status_lists=lists or None, skew=skew)
    if not verdict.ok:
        typer.echo(f"REFUSED: {verdict.reason.value.replace('_', ' ')}")
        raise typer.Exit(1)
    licence = verdict.licence
    assert licence is not None
    until = licence.valid_until.isoformat() if licence.valid_until else "no expiry"
    status = "status checked" if verdict.status_checked else "status not checked (no list)"
    typer.echo(f"VALID: {licence.type_name} {licence.licence_id}, issued by {licence.issuer}")
    typer.echo(f"  valid {licence.valid_from.isoformat()} to {until}; {status}")
    for name, value in sorted(verdict.disclosed.items()):
        typer.echo(f"  {name}: {value}")
