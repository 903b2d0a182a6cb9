"""`mycity audit check-proof`: a proof that `audit prove` or `audit consistency` printed,
checked offline, with `mycity.verifier` alone: it never opens the store, so an auditor runs
it anywhere, on the proof and a checkpoint kept off the system."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from mycity.cli.app import UNAVAILABLE, Failure
from mycity.cli.files import read_text
from mycity.cli.refusals import proof_refused
from mycity.verifier.cosignature import Cosigner, parse_cosigner_key
from mycity.verifier.monitor import MonitorError, monitor
from mycity.verifier.note import Verifier, parse_verifier_key
from mycity.verifier.proofs import (
    ConsistencyProof,
    Proof,
    Reason,
    check_against,
    check_proof,
    read_proof,
    signed_checkpoint,
)


def check(
    file: Annotated[
        str,
        typer.Argument(
            help="The proof's JSON, as `audit prove` or `audit consistency` printed it; - reads "
            "it from stdin.",
            show_default=False,
        ),
    ],
    checkpoints: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            help="A signed checkpoint (as `audit checkpoint --export` wrote it) whose tree the "
            "proof must be of.",
        ),
    ] = None,
    keys: Annotated[
        list[str] | None,
        typer.Option("--key", help="The checkpoint key, as `audit key` prints it."),
    ] = None,
) -> None:
    """Check an inclusion or a consistency proof offline, and with --key that its tree is
    a signed checkpoint's (those given with --checkpoint, else those the proof names):
    `ok: …`, or `REFUSED: <reason>: …` and exit 1."""
    proof = _proof(file)
    verifiers = [_verifier(key) for key in keys or []]
    if checkpoints and not verifiers:
        raise Failure("a checkpoint is checked with its key: add --key (as `audit key` prints it)")
    named = proof.named()
    if verifiers and not checkpoints and not any(m == "checkpoint" for m, _, _ in named):
        raise Failure("--key checks a checkpoint: add --checkpoint FILE (the proof names none)")
    notes: dict[Path | str, str] = {p: read_text(p, "--checkpoint") for p in checkpoints or []}
    sizes: dict[Path | str, int] = {}  # the tree each checkpoint the proof names must be of
    if verifiers and not notes:  # the checkpoints the proof names, checked with your keys
        notes = {f"the proof's {member}": note for member, note, _ in named}
        sizes = {f"the proof's {member}": size for member, _, size in named}
    reason = check_proof(proof)
    if reason is not Reason.VALID:
        _refuse(reason, proof, None)
    for path, note in notes.items():
        checkpoint = signed_checkpoint(note, verifiers)
        if checkpoint is None:
            _refuse(Reason.BAD_SIGNATURE, proof, path)
        elif path in sizes and checkpoint.size != sizes[path]:
            _refuse(Reason.SIZE_MISMATCH, proof, path, checkpoint.size)
        elif (reason := check_against(proof, checkpoint)) is not Reason.VALID:
            _refuse(reason, proof, path, checkpoint.size)
    signed = f", as signed in {' and '.join(str(p) for p in notes)}" if notes else ""
    typer.echo(f"ok: {_holds(proof)}{signed}")


def _proof(file: str) -> Proof:
    text = typer.get_text_stream("stdin").read() if file == "-" else read_text(Path(file))
    try:
        return read_proof(text)
    except ValueError as e:
        where = "stdin" if file == "-" else file
        raise Failure(
            f"{where} is not a proof as `audit prove` or `audit consistency` prints it: {e}"
        ) from None


def _verifier(key: str) -> Verifier:
    try:
        return parse_verifier_key(key)
    except ValueError as e:
        raise Failure(
            f"--key {key!r} is not a checkpoint key (`audit key` prints it): {e}"
        ) from None


def _holds(proof: Proof) -> str:
    if isinstance(proof, ConsistencyProof):
        return (
            f"the tree of {proof.to_size} events (root {_b64(proof.to_root)}) only appended to "
            f"the tree of {proof.from_size} (root {_b64(proof.from_root)})"
        )
    return (
        f"the event at position {proof.position} is leaf {proof.leaf_index} of the tree of "
        f"{proof.tree_size} events (root {_b64(proof.root)})"
    )


def _refuse(
    reason: Reason, proof: Proof, checkpoint: Path | str | None, size: int | None = None
) -> None:
    typer.echo(proof_refused(reason, proof, checkpoint, size))
    raise typer.Exit(1)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


WitnessKeys = Annotated[
    list[str] | None,
    typer.Option("--witness", help="A witness's key (`mycity witness key`); repeat."),
]
Cosigned = Annotated[
    int, typer.Option("--cosigned", min=0, help="How many of the --witness keys must cosign.")
]


def cosigners_given(keys: list[str] | None, wanted: int) -> list[Cosigner]:
    """The witnesses of --witness, at least as many as --cosigned asks for."""
    if wanted > len(keys or []):
        raise Failure("--cosigned K needs at least K --witness keys")
    try:
        return [parse_cosigner_key(key) for key in keys or []]
    except ValueError as e:
        raise Failure(f"--witness: {e}") from None


def monitor_log(
    url: Annotated[str, typer.Argument(help="The city's address, e.g. https://city.example")],
    state: Annotated[
        Path | None,
        typer.Option(
            "--state", help="Where the monitor keeps what it saw (~/.mycity-monitor/<host>)."
        ),
    ] = None,
    keys: Annotated[
        list[str] | None,
        typer.Option("--key", help="A checkpoint key; else the one kept, or fetched once."),
    ] = None,
    witnesses: WitnessKeys = None,
    cosigned: Cosigned = 0,
) -> None:
    """Watch a city's log from outside: the latest checkpoint, checked against the last one
    this monitor kept (and with --cosigned K, K witnesses' cosignatures). `ok: …`, or
    `ALERT: <finding>: …` (a rollback, a split view, a bad signature, too few
    cosignatures) and exit 1."""
    directory = state or Path.home() / ".mycity-monitor" / _host(url)
    cosigners = cosigners_given(witnesses, cosigned)
    try:
        report = monitor(url, directory, keys or (), witnesses=cosigners, cosigned=cosigned)
    except MonitorError as e:
        raise Failure(str(e), UNAVAILABLE) from None
    if report.alert:
        typer.echo(f"ALERT: {report.finding.value}: {report.detail}")
        raise typer.Exit(1)
    typer.echo(f"ok: {report.finding.value}: {report.detail}")


def _host(url: str) -> str:
    return "".join(c if c.isalnum() or c in ".-" else "_" for c in urlsplit(url).netloc) or "city"
