"""`mycity witness`: a transparency-log witness of its own (integrations/witness.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from mycity.cli.app import Failure
from mycity.cli.commands.serving import check_port
from mycity.integrations.witness import Witness, create_witness_app

group = typer.Typer(help="A witness that cosigns the city's checkpoints.", no_args_is_help=True)

Directory = Annotated[
    Path, typer.Option("--dir", help="The witness's own directory: its key and its state.")
]
Name = Annotated[str, typer.Option("--name", help="The witness's name, e.g. witness.example/w1")]


def _witness(directory: Path, name: str, logs: list[str]) -> Witness:
    try:
        return Witness(directory, name, logs)
    except ValueError as e:
        raise Failure(f"{e}: give each log's key as `mycity audit key` prints it") from None


@group.command("serve")
def serve(
    directory: Directory,
    name: Name,
    logs: Annotated[
        list[str], typer.Option("--log", help="A log's checkpoint key (repeat for more).")
    ],
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8010,
) -> None:
    """Serve POST /add-checkpoint (c2sp.org/tlog-witness) until stopped."""
    witness = _witness(directory, name, logs)
    check_port(host, port)
    typer.echo(f"witness {witness.public_key} on http://{host}:{port}")
    uvicorn.run(create_witness_app(witness), host=host, port=port, log_level="warning")


@group.command("key")
def key(directory: Directory, name: Name) -> None:
    """The witness's key, as logs and verifiers configure it (made on first use)."""
    typer.echo(_witness(directory, name, []).public_key)


def register(cli: typer.Typer) -> None:
    cli.add_typer(group, name="witness")
