"""The store out of reach for a moment is answered as such: SERVICE_UNAVAILABLE with when to
try again, over GraphQL and the plain endpoints alike, never "Unexpected error."."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import replace
from typing import Any

import httpx
import psycopg
import psycopg_pool
import pytest
from eventsourcing.persistence import OperationalError, ProgrammingError

from mycity.bootstrap import City
from mycity.settings import ReadModelSettings
from mycity.store.unavailable import is_unavailable
from tests.conftest import POSTGRES_URL, serving
from tests.helpers import CitizenFactory


def wrapped(cause: BaseException, wrapper: type[Exception] = OperationalError) -> Exception:
    """An error as eventsourcing raises it: its own class, the driver's as its cause."""
    try:
        try:
            raise cause
        except BaseException as e:
            raise wrapper(str(e)) from e
    except Exception as outer:
        return outer


@pytest.mark.parametrize(
    ("error", "out_of_reach"),
    [
        (psycopg.OperationalError("server closed the connection unexpectedly"), True),
        (wrapped(psycopg.OperationalError("terminating connection")), True),
        (wrapped(psycopg.InterfaceError("the connection is closed")), True),
        (psycopg_pool.PoolTimeout("couldn't get a connection after 30.00 sec"), True),
        (wrapped(sqlite3.OperationalError("database is locked")), True),
        (wrapped(sqlite3.OperationalError("no such table: stored_events")), False),
        (wrapped(sqlite3.OperationalError('near "SELEC": syntax error')), False),
        (wrapped(psycopg.ProgrammingError("syntax error"), ProgrammingError), False),
        (ValueError("a bug"), False),
        (None, False),
    ],
)
def test_what_counts_as_the_store_out_of_reach(
    error: BaseException | None, out_of_reach: bool
) -> None:
    assert is_unavailable(error) is out_of_reach


ME = '{"query": "{ me { citizen { name } } }"}'


def answer_of(response: httpx.Response) -> str:
    """ "ok", or the code of the one error the answer carries."""
    body: dict[str, Any] = response.json()
    if not body.get("errors"):
        return "ok"
    [error] = body["errors"]
    code = error.get("extensions", {}).get("code")
    if code == "SERVICE_UNAVAILABLE":
        assert int(error["extensions"]["retryAfterSeconds"]) > 0
    return str(code or error["message"])


def test_dropped_connections_are_answered_as_a_moment_out_of_reach(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not city.settings.is_postgres:
        pytest.skip("dropping a server's connections is PostgreSQL's (SQLite has none)")
    name = f"mycity-drop-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", name)  # libpq names every connection the server makes
    person = CitizenFactory(city).register("断线")
    token = city.tokens.access_token(person.principal)
    settings = replace(city.settings, read_models=ReadModelSettings(inline=True))
    with serving(settings) as served, httpx.Client(timeout=30) as client:

        def ask() -> str:
            return answer_of(
                client.post(
                    f"{served.url}/graphql",
                    content=ME,
                    headers={
                        "content-type": "application/json",
                        "authorization": f"Bearer {token}",
                    },
                )
            )

        assert ask() == "ok"
        with psycopg.connect(POSTGRES_URL, autocommit=True, application_name="admin") as admin:
            dropped = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (name,),
            ).fetchone()
        assert dropped and dropped[0] > 0
        answers = [ask() for _ in range(30)]
        status = client.get(f"{served.url}/licences/status/AMR")
    assert set(answers) <= {"ok", "SERVICE_UNAVAILABLE"}, answers
    assert "SERVICE_UNAVAILABLE" in answers, answers  # the dead connections were met
    assert answers[-1] == "ok"  # and replaced
    assert status.status_code in (200, 503)
    if status.status_code == 503:
        assert status.json()["code"] == "SERVICE_UNAVAILABLE" and status.headers["retry-after"]
