"""Who sees what: every role against every personal field and every officer-only command,
over GraphQL, on the demo city."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from mycity.demo import CITIZENS, ENTERPRISES
from tests.helpers import Api

WANG, LI, ZHANG = CITIZENS[0], CITIZENS[1], CITIZENS[2]  # agent; representative; other's rep
CLIENTS = {
    "officer": "officer-psb-01",
    "auditor": "auditor-01",
    "admin": "admin-01",
    "merchant": "merchant-wuling-01",
    "venue": "venue-hotel-01",
    "feed": "feed-health",
}
WHY = "role matrix: checking who sees what"
CITIZEN = """query($id: ID!, $why: String) { citizen(id: $id, purpose: $why) {
  name address realNameLevel idNumber phone
  enterprises { edges { node { role enterprise { name } } } } } }"""
ENTERPRISE = """query($id: ID!, $why: String) { enterprise(id: $id, purpose: $why) {
  name creditCode phone
  legalRepresentative { name idNumber }
  agents { edges { node { person { name idNumber } } } } } }"""
DIRECTORY = """query($why: String) { directory(search: "", purpose: $why) {
  edges { node { name identifier } } } }"""


@pytest.fixture
def tokens(api: Api, demo: dict[str, dict[str, str]]) -> dict[str, str | None]:
    found: dict[str, str | None] = {"anonymous": None}
    for role, client in CLIENTS.items():
        found[role] = api.log_in_client(client, demo[client]["secret"])
    for role, person in (("self", LI), ("agent", WANG), ("other citizen", ZHANG)):
        found[role] = api.log_in_citizen(person.phone)["accessToken"]
    return found


def outcome(api: Api, query: str, variables: dict[str, Any], token: str | None) -> Any:
    try:
        return api.run(query, variables, token)
    except TransportQueryError as e:  # a GraphQL error: its code is the outcome
        return (e.errors or [{}])[0]["extensions"]["code"]


def ids(api: Api, tokens: dict[str, str | None]) -> tuple[str, str]:
    me = api.run(
        "{ me { citizen { id enterprises { edges { node { role enterprise { id } } } } } } }",
        token=tokens["self"],
    )
    citizen = me["me"]["citizen"]
    [represented] = [
        e["node"]["enterprise"]["id"]
        for e in citizen["enterprises"]["edges"]
        if e["node"]["role"] == "LEGAL_REPRESENTATIVE"
    ]
    return citizen["id"], represented


def test_a_citizens_file_by_role(api: Api, tokens: dict[str, str | None]) -> None:
    citizen_id, _ = ids(api, tokens)
    full = {"idNumber": LI.id_number, "phone": LI.phone}
    expected = {
        "anonymous": "UNAUTHENTICATED",
        "self": "full",
        "officer": "full",
        "admin": "full",
        "auditor": "masked",
        "agent": "FORBIDDEN",  # an agent of the person's enterprise is not the person
        "other citizen": "FORBIDDEN",
        "merchant": "FORBIDDEN",
        "venue": "FORBIDDEN",
        "feed": "FORBIDDEN",
    }
    seen = {}
    for role, token in tokens.items():
        answer = outcome(api, CITIZEN, {"id": citizen_id, "why": WHY}, token)
        if isinstance(answer, dict):
            shown = {k: answer["citizen"][k] for k in full}
            assert answer["citizen"]["name"] == LI.name
            seen[role] = "full" if shown == full else "masked"
            if seen[role] == "masked":
                assert LI.id_number not in repr(answer) and LI.phone not in repr(answer)
                assert shown["idNumber"].endswith(LI.id_number[-4:]) and "*" in shown["idNumber"]
        else:
            seen[role] = answer
    assert seen == expected


def test_an_enterprise_by_role(api: Api, tokens: dict[str, str | None]) -> None:
    _, enterprise_id = ids(api, tokens)
    contact = """mutation($id: ID!) { changeEnterpriseContact(input: {enterpriseId: $id,
      phone: "13912340000"}) { userErrors { code } } }"""
    changed = api.run(contact, {"id": enterprise_id}, tokens["self"])["changeEnterpriseContact"]
    assert changed["userErrors"] == []
    expected = {
        "anonymous": "UNAUTHENTICATED",
        "self": "ok",  # its legal representative
        "agent": "ok",
        "other citizen": "FORBIDDEN",
        "officer": "ok",
        "auditor": "ok",
        "admin": "ok",
        "merchant": "FORBIDDEN",
        "venue": "FORBIDDEN",
        "feed": "FORBIDDEN",
    }
    seen = {}
    for role, token in tokens.items():
        answer = outcome(api, ENTERPRISE, {"id": enterprise_id, "why": WHY}, token)
        if isinstance(answer, dict):
            text = repr(answer)
            # whoever reads it, the people on it are masked, and its phone too
            assert LI.id_number not in text and WANG.id_number not in text
            assert "13912340000" not in text and answer["enterprise"]["phone"] == "139****0000"
            assert answer["enterprise"]["name"] == ENTERPRISES[0][1]
            seen[role] = "ok"
        else:
            seen[role] = answer
    assert seen == expected


def test_the_directory_by_role(api: Api, tokens: dict[str, str | None]) -> None:
    seen = {role: outcome(api, DIRECTORY, {"why": WHY}, token) for role, token in tokens.items()}
    for role in ("officer", "auditor", "admin"):
        entries = seen.pop(role)["directory"]["edges"]
        assert entries and all(LI.id_number != e["node"]["identifier"] for e in entries)
    assert seen == {
        "anonymous": "UNAUTHENTICATED",
        "self": "FORBIDDEN",
        "agent": "FORBIDDEN",
        "other citizen": "FORBIDDEN",
        "merchant": "FORBIDDEN",
        "venue": "FORBIDDEN",
        "feed": "FORBIDDEN",
    }


def test_officer_only_commands_by_role(api: Api, tokens: dict[str, str | None]) -> None:
    zhao = CITIZENS[5]  # registered, not yet seen in person
    zhao_id = api.run(
        'query($s: String!) { directory(search: $s, purpose: "seeing them in person") '
        "{ edges { node { id } } } }",
        {"s": zhao.name},
        tokens["officer"],
    )["directory"]["edges"][0]["node"]["id"]
    verify = """mutation($id: ID!) { verifyInPerson(input: {citizenId: $id}) {
      citizen { realNameLevel } userErrors { code } } }"""
    for role in ("anonymous", "self", "agent", "auditor", "admin", "merchant", "venue", "feed"):
        answer = api.run(verify, {"id": zhao_id}, tokens[role])["verifyInPerson"]
        expected = "UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"
        assert answer["userErrors"] == [{"code": expected}], role
    done = api.run(verify, {"id": zhao_id}, tokens["officer"])["verifyInPerson"]
    assert done == {"citizen": {"realNameLevel": "VERIFIED_IN_PERSON"}, "userErrors": []}

    register = """mutation($n: String!) { registerEnterprise(input: {
      creditCode: "91350100M000100Y43", name: "代办公司", legalRepresentativeIdNumber: $n}) {
      enterprise { name } userErrors { code } } }"""
    for role in ("self", "auditor", "merchant", "venue", "feed"):
        answer = api.run(register, {"n": WANG.id_number}, tokens[role])["registerEnterprise"]
        assert answer["userErrors"] == [{"code": "FORBIDDEN"}], role
    answer = api.run(register, {"n": WANG.id_number}, tokens["admin"])["registerEnterprise"]
    assert answer == {"enterprise": {"name": "代办公司"}, "userErrors": []}


def test_staff_must_say_why_they_read_anyones_data(api: Api, tokens: dict[str, str | None]) -> None:
    citizen_id, enterprise_id = ids(api, tokens)
    reads = [(CITIZEN, {"id": citizen_id}), (ENTERPRISE, {"id": enterprise_id}), (DIRECTORY, {})]
    for role in ("officer", "auditor", "admin"):
        for query, variables in reads:
            assert outcome(api, query, variables, tokens[role]) == "PURPOSE_REQUIRED", role
            too_short = variables | {"why": "x"}
            assert outcome(api, query, too_short, tokens[role]) == "INVALID_PURPOSE", role
    # the person reading their own file says nothing
    assert isinstance(outcome(api, CITIZEN, {"id": citizen_id}, tokens["self"]), dict)


def test_only_citizens_subscribe_to_their_file(api: Api, tokens: dict[str, str | None]) -> None:
    url = api.base_url.replace("http://", "ws://") + "/graphql"

    async def subscribe(token: str | None) -> str:
        transport = WebsocketsTransport(
            url=url,
            init_payload={"authorization": f"Bearer {token}"} if token else {},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport) as session:
            try:
                async for _ in session.subscribe(gql("subscription { myFileChanges { event } }")):
                    return "subscribed"
            except TransportQueryError as e:
                return str((e.errors or [{}])[0].get("extensions", {}).get("code"))
        return "ended"

    for role in ("anonymous", "officer", "auditor", "admin", "merchant", "venue", "feed"):
        expected = "UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"
        assert asyncio.run(subscribe(tokens[role])) == expected, role
