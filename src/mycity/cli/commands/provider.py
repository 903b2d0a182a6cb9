"""`mycity provider`: the local payment provider, a process of its own
(integrations/provider.py, docs/payments.md)."""

from __future__ import annotations

import json
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from mycity.cli.app import Failure
from mycity.cli.commands.serving import check_port
from mycity.integrations.provider import Provider, create_provider_app
from mycity.integrations.provider_ledger import Ledger

group = typer.Typer(
    help="The local payment provider the demo and the tests pay through.", no_args_is_help=True
)

Directory = Annotated[
    Path, typer.Option("--dir", help="The provider's own directory: its keys and its ledger.")
]


class Kind(StrEnum):
    payer = "payer"
    payee = "payee"


def _provider(
    directory: Path, notify: str | None = None, settle_after: float = 0.0, retry_scale: float = 1.0
) -> Provider:
    try:
        return Provider(directory, notify, settle_after, retry_scale)
    except ValueError as e:
        raise Failure(str(e)) from None


@group.command("serve")
def serve(
    directory: Directory,
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8020,
    notify: Annotated[
        str | None, typer.Option("--notify", help="Where to POST notifications (the city's URL).")
    ] = None,
    settle_after: Annotated[
        float, typer.Option("--settle-after", min=0, help="Seconds a charge stays pending.")
    ] = 0.0,
    retry_scale: Annotated[
        float, typer.Option("--retry-scale", help="Multiplies the retry schedule (tests).")
    ] = 1.0,
) -> None:
    """Serve the provider's protocol (docs/payments.md §2) until stopped."""
    provider = _provider(directory, notify, settle_after, retry_scale)
    check_port(host, port)
    typer.echo(f"provider {provider.public_key} on http://{host}:{port}")
    uvicorn.run(create_provider_app(provider), host=host, port=port, log_level="warning")


@group.command("key")
def key(directory: Directory) -> None:
    """The public key its notifications are signed with (`whpk_…`), made on first use."""
    typer.echo(_provider(directory).public_key)


@group.command("api-key")
def api_key(directory: Directory) -> None:
    """The API key the city sends as its bearer token, made on first use."""
    typer.echo(_provider(directory).api_key)


@group.command("open-account")
def open_account(
    directory: Directory,
    account_id: Annotated[str, typer.Argument(metavar="ID", help="e.g. p:… or merchant:shop-1")],
    kind: Annotated[Kind, typer.Option("--kind", help="payer or payee.")],
    deposit: Annotated[
        int | None, typer.Option("--deposit", min=1, help="Fen to add from outside.")
    ] = None,
) -> None:
    """Open an account in the ledger directly (offline), with money in it if asked."""
    ledger = Ledger(directory)
    status, answer = ledger.open_account({"id": account_id, "kind": kind.value})
    if status == 200 and deposit is not None:
        once = secrets.token_hex(16)  # this command's own deposit, made once
        status, answer = ledger.deposit(once, account_id, {"amount_fen": deposit})
    if status != 200:
        raise Failure(f"{answer['error']}: {answer.get('detail', account_id)}")
    typer.echo(json.dumps(answer, ensure_ascii=False))


def register(cli: typer.Typer) -> None:
    cli.add_typer(group, name="provider")
