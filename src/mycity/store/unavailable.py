"""Which failures mean the store is out of reach for a moment, not that something is wrong
with the request or the code: a connection dropped or refused, a pool with none free, a
database restarting or failing over, SQLite busy past its timeout. The answer to them is
"try again shortly" (`domain.errors.Unavailable`), never "unexpected error".
"""

from __future__ import annotations

import logging
import sqlite3
import sys

import psycopg
import psycopg_pool
from eventsourcing.persistence import ConnectionUnavailableError

TRANSIENT: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,  # a connection refused or dropped, its server shutting down
    psycopg.InterfaceError,  # a connection found closed
    psycopg_pool.PoolTimeout,  # no connection free in time
    ConnectionUnavailableError,  # eventsourcing's own pool: none free in time
)


def is_unavailable(error: BaseException | None) -> bool:
    """Whether this error, or one that caused it, is the store being out of reach (the
    drivers' errors are told apart, since eventsourcing wraps them all alike: an SQLite
    syntax error and a busy database are both its OperationalError)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, TRANSIENT):
            return True
        if isinstance(error, sqlite3.OperationalError):
            return "locked" in str(error) or "busy" in str(error)
        error = error.__cause__ or error.__context__
    return False


def log_failure(log: logging.Logger, message: str, *args: object) -> None:
    """Log the exception being handled: the store out of reach in one line at WARNING (a
    blip to see in the logs, no bug to trace), anything else with its traceback."""
    error = sys.exc_info()[1]
    if is_unavailable(error):
        log.warning(message + " (the store is out of reach: %s)", *args, error)
    else:
        log.exception(message, *args)
