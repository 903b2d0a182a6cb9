"""Health status: the health authority's bulk import, from a CSV or JSON file.

Run by the authority's operators on a server of the city: each change is recorded as the
operator's (`cli:<user>`, the HEALTH authority feed). A row that fails is named by its
line; the others are applied; running the same file again changes nothing.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Literal

import typer

from mycity.cli.app import Failure
from mycity.cli.city import open_city
from mycity.cli.files import read_text
from mycity.identity.principal import Principal, Role

group = typer.Typer(help="Health status: import the authority's file.", no_args_is_help=True)


def register(cli: typer.Typer) -> None:
    cli.add_typer(group, name="health")


@group.command("import")
def import_statuses(
    file: Annotated[Path, typer.Argument(help="CSV (with a header) or JSON (an array).")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv or json; by default the file's suffix.")
    ] = None,
) -> None:
    """Apply a file of health statuses; print each refused line, then a summary."""
    chosen = (fmt or file.suffix.lstrip(".")).lower()
    if chosen not in ("csv", "json"):
        raise Failure(f"say --format csv or --format json for {file}")
    format_: Literal["csv", "json"] = "csv" if chosen == "csv" else "json"
    text = read_text(file, encoding="utf-8-sig")
    user = getpass.getuser()
    operator = Principal(f"cli:{user}", Role.AUTHORITY_FEED, "HEALTH", f"mycity health, {user}")
    city = open_city()
    try:
        report = city.health.import_statuses(operator, text, format_)
    finally:
        city.close()
    for failure in report.failures:
        field = f" ({failure.field})" if failure.field else ""
        typer.echo(f"line {failure.line}: {failure.code.value}{field}: {failure.message}", err=True)
    typer.echo(
        f"{file}: {report.changed} changed, {report.unchanged} already so, "
        f"{len(report.failures)} refused"
    )
    if report.failures:
        raise typer.Exit(1)
