"""The local SMS sender's outbox, where demo and test login codes arrive."""

from __future__ import annotations

from typing import Annotated

import typer

from mycity.integrations.sms import OutboxSms
from mycity.settings import Settings

group = typer.Typer(help="The local SMS outbox.", no_args_is_help=True)


@group.command("outbox")
def outbox(
    phone: Annotated[str | None, typer.Argument()] = None,
    last: Annotated[int, typer.Option(min=1, help="How many of the latest messages.")] = 5,
) -> None:
    """The last messages the local SMS sender 'sent' (MYCITY_DATA_DIR's sms-outbox.jsonl)."""
    path = Settings.from_env().sms_outbox
    messages = OutboxSms(path).messages(phone)[-last:]
    if not messages:
        whose = f" to {phone}" if phone else ""
        typer.echo(f"no messages{whose} in {path} (is MYCITY_DATA_DIR the server's?)", err=True)
    for message in messages:
        typer.echo(f"{message['at']}  {message['to']}  {message['text']}")


def register(cli: typer.Typer) -> None:
    cli.add_typer(group, name="sms")
