"""`mycity clients list|disable|enable`, end to end: a partner provisioned and disabled from
the command line, met by the served API."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from typer.testing import CliRunner

from mycity.cli import cli
from mycity.identity import cutoffs
from tests.conftest import Served
from tests.helpers import Api
from tests.test_cli_mistakes import one_line

LOG_IN = """mutation($i: String!, $s: String!) { logInWithClientCredentials(
  input: {clientId: $i, clientSecret: $s}) { tokens { accessToken refreshToken }
  userErrors { code } } }"""
REFRESH = """mutation($r: String!) { refreshTokens(input: {refreshToken: $r}) {
  tokens { accessToken } userErrors { code } } }"""
ME = "{ me { subject role } }"


class CutoffClock:
    """The clock the cut-offs are reloaded by, at a moment the test sets: each process reads
    them again once `refresh_seconds` have passed (another process's cut is seen then)."""

    time = staticmethod(time.time)  # the wall clock, as it is

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def mycity(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args, env=env)
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


def log_in(api: Api, client_id: str, secret: str) -> dict[str, Any]:
    found: dict[str, Any] = api.run(LOG_IN, {"i": client_id, "s": secret})
    return found["logInWithClientCredentials"]


def test_a_disabled_partner_is_cut_off_and_an_enabled_one_signs_in_again(
    api: Api, served: Served, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = CutoffClock()
    monkeypatch.setattr(cutoffs, "time", clock)
    code, added = mycity(
        ["partner", "add", "venue-e2e", "--role", "VENUE", "--name", "试点酒店"], env
    )
    assert code == 0, added
    secret = json.loads(added)["clientSecret"]
    session = log_in(api, "venue-e2e", secret)["tokens"]
    assert api.run(ME, token=session["accessToken"])["me"]["role"] == "VENUE"  # cut-offs read

    code, said = mycity(["clients", "disable", "venue-e2e"], env)
    assert (code, said) == (
        0,
        "disabled venue-e2e (VENUE, 试点酒店): it cannot sign in, and its sessions have ended\n",
    )
    code, listed = mycity(["clients", "list"], env)
    assert code == 0 and listed.splitlines()[0].split() == [
        "client", "id", "role", "department", "status", "name"
    ]  # fmt: skip
    assert ["venue-e2e", "VENUE", "-", "disabled", "试点酒店"] in [
        line.split() for line in listed.splitlines()
    ]
    assert secret not in listed and "scrypt" not in listed

    assert log_in(api, "venue-e2e", secret)["userErrors"] == [{"code": "INVALID_CREDENTIALS"}]
    refreshed = api.run(REFRESH, {"r": session["refreshToken"]})["refreshTokens"]
    assert refreshed["userErrors"] == [{"code": "INVALID_TOKEN"}]  # its refresh tokens are gone
    old = session["accessToken"]
    clock.now += served.app.state.city.tokens.cutoffs.refresh_seconds  # 5 s, to the end
    assert api.run(ME, token=old)["me"]["subject"] == "venue-e2e"  # not looked again yet
    clock.now += 0.001
    assert api.errors(ME, token=old)[0]["extensions"]["code"] == "UNAUTHENTICATED"  # now cut

    code, said = mycity(["clients", "enable", "venue-e2e"], env)
    assert (code, said) == (0, "enabled venue-e2e (VENUE, 试点酒店): it can sign in\n")
    again = log_in(api, "venue-e2e", secret)
    assert again["userErrors"] == []
    assert api.run(ME, token=again["tokens"]["accessToken"])["me"]["subject"] == "venue-e2e"


@pytest.mark.parametrize("command", ["disable", "enable"])
def test_an_unknown_client_says_how_to_list_them(env: dict[str, str], command: str) -> None:
    code, output = mycity(["clients", command, "nobody-here"], env)
    assert (code, one_line(output)) == (
        1,
        "error: no client 'nobody-here': `mycity clients list` lists them",
    )
