"""How a caller sends an access token, and what they are told when they send it wrong: in the
Authorization header (GraphQL over HTTP, POST /uploads) and in a WebSocket's connection_init.

The scheme is `Bearer` (RFC 6750), its name in any case (RFC 9110 section 11.1: schemes are
case-insensitive). Credentials in any other form are refused with how to send them, rather
than taken for no credentials at all."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from mycity.bootstrap import City
from tests.helpers import CitizenFactory

ME = "{ me { name } }"
INTROSPECT = "{ __schema { queryType { name } } }"
PDF = b"%PDF-1.7 a small document"


@pytest.fixture
def token(city: City, people: CitizenFactory) -> str:
    return city.tokens.access_token(people.register("令").principal)


def ask(server: str, query: str, authorization: str | None = None) -> dict[str, Any]:
    headers = {} if authorization is None else {"authorization": authorization}
    answer = httpx.post(f"{server}/graphql", json={"query": query}, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def refusal(answer: dict[str, Any]) -> tuple[str, str]:
    (error,) = answer["errors"]
    return error["extensions"]["code"], error["message"]


def wrong_forms(token: str) -> list[str]:
    """The token sent in forms other than the Bearer scheme."""
    return [token, f"Token {token}", f"JWT {token}", "Bearer", f"Bearer:{token}", "Basic dTpw"]


def test_the_bearer_scheme_is_taken_in_any_case(server: str, token: str) -> None:
    for scheme in ("Bearer", "bearer", "BEARER", "bEaReR"):
        assert ask(server, ME, f"{scheme} {token}")["data"] == {"me": {"name": "令"}}, scheme
    assert ask(server, ME, f"Bearer   {token}")["data"] == {"me": {"name": "令"}}  # 1*SP


def test_a_token_not_in_the_bearer_scheme_is_told_how_to_send_it(server: str, token: str) -> None:
    for authorization in wrong_forms(token):
        code, message = refusal(ask(server, ME, authorization))
        assert code == "UNAUTHENTICATED", authorization
        assert "Authorization: Bearer <access token>" in message, authorization
    # without any credentials, the same field says to sign in
    assert refusal(ask(server, ME)) == ("UNAUTHENTICATED", "Sign in first")


def test_an_expired_or_forged_token_says_which(
    server: str, city: City, people: CitizenFactory
) -> None:
    principal = people.register("旧").principal
    lifetime = city.settings.tokens.access_seconds
    expired = city.tokens.access_token(principal, now=time.time() - lifetime - 1)
    assert refusal(ask(server, ME, f"Bearer {expired}"))[0] == "TOKEN_EXPIRED"
    forged = city.tokens.access_token(principal)[:-4] + "AAAA"
    assert refusal(ask(server, ME, f"Bearer {forged}")) == (
        "UNAUTHENTICATED",
        "The access token is not valid",
    )


def test_introspection_without_a_token_says_what_it_needs(server: str, token: str) -> None:
    for authorization in (None, token):  # none, or not in the Bearer scheme
        code, message = refusal(ask(server, INTROSPECT, authorization))
        assert code == "UNAUTHENTICATED"
        assert "signed-in caller" in message
        assert "Authorization: Bearer <access token>" in message and "MYCITY_DEV=1" in message
    answer = ask(server, INTROSPECT, f"bearer {token}")
    assert answer["data"]["__schema"]["queryType"]["name"] == "Query"


def upload(server: str, authorization: str | None) -> httpx.Response:
    headers = {} if authorization is None else {"authorization": authorization}
    return httpx.post(f"{server}/uploads", content=PDF, headers=headers, timeout=30)


def test_uploads_take_the_same_credentials_and_say_the_same(
    server: str, city: City, people: CitizenFactory, token: str
) -> None:
    assert upload(server, f"bearer {token}").status_code == 201
    for authorization in wrong_forms(token):
        answer = upload(server, authorization)
        assert answer.status_code == 401, authorization
        assert answer.json()["code"] == "UNAUTHENTICATED", authorization
        assert "Authorization: Bearer <access token>" in answer.json()["message"], authorization
    nothing = upload(server, None)
    assert (nothing.status_code, nothing.json()["code"]) == (401, "UNAUTHENTICATED")
    lifetime = city.settings.tokens.access_seconds
    principal = people.register("期").principal
    expired = city.tokens.access_token(principal, now=time.time() - lifetime - 1)
    late = upload(server, f"Bearer {expired}")
    assert (late.status_code, late.json()["code"]) == (401, "TOKEN_EXPIRED")


def over_websocket(server: str, init_payload: dict[str, Any]) -> Any:
    """The answer to ME over a WebSocket, or the refusal's code and message."""
    transport = WebsocketsTransport(
        url=server.replace("http://", "ws://") + "/graphql",
        init_payload=init_payload,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )

    async def run() -> Any:
        async with Client(transport=transport) as session:
            try:
                return await session.execute(gql(ME))
            except TransportQueryError as e:
                return refusal({"errors": e.errors})

    return asyncio.run(run())


def test_connection_init_takes_the_same_credentials_and_says_how_to_send_them(
    server: str, token: str
) -> None:
    me = {"me": {"name": "令"}}
    assert over_websocket(server, {"authorization": f"bearer {token}"}) == me
    assert over_websocket(server, {"Authorization": f"Bearer {token}"}) == me  # as a header
    for authorization in wrong_forms(token):
        code, message = over_websocket(server, {"authorization": authorization})
        assert code == "UNAUTHENTICATED", authorization
        assert '{"authorization": "Bearer <access token>"}' in message, authorization
    assert over_websocket(server, {}) == ("UNAUTHENTICATED", "Sign in first")
