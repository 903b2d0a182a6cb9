"""Scanning the city code, as the issue tells it, over HTTP and WebSocket against the demo
city with a real GraphQL client: a citizen's code verifies offline from its picture, a gate
and a hospital scan it and each learns only what its role needs, an auditor and the citizen
see both scans. Also: every role's answer, single-use payment codes under a race, offline
batches, place codes and check-ins, and who may read the scan logs."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from strawberry import relay
from typer.testing import CliRunner

from mycity.bootstrap import City
from mycity.cli import cli
from mycity.demo import CITIZENS, DemoCitizen
from tests.conftest import Served
from tests.helpers import Api

WANG, LI, ZHANG, LIU, CHEN = CITIZENS[:5]
Demo = dict[str, dict[str, str]]
BEIJING = timezone(timedelta(hours=8))

CODE = "query($png: Boolean!) { cityCode(png: $png) { payload png } }"
SCAN = """mutation($i: ScanCityCodeInput!) { scanCityCode(input: $i) {
  valid outcome scanId allowed colour card cardNumber userErrors { code field } } }"""
UPLOAD = """mutation($s: [OfflineScanInput!]!) { uploadOfflineScans(input: {scans: $s}) {
  recorded userErrors { code }
  results { index duplicate scan { valid outcome scanId userErrors { code field } } } } }"""
MY_SCANS = """{ myScans { edges { node {
  id direction partnerRole partnerName place purpose colour shown } } } }"""
PLACE_CODE = "query($p: String!) { placeCode(place: $p) { payload png } }"
CHECK_IN = """mutation($c: String!) { checkIn(input: {placeCode: $c}) {
  scanId partnerName place userErrors { code field } } }"""
VENUE_SCANS = """query($why: String!) { venueScans(purpose: $why) { edges { node {
  visitor scan { id direction place purpose colour } } } } }"""
TRACE = """query($partner: String!, $place: String!, $since: DateTime!, $until: DateTime!,
  $reason: String!) { contactTrace(partner: $partner, place: $place, since: $since,
  until: $until, reason: $reason) { citizenId name phone colour } }"""
HISTORY = """query($id: ID!) { auditHistory(subject: $id, purpose: "annual audit: scans",
  types: ["Scan.Recorded"]) { edges { node { stream type data } } } }"""
ACCESSES = """{ me { citizen { dataAccesses { edges { node {
  readerRole readerName read fields purpose } } } } } }"""

# What each role is told of a green citizen with both demo cards, scanning for a purpose
# it may; every other field of the answer is null.
TOLD_BY_ROLE = {
    "gate-metro-wuling-01": ("TRANSIT", {"allowed": True}),
    "hospital-first-01": ("HEALTH", {"card": "E_HEALTH", "cardNumber": WANG.e_health_card}),
    "library-city-01": ("IDENTITY", {"card": "LIBRARY", "cardNumber": WANG.library_card}),
    "merchant-wuling-01": ("HEALTH", {"colour": "GREEN"}),
    "venue-hotel-01": ("HEALTH", {"colour": "GREEN"}),
}
TOLD_FIELDS = ("allowed", "colour", "card", "cardNumber")
FORBIDDEN = [{"code": "FORBIDDEN", "field": None}]  # a payload's userErrors, refused
WRONG_PURPOSE = [{"code": "PURPOSE_NOT_ALLOWED", "field": "purpose"}]


def staff(api: Api, demo: Demo, client: str) -> str:
    """A demo client's access token."""
    return api.log_in_client(client, demo[client]["secret"])


def citizen(api: Api, person: DemoCitizen) -> str:
    return str(api.log_in_citizen(person.phone)["accessToken"])


def citizen_id(api: Api, token: str) -> str:
    return str(api.run("{ me { citizen { id } } }", token=token)["me"]["citizen"]["id"])


def code_of(api: Api, token: str) -> str:
    return str(api.run(CODE, {"png": False}, token)["cityCode"]["payload"])


def scan(api: Api, token: str, payload: str, purpose: str, place: str = "1号口") -> dict[str, Any]:
    answer = api.run(SCAN, {"i": {"payload": payload, "purpose": purpose, "place": place}}, token)
    return dict(answer["scanCityCode"])


