"""`mycity payments`: merchants' tills, and reconciling a day with the provider's statement
(对账)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from mycity.cli.app import UNAVAILABLE, Failure
from mycity.cli.city import open_city
from mycity.domain.errors import UserError
from mycity.integrations.payments import ProviderRefused, ProviderUnreachable

group = typer.Typer(
    help="Payments: merchants' tills, reconciling a day with the provider.", no_args_is_help=True
)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("give the day as YYYY-MM-DD") from None


@group.command("reconcile")
def reconcile(
    day: Annotated[
        dt.date,
        typer.Option("--date", parser=_day, metavar="YYYY-MM-DD", help="The city's day."),
    ],
    statement: Annotated[
        Path | None,
        typer.Option(help="The statement as a file (else it is fetched from the provider)."),
    ] = None,
) -> None:
    """Every difference between the provider's statement of the day and the city's records,
    a line each, then a summary; exit 1 if any differ."""
    text = None
    if statement is not None:
        try:
            text = statement.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise Failure(f"cannot read {statement}: {e}") from None
    city = open_city()
    try:
        report = city.reconciliation.reconcile(day, text)
    except UserError as e:
        raise Failure(f"the statement: {e.message}") from None
    except ProviderUnreachable:
        raise Failure(
            "the provider did not answer: try again, or give its statement with --statement",
            UNAVAILABLE,
        ) from None
    except ProviderRefused as e:
        raise Failure(f"the provider refused the statement: {e}", UNAVAILABLE) from None
    finally:
        city.close()
    for difference in report.differences:
        typer.echo(str(difference))
    typer.echo(report.summary)
    if report.differences:
        raise typer.Exit(1)


@group.command("till")
def till(
    client_id: Annotated[str, typer.Argument(metavar="CLIENT_ID", help="A merchant client.")],
    enterprise: Annotated[
        str, typer.Option("--enterprise", metavar="CREDIT_CODE", help="Whose till it is.")
    ],
) -> None:
    """Register a merchant's till for an enterprise: its charges are paid into the
    enterprise's account, and settled with the enterprise's other tills."""
    city = open_city()
    try:
        registered = city.tills.register(client_id, enterprise)
    except UserError as e:
        raise Failure(f"{e.field or 'till'}: {e.message}") from None
    finally:
        city.close()
    typer.echo(f"{client_id}: a till of {registered.name}, paid into {registered.payee}")


def register(cli: typer.Typer) -> None:
    cli.add_typer(group, name="payments")
