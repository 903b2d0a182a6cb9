"""City credit over HTTP, each door tried by the wrong role: only a feed records changes and
penalties; only an officer of the deciding authority decides a repair; only the enterprise's
legal representative or its agents with the CREDIT scope read its credit and apply for
repair; only officers and auditors read anyone's, and only with a purpose, which is recorded;
the public list needs no login; bad input is a typed error that changes nothing."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from mycity.bootstrap import City
from mycity.identity.principal import Principal, Role
from tests.helpers import Api, CitizenFactory, access_records
from tests.services import establish, settle

CHANGE = """mutation($i: RecordCreditChangeInput!) { recordCreditChange(input: $i) {
    recorded userErrors { code field } } }"""
PENALTY = """mutation($i: RecordPenaltyDecisionInput!) { recordPenaltyDecision(input: $i) {
    record { id } userErrors { code field } } }"""
APPLY = """mutation($i: ApplyForCreditRepairInput!) { applyForCreditRepair(input: $i) {
    repairId userErrors { code field } } }"""
DECIDE = """mutation($i: DecideCreditRepairInput!) { decideCreditRepair(input: $i) {
    decided userErrors { code } } }"""
SCORE = """query($n: String, $c: String, $p: String) {
    creditScore(idNumber: $n, creditCode: $c, purpose: $p) { score tier } }"""
ENTERPRISE = "query($id: ID!) { enterprise(id: $id) { credit { score } } }"
PUBLIC = "{ publicCreditRecords { edges { node { kind name } } } }"
COMMITMENT = "本企业已完成整改，承诺依法诚信经营，接受社会监督。"


def login(api: Api, city: City, client: str, role: Role, department: str | None) -> str:
    return api.log_in_client(client, city.clients.add(client, role, client, department))


def codes(answer: dict[str, Any]) -> list[str]:
    return [e["code"] for e in answer["userErrors"]]


def error_code(api: Api, query: str, variables: dict[str, Any], token: str | None) -> str:
    [error] = api.errors(query, variables, token)
    return str(error["extensions"]["code"])


def test_each_credit_door_refuses_the_wrong_role(
    city: City, api: Api, people: CitizenFactory
) -> None:
    founder = people.register("法人", verified=True)
    agent = people.register("代理", verified=True)
    stranger = people.register("路人", verified=True)
    _, enterprise, _ = establish(city, founder)
    founder_id = Principal.of_citizen(founder.id, founder.name)
    city.enterprises.authorise_agent(founder_id, enterprise.id, agent.id_number, ["APPLICATIONS"])
    city.enterprises.accept_invitation(agent.principal, enterprise.id)
    settle(city)
    feed = login(api, city, "feed-amr-t", Role.AUTHORITY_FEED, "AMR")
    other_feed = login(api, city, "feed-psb-t", Role.AUTHORITY_FEED, "PSB")
    amr = login(api, city, "officer-amr-t", Role.OFFICER, "AMR")
    psb = login(api, city, "officer-psb-t", Role.OFFICER, "PSB")
    shop = login(api, city, "shop-t", Role.MERCHANT, None)
    auditor = login(api, city, "auditor-t", Role.AUDITOR, None)
    citizen = api.log_in_citizen(stranger.phone)["accessToken"]
    by_founder = api.log_in_citizen(founder.phone)["accessToken"]
    by_agent = api.log_in_citizen(agent.phone)["accessToken"]

    change = {"i": {"idNumber": stranger.id_number, "delta": 5, "reason": "R", "decision": "1"}}
    for token in (amr, shop, citizen, auditor):
        assert codes(api.run(CHANGE, change, token)["recordCreditChange"]) == ["FORBIDDEN"]
    assert codes(api.run(CHANGE, change, None)["recordCreditChange"]) == ["UNAUTHENTICATED"]
    assert codes(api.run(CHANGE, change, feed)["recordCreditChange"]) == ["INVALID_ARGUMENT"]
    change["i"]["reason"] = "VOLUNTEER"
    assert api.run(CHANGE, change, feed)["recordCreditChange"]["recorded"] is True

    penalty = {
        "i": {
            "creditCode": enterprise.credit_code,
            "number": "罚1",
            "item": "食品经营",
            "reason": "未公示许可",
            "legalBasis": "《食品安全法》",
            "result": "警告",
            "decided": city.clock.today().isoformat(),
            "severity": "MINOR",
        }
    }
    for token in (amr, citizen, by_founder):
        assert codes(api.run(PENALTY, penalty, token)["recordPenaltyDecision"]) == ["FORBIDDEN"]
    record = api.run(PENALTY, penalty, feed)["recordPenaltyDecision"]["record"]["id"]

    repair = {"i": {"penaltyId": record, "commitment": COMMITMENT}}
    for token in (by_agent, citizen):  # an agent without the CREDIT scope; a stranger
        assert codes(api.run(APPLY, repair, token)["applyForCreditRepair"]) == ["FORBIDDEN"]
    assert codes(api.run(APPLY, repair, amr)["applyForCreditRepair"]) == ["FORBIDDEN"]
    applied = api.run(APPLY, repair, by_founder)["applyForCreditRepair"]
    assert applied["userErrors"] == []  # a minor penalty: repairable at once

    decide = {
        "i": {
            "penaltyId": record,
            "repairId": applied["repairId"],
            "approve": True,
            "reason": "整改到位",
        }
    }
    assert codes(api.run(DECIDE, decide, psb)["decideCreditRepair"]) == ["NOT_YOUR_DEPARTMENT"]
    for token in (feed, other_feed, by_founder):
        assert codes(api.run(DECIDE, decide, token)["decideCreditRepair"]) == ["FORBIDDEN"]
    assert api.run(DECIDE, decide, amr)["decideCreditRepair"]["decided"] is True

    who = {"n": stranger.id_number, "p": "reviewing a credit dispute"}
    for token in (citizen, shop, feed):
        assert error_code(api, SCORE, who, token) == "FORBIDDEN"
    assert error_code(api, SCORE, {"n": stranger.id_number}, amr) == "PURPOSE_REQUIRED"
    assert api.run(SCORE, who, amr)["creditScore"] == {"score": 605, "tier": "GOOD"}
    assert (
        api.run(SCORE, {**who, "n": None, "c": enterprise.credit_code}, auditor)["creditScore"][
            "score"
        ]
        == 600
    )  # 600 - 5 (minor) + 5 (repaired)
    reads = [(r.reader, r.subjects, r.purpose) for r in access_records(city) if r.read == "credit"]
    assert reads == [
        ("officer-amr-t", [stranger.id], "reviewing a credit dispute"),
        ("auditor-t", [enterprise.id], "reviewing a credit dispute"),
    ]
    firm = {"id": str(relay.GlobalID("Enterprise", str(enterprise.id)))}
    assert api.run(ENTERPRISE, firm, by_founder)["enterprise"]["credit"]["score"] == 600
    assert error_code(api, ENTERPRISE, firm, by_agent) == "FORBIDDEN"
    assert error_code(api, "{ myCredit { score } }", {}, None) == "UNAUTHENTICATED"
    assert error_code(api, "{ myCredit { score } }", {}, shop) == "FORBIDDEN"
    assert [e["node"]["kind"] for e in api.run(PUBLIC)["publicCreditRecords"]["edges"]] == [
        "LICENSING"  # the repaired penalty is no longer published
    ]
