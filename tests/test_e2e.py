"""End to end: the real ASGI app under uvicorn, driven over HTTP and WebSocket by gql."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from mycity.bootstrap import City
from mycity.demo import CITIZENS, ENTERPRISES
from mycity.projections.store import LiveRows
from tests.conftest import Served
from tests.helpers import Api, resident_id

ME = """{ me { role citizen { id name idNumber phone realNameLevel
  enterprises { edges { node { role scopes enterprise { id name creditCode } } } } } } }"""


def memberships(me: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in me["citizen"]["enterprises"]["edges"]]


def test_demo_citizen_reads_own_profile_and_is_refused_another(api: Api, demo: object) -> None:
    wang, li = CITIZENS[0], CITIZENS[1]
    token = api.log_in_citizen(wang.phone)["accessToken"]

    me = api.run(ME, token=token)["me"]
    assert me["role"] == "CITIZEN"
    assert me["citizen"]["name"] == wang.name
    assert me["citizen"]["idNumber"] == wang.id_number  # one's own number, unmasked
    assert me["citizen"]["realNameLevel"] == wang.level
    assert [m["role"] for m in memberships(me)] == ["AGENT"]

    li_token = api.log_in_citizen(li.phone)["accessToken"]
    li_id = api.run(ME, token=li_token)["me"]["citizen"]["id"]
    errors = api.errors("query($id: ID!) { citizen(id: $id) { name } }", {"id": li_id}, token)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    errors = api.errors("query($id: ID!) { node(id: $id) { id } }", {"id": li_id}, token)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


def test_register_log_in_refresh_and_log_out(api: Api) -> None:
    phone, number = "13912345678", resident_id(777)
    api.run('mutation { requestPhoneCode(input: {phone: "13912345678"}) { retryAfterSeconds } }')
    register = """mutation($input: RegisterCitizenInput!) { registerCitizen(input: $input) {
        citizen { name idNumber phone realNameLevel } tokens { accessToken refreshToken }
        userErrors { field code message } } }"""
    wrong = {"idNumber": number, "name": "赵六", "phone": phone, "code": "000000"}
    payload = api.run(register, {"input": wrong})["registerCitizen"]
    assert payload["citizen"] is None
    assert payload["userErrors"][0]["code"] in {"CODE_INVALID"}
    assert payload["userErrors"][0]["field"] == "code"

    good = wrong | {"code": api.last_code(phone)}
    payload = api.run(register, {"input": good})["registerCitizen"]
    assert payload["userErrors"] == []
    assert payload["citizen"] == {
        "name": "赵六",
        "idNumber": number,
        "phone": phone,
        "realNameLevel": "REGISTERED",
    }
    tokens = payload["tokens"]
    assert api.run(ME, token=tokens["accessToken"])["me"]["citizen"]["name"] == "赵六"

    refresh = """mutation($t: String!) { refreshTokens(input: {refreshToken: $t}) {
        tokens { accessToken refreshToken } userErrors { code } } }"""
    renewed = api.run(refresh, {"t": tokens["refreshToken"]})["refreshTokens"]
    assert renewed["userErrors"] == []
    replayed = api.run(refresh, {"t": tokens["refreshToken"]})["refreshTokens"]
    assert replayed["userErrors"] == [{"code": "INVALID_TOKEN"}]
    # The replay revoked the whole family: the renewed token is dead too.
    again = api.run(refresh, {"t": renewed["tokens"]["refreshToken"]})["refreshTokens"]
    assert again["userErrors"] == [{"code": "INVALID_TOKEN"}]


def test_bad_input_gets_typed_user_errors(api: Api) -> None:
    api.run('mutation { requestPhoneCode(input: {phone: "13900000099"}) { retryAfterSeconds } }')
    code = api.last_code("13900000099")
    number = resident_id(778)
    wrong_check = number[:17] + ("0" if number[17] != "0" else "1")
    payload = api.run(
        """mutation($i: RegisterCitizenInput!) { registerCitizen(input: $i) {
        citizen { id } userErrors { field code } } }""",
        {"i": {"idNumber": wrong_check, "name": "x", "phone": "13900000099", "code": code}},
    )["registerCitizen"]
    assert payload == {
        "citizen": None,
        "userErrors": [{"field": "idNumber", "code": "CHECK_CHARACTER_MISMATCH"}],
    }
    fixed = api.run(
        """mutation($i: RegisterCitizenInput!) { registerCitizen(input: $i) {
        citizen { name } userErrors { field code } } }""",
        {"i": {"idNumber": number, "name": "x", "phone": "13900000099", "code": code}},
    )["registerCitizen"]
    assert fixed == {"citizen": {"name": "x"}, "userErrors": []}  # the typo did not spend the code
    payload = api.run(
        'mutation { requestPhoneCode(input: {phone: "12345"}) { userErrors { field code } } }'
    )["requestPhoneCode"]
    assert payload["userErrors"] == [{"field": "phone", "code": "INVALID_PHONE"}]


def test_staff_log_in_search_the_directory_and_see_full_numbers(
    api: Api, demo: dict[str, dict[str, str]]
) -> None:
    officer = api.log_in_client("officer-psb-01", demo["officer-psb-01"]["secret"])
    auditor = api.log_in_client("auditor-01", demo["auditor-01"]["secret"])
    merchant = api.log_in_client("merchant-wuling-01", demo["merchant-wuling-01"]["secret"])
    search = """query($s: String!, $after: String) {
      directory(search: $s, first: 1, after: $after, purpose: "counter: finding a file") {
        edges { cursor node { id kind name identifier } } pageInfo { hasNextPage endCursor } } }"""
    first = api.run(search, {"s": ""}, officer)["directory"]  # every enterprise, by name
    assert len(first["edges"]) == 1 and first["pageInfo"]["hasNextPage"]
    second = api.run(search, {"s": "", "after": first["pageInfo"]["endCursor"]}, officer)
    entries = [e["node"] for e in first["edges"] + second["directory"]["edges"]]
    assert len({e["name"] for e in entries}) == len(ENTERPRISES) == len(entries)
    assert {e["kind"] for e in entries} == {"ENTERPRISE"}

    assert api.run(search, {"s": "王"}, officer)["directory"]["edges"] == []  # no prefixes
    wang = api.run(search, {"s": CITIZENS[0].name}, officer)["directory"]["edges"][0]["node"]
    assert wang["kind"] == "CITIZEN" and "*" in wang["identifier"]
    query = """query($id: ID!) { citizen(id: $id, purpose: "counter: checking the card") {
      idNumber phone } }"""
    assert api.run(query, {"id": wang["id"]}, officer)["citizen"] == {
        "idNumber": CITIZENS[0].id_number,
        "phone": CITIZENS[0].phone,
    }
    masked = api.run(query, {"id": wang["id"]}, auditor)["citizen"]
    assert masked["idNumber"] != CITIZENS[0].id_number and masked["idNumber"].endswith(
        CITIZENS[0].id_number[-4:]
    )
    assert api.errors(search, {"s": ""}, merchant)[0]["extensions"]["code"] == "FORBIDDEN"


def test_agent_acts_only_within_scope(api: Api, demo: object) -> None:
    wang = api.log_in_citizen(CITIZENS[0].phone)["accessToken"]  # APPLICATIONS, PAYMENTS
    liu = api.log_in_citizen(CITIZENS[3].phone)["accessToken"]  # PROFILE, LICENCES elsewhere
    enterprise_id = memberships(api.run(ME, token=wang)["me"])[0]["enterprise"]["id"]
    change = """mutation($id: ID!) { changeEnterpriseContact(input: {enterpriseId: $id,
        address: "常德市武陵区人民路1号"}) { enterprise { address } userErrors { code } } }"""
    assert api.run(change, {"id": enterprise_id}, wang)["changeEnterpriseContact"] == {
        "enterprise": None,
        "userErrors": [{"code": "FORBIDDEN"}],
    }
    errors = api.errors(
        "query($id: ID!) { enterprise(id: $id) { name } }", {"id": enterprise_id}, liu
    )
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"

    li = api.log_in_citizen(CITIZENS[1].phone)["accessToken"]  # the legal representative
    changed = api.run(change, {"id": enterprise_id}, li)["changeEnterpriseContact"]
    assert changed == {"enterprise": {"address": "常德市武陵区人民路1号"}, "userErrors": []}
    authorise = """mutation($id: ID!, $n: String!) { authorizeAgent(input: {enterpriseId: $id,
        agentIdNumber: $n, scopes: [PROFILE]}) {
        enterprise { agents { edges { node { person { name } scopes } } } }
        userErrors { code } } }"""
    granted = api.run(authorise, {"id": enterprise_id, "n": CITIZENS[0].id_number}, li)
    agents = granted["authorizeAgent"]["enterprise"]["agents"]["edges"]
    assert {"person": {"name": "王芳"}, "scopes": ["PROFILE"]} in [e["node"] for e in agents]
    assert (
        api.run(change, {"id": enterprise_id}, wang)["changeEnterpriseContact"]["userErrors"] == []
    )
    refused = api.run(authorise, {"id": enterprise_id, "n": CITIZENS[4].id_number}, wang)
    assert refused["authorizeAgent"]["userErrors"] == [{"code": "FORBIDDEN"}]


def test_limits_and_masking(api: Api, demo: object) -> None:
    token = api.log_in_citizen(CITIZENS[0].phone)["accessToken"]
    deep = (
        "{ me { citizen { enterprises { edges { node { enterprise {"
        " agents { edges { node { person { id } } } } } } } } } } }"
    )
    within = api.run(deep, token=token)["me"]["citizen"]["enterprises"]["edges"]  # depth 10
    assert [edge["node"]["enterprise"]["agents"]["edges"] for edge in within] != []
    too_deep = "{ me " + "{ citizen " * 11 + "{ id }" + " }" * 12
    assert any("depth" in e["message"] for e in api.errors(too_deep, token=token))
    aliases = "{ " + " ".join(f"a{i}: me {{ role }}" for i in range(20)) + " }"
    assert "aliases" in api.errors(aliases, token=token)[0]["message"].lower()
    errors = api.errors("{ me { role } }")
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert api.errors("{ me { role } }", token=forged)[0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_health_readiness_and_public_keys(server: str, city: City) -> None:
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server}/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    keys = httpx.get(f"{server}/.well-known/jwks.json").json()["keys"]
    assert [k["kid"] for k in keys] == [city.keys.token_signing.active_kid]
    assert all("d" not in k for k in keys)
    no_ide = httpx.get(f"{server}/graphql")  # GraphiQL only in development
    assert no_ide.status_code == 404 and "<html" not in no_ide.text.lower()


def test_websocket_graphql_transport_ws(api: Api, demo: object) -> None:
    token = api.log_in_citizen(CITIZENS[2].phone)["accessToken"]
    url = api.base_url.replace("http://", "ws://") + "/graphql"

    async def ask() -> dict[str, object]:
        transport = WebsocketsTransport(
            url=url,
            init_payload={"authorization": f"Bearer {token}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport) as session:
            return dict(await session.execute(gql("{ me { citizen { name } } }")))

    assert asyncio.run(ask()) == {"me": {"citizen": {"name": CITIZENS[2].name}}}


def test_global_ids_are_opaque_and_typed(api: Api, demo: object) -> None:
    token = api.log_in_citizen(CITIZENS[0].phone)["accessToken"]
    me = api.run(ME, token=token)["me"]["citizen"]
    type_name, node_id = base64.b64decode(me["id"]).decode().split(":")
    assert type_name == "Citizen" and CITIZENS[0].id_number not in node_id
    node = api.run(
        "query($id: ID!) { node(id: $id) { ... on Citizen { name } } }", {"id": me["id"]}, token
    )
    assert node == {"node": {"name": CITIZENS[0].name}}
    enterprise_id = memberships({"citizen": me})[0]["enterprise"]["id"]
    errors = api.errors(
        "query($id: ID!) { citizen(id: $id) { name } }", {"id": enterprise_id}, token
    )
    assert errors[0]["extensions"] == {"code": "INVALID_ID", "field": "id"}


def test_internal_errors_are_masked(
    api: Api, demo: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = api.log_in_citizen(CITIZENS[0].phone)["accessToken"]

    def broken(*args: object) -> None:
        raise RuntimeError("connection to 10.0.0.5 refused; password=hunter2")

    monkeypatch.setattr(LiveRows, "get_many", broken)
    errors = api.errors("{ me { citizen { name } } }", token=token)
    assert errors[0]["message"] == "Unexpected error."
    assert "hunter2" not in repr(errors)


def test_subscription_pushes_changes_to_ones_own_file(
    api: Api, demo: object, served: Served
) -> None:
    token = api.log_in_citizen(CITIZENS[4].phone)["accessToken"]
    feed = served.app.state.graphql.feed
    citizen_id = served.app.state.city.tokens.verify(token).citizen_id
    url = api.base_url.replace("http://", "ws://") + "/graphql"
    change = """mutation { changeContact(input: {address: "常德市鼎城区善卷路8号"}) {
        citizen { address version } userErrors { code } } }"""

    async def watch() -> dict[str, object]:
        transport = WebsocketsTransport(
            url=url,
            init_payload={"authorization": f"Bearer {token}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport) as session:
            stream = session.subscribe(
                gql("subscription { myFileChanges { position event version recordedAt } }")
            )
            first = asyncio.ensure_future(stream.__anext__())
            for _ in range(500):  # until the server has the subscription (10 s at most)
                if citizen_id in feed._queues:
                    break
                await asyncio.sleep(0.02)
            changed = await asyncio.to_thread(api.run, change, None, token)
            assert changed["changeContact"]["userErrors"] == []
            result = await asyncio.wait_for(first, timeout=10)
            await stream.aclose()
            return dict(result)

    pushed = asyncio.run(watch())["myFileChanges"]
    assert pushed["event"] == "Citizen.ContactChanged"  # type: ignore[index]
    assert pushed["version"] == 3  # type: ignore[index]  # registered, verified, changed


def test_subscription_needs_a_citizen(api: Api) -> None:
    url = api.base_url.replace("http://", "ws://") + "/graphql"

    async def watch() -> list[object]:
        transport = WebsocketsTransport(
            url=url, subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL]
        )
        async with Client(transport=transport) as session:
            try:
                async for _ in session.subscribe(gql("subscription { myFileChanges { event } }")):
                    return []
            except TransportQueryError as e:
                return list(e.errors or [])
        return []

    errors = asyncio.run(watch())
    assert errors and errors[0]["extensions"]["code"] == "UNAUTHENTICATED"  # type: ignore[index]


def test_lists_page_as_connections_with_a_capped_first(api: Api, demo: object) -> None:
    zhang = api.log_in_citizen(CITIZENS[2].phone)["accessToken"]  # has two agents
    enterprise_id = memberships(api.run(ME, token=zhang)["me"])[0]["enterprise"]["id"]
    query = """query($id: ID!, $first: Int!, $after: String) { enterprise(id: $id) {
        agents(first: $first, after: $after) { edges { cursor node { person { name } } }
        pageInfo { hasNextPage endCursor } } } }"""
    first = api.run(query, {"id": enterprise_id, "first": 1}, zhang)["enterprise"]["agents"]
    assert len(first["edges"]) == 1 and first["pageInfo"]["hasNextPage"] is True
    after = first["pageInfo"]["endCursor"]
    rest = api.run(query, {"id": enterprise_id, "first": 1, "after": after}, zhang)
    rest = rest["enterprise"]["agents"]
    assert rest["pageInfo"]["hasNextPage"] is False
    names = {e["node"]["person"]["name"] for e in first["edges"] + rest["edges"]}
    assert names == {"刘洋", "陈静"}

    too_many = api.errors(query, {"id": enterprise_id, "first": 101}, zhang)
    assert too_many[0]["extensions"] == {"code": "INVALID_ARGUMENT", "field": "first"}
    forged = base64.urlsafe_b64encode(b'["x", "y"]').decode()
    bad = api.errors(query, {"id": enterprise_id, "first": 1, "after": forged}, zhang)
    assert bad[0]["extensions"] == {"code": "INVALID_ARGUMENT", "field": "after"}
