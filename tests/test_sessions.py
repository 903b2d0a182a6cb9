"""Sessions as clients meet them: retried refreshes, who a refresh is issued to, timing."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from mycity.bootstrap import City
from mycity.domain.errors import ErrorCode
from mycity.identity import credentials
from mycity.identity import tokens as token_module
from mycity.identity.principal import Role
from tests.domain_helpers import refused
from tests.helpers import Api, CitizenFactory


def test_the_same_clients_retry_of_a_refresh_keeps_the_session(
    city: City, people: CitizenFactory
) -> None:
    principal = people.register("续").principal
    pair = city.tokens.issue(principal)
    first = city.sessions.refresh(pair.refresh_token, "retry-1")
    again = city.sessions.refresh(pair.refresh_token, "retry-1")  # the answer was lost
    for renewed in (first, again):
        assert city.tokens.verify(renewed.access_token) == principal
        assert city.sessions.refresh(renewed.refresh_token, None)  # both go on working


def test_a_replay_without_the_retry_key_still_ends_the_session(
    city: City, people: CitizenFactory
) -> None:
    pair = city.tokens.issue(people.register("窃").principal)
    renewed = city.sessions.refresh(pair.refresh_token, "mine")
    for key in (None, "guessed"):
        with refused(ErrorCode.INVALID_TOKEN, "refreshToken"):
            city.sessions.refresh(pair.refresh_token, key)
    with refused(ErrorCode.INVALID_TOKEN):
        city.sessions.refresh(renewed.refresh_token, None)  # the family is revoked


def test_the_retry_grace_is_short(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = city.tokens.issue(people.register("迟").principal)
    city.sessions.refresh(pair.refresh_token, "late")
    later = time.time() + token_module.RETRY_GRACE_SECONDS + 1
    monkeypatch.setattr(token_module.time, "time", lambda: later)
    with refused(ErrorCode.INVALID_TOKEN):
        city.sessions.refresh(pair.refresh_token, "late")


def test_refresh_tokens_keep_no_name(city: City, people: CitizenFactory) -> None:
    person = people.register("无名氏")
    city.tokens.issue(person.principal)
    assert "name" not in city.db.columns("refresh_tokens")
    with city.db.read() as cur:
        rows = cur.execute(f"SELECT * FROM {city.db.table('refresh_tokens')}").fetchall()
    assert rows and all(person.name not in repr(tuple(row)) for row in rows)


def test_a_refresh_is_issued_to_who_holds_the_session_now(city: City) -> None:
    secret = city.clients.add("officer-now", Role.OFFICER, "原名", "SAMR")
    pair = city.sessions.log_in_with_client_credentials("officer-now", secret)
    with city.db.transaction() as cur:
        cur.execute(
            f"UPDATE {city.db.table('api_clients')} SET name = ?, department = ? "
            "WHERE client_id = ?",
            ("新名", "PSB", "officer-now"),
        )
    renewed = city.tokens.verify(city.sessions.refresh(pair.refresh_token).access_token)
    assert (renewed.name, renewed.department) == ("新名", "PSB")
    with city.db.transaction() as cur:
        cur.execute(
            f"UPDATE {city.db.table('api_clients')} SET disabled = 1 WHERE client_id = ?",
            ("officer-now",),
        )
    with refused(ErrorCode.INVALID_TOKEN):  # a disabled client's sessions end
        city.sessions.refresh(city.tokens.issue(renewed).refresh_token)


def test_an_unknown_client_costs_the_same_hashing_as_a_wrong_secret(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    city.clients.add("known-client", Role.AUDITOR, "审计")
    credentials.hash_secret("warm up")  # the unknown client's hash is made once, first
    with refused(ErrorCode.INVALID_CREDENTIALS):
        city.clients.authenticate("nobody", "x")
    calls: list[Any] = []
    scrypt = hashlib.scrypt

    def counted(*args: Any, **kwargs: Any) -> bytes:
        calls.append(kwargs.get("n"))
        return scrypt(*args, **kwargs)

    monkeypatch.setattr(credentials.hashlib, "scrypt", counted)
    for client_id in ("known-client", "unknown-client"):
        with refused(ErrorCode.INVALID_CREDENTIALS):
            city.clients.authenticate(client_id, "wrong secret")
    assert len(calls) == 2 and calls[0] == calls[1]  # one scrypt each, of the same cost


INTROSPECT = "{ __schema { queryType { name } } }"


def test_introspection_is_for_signed_in_callers_outside_development(
    api: Api, city: City, people: CitizenFactory
) -> None:
    errors = api.errors(INTROSPECT)
    assert "introspection" in errors[0]["message"].lower()
    assert api.run("{ __typename }") == {"__typename": "Query"}  # not introspection
    token = city.tokens.access_token(people.register("内").principal)
    assert api.run(INTROSPECT, token=token)["__schema"]["queryType"]["name"] == "Query"


def test_a_subscription_ends_when_its_token_expires(
    api: Api, city: City, people: CitizenFactory
) -> None:
    person = people.register("订")
    lifetime = city.settings.tokens.access_seconds
    token = city.tokens.access_token(person.principal, now=time.time() - lifetime + 4)
    expires = city.tokens.expires_at(token)
    fresh = city.tokens.access_token(person.principal)
    url = api.base_url.replace("http://", "ws://") + "/graphql"
    seen: list[tuple[float, Any]] = []

    def change(n: int) -> None:
        answer = api.run(
            "mutation($a: String!) { changeContact(input: {address: $a}) { userErrors { code } } }",
            {"a": f"路{n}号"},
            fresh,
        )
        assert answer["changeContact"]["userErrors"] == []

    async def watch() -> None:
        transport = WebsocketsTransport(
            url=url,
            init_payload={"authorization": f"Bearer {token}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport) as session:
            try:
                async for item in session.subscribe(
                    gql("subscription { myFileChanges { event } }")
                ):
                    seen.append((time.time(), item))
            except TransportQueryError as e:
                seen.append((time.time(), e.errors))

    async def changes_until_seen_then_after_expiry() -> None:
        n = 0
        while not seen:  # until the subscription is surely listening
            n += 1
            await asyncio.to_thread(change, n)
            await asyncio.sleep(0.1)
        await asyncio.sleep(max(expires - time.time(), 0) + 0.5)
        await asyncio.to_thread(change, n + 1)

    async def both() -> None:
        watching = asyncio.ensure_future(watch())
        await asyncio.wait_for(changes_until_seen_then_after_expiry(), 20)
        await asyncio.wait_for(watching, 20)

    asyncio.run(both())
    *changes, (ended_at, errors) = seen
    assert changes and all(
        item == {"myFileChanges": {"event": "Citizen.ContactChanged"}} for _, item in changes
    )
    assert all(at < expires for at, _ in changes)  # nothing after the token expired
    assert errors[0]["extensions"]["code"] == "TOKEN_EXPIRED" and ended_at >= expires