def told(answer: dict[str, Any]) -> dict[str, Any]:
    """What the scanner learnt of the citizen: the answer's non-null told fields."""
    return {name: answer[name] for name in TOLD_FIELDS if answer[name] is not None}


def error_code(api: Api, query: str, variables: dict[str, Any], token: str) -> str:
    """The code of the one GraphQL error a refused query answers with."""
    [error] = api.errors(query, variables, token)
    return str(error["extensions"]["code"])


@pytest.fixture
def live(served: Served) -> City:
    """The served app's city: its runner folds the log, so its read models know first."""
    return served.app.state.city  # type: ignore[no-any-return]


def settled(city: City) -> None:
    """The scan log and the indexes read below include everything written so far."""
    assert city.read_models.wait(city.files.head(), "scan_log", "subject_history", "data_access")


def my_scans(api: Api, city: City, token: str) -> list[dict[str, Any]]:
    settled(city)
    return [edge["node"] for edge in api.run(MY_SCANS, token=token)["myScans"]["edges"]]


def test_a_code_verified_offline_then_scanned_by_a_gate_and_a_hospital_is_audited(
    api: Api, live: City, demo: Demo, server: str, tmp_path: Path
) -> None:
    wang = citizen(api, WANG)
    shown = api.run(CODE, {"png": True}, wang)["cityCode"]
    picture, keys = tmp_path / "code.png", tmp_path / "keys.json"
    picture.write_bytes(base64.b64decode(shown["png"]))
    keys.write_text(httpx.get(f"{server}/city-code/keys").text)
    checked = CliRunner().invoke(cli, ["code", "verify", str(picture), "--keys", str(keys)])
    assert checked.exit_code == 0, checked.output
    assert checked.output.startswith("VALID: green; for health, identity, payment, transit")
    assert "cards: e_health, library;" in checked.output  # the kinds, never the numbers
    assert WANG.e_health_card not in checked.output

    gate = scan(api, staff(api, demo, "gate-metro-wuling-01"), shown["payload"], "TRANSIT")
    assert (gate["valid"], gate["outcome"], told(gate)) == (True, "VALID", {"allowed": True})
    hospital = scan(api, staff(api, demo, "hospital-first-01"), shown["payload"], "HEALTH")
    assert (hospital["valid"], told(hospital)) == (
        True,
        {"card": "E_HEALTH", "cardNumber": WANG.e_health_card},
    )

    settled(live)
    auditor = staff(api, demo, "auditor-01")
    history = api.run(HISTORY, {"id": citizen_id(api, wang)}, auditor)["auditHistory"]["edges"]
    audited = {relay.GlobalID.from_id(e["node"]["stream"]).node_id: e["node"] for e in history}
    assert set(audited) == {gate["scanId"], hospital["scanId"]}
    assert {e["data"]["partner"] for e in audited.values()} == {
        "gate-metro-wuling-01",
        "hospital-first-01",
    }

    mine = {
        s["id"]: (s["direction"], s["partnerRole"], s["purpose"], s["shown"])
        for s in my_scans(api, live, wang)
    }
    assert mine == {
        gate["scanId"]: ("CODE", "TRANSIT_GATE", "TRANSIT", ["allowed"]),
        hospital["scanId"]: ("CODE", "HOSPITAL", "HEALTH", ["e_health_card"]),
    }


def test_each_role_is_told_exactly_its_field_and_others_may_not_scan(
    api: Api, live: City, demo: Demo
) -> None:
    wang = citizen(api, WANG)
    for client, (purpose, expected) in TOLD_BY_ROLE.items():
        answer = scan(api, staff(api, demo, client), code_of(api, wang), purpose)
        assert answer["valid"] and told(answer) == expected, client

    for token in (
        wang,
        staff(api, demo, "officer-health-01"),
        staff(api, demo, "auditor-01"),
        staff(api, demo, "feed-health"),
    ):
        refused = scan(api, token, code_of(api, wang), "HEALTH")
        assert (refused["valid"], refused["userErrors"]) == (False, FORBIDDEN)
    for client, purpose in (
        ("gate-metro-wuling-01", "PAYMENT"),
        ("library-city-01", "HEALTH"),
        ("merchant-wuling-01", "IDENTITY"),
    ):
        wrong = scan(api, staff(api, demo, client), code_of(api, wang), purpose)
        assert wrong["userErrors"] == WRONG_PURPOSE
        assert (wrong["valid"], told(wrong)) == (False, {})
    assert len(my_scans(api, live, wang)) == len(TOLD_BY_ROLE)  # no refusal recorded a scan


