"""The command's root: options, logging, and one line for every mistake."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from mycity.domain.calendar import CalendarError
from mycity.domain.catalogue import CatalogueError
from mycity.domain.errors import UserError
from mycity.identity.keys import MissingKeyError
from mycity.settings import SettingsError
from mycity.store.preflight import StoreUnavailable

BAD_INPUT, UNAVAILABLE = 2, 1


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Logs to whatever `sys.stderr` is when a record comes, not when the command began: a
    command run inside another program (a test's runner) must not leave its logs bound to a
    stream that program has since closed."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


class Failure(Exception):
    """A mistake the command reports in one line, with its exit code."""

    def __init__(self, message: str, code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


def _one_line(error: BaseException) -> tuple[str, int]:
    if isinstance(error, Failure):
        return str(error), error.code
    if isinstance(error, SettingsError | MissingKeyError | CatalogueError | CalendarError):
        return str(error), BAD_INPUT
    if isinstance(error, UserError):
        return f"{error.code.value}: {error.message}", BAD_INPUT
    if isinstance(error, StoreUnavailable):
        return str(error), UNAVAILABLE
    if isinstance(error, OSError) and error.filename:
        reason = error.strerror or type(error).__name__
        return f"cannot use {error.filename}: {reason}; check the paths the settings name", 1
    return f"{type(error).__name__}: {error} (run with -v for the traceback)", UNAVAILABLE


class CityGroup(TyperGroup):
    """Every mistake, a usage error too, is one line on stderr with its exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except typer.Exit as e:
            code = e.exit_code
        except typer.TyperException as e:  # a usage error: the wrong option or value
            typer.echo(f"error: {e.format_message()} (see --help)", err=True)
            code = BAD_INPUT
        except (typer.Abort, KeyboardInterrupt):
            typer.echo("stopped", err=True)
            code = UNAVAILABLE
        except Exception as error:
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                raise
            message, code = _one_line(error)
            typer.echo(f"error: {message}", err=True)
        sys.exit(code if isinstance(code, int) else 0)


cli = typer.Typer(
    cls=CityGroup,
    help="mycity: the event-sourced backend of a city's citizen-services app.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@cli.callback()
def main_options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs, tracebacks.")] = (
        False
    ),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[StderrHandler()],
        force=True,
    )
    # httpx logs each request at INFO: the payment provider's traffic, not the city's news
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose else logging.WARNING)
