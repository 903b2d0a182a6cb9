"""The `mycity` command: serve, demo data, read models, schema, credentials and keys."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mycity.identity.keys import KEY_RINGS, KeyStore, MissingKeyError, SigningKeyRing
from mycity.identity.principal import PARTNER_ROLES, STAFF_ROLES, Role
from mycity.projections.read_models import RebuildRunning
from mycity.settings import Settings

if TYPE_CHECKING:
    from mycity.bootstrap import City

cli = typer.Typer(help="mycity: the event-sourced backend of a city's citizen-services app.")
projections = typer.Typer(help="Read models: status, rebuild, run.")
staff = typer.Typer(help="Staff credentials: officers, auditors, admins.")
partner = typer.Typer(help="Partner credentials: merchants, venues, authority feeds.")
keys = typer.Typer(help="Key material: init, rotate, retire.")
sms = typer.Typer(help="The local SMS outbox.")
for name, group in [
    ("projections", projections),
    ("staff", staff),
    ("partner", partner),
    ("keys", keys),
    ("sms", sms),
]:
    cli.add_typer(group, name=name)


def _city() -> City:
    from mycity.bootstrap import build

    return build(Settings.from_env())


@cli.callback()
def main_options(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    loop: Annotated[str, typer.Option(help="auto (uvloop if installed), asyncio or uvloop.")] = (
        "auto"
    ),
    access_log: Annotated[bool, typer.Option(help="Log every request (uvicorn's log).")] = False,
    demo: Annotated[bool, typer.Option(help="Load the demo data first (idempotent).")] = False,
) -> None:
    """Run the API with uvicorn (GraphQL at /graphql)."""
    from mycity.server import serve as run

    city = _city()
    if demo:
        from mycity.demo import load_demo

        typer.echo(load_demo(city))
    try:
        run(city, workers=workers, host=host, port=port, loop=loop, access_log=access_log)
    finally:
        city.close()


@cli.command()
def demo() -> None:
    """Load realistic demo data and print how to log in as each user."""
    from mycity.demo import load_demo

    city = _city()
    try:
        typer.echo(load_demo(city))
    finally:
        city.close()


@cli.command("export-schema")
def export_schema(
    output: Annotated[Path | None, typer.Argument(help="File to write; stdout if omitted.")] = None,
) -> None:
    """Print the GraphQL schema in SDL (the committed schema.graphql)."""
    from mycity.graphql.schema import schema

    text = schema.as_str() + "\n"
    if output:
        output.write_text(text)
    else:
        typer.echo(text, nl=False)


@projections.command("status")
def projections_status() -> None:
    """Each read model's generation, position in the log, and lag behind its head."""
    city = _city()
    try:
        rows = city.read_models.status()
    finally:
        city.close()
    typer.echo(f"{'read model':<20} {'gen':>4} {'ver':>4} {'position':>10} {'head':>10} {'lag':>8}")
    for r in rows:
        stale = "  (rules changed: rebuild)" if r["version"] != r["code_version"] else ""
        typer.echo(
            f"{r['name']:<20} {r['generation']:>4} {r['version']:>4} {r['position']:>10} "
            f"{r['head']:>10} {r['lag']:>8}{stale}"
        )


@projections.command("rebuild")
def projections_rebuild(
    names: Annotated[list[str] | None, typer.Argument(help="Read models; all if omitted.")] = None,
) -> None:
    """Rebuild from zero beside the live generation, then switch readers over."""
    city = _city()
    try:
        for name in names or list(city.read_models.classes):
            if name not in city.read_models.classes:
                raise typer.BadParameter(f"unknown read model {name}")
            try:
                r = city.read_models.rebuild(name)
            except RebuildRunning:
                typer.echo(
                    f"error: {name} is being rebuilt by another process: wait for it", err=True
                )
                raise typer.Exit(1) from None
            rate = r["events"] / r["seconds"] if r["seconds"] else 0.0
            typer.echo(
                f"{name}: generation {r['generation']}, {r['events']} events in "
                f"{r['seconds']:.2f} s ({rate:,.0f} events/s), at position {r['position']}"
            )
    finally:
        city.close()


