"""Staff and partner clients: provisioning them (each secret is shown once), listing them,
disabling and enabling them."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from mycity.cli.app import UNAVAILABLE, Failure
from mycity.cli.city import open_city
from mycity.identity.credentials import Client
from mycity.identity.principal import PARTNER_ROLES, STAFF_ROLES, Role

staff = typer.Typer(help="Staff credentials: officers, auditors, admins.", no_args_is_help=True)
partner = typer.Typer(
    help="Partner credentials: merchants, venues, authority feeds.", no_args_is_help=True
)
clients = typer.Typer(help="Every client: list, disable, enable.", no_args_is_help=True)


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
        typer.Option(
            help="Authority feeds only: the authority (HEALTH, HRSS, LIBRARY, TRANSIT, AMR, …)."
        ),
    ] = None,
) -> None:
    """Provision a partner client; prints its secret once."""
    _add(client_id, role.value, name, department)


@clients.command("list")
def list_clients() -> None:
    """Every client: id, role, department, whether it is disabled, name (never a secret)."""
    city = open_city()
    try:
        found = city.clients.listed()
    finally:
        city.close()
    if not found:
        typer.echo("no clients yet: `mycity staff add` or `mycity partner add` adds one", err=True)
        return
    width = max(len(c.client_id) for c in found)
    typer.echo(f"{'client id':<{width}}  {'role':<14}  {'department':<10}  {'status':<8}  name")
    for c in found:
        status = "disabled" if c.disabled else "active"
        typer.echo(
            f"{c.client_id:<{width}}  {c.role.value:<14}  {c.department or '-':<10}  "
            f"{status:<8}  {c.name}"
        )


@clients.command("disable")
def disable(client_id: str) -> None:
    """Stop a client signing in and end its sessions: its refresh tokens are deleted and
    its access tokens refused (by every server within 5 s)."""
    city = open_city()
    try:
        client = known(client_id, city.sessions.disable_client(client_id))
    finally:
        city.close()
    typer.echo(
        f"disabled {client.client_id} ({client.role.value}, {client.name}): it cannot sign in, "
        "and its sessions have ended"
    )


@clients.command("enable")
def enable(client_id: str) -> None:
    """Let a disabled client sign in again, with the secret it had."""
    city = open_city()
    try:
        client = known(client_id, city.sessions.enable_client(client_id))
    finally:
        city.close()
    typer.echo(f"enabled {client.client_id} ({client.role.value}, {client.name}): it can sign in")


def known(client_id: str, client: Client | None) -> Client:
    if client is None:
        raise Failure(f"no client {client_id!r}: `mycity clients list` lists them", UNAVAILABLE)
    return client


def register(cli: typer.Typer) -> None:
    cli.add_typer(staff, name="staff")
    cli.add_typer(partner, name="partner")
    cli.add_typer(clients, name="clients")
