"""Key material: making what is missing, rotating, retiring and withdrawing signing keys."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from mycity.cli.app import Failure
from mycity.data import department_codes
from mycity.domain.catalogue import CatalogueError
from mycity.identity.keys import KEY_RINGS, KeyStore, licence_ring
from mycity.private import private_dir
from mycity.settings import Settings

group = typer.Typer(help="Key material: init, rotate, retire, withdraw.", no_args_is_help=True)
try:
    RINGS = KEY_RINGS + tuple(licence_ring(d) for d in department_codes())
except CatalogueError:  # every command then says what is wrong with it, in one line
    RINGS = KEY_RINGS
Ring = StrEnum("Ring", {name: name for name in RINGS})  # type: ignore[misc]


def _key_store() -> KeyStore:
    settings = Settings.from_env()
    private_dir(settings.data_dir)
    return KeyStore(settings.keys_dir, generate_missing=True)


@group.command("init")
def init() -> None:
    """Generate every missing key in the keys directory."""
    written = _key_store().init()
    for path in written:
        typer.echo(f"wrote {path}")
    if not written:
        typer.echo("every key is there already")


@group.command("rotate")
def rotate(ring: Annotated[Ring, typer.Argument()]) -> None:
    """Add a new active signing key; older keys keep verifying what they signed."""
    store = _key_store()
    rotated = store.key_ring(ring.value).rotated()
    path = store.save_key_ring(ring.value, rotated)
    typer.echo(f"{ring}: active key is now {rotated.active_kid} in {path}; restart the servers")


@group.command("retire")
def retire(ring: Annotated[Ring, typer.Argument()], kid: str) -> None:
    """Remove a signing key: what it signed stops verifying."""
    store = _key_store()
    keys = store.key_ring(ring.value)
    if kid == keys.active_kid:
        raise Failure(f"{kid} is the active key of {ring}: rotate first, then retire it")
    kids = [k["kid"] for k in keys.keys]
    if kid not in kids:
        raise Failure(f"{ring} has no key {kid!r}; its keys are {', '.join(kids)}")
    store.save_key_ring(ring.value, keys.retired(kid))
    typer.echo(f"{ring}: retired {kid}")


@group.command("withdraw")
def withdraw(ring: Annotated[Ring, typer.Argument()], kid: str) -> None:
    """Withdraw a compromised key at once: what it signed stops verifying, verifiers are
    told it is withdrawn, and if it was the active key a new one takes over."""
    store = _key_store()
    keys = store.key_ring(ring.value)
    kids = [k["kid"] for k in keys.keys]
    if kid not in kids:
        raise Failure(f"{ring} has no key {kid!r}; its keys are {', '.join(kids)}")
    withdrawn = keys.withdrawn_key(kid)
    path = store.save_key_ring(ring.value, withdrawn)
    typer.echo(
        f"{ring}: withdrew {kid}; the active key is {withdrawn.active_kid} in {path}; "
        "restart the servers now"
    )


def register(cli: typer.Typer) -> None:
    cli.add_typer(group, name="keys")