@projections.command("run")
def projections_run() -> None:
    """Keep every read model caught up until interrupted (for servers run without inline)."""
    city = _city()
    stop = threading.Event()
    try:
        city.listen()
        city.runner().run_forever(stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        city.close()


def _add_client(client_id: str, role: Role, name: str, department: str | None) -> None:
    from mycity.domain.errors import UserError

    city = _city()
    try:
        secret = city.clients.add(client_id, role, name, department)
    except UserError as e:
        typer.echo(f"error: {e.code.value}: {e.message}", err=True)
        raise typer.Exit(1) from None
    finally:
        city.close()
    typer.echo(json.dumps({"clientId": client_id, "clientSecret": secret, "role": role.value}))


@staff.command("add")
def staff_add(
    client_id: str,
    role: Annotated[str, typer.Option(help="OFFICER, AUDITOR or ADMIN")],
    name: Annotated[str, typer.Option()],
    department: Annotated[str | None, typer.Option(help="Officers only")] = None,
) -> None:
    """Provision a staff client; prints its secret once."""
    if Role(role) not in STAFF_ROLES:
        raise typer.BadParameter(f"{role} is not a staff role")
    _add_client(client_id, Role(role), name, department)


@partner.command("add")
def partner_add(
    client_id: str,
    role: Annotated[str, typer.Option(help="MERCHANT, VENUE or AUTHORITY_FEED")],
    name: Annotated[str, typer.Option()],
) -> None:
    """Provision a partner client; prints its secret once."""
    if Role(role) not in PARTNER_ROLES:
        raise typer.BadParameter(f"{role} is not a partner role")
    _add_client(client_id, Role(role), name, None)


def _key_store() -> KeyStore:
    settings = Settings.from_env()
    return KeyStore(settings.keys_dir, generate_missing=True)


@keys.command("init")
def keys_init() -> None:
    """Generate every missing key in the keys directory."""
    for path in _key_store().init():
        typer.echo(f"wrote {path}")


def _ring_name(ring: str) -> str:
    if ring not in KEY_RINGS:
        raise typer.BadParameter(f"{ring} is not one of {', '.join(KEY_RINGS)}")
    return ring


@keys.command("rotate")
def keys_rotate(
    ring: Annotated[str, typer.Argument(help=" or ".join(KEY_RINGS), callback=_ring_name)],
) -> None:
    """Add a new active signing key; older keys keep verifying what they signed."""
    store = _key_store()
    rotated = store.key_ring(ring).rotated()
    path = _saved_ring(store, ring, rotated)
    typer.echo(f"{ring}: active key is now {rotated.active_kid} in {path}; restart the servers")


@keys.command("retire")
def keys_retire(
    ring: Annotated[str, typer.Argument(help=" or ".join(KEY_RINGS), callback=_ring_name)],
    kid: str,
) -> None:
    """Remove a signing key: what it signed stops verifying."""
    store = _key_store()
    try:
        retired = store.key_ring(ring).retired(kid)
    except (KeyError, ValueError) as e:
        raise typer.BadParameter(str(e)) from None
    _saved_ring(store, ring, retired)
    typer.echo(f"{ring}: retired {kid}")


def _saved_ring(store: KeyStore, ring: str, value: SigningKeyRing) -> Path:
    try:
        return store.save_key_ring(ring, value)
    except MissingKeyError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None


@sms.command("outbox")
def sms_outbox(phone: Annotated[str | None, typer.Argument()] = None, last: int = 5) -> None:
    """The last messages the local SMS sender 'sent' (where demo login codes arrive)."""
    from mycity.integrations.sms import OutboxSms

    for message in OutboxSms(Settings.from_env().sms_outbox).messages(phone)[-last:]:
        typer.echo(f"{message['at']}  {message['to']}  {message['text']}")


def main() -> None:
    cli()
