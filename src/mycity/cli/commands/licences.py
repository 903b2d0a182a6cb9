"""Licences: verify a presentation offline, from its QR text or a picture of it.

Offline means with keys and status lists at hand, not the server: the verifier a hotel or
a police officer would run. It creates nothing: without `--keys` it uses the trust list of
the city whose keys this machine holds, if any.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from mycity.cli.app import Failure
from mycity.cli.files import read_text
from mycity.cli.offline import held_rings
from mycity.cli.refusals import licence_refused, status_list_refused
from mycity.cli.scanned import code_text
from mycity.data import department_codes
from mycity.identity.keys import licence_ring, licence_trust_list
from mycity.verifier.licence import (
    QR_PREFIX,
    Keys,
    Reason,
    StatusList,
    load_keys,
    read_status_list,
    verify_presentation,
)
from mycity.verifier.licence_compact import COMPACT_PREFIX

group = typer.Typer(help="E-licences: verify a presentation offline.", no_args_is_help=True)
TRUST_LIST = "GET /licences/keys"


def register(cli: typer.Typer) -> None:
    cli.add_typer(group, name="licence")


def trusted_keys(keys_file: Path | None) -> Keys:
    if keys_file is None:
        departments = department_codes()
        rings = held_rings([licence_ring(d) for d in departments] + ["wallet-signing"], TRUST_LIST)
        licence_rings = {d: rings[licence_ring(d)] for d in departments}
        return load_keys(licence_trust_list(licence_rings, rings["wallet-signing"]))
    try:
        return load_keys(read_text(keys_file, "--keys"))
    except ValueError as e:
        raise Failure(
            f"{keys_file} is not a trust list (a JWKS of licence keys, {TRUST_LIST}): {e}"
        ) from None


def status_list(path: Path, keys: Keys, now: float, skew: float) -> StatusList:
    text = read_text(path, "--status-list")
    read = read_status_list(text, keys, now=now, skew=skew)
    if read is Reason.MALFORMED:
        raise Failure(f"{path} is not a status list (GET /licences/status/ISSUER)")
    if isinstance(read, Reason):
        signed = read in (Reason.NOT_YET_VALID, Reason.STATUS_STALE)  # its issuer is genuine
        typer.echo(
            status_list_refused(read, str(path), json.loads(text)["issuer"] if signed else None)
        )
        raise typer.Exit(1)
    return read


@group.command()
def verify(
    presentation: Annotated[
        str,
        typer.Argument(help="The QR text (LC2:... or LC1:...), a PNG/JPEG of the code, a file."),
    ],
    keys_file: Annotated[
        Path | None,
        typer.Option(
            "--keys", help=f"The trust list ({TRUST_LIST}); default: this machine's city's."
        ),
    ] = None,
    status_lists: Annotated[
        list[Path] | None,
        typer.Option("--status-list", help="An issuer's status list (GET /licences/status/X)."),
    ] = None,
    skew: Annotated[float, typer.Option(help="Clock skew allowed, seconds.")] = 30.0,
) -> None:
    """Say whether a presentation shows a genuine, current licence, and what it reveals;
    exit 1 if it does not."""
    text = code_text(presentation, COMPACT_PREFIX, QR_PREFIX)
    keys = trusted_keys(keys_file)
    now = time.time()
    lists = {
        read.issuer: read for read in (status_list(p, keys, now, skew) for p in status_lists or [])
    }
    verdict = verify_presentation(text, keys, now=now, status_lists=lists or None, skew=skew)
    if not verdict.ok:
        typer.echo(licence_refused(verdict))
        raise typer.Exit(1)
    licence, attested = verdict.licence, verdict.attested
    if attested is not None:  # LC2: the department signed this showing of a valid licence
        typer.echo(f"VALID: {attested.type_name} ({attested.type_code}), by {attested.issuer}")
        typer.echo("  status vouched for by the department as it signed this showing")
    else:
        assert licence is not None
        until = licence.valid_until.isoformat() if licence.valid_until else "no expiry"
        status = "status checked" if verdict.status_checked else "status not checked (no list)"
        typer.echo(f"VALID: {licence.type_name} {licence.licence_id}, issued by {licence.issuer}")
        typer.echo(f"  valid {licence.valid_from.isoformat()} to {until}; {status}")
    for name, value in sorted(verdict.disclosed.items()):
        typer.echo(f"  {name}: {value}")
