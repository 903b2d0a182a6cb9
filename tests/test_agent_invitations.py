"""Becoming an enterprise's agent over the API: invited by the legal representative, the
person accepts or declines; until then the representative learns nothing of the number."""

from __future__ import annotations

from typing import Any

from mycity.bootstrap import City
from mycity.demo import CITIZENS
from tests.helpers import Api, resident_id

ENTERPRISE = "{ me { citizen { enterprises { edges { node { role enterprise { id } } } } } } }"
INVITE = """mutation($id: ID!, $n: String!, $s: [AgentScope!]!) {
  authorizeAgent(input: {enterpriseId: $id, agentIdNumber: $n, scopes: $s}) {
    enterprise { invitedAgents { agentId scopes } agents { edges { node { person { name } } } } }
    userErrors { code field message } } }"""
WAITING = "{ myAgentInvitations { enterpriseId enterpriseName creditCode scopes } }"
ACCEPT = """mutation($id: ID!) { acceptAgentInvitation(input: {enterpriseId: $id}) {
  enterprise { agents { edges { node { person { name } scopes } } } } userErrors { code } } }"""
DECLINE = """mutation($id: ID!) { declineAgentInvitation(input: {enterpriseId: $id}) {
  declined userErrors { code } } }"""
WITHDRAW = """mutation($id: ID!, $agent: ID!) { revokeAgent(input: {enterpriseId: $id,
  agentId: $agent}) { enterprise { invitedAgents { agentId } } userErrors { code } } }"""


def represented(api: Api, token: str) -> str:
    edges = api.run(ENTERPRISE, token=token)["me"]["citizen"]["enterprises"]["edges"]
    return str(
        next(e["node"] for e in edges if e["node"]["role"] == "LEGAL_REPRESENTATIVE")["enterprise"][
            "id"
        ]
    )


def agents_named(payload: dict[str, Any]) -> list[str]:
    return [e["node"]["person"]["name"] for e in payload["enterprise"]["agents"]["edges"]]


def test_an_invited_person_accepts_and_becomes_an_agent(api: Api, city: City, demo: object) -> None:
    li = api.log_in_citizen(CITIZENS[1].phone)["accessToken"]  # represents 湘味餐饮
    zhang = api.log_in_citizen(CITIZENS[2].phone)["accessToken"]  # no part in it
    enterprise = represented(api, li)
    invited = api.run(INVITE, {"id": enterprise, "n": CITIZENS[2].id_number, "s": ["PROFILE"]}, li)
    payload = invited["authorizeAgent"]
    assert payload["userErrors"] == [] and "张伟" not in agents_named(payload)
    assert [i["scopes"] for i in payload["enterprise"]["invitedAgents"]] == [["PROFILE"]]

    [waiting] = api.run(WAITING, token=zhang)["myAgentInvitations"]
    assert waiting == {
        "enterpriseId": enterprise,
        "enterpriseName": "常德市武陵区湘味餐饮有限公司",
        "creditCode": waiting["creditCode"],
        "scopes": ["PROFILE"],
    }
    accepted = api.run(ACCEPT, {"id": enterprise}, zhang)["acceptAgentInvitation"]
    assert accepted["userErrors"] == [] and "张伟" in agents_named(accepted)
    settled(city)
    assert api.run(WAITING, token=zhang)["myAgentInvitations"] == []
    again = api.run(ACCEPT, {"id": enterprise}, zhang)["acceptAgentInvitation"]
    assert again["userErrors"] == [{"code": "NOT_INVITED"}]


def settled(city: City) -> None:
    """A later request reads what an earlier one wrote (each waits only for its own)."""
    assert city.read_models.wait(city.files.head(), "agent_invitations")


def test_an_invitation_is_declined_or_withdrawn(api: Api, city: City, demo: object) -> None:
    li = api.log_in_citizen(CITIZENS[1].phone)["accessToken"]
    chen = api.log_in_citizen(CITIZENS[4].phone)["accessToken"]
    enterprise = represented(api, li)
    variables = {"id": enterprise, "n": CITIZENS[4].id_number, "s": ["LICENCES"]}
    api.run(INVITE, variables, li)
    assert api.run(DECLINE, {"id": enterprise}, chen)["declineAgentInvitation"] == {
        "declined": True,
        "userErrors": [],
    }
    settled(city)
    assert api.run(WAITING, token=chen)["myAgentInvitations"] == []
    invited = api.run(INVITE, variables, li)["authorizeAgent"]["enterprise"]["invitedAgents"]
    withdrawn = api.run(WITHDRAW, {"id": enterprise, "agent": invited[0]["agentId"]}, li)
    assert withdrawn["revokeAgent"] == {"enterprise": {"invitedAgents": []}, "userErrors": []}
    settled(city)
    assert api.run(WAITING, token=chen)["myAgentInvitations"] == []


def test_the_answer_to_an_invitation_is_the_same_for_any_number(api: Api, demo: object) -> None:
    li = api.log_in_citizen(CITIZENS[1].phone)["accessToken"]
    enterprise = represented(api, li)
    answers = []
    for number in (CITIZENS[3].id_number, resident_id(811)):  # a verified citizen's; nobody's
        payload = api.run(INVITE, {"id": enterprise, "n": number, "s": ["PROFILE"]}, li)
        answer = payload["authorizeAgent"]
        answers.append((answer["userErrors"], agents_named(answer)))
    assert answers[0] == answers[1] and answers[0][0] == []
