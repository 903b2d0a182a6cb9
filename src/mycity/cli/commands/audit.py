"""Audit: checkpoints and their key, checking the log, proofs, and replaying files.

Replays read people's data: they take a `--purpose`, and are recorded as reads by the
operator (`cli:<user>`, an auditor), which the person sees like any other.
"""

from __future__ import annotations

import base64
import getpass
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import typer

from mycity.cli.app import UNAVAILABLE, Failure
from mycity.cli.city import open_city
from mycity.cli.commands.proofs import Cosigned, WitnessKeys, check, cosigners_given, monitor_log
from mycity.cli.files import read_text
from mycity.cli.progress import progress_bar
from mycity.domain.errors import UserError
from mycity.domain.identifiers import validate_credit_code, validate_resident_id
from mycity.identity.principal import Principal, Role
from mycity.private import write_private
from mycity.projections.subject_history import HistoryPage
from mycity.reads.audit import plain
from mycity.verifier.cosignature import Cosigner, cosigned_by

if TYPE_CHECKING:
    from mycity.bootstrap import City

group = typer.Typer(
    help="Audit: checkpoints, verify, proofs and checking them, history, state.",
    no_args_is_help=True,
)
Purpose = Annotated[str, typer.Option("--purpose", help="Why: recorded, shown to the person.")]
Subject = Annotated[
    str, typer.Argument(help="A file: its id, an ID number, or a credit code.", show_default=False)
]
Moment = Annotated[
    str | None,
    typer.Option("--at", help="A moment, ISO 8601 (without a zone: this machine's local time)."),
]


def operator() -> Principal:
    user = getpass.getuser()
    return Principal(f"cli:{user}", Role.AUDITOR, name=f"mycity audit, run by {user}")


def subject_of(city: City, text: str) -> UUID:
    """A file's id from what an auditor has at hand: the id, an ID number, a credit code."""
    text = text.strip()
    try:
        return UUID(text)
    except ValueError:
        pass
    for parse, derive in (
        (validate_resident_id, city.ids.citizen),
        (validate_credit_code, city.ids.enterprise),
    ):
        try:
            return derive(parse(text))
        except UserError:
            continue
    raise Failure(f"{text!r} is not a file id, a resident ID number nor a credit code")