def test_a_payment_code_scanned_by_two_tills_at_once_is_redeemed_once(
    api: Api, live: City, demo: Demo
) -> None:
    shop = staff(api, demo, "merchant-wuling-01")
    wang = citizen(api, WANG)
    start = threading.Barrier(2)

    def till(payload: str, place: str) -> dict[str, Any]:
        start.wait()
        return scan(api, shop, payload, "PAYMENT", place)

    for _ in range(2):
        payload = code_of(api, wang)
        with ThreadPoolExecutor(2) as tills:
            answers = list(tills.map(till, [payload] * 2, ["收银台 1", "收银台 2"]))
        outcomes = sorted((a["valid"], a["outcome"], a["scanId"] is not None) for a in answers)
        assert outcomes == [(False, "ALREADY_USED", False), (True, "VALID", True)]
    assert [s["purpose"] for s in my_scans(api, live, wang)] == ["PAYMENT"] * 2


def test_an_offline_batch_answers_by_index_and_a_second_upload_records_nothing(
    api: Api, live: City, demo: Demo
) -> None:
    gate = staff(api, demo, "gate-metro-wuling-01")
    riders = [citizen(api, person) for person in (ZHANG, LIU)]
    zhang, liu = (code_of(api, token) for token in riders)
    read_at = datetime.now(BEIJING)  # on the bus, by the device's clock, uploaded later

    def item(payload: str, purpose: str = "TRANSIT") -> dict[str, str]:
        return {"payload": payload, "purpose": purpose, "place": "12路 车载机",
                "scannedAt": read_at.isoformat()}  # fmt: skip

    batch = [item(zhang), item(zhang), item(zhang, "PAYMENT"), item("MC1:" + "0" * 146), item(liu)]
    first = api.run(UPLOAD, {"s": batch}, gate)["uploadOfflineScans"]
    assert (first["recorded"], first["userErrors"]) == (2, [])
    results = first["results"]
    assert [r["index"] for r in results] == list(range(len(batch)))
    assert [(r["scan"]["valid"], r["duplicate"]) for r in results] == [
        (True, False), (True, True), (False, False), (False, False), (True, False),
    ]  # fmt: skip
    assert results[1]["scan"]["scanId"] == results[0]["scan"]["scanId"]
    assert results[2]["scan"]["userErrors"] == WRONG_PURPOSE
    assert (results[3]["scan"]["outcome"], results[3]["scan"]["scanId"]) == ("MALFORMED", None)

    head = live.files.head()
    again = api.run(UPLOAD, {"s": batch}, gate)["uploadOfflineScans"]
    assert again["recorded"] == 0
    assert [r["duplicate"] for r in again["results"]] == [True, True, False, False, True]
    assert live.files.head() == head  # the same batch again records nothing
    for token in riders:
        [recorded] = my_scans(api, live, token)
        assert (recorded["partnerRole"], recorded["place"]) == ("TRANSIT_GATE", "12路 车载机")


