"""GraphQL over HTTP as clients expect it: the spec's own server audit finds nothing, and the
answers negotiate their media type."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from mycity.bootstrap import City
from mycity.graphql.view import GRAPHQL_RESPONSE, accepted
from tests.helpers import AUDITOR

AUDIT = Path(__file__).parent / "audit" / "graphql_http.mjs"
MODULES = Path(os.environ.get("MYCITY_AUDIT_MODULES", Path.home() / ".cache" / "mycity-audit"))


def audit_modules() -> Path:
    """graphql-http, installed once into a cache beside the repository's tests."""
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are needed for graphql-http's audit (Debian: nodejs, npm)")
    modules = MODULES / "node_modules"
    if not (modules / "graphql-http").exists():
        MODULES.mkdir(parents=True, exist_ok=True)
        installed = subprocess.run(
            [
                "npm",
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "graphql-http@1",
                "graphql@16",
            ],
            cwd=MODULES,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if installed.returncode != 0:
            problem = f"npm could not install graphql-http: {installed.stderr.strip()[:300]}"
            if os.environ.get("CI") == "true":
                pytest.fail(problem)
            pytest.skip(problem)
    return modules


def test_the_graphql_over_http_audit_finds_nothing(server: str, city: City) -> None:
    modules = audit_modules()
    done = subprocess.run(
        ["node", str(AUDIT), f"{server}/graphql"],
        env=os.environ
        | {"AUDIT_MODULES": str(modules), "AUDIT_TOKEN": city.tokens.access_token(AUDITOR)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results = json.loads(done.stdout)
    assert len(results) > 50
    problems = [r for r in results if r["status"] not in ("ok", "notice")]
    assert problems == []


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/json;q=0.5, application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json;q=0.2, application/json", "application/json"),
        ("application/graphql-response+json;q=0", "application/json"),
    ],
)
def test_the_media_type_follows_the_accept_header(accept: str | None, media: str) -> None:
    assert accepted(accept) == media


def test_a_request_never_executed_is_a_400_without_data(server: str) -> None:
    headers = {"accept": GRAPHQL_RESPONSE}
    for body in ({"query": "{ me { "}, {"query": "{ nothing }"}):
        response = httpx.post(f"{server}/graphql", json=body, headers=headers)
        assert response.status_code == 400
        assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        assert "data" not in response.json() and response.json()["errors"]
    unauthenticated = httpx.post(
        f"{server}/graphql", json={"query": "{ me { role } }"}, headers=headers
    )
    assert unauthenticated.status_code == 200  # executed: a field refused, with its path
    assert unauthenticated.json()["data"] is None


def test_queries_work_over_get_and_mutations_do_not(server: str) -> None:
    query = httpx.get(f"{server}/graphql", params={"query": "{ __typename }"})
    assert query.status_code == 200 and query.json() == {"data": {"__typename": "Query"}}
    mutation = httpx.get(
        f"{server}/graphql",
        params={"query": 'mutation { logOut(input: {refreshToken: "x"}) { loggedOut } }'},
    )
    assert mutation.status_code == 405
