"""Every mutation over the API at least once, and the promises the docs make of the HTTP side."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from eventsourcing.persistence import IntegrityError
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from mycity.app import create_app
from mycity.bootstrap import City, build
from mycity.demo import CITIZENS, load_demo
from mycity.domain.errors import ErrorCode
from mycity.reads.citizens import CitizenReads
from tests.domain_helpers import refused
from tests.helpers import Api, CitizenFactory, phone

ME = "{ me { citizen { id phone realNameLevel } } }"
CHANGE = """mutation($i: ChangeContactInput!) { changeContact(input: $i) {
  citizen { phone } userErrors { code field } } }"""


def test_a_new_phone_needs_its_code(api: Api, demo: Any) -> None:
    token = api.log_in_citizen(CITIZENS[4].phone)["accessToken"]
    new = phone(961)
    for attempt in ({"phone": new}, {"phone": new, "code": "000000"}):
        answer = api.run(CHANGE, {"i": attempt}, token)["changeContact"]
        assert answer == {
            "citizen": None,
            "userErrors": [{"code": "CODE_INVALID", "field": "code"}],
        }
    api.run(
        "mutation($p: String!) { requestPhoneCode(input: {phone: $p}) { retryAfterSeconds } }",
        {"p": new},
    )
    answer = api.run(CHANGE, {"i": {"phone": new, "code": api.last_code(new)}}, token)
    assert answer["changeContact"] == {"citizen": {"phone": new}, "userErrors": []}


def test_verify_real_name_and_revoke_an_agent_over_the_api(api: Api, demo: Any, city: City) -> None:
    zhao = CITIZENS[5]  # registered, not verified
    token = api.log_in_citizen(zhao.phone)["accessToken"]
    verify = "mutation { verifyRealName { citizen { realNameLevel } userErrors { code } } }"
    assert api.run(verify, token=token)["verifyRealName"] == {
        "citizen": {"realNameLevel": "VERIFIED"},
        "userErrors": [],
    }
    assert api.run(verify, token=token)["verifyRealName"]["userErrors"] == [
        {"code": "ALREADY_VERIFIED"}
    ]

    zhang = api.log_in_citizen(CITIZENS[2].phone)["accessToken"]  # representative of 智行
    memberships = api.run(
        "{ me { citizen { enterprises { edges { node { role enterprise { id agents { edges"
        " { node { person { id name } } } } } } } } } } }",
        token=zhang,
    )["me"]["citizen"]["enterprises"]["edges"]
    enterprise = next(
        m["node"]["enterprise"] for m in memberships if m["node"]["role"] == "LEGAL_REPRESENTATIVE"
    )
    agent = next(
        e["node"]["person"]
        for e in enterprise["agents"]["edges"]
        if e["node"]["person"]["name"] == "刘洋"
    )
    revoke = """mutation($e: ID!, $a: ID!) { revokeAgent(input: {enterpriseId: $e, agentId: $a}) {
      enterprise { agents { edges { node { person { name } } } } } userErrors { code } } }"""
    answer = api.run(revoke, {"e": enterprise["id"], "a": agent["id"]}, zhang)["revokeAgent"]
    assert answer["userErrors"] == []
    assert [e["node"]["person"]["name"] for e in answer["enterprise"]["agents"]["edges"]] == [
        "陈静"
    ]
    again = api.run(revoke, {"e": enterprise["id"], "a": agent["id"]}, zhang)["revokeAgent"]
    assert again["userErrors"] == [{"code": "AGENT_NOT_AUTHORISED"}]


def test_log_out_over_the_api_ends_the_refresh_token(api: Api, demo: Any) -> None:
    tokens = api.log_in_citizen(CITIZENS[0].phone)
    out = """mutation($t: String!) { logOut(input: {refreshToken: $t}) {
      loggedOut userErrors { code } } }"""
    assert api.run(out, {"t": tokens["refreshToken"]})["logOut"] == {
        "loggedOut": True,
        "userErrors": [],
    }
    refresh = (
        "mutation($t: String!) { refreshTokens(input: {refreshToken: $t}) { userErrors { code } } }"
    )
    assert api.run(refresh, {"t": tokens["refreshToken"]})["refreshTokens"]["userErrors"] == [
        {"code": "INVALID_TOKEN"}
    ]


def test_two_subscribers_each_hear_only_their_own_file(api: Api, demo: Any) -> None:
    a = api.log_in_citizen(CITIZENS[0].phone)["accessToken"]
    b = api.log_in_citizen(CITIZENS[2].phone)["accessToken"]
    url = api.base_url.replace("http://", "ws://") + "/graphql"
    heard: dict[str, list[Any]] = {"a": [], "b": []}

    async def listen(who: str, token: str) -> None:
        transport = WebsocketsTransport(
            url=url,
            init_payload={"authorization": f"Bearer {token}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport) as session:
            async for item in session.subscribe(gql("subscription { myFileChanges { version } }")):
                heard[who].append(item)

    def change(token: str, n: int) -> None:
        answer = api.run(CHANGE, {"i": {"address": f"订阅路{n}号"}}, token)["changeContact"]
        assert answer["userErrors"] == []

    async def scenario() -> tuple[int, int]:
        listeners = [asyncio.ensure_future(listen("a", a)), asyncio.ensure_future(listen("b", b))]
        n = 0
        for who, token in (("b", b), ("a", a)):  # until each surely listens: its own changes
            while not heard[who] and n < 200:
                n += 1
                await asyncio.to_thread(change, token, n)
                await asyncio.sleep(0.1)
        a_heard, b_heard = len(heard["a"]), len(heard["b"])
        for m in range(3):  # now both listen, and only B changes
            await asyncio.to_thread(change, b, 1000 + m)
        for _ in range(100):
            if len(heard["b"]) >= b_heard + 3:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # as long again for anything that would reach A
        for listener in listeners:
            listener.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)
        return a_heard, b_heard

    a_heard, b_heard = asyncio.run(scenario())
    assert len(heard["b"]) == b_heard + 3  # B heard its three changes
    assert len(heard["a"]) == a_heard  # and A none of them


def test_readiness_says_503_when_the_store_is_gone(city: City) -> None:
    app = create_app(city=build(city.settings))
    app.state.city.files.close()

    async def ready() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://city") as client:
            return await client.get("/readyz")

    response = asyncio.run(ready())
    assert response.status_code == 503 and response.json() == {"status": "unavailable"}


@pytest.mark.parametrize("dev", [False, True])
def test_graphiql_only_in_development_and_the_keys_cached(city: City, dev: bool) -> None:
    from dataclasses import replace

    app = create_app(city=build(replace(city.settings, dev_mode=dev)))

    async def get(path: str, **headers: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://city") as client:
            return await client.get(path, headers=headers)

    ide = asyncio.run(get("/graphql", accept="text/html"))
    assert (ide.status_code, "GraphiQL is off" in ide.text) == (
        (200, False) if dev else (404, True)
    )
    keys = asyncio.run(get("/.well-known/jwks.json"))
    assert keys.headers["cache-control"] == "public, max-age=300"
    app.state.city.close()


def test_five_lost_races_answer_concurrent_change(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = people.register("抢")
    tries = []

    def always_lose(*aggregates: Any) -> int:
        tries.append(1)
        raise IntegrityError("another writer took the version")

    monkeypatch.setattr(city.files, "commit", always_lose)
    with refused(ErrorCode.CONCURRENT_CHANGE):
        city.citizens.change_contact(person.principal, None, None, "抢路")
    assert len(tries) == 5


def test_a_verified_citizen_registers_their_enterprise_over_the_api(api: Api, demo: Any) -> None:
    token = api.log_in_citizen(CITIZENS[4].phone)["accessToken"]  # verified, no enterprise of hers
    register = """mutation { registerEnterprise(input: {creditCode: "91350100M000100Y43",
      name: "陈记茶行"}) { enterprise { name legalRepresentative { name } }
      userErrors { code } } }"""
    answer = api.run(register, token=token)["registerEnterprise"]
    assert answer == {
        "enterprise": {"name": "陈记茶行", "legalRepresentative": {"name": CITIZENS[4].name}},
        "userErrors": [],
    }
    zhao = api.log_in_citizen(CITIZENS[5].phone)["accessToken"]  # not verified
    other = register.replace("91350100M000100Y43", "91350100M00010102K")
    refused_answer = api.run(other, token=zhao)["registerEnterprise"]
    assert refused_answer == {"enterprise": None, "userErrors": [{"code": "REAL_NAME_REQUIRED"}]}


def test_the_demo_banner_names_the_address_served(city: City) -> None:
    banner = load_demo(city, "http://0.0.0.0:8001/graphql")
    assert "http://0.0.0.0:8001/graphql" in banner and ":8000" not in banner


def test_me_reads_the_profile_and_identifiers_in_one_call_when_it_asks_for_both(
    api: Api, demo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's `me` leaves the event loop once: through fragments and aliases too; a
    request that asks no identifier reads none. Each is asked twice (the second time, what
    its text asks is remembered)."""
    calls: list[str] = []
    for name in ("profile", "identifiers", "profile_with_identifiers"):
        method = getattr(CitizenReads, name)
        monkeypatch.setattr(CitizenReads, name, _spied(calls, name, method))
    wang = CITIZENS[0]
    token = api.log_in_citizen(wang.phone)["accessToken"]
    both = ["profile_with_identifiers", "profile", "identifiers"]  # the first calls the two
    asked = {
        "{ me { citizen { name idNumber phone } } }": both,
        "{ me { ... on Viewer { c: citizen { ...Ids } } } } "
        "fragment Ids on Citizen { ... on Citizen { phone } }": both,
        "{ me { citizen { name realNameLevel } } }": ["profile"],
    }
    for query, expected in [*asked.items(), *asked.items()]:
        calls.clear()
        answer = api.run(query, token=token)["me"]
        assert calls == expected, query
        citizen = answer.get("citizen") or answer["c"]
        assert citizen.get("phone", wang.phone) == wang.phone
        assert citizen.get("idNumber", wang.id_number) == wang.id_number


def _spied(calls: list[str], name: str, method: Any) -> Any:
    def spy(self: Any, *args: Any) -> Any:
        calls.append(name)
        return method(self, *args)

    return spy
