"""Provisioning staff and partner clients; each secret is shown once."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from mycity.cli.app import Failure
from mycity.cli.city import open_city
from mycity.identity.principal import PARTNER_ROLES, STAFF_ROLES, Role

staff = typer.Typer(help="Staff credentials: officers, auditors, admins.", no_args_is_help=True)
partner = typer.Typer(
    help="Partner credentials: merchants, venues, authority feeds.", no_args_is_help=True
)


StaffRole = StrEnum("StaffRole", {r.value: r.value for r in sorted(STAFF_ROLES)})  # type: ignore[misc]
PartnerRole = StrEnum("PartnerRole", {r.value: r.value for r in sorted(PARTNER_ROLES)})  # type: ignore[misc]


def _add(client_id: str, role: str, name: str, department: str | None) -> None:
    kind = Role(role)
    if kind is Role.OFFICER and not department:
        raise Failure("an officer needs --department: the code of the officer's department")
    if kind is Role.AUTHORITY_FEED and not department:
        raise Failure("an authority feed needs --department: the authority, e.g. HEALTH")
    city = open_city()
    try:
        secret = city.clients.add(client_id, kind, name, department)
    finally:
        city.close()
    typer.echo(json.dumps({"clientId": client_id, "clientSecret": secret, "role": kind.value}))


@staff.command("add")
def staff_add(
    client_id: str,
    role: Annotated[StaffRole, typer.Option(case_sensitive=False)],
    name: Annotated[str, typer.Option()],
    department: Annotated[str | None, typer.Option(help="Officers only.")] = None,
) -> None:
    """Provision a staff client; prints its secret once."""
    _add(client_id, role.value, name, department)


@partner.command("add")
def partner_add(
    client_id: str,
    role: Annotated[PartnerRole, typer.Option(case_sensitive=False)],
    name: Annotated[str, typer.Option()],
    department: Annotated[
        str | None,
        typer.Option(help="Authority feeds only: the authority (HEALTH, HRSS, LIBRARY, TRANSIT)."),
    ] = None,
) -> None:
    """Provision a partner client; prints its secret once."""
    _add(client_id, role.value, name, department)


def register(cli: typer.Typer) -> None:
    cli.add_typer(staff, name="staff")
    cli.add_typer(partner, name="partner")