def test_a_citizen_checks_in_with_a_place_code_and_the_venue_sees_a_masked_visitor(
    api: Api, live: City, demo: Demo
) -> None:
    hotel = staff(api, demo, "venue-hotel-01")
    poster = api.run(PLACE_CODE, {"p": "大堂 正门"}, hotel)["placeCode"]
    assert poster["payload"].startswith("MP1:") and poster["png"] is None
    liu = citizen(api, LIU)
    visit = api.run(CHECK_IN, {"c": poster["payload"]}, liu)["checkIn"]
    assert visit["userErrors"] == []
    assert (visit["partnerName"], visit["place"]) == ("常德华天大酒店", "大堂 正门")

    [mine] = my_scans(api, live, liu)
    assert (mine["id"], mine["direction"], mine["partnerRole"]) == (
        visit["scanId"],
        "PLACE",
        "VENUE",
    )
    at_desk = scan(api, hotel, code_of(api, liu), "HEALTH", "前台")
    settled(live)
    seen = api.run(VENUE_SCANS, {"why": "counting visitors at the door"}, hotel)
    nodes = [e["node"] for e in seen["venueScans"]["edges"]]  # newest first
    assert [(n["scan"]["id"], n["scan"]["direction"], n["scan"]["place"]) for n in nodes] == [
        (at_desk["scanId"], "CODE", "前台"),
        (visit["scanId"], "PLACE", "大堂 正门"),
    ]
    visitors = {n["visitor"] for n in nodes}
    assert len(visitors) == 1  # the same visitor twice, at this venue
    liu_id = citizen_id(api, liu)
    assert visitors.isdisjoint({"", liu_id, relay.GlobalID.from_id(liu_id).node_id})
    assert str(live.ids.citizen(LIU.id_number)) not in json.dumps(seen)

    again = api.run(CHECK_IN, {"c": poster["payload"]}, liu)["checkIn"]
    assert again["scanId"] == visit["scanId"]  # the app sent the same visit twice
    not_a_citizen = api.run(CHECK_IN, {"c": poster["payload"]}, hotel)["checkIn"]
    assert not_a_citizen["userErrors"] == FORBIDDEN
    assert error_code(api, PLACE_CODE, {"p": "大堂"}, liu) == "FORBIDDEN"


def test_the_scan_logs_are_read_only_by_their_partner_and_traced_by_the_health_feed(
    api: Api, live: City, demo: Demo
) -> None:
    hotel = staff(api, demo, "venue-hotel-01")
    chen = citizen(api, CHEN)
    assert scan(api, hotel, code_of(api, chen), "HEALTH", "前台")["valid"]
    why = {"why": "counting visitors at the door"}
    for token in (chen, staff(api, demo, "officer-amr-01"), staff(api, demo, "feed-health")):
        assert error_code(api, VENUE_SCANS, why, token) == "FORBIDDEN"

    settled(live)
    now = datetime.now(UTC)
    span = {"partner": "venue-hotel-01", "place": "前台",
            "since": (now - timedelta(hours=1)).isoformat(),
            "until": (now + timedelta(hours=1)).isoformat()}  # fmt: skip
    reason = {"reason": "确诊病例密接排查 2026-031"}
    for client in ("venue-hotel-01", "officer-amr-01", "feed-library", "auditor-01"):
        token = staff(api, demo, client)
        assert error_code(api, TRACE, span | reason, token) == "FORBIDDEN", client
    assert error_code(api, TRACE, span | reason, chen) == "FORBIDDEN"
    health = staff(api, demo, "feed-health")
    assert error_code(api, TRACE, span | {"reason": ""}, health) == "PURPOSE_REQUIRED"
    [contact] = api.run(TRACE, span | reason, health)["contactTrace"]
    assert contact["citizenId"] == citizen_id(api, chen)
    assert [contact[k] for k in ("name", "phone", "colour")] == [CHEN.name, CHEN.phone, "GREEN"]

    settled(live)
    accesses = api.run(ACCESSES, token=chen)["me"]["citizen"]["dataAccesses"]["edges"]
    [traced] = [a["node"] for a in accesses if a["node"]["read"] == "city_code.contact_trace"]
    assert (traced["readerRole"], traced["purpose"]) == ("AUTHORITY_FEED", reason["reason"])
    assert "phone" in traced["fields"]


def test_a_code_pushed_over_websocket_opens_the_gate(
    api: Api, live: City, demo: Demo, server: str
) -> None:
    li = citizen(api, LI)

    async def first_code() -> dict[str, Any]:
        transport = WebsocketsTransport(
            url=server.replace("http://", "ws://") + "/graphql",
            init_payload={"authorization": f"Bearer {li}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport) as session:
            subscription = gql("subscription { cityCodeRefreshes { payload refreshSeconds } }")
            async for pushed in session.subscribe(subscription):
                return dict(pushed["cityCodeRefreshes"])
        raise AssertionError("the subscription ended before a code came")

    pushed = asyncio.run(asyncio.wait_for(first_code(), timeout=20))
    assert pushed["payload"].startswith("MC1:") and pushed["refreshSeconds"] > 0
    gate = scan(api, staff(api, demo, "gate-metro-wuling-01"), pushed["payload"], "TRANSIT")
    assert (gate["valid"], told(gate)) == (True, {"allowed": True})
    [recorded] = my_scans(api, live, li)
    assert recorded["id"] == gate["scanId"]
