"""City credit end to end on the demo data, over real HTTP with a real GraphQL client, as
docs/credit.md walks a newcomer through it: 王芳's score, tier and benefits; the market
authority's feed records two penalties against the tea house and its food application is
refused 容缺; the public list shows the penalties and its licence without a login; repair is
refused as too early and says when; with the clock moved on, repair is applied for and
approved, the score rises and the application is accepted 容缺 after all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mycity.bootstrap import City
from mycity.demo import CITIZENS, TEA_HOUSE, TEA_HOUSE_FOUNDER
from tests.conftest import Served
from tests.helpers import Api

MY_CREDIT = "{ myCredit { score tier benefits } }"
ENTERPRISES = "{ me { citizen { enterprises { edges { node { enterprise { id name } } } } } } }"
CREDIT = """query($id: ID!) { enterprise(id: $id) { credit { score tier benefits
    history(first: 10) { edges { node {
        requested applied score reason severity source evidence { position decision } } } } } }
}"""
PUBLIC = """query($s: String, $k: PublicRecordKind) {
    publicCreditRecords(search: $s, kind: $k) { edges { node {
        id kind number name creditCode item result authority decided severity repairableFrom
} } } }"""
PENALTY = """mutation($i: RecordPenaltyDecisionInput!) { recordPenaltyDecision(input: $i) {
    record { id number repairableFrom publishedUntil } userErrors { code field message } } }"""
QUEUE = "{ departmentQueue { edges { node { id item status } } } }"
ACCEPT = """mutation($id: ID!) { acceptApplication(input: {applicationId: $id}) {
    application { status } userErrors { code message } } }"""
APPLY = """mutation($i: ApplyForCreditRepairInput!) { applyForCreditRepair(input: $i) {
    repairId userErrors { code field message } } }"""
DECIDE = """mutation($i: DecideCreditRepairInput!) { decideCreditRepair(input: $i) {
    decided userErrors { code message } } }"""
PENDING = """{ pendingCreditRepairs { edges { node {
    id penalty { id number } commitment } } } }"""
COMMITMENT = "本企业已按要求完成整改，承诺今后严格遵守食品安全法律法规，诚信经营。"


def phone_of(name: str) -> str:
    return next(c.phone for c in CITIZENS if c.name == name)


def tea_house(api: Api, token: str) -> dict[str, Any]:
    """The tea house's credit, as its founder (its legal representative) reads it."""
    edges = api.run(ENTERPRISES, token=token)["me"]["citizen"]["enterprises"]["edges"]
    [found] = [
        e["node"]["enterprise"]["id"]
        for e in edges
        if e["node"]["enterprise"]["name"] == TEA_HOUSE["enterprise_name"]
    ]
    return dict(api.run(CREDIT, {"id": found}, token=token)["enterprise"])


def penalty(code: str, number: str, decided: str) -> dict[str, Any]:
    return {
        "i": {
            "creditCode": code,
            "number": number,
            "item": "食品经营",
            "reason": "未按规定公示食品经营许可信息",
            "legalBasis": "《中华人民共和国食品安全法》第一百二十六条",
            "result": "警告，罚款人民币五千元",
            "decided": decided,
            "severity": "GENERAL",
        }
    }