def moment_of(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Failure(f"--at {text!r}: give a moment like 2026-11-30T12:00 or 2026-11-30") from None
    return moment.astimezone()  # a moment without a zone is local time


def echo_json(value: Any) -> None:
    typer.echo(json.dumps(plain(value), ensure_ascii=False, indent=2))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@group.command("checkpoint")
def checkpoint(
    export: Annotated[
        Path | None, typer.Option("--export", help="Also write the signed note to this file.")
    ] = None,
) -> None:
    """Sign a checkpoint over the whole log now (C2SP tlog-checkpoint, see docs/audit.md)."""
    city = open_city()
    try:
        kept = city.audit.sign_checkpoint()
    finally:
        city.close()
    if export is not None:
        if not export.parent.is_dir():
            raise Failure(f"cannot write {export}: {export.parent} is not a directory")
        write_private(export, kept.note)
    where = f"; written to {export}" if export else ""
    typer.echo(
        f"checkpoint of {kept.size} events, root {b64(kept.root)}, signed at "
        f"{kept.signed_at:%Y-%m-%d %H:%M:%S}Z{where}"
    )


@group.command("key")
def key() -> None:
    """The checkpoint keys, as Go's note.NewVerifier takes them (the active one first)."""
    city = open_city()
    try:
        for line in city.audit.verifier_keys():
            typer.echo(line)
    finally:
        city.close()


@group.command("verify")
def verify(
    against: Annotated[
        Path | None,
        typer.Option("--against", help="An exported checkpoint the log must still match."),
    ] = None,
    witnesses: WitnessKeys = None,
    cosigned: Cosigned = 0,
) -> None:
    """Recompute the Merkle tree from the stored events and find any direct edit: a changed,
    deleted, inserted or reordered row, or a tail cut off since the checkpoint; with
    --witness and --cosigned K, the checkpoint must carry K of those witnesses' cosignatures."""
    note = None if against is None else read_text(against, "--against")
    if cosigned and (note is None or cosigned > len(witnesses or [])):
        raise Failure("--cosigned K needs --against FILE and at least K --witness keys")
    if note is not None and cosigned:
        _require_cosignatures(note, cosigners_given(witnesses, cosigned), cosigned)
    city = open_city()
    try:
        with progress_bar("verifying the log") as advanced:
            result = city.audit.verify(note, progress=advanced)
    finally:
        city.close()
    if not result.ok:
        typer.echo(f"TAMPERED: {result.problem}", err=True)
        raise typer.Exit(UNAVAILABLE)
    checked = f" and the checkpoint in {against}" if against else ""
    typer.echo(f"ok: {result.events} events match the Merkle tree{checked}")


def _require_cosignatures(note: str, cosigners: list[Cosigner], wanted: int) -> None:
    found = sorted(cosigned_by(note, cosigners))
    if len(found) < wanted:
        typer.echo(
            f"REFUSED: cosigned by {len(found)} of the witnesses given "
            f"({', '.join(found) or 'none'}), {wanted} asked",
            err=True,
        )
        raise typer.Exit(UNAVAILABLE)


@group.command("prove")
def prove(
    position: Annotated[int, typer.Argument(help="The event's position in the log.")],
    size: Annotated[
        int | None, typer.Option("--size", help="A signed checkpoint's size (the latest's).")
    ] = None,
) -> None:
    """An inclusion proof of one event, as JSON (base64 hashes)."""
    city = open_city()
    try:
        found = city.audit.inclusion(None, position, size)
    finally:
        city.close()
    echo_json(found.document())


@group.command("consistency")
def consistency(
    old: Annotated[int, typer.Argument(help="The older tree size.")],
    new: Annotated[
        int | None, typer.Argument(help="The newer one (the latest checkpoint's).")
    ] = None,
) -> None:
    """A consistency proof between two tree sizes, as JSON (base64 hashes)."""
    city = open_city()
    try:
        found = city.audit.consistency(None, old, new)
    finally:
        city.close()
    echo_json(found.document())


Unmask = Annotated[
    bool,
    typer.Option(
        "--unmask", help="ID numbers, phones, card numbers and salts in full (recorded as such)."
    ),
]


@group.command("history")
def history(
    subject: Subject,
    purpose: Purpose,
    types: Annotated[list[str] | None, typer.Option("--type", help="e.g. Citizen.Erased")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    unmask: Unmask = False,
) -> None:
    """A file's events, oldest first: position, version, time, type, what it recorded."""
    city = open_city()
    try:
        page = HistoryPage(first=limit, types=tuple(types or ()))
        found = city.reads.audit.history(
            operator(), subject_of(city, subject), page, purpose, unmask
        )
    finally:
        city.close()
    for entry in found[:limit]:
        data = json.dumps(entry.data, ensure_ascii=False)
        typer.echo(
            f"{entry.position:>10} v{entry.version:<5} {entry.recorded_at:%Y-%m-%d %H:%M:%S} "
            f"{entry.type:<28} {data}"
        )
    more = " (more: raise --limit)" if len(found) > limit else ""
    typer.echo(f"{min(len(found), limit)} events{more}")


@group.command("state")
def state(
    subject: Subject,
    purpose: Purpose,
    at: Moment = None,
    version: Annotated[int | None, typer.Option("--version", min=1)] = None,
    unmask: Unmask = False,
) -> None:
    """A file as it was at a moment or a version, as JSON."""
    if (at is None) == (version is None):
        raise Failure("give one of --at TIME or --version N")
    city = open_city()
    try:
        found = city.reads.audit.state(
            operator(), subject_of(city, subject), version, moment_of(at), purpose, unmask
        )
    finally:
        city.close()
    echo_json(
        {
            "kind": found.kind,
            "version": found.version,
            "recorded_at": found.at,
            "state": found.state,
        }
    )


@group.command("screen")
def screen(
    read_model: Annotated[str, typer.Argument(help="citizen_profile, enterprise_profile, …")],
    subject: Subject,
    purpose: Purpose,
    at: Moment = None,
    position: Annotated[int | None, typer.Option("--position", min=0)] = None,
) -> None:
    """What a screen showed of a file at a moment or a position: its read model's row."""
    city = open_city()
    try:
        with progress_bar("replaying the log") as advanced:
            found = city.reads.audit.screen(
                operator(),
                read_model,
                subject_of(city, subject),
                position,
                moment_of(at),
                purpose,
                advanced,
            )
    finally:
        city.close()
    echo_json({"read_model": found.read_model, "position": found.position, "row": found.row})


@group.command("prune-access-records")
def prune_access_records() -> None:
    """Drop from the people's lists the reads older than the retention (MYCITY_RETENTION_DAYS,
    six months at least); the records stay in the log."""
    city = open_city()
    try:
        before = datetime.now(UTC) - timedelta(days=city.settings.audit.retention_days)
        dropped = city.read_models.delete_rows("data_access", "WHERE at < ?", [before.isoformat()])
    finally:
        city.close()
    typer.echo(f"dropped {dropped} access records older than {before:%Y-%m-%d}")


group.command("check-proof")(check)
group.command("monitor")(monitor_log)


def register(cli: typer.Typer) -> None:
    cli.add_typer(group, name="audit")
