"""Fixtures: every storage test runs on SQLite and on a real PostgreSQL.

PostgreSQL is found at MYCITY_TEST_POSTGRES_URL (default: the local server's `test`
database). Each test gets a schema of its own, dropped afterwards. Where PostgreSQL
cannot be reached its tests skip and say why, except with CI=true, where that fails.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn

from mycity.app import create_app
from mycity.bootstrap import City, build
from mycity.demo import load_demo
from mycity.graphql.context import STORE_THREAD_NAME
from mycity.identity.keys import KeyStore
from mycity.server import options
from mycity.settings import PhoneCodeSettings, ReadModelSettings, Settings
from tests.helpers import Api, CitizenFactory, free_port
from tests.payments_helpers import (
    PAYEES,
    LocalProvider,
    paying_city,
    provider_process,
)

POSTGRES_URL = os.environ.get(
    "MYCITY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
_postgres_problem: str | None = None


def _postgres_reachable() -> str | None:
    global _postgres_problem
    if _postgres_problem is None:
        try:
            with psycopg.connect(POSTGRES_URL, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _postgres_problem = ""
        except psycopg.Error as e:
            _postgres_problem = f"PostgreSQL at {POSTGRES_URL} is unreachable: {e}".strip()
    return _postgres_problem or None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL: an SQLite file, or a fresh schema in PostgreSQL."""
    if request.param == "sqlite":
        yield str(tmp_path / "mycity.sqlite")
        return
    problem = _postgres_reachable()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem} (CI=true requires PostgreSQL)")
        pytest.skip(problem)
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def settings(store: str, tmp_path: Path) -> Settings:
    keys_dir = tmp_path / "keys"
    KeyStore(keys_dir, generate_missing=True).init()
    return Settings(
        data_dir=tmp_path,
        database_url=store,
        keys_dir=keys_dir,
        read_models=ReadModelSettings(inline=False),
        phone_codes=PhoneCodeSettings(resend_seconds=0),
    )


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    """The environment that points the `mycity` command at the test's store."""
    return {
        "MYCITY_DATA_DIR": str(settings.data_dir),
        "MYCITY_DATABASE_URL": settings.database_url,
        "MYCITY_KEYS_DIR": str(settings.keys_dir),
    }


@pytest.fixture
def city(settings: Settings) -> Iterator[City]:
    city = build(settings)
    yield city
    city.close()


@pytest.fixture
def people(city: City) -> CitizenFactory:
    return CitizenFactory(city)


@dataclass(frozen=True)
class Served:
    url: str
    app: Any  # the Starlette app, to look inside (its GraphQL view, its city)


@contextmanager
def serving(settings: Settings, port: int | None = None) -> Iterator[Served]:
    """The real ASGI app of a city built from these settings, served by uvicorn on the port
    (a free one if none) until the block ends; the server thread is joined."""
    live = build(settings)
    port = port or free_port()
    app = create_app(city=live)
    # As `mycity serve` serves it (its limits among them), less chatty.
    config = uvicorn.Config(app, **(options("127.0.0.1", port) | {"log_level": "warning"}))
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True, name="uvicorn")
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not uvicorn_server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield Served(f"http://127.0.0.1:{port}", app)
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=15)
        live.close()
        assert not thread.is_alive(), "uvicorn did not stop"


@pytest.fixture
def served(city: City) -> Iterator[Served]:
    """The served app, read models kept by its inline runner."""
    with serving(replace(city.settings, read_models=ReadModelSettings(inline=True))) as found:
        yield found


@pytest.fixture
def server(served: Served) -> str:
    """The served app's URL."""
    return served.url


@pytest.fixture
def api(server: str, city: City) -> Api:
    """A real GraphQL client against the served app."""
    return Api(server, city.settings.sms_outbox)


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[LocalProvider]:
    """The local payment provider, its own process, with the payees' accounts the tests
    charge for (shops, a department, the transit operators)."""
    with provider_process(tmp_path / "provider") as found:
        for account in PAYEES:
            found.open(account, "payee")
        yield found


@pytest.fixture
def paying(settings: Settings, provider: LocalProvider) -> Iterator[City]:
    """A city that pays through the provider."""
    with paying_city(settings, provider) as city:
        yield city


@pytest.fixture
def demo(city: City) -> dict[str, dict[str, str]]:
    """The demo data; the staff and partner logins by client id."""
    load_demo(city)
    return dict(json.loads((city.settings.data_dir / "demo-logins.json").read_text()))


@pytest.fixture(autouse=True)
def logging_left_as_found() -> Iterator[None]:
    """Each `mycity` command sets the root logger's handler and level (INFO); left in place,
    every later test would log its INFO lines, a failure's output buried under them."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


@pytest.fixture(autouse=True)
def no_thread_left_running() -> Iterator[None]:
    """A test stops and joins every thread it starts (a thread left running once crashed a
    later test's clean-up); the process's pool of threads for store calls stays by design."""
    before = set(threading.enumerate())
    yield
    fail_on_threads_left(before, (STORE_THREAD_NAME,))


def fail_on_threads_left(before: set[threading.Thread], kept: tuple[str, ...]) -> None:
    """Fail if a thread started since `before` is still alive after 5 s, unless its name
    begins with one of `kept`."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        left = [
            t
            for t in threading.enumerate()
            if t not in before and t.is_alive() and not t.name.startswith(kept)
        ]
        if not left:
            return
        time.sleep(0.02)
    pytest.fail(f"threads left running: {sorted(t.name for t in left)}")
