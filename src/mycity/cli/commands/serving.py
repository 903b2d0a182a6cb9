"""Serving the API, the demo data, and the schema."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from collections.abc import Iterator
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mycity.cli.app import UNAVAILABLE, Failure
from mycity.cli.city import open_city
from mycity.settings import PaymentSettings, Settings

PROVIDER_PORT_OFFSET = 20  # the demo's local payment provider: the server's port + 20


class Loop(StrEnum):
    AUTO = "auto"
    ASYNCIO = "asyncio"
    UVLOOP = "uvloop"


def serve(
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    loop: Annotated[Loop, typer.Option(help="auto: uvloop if installed.")] = Loop.AUTO,
    access_log: Annotated[bool, typer.Option(help="Log every request (uvicorn's log).")] = False,
    demo: Annotated[bool, typer.Option(help="Load the demo data first (idempotent).")] = False,
) -> None:
    """Run the API with uvicorn (GraphQL at /graphql). With --demo and no payment provider
    configured, a local one is started beside it (port + 20) and stopped with it."""
    from mycity.server import serve as run

    check_port(host, port)
    settings = Settings.from_env()
    with contextlib.ExitStack() as stack:
        if demo and not settings.payments.enabled:
            settings = stack.enter_context(_local_payments(settings, host, port))
        city = open_city(settings)
        stack.callback(city.close)
        if demo:
            from mycity.demo import load_demo, open_demo_accounts

            typer.echo(load_demo(city, f"http://{host}:{port}/graphql"))
            if city.payments.provider is not None:
                open_demo_accounts(city)
        run(city, workers=workers, host=host, port=port, loop=loop.value, access_log=access_log)


@contextlib.contextmanager
def _local_payments(settings: Settings, host: str, port: int) -> Iterator[Settings]:
    """The demo's payment provider, its own process with its books in the data directory;
    the settings (and the environment, for workers) pointed at it."""
    from mycity.integrations.provider_process import local_provider

    provider_port = port + PROVIDER_PORT_OFFSET
    check_port(host, provider_port)
    address = f"http://{host}:{provider_port}"
    notify = f"http://{host}:{port}/payments/notifications"
    with contextlib.ExitStack() as stack:
        try:
            keys = stack.enter_context(
                local_provider(settings.data_dir / "provider", provider_port, notify)
            )
        except OSError as e:
            raise Failure(f"{e}: see docs/operations.md", UNAVAILABLE) from None
        os.environ.update(
            MYCITY_PAYMENT_PROVIDER=address,
            MYCITY_PAYMENT_PROVIDER_KEY=keys.api_key,
            MYCITY_PAYMENT_WEBHOOK_KEY=keys.public_key,
        )
        typer.echo(f"payments: the local provider on {address}")
        yield replace(settings, payments=PaymentSettings(address, keys.api_key, (keys.public_key,)))


def check_port(host: str, port: int) -> None:
    """Bind the port and let it go, as uvicorn will bind it: a port in use is said in one
    line before the demo is loaded, its logins printed, or a worker started."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise Failure(
                f"port {port} on {host} is in use: stop what listens there, or serve on "
                "another --port",
                UNAVAILABLE,
            ) from None
        raise Failure(
            f"cannot listen on {host} port {port}: {e.strerror or e}", UNAVAILABLE
        ) from None


def demo() -> None:
    """Load realistic demo data and print how to log in as each user."""
    from mycity.demo import load_demo

    city = open_city()
    try:
        typer.echo(load_demo(city))
    finally:
        city.close()


def export_schema(
    output: Annotated[Path | None, typer.Argument(help="File to write; stdout if omitted.")] = None,
) -> None:
    """Print the GraphQL schema in SDL (the committed schema.graphql)."""
    from mycity.graphql.schema import schema

    text = schema.as_str() + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    if not output.parent.is_dir():
        raise Failure(f"no folder {output.parent}: create it, or write the schema elsewhere")
    output.write_text(text)


def register(cli: typer.Typer) -> None:
    cli.command()(serve)
    cli.command()(demo)
    cli.command("export-schema")(export_schema)
