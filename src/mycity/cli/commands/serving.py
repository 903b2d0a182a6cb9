"""Serving the API, the demo data, and the schema."""

from __future__ import annotations

import errno
import socket
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mycity.cli.app import UNAVAILABLE, Failure
from mycity.cli.city import open_city


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
    """Run the API with uvicorn (GraphQL at /graphql)."""
    from mycity.server import serve as run

    check_port(host, port)
    city = open_city()
    try:
        if demo:
            from mycity.demo import load_demo

            typer.echo(load_demo(city, f"http://{host}:{port}/graphql"))
        run(city, workers=workers, host=host, port=port, loop=loop.value, access_log=access_log)
    finally:
        city.close()


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