def test_the_credit_story_on_the_demo(
    city: City, demo: dict[str, dict[str, str]], served: Served
) -> None:
    live: City = served.app.state.city
    today = live.clock.today().isoformat()
    api = Api(served.url, city.settings.sms_outbox)
    wang = api.log_in_citizen(phone_of("王芳"))["accessToken"]
    assert api.run(MY_CREDIT, token=wang)["myCredit"] == {
        "score": 600,
        "tier": "GOOD",
        "benefits": ["PAY_LATER_TRANSIT", "SHORTFALL_ACCEPTANCE"],
    }

    founder = api.log_in_citizen(phone_of(TEA_HOUSE_FOUNDER))["accessToken"]
    assert tea_house(api, founder)["credit"]["score"] == 640  # 守合同重信用: +40
    [licensing] = api.run(PUBLIC, {"s": "常德桃花源"})["publicCreditRecords"]["edges"]
    assert licensing["node"]["kind"] == "LICENSING" and licensing["node"]["item"] == "营业执照"
    code = licensing["node"]["creditCode"]

    feed = api.log_in_client("feed-amr", demo["feed-amr"]["secret"])
    first = penalty(code, "常市监罚〔2026〕101号", today)
    recorded = api.run(PENALTY, first, token=feed)["recordPenaltyDecision"]
    assert recorded["userErrors"] == []
    assert api.run(PENALTY, first, token=feed)["recordPenaltyDecision"]["userErrors"] == []
    assert tea_house(api, founder)["credit"]["score"] == 610  # sent twice, counted once
    second = penalty(code, "常市监罚〔2026〕102号", today)
    assert api.run(PENALTY, second, token=feed)["recordPenaltyDecision"]["userErrors"] == []
    credit = tea_house(api, founder)["credit"]
    assert (credit["score"], credit["tier"], credit["benefits"]) == (580, "NORMAL", [])
    newest = credit["history"]["edges"][0]["node"]
    assert newest == {
        "requested": -30,
        "applied": -30,
        "score": 580,
        "reason": "PENALTY_DECISION",
        "severity": "GENERAL",
        "source": "AMR",
        "evidence": {"position": None, "decision": "常市监罚〔2026〕102号"},
    }

    officer = api.log_in_client("officer-amr-01", demo["officer-amr-01"]["secret"])
    [waiting] = [
        e["node"]["id"]
        for e in api.run(QUEUE, token=officer)["departmentQueue"]["edges"]
        if e["node"]["item"] == "AMR-002"
    ]
    refused = api.run(ACCEPT, {"id": waiting}, token=officer)["acceptApplication"]
    assert [e["code"] for e in refused["userErrors"]] == ["SHORTFALL_NOT_ALLOWED"]

    listed = api.run(PUBLIC, {"s": code})["publicCreditRecords"]["edges"]
    assert sorted(e["node"]["kind"] for e in listed) == ["LICENSING", "PENALTY", "PENALTY"]
    penalties = api.run(PUBLIC, {"s": code, "k": "PENALTY"})["publicCreditRecords"]["edges"]
    target = next(e["node"] for e in penalties if e["node"]["number"].endswith("101号"))

    repair = {"i": {"penaltyId": target["id"], "commitment": COMMITMENT}}
    early = api.run(APPLY, repair, token=founder)["applyForCreditRepair"]
    assert early["userErrors"] == [
        {
            "code": "REPAIR_TOO_EARLY",
            "field": "penaltyId",
            "message": f"It can be repaired from {target['repairableFrom']}",
        }
    ]

    live.clock.ahead = timedelta(days=92)  # as MYCITY_CLOCK_AHEAD_DAYS=92 would
    applied = api.run(APPLY, repair, token=founder)["applyForCreditRepair"]
    assert applied["userErrors"] == [] and applied["repairId"]
    [pending] = api.run(PENDING, token=officer)["pendingCreditRepairs"]["edges"]
    assert pending["node"] == {
        "id": applied["repairId"],
        "penalty": {"id": target["id"], "number": "常市监罚〔2026〕101号"},
        "commitment": COMMITMENT,
    }
    decision = {
        "i": {
            "penaltyId": target["id"],
            "repairId": applied["repairId"],
            "approve": True,
            "reason": "整改到位，同意修复",
        }
    }
    assert api.run(DECIDE, decision, token=officer)["decideCreditRepair"] == {
        "decided": True,
        "userErrors": [],
    }
    credit = tea_house(api, founder)["credit"]
    assert (credit["score"], credit["tier"]) == (610, "GOOD")
    assert credit["history"]["edges"][0]["node"]["reason"] == "CREDIT_REPAIRED"
    still = api.run(PUBLIC, {"s": code, "k": "PENALTY"})["publicCreditRecords"]["edges"]
    assert [e["node"]["number"] for e in still] == ["常市监罚〔2026〕102号"]

    accepted = api.run(ACCEPT, {"id": waiting}, token=officer)["acceptApplication"]
    assert accepted["userErrors"] == [] and accepted["application"]["status"] == "ACCEPTED"
