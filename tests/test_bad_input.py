"""Bad input gets a typed error or a GraphQL validation error: never an internal error, never
a 5xx, and nothing of it in the logs."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import httpx
import pytest

from mycity.demo import CITIZENS
from tests.helpers import Api

REFRESH = (
    "mutation($t: String!) { refreshTokens(input: {refreshToken: $t}) { userErrors { code } } }"
)
LOG_OUT = "mutation($t: String!) { logOut(input: {refreshToken: $t}) { userErrors { code } } }"
CLIENT = (
    "mutation($i: String!, $s: String!) { logInWithClientCredentials("
    "input: {clientId: $i, clientSecret: $s}) { userErrors { code } } }"
)
PHONE_CODE = (
    'mutation($c: String!) { logInWithPhoneCode(input: {phone: "13900000001", code: $c}) '
    "{ userErrors { code } } }"
)
DIRECTORY = (
    "query($s: String!, $a: String) { directory(search: $s, after: $a) { edges { cursor } } }"
)
NODE = "query($i: ID!) { node(id: $i) { id } }"


def post(server: str, body: Any, token: str | None = None, raw: bool = False) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    content = body if raw else json.dumps(body)  # json.dumps writes lone surrogates as \\ud800
    return httpx.post(f"{server}/graphql", content=content, headers=headers, timeout=30)


def gid(type_name: str, node_id: str) -> str:
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


def assert_refused_cleanly(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert "Unexpected error" not in response.text, response.text


@pytest.mark.parametrize("bad", ["\ud800", "a\udfffb", "a\x00b"])
def test_unstorable_strings_are_refused_whole(server: str, bad: str) -> None:
    for query, variables in [
        (REFRESH, {"t": bad}),
        (LOG_OUT, {"t": bad}),
        (CLIENT, {"i": bad, "s": "x"}),
        (CLIENT, {"i": "client-x", "s": bad}),
        (PHONE_CODE, {"c": bad}),
        (DIRECTORY, {"s": bad}),
        (DIRECTORY, {"s": "", "a": bad}),
    ]:
        response = post(server, {"query": query, "variables": variables})
        assert response.status_code == 400, (query, response.text)
    inline = post(server, {"query": '{ directory(search: "' + bad + '") { edges { cursor } } }'})
    assert inline.status_code == 400


def test_malformed_ids_and_cursors_are_typed_errors(
    api: Api, server: str, demo: dict[str, dict[str, str]]
) -> None:
    officer = api.log_in_client("officer-psb-01", demo["officer-psb-01"]["secret"])
    for node_id, code in [
        (gid("Citizen", "not-a-uuid"), "INVALID_ID"),
        (gid("Enterprise", "123"), "INVALID_ID"),
        (gid("Payment", "00000000-0000-0000-0000-000000000000"), "INVALID_ID"),
    ]:
        errors = api.errors(NODE, {"i": node_id}, officer)
        assert errors[0]["extensions"]["code"] == code, errors
    nested = base64.urlsafe_b64encode(b"[" * 150_000).decode()  # deeper than Python recurses
    for cursor in (nested, "%%%", base64.urlsafe_b64encode(b"\xff\xfe").decode()):
        errors = api.errors(DIRECTORY, {"s": "", "a": cursor}, officer)
        assert errors[0]["extensions"] == {"code": "INVALID_ARGUMENT", "field": "after"}
    errors = api.errors(DIRECTORY, {"s": "王" * 50_000}, officer)
    assert errors[0]["extensions"] == {"code": "INVALID_ARGUMENT", "field": "search"}


@pytest.mark.parametrize("body", [b"null", b'"abc"', b"[1]", b"42", b"{", b"[" * 100_000])
def test_a_body_that_is_not_a_request_is_a_400(server: str, body: bytes) -> None:
    response = post(server, body, raw=True)
    assert response.status_code == 400, response.text


def test_client_mistakes_are_logged_as_such_without_the_input(
    api: Api, server: str, demo: Any, caplog: pytest.LogCaptureFixture
) -> None:
    number = CITIZENS[0].id_number
    token = api.log_in_citizen(CITIZENS[0].phone)["accessToken"]
    caplog.set_level(logging.INFO)
    caplog.clear()
    mistakes = [
        {"query": "{ me { role " + number},  # a syntax error that echoes the input
        {"query": "{ me { " + "x" + number[:6] + " } }"},  # an unknown field
        {"query": "{ " + " ".join(f"a{i}: me {{ role }}" for i in range(20)) + " }"},
        {"query": NODE, "variables": {"i": gid("Citizen", number)}},  # the number as an id
        {"query": NODE, "variables": {"i": number}},  # not even a global id
    ]
    for body in mistakes:
        assert_refused_cleanly(post(server, body, token))
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert not any(number in r.getMessage() or number[:6] in r.getMessage() for r in caplog.records)
    assert any("Refused a GraphQL request" in r.getMessage() for r in caplog.records)
