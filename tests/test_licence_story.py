"""The issue's story, over HTTP against the demo city with a real GraphQL client: a
citizen registers a business, an officer approves it, the business licence lands in the
enterprise's wallet, the holder presents it with two fields revealed, a hotel verifies it,
and the holder sees the use record. Also: the PNG decodes with a real decoder and verifies
offline with the published keys; a replayed presentation is refused."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import httpx
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from mycity.bootstrap import City
from mycity.demo import CITIZENS
from mycity.integrations.qr import read_image
from mycity.verifier.licence import load_keys, verify_presentation
from tests.conftest import Served
from tests.helpers import Api
from tests.services import ESTABLISHMENT

WANG = CITIZENS[0]
SUBMIT = """mutation($i: SubmitApplicationInput!) { submitApplication(input: $i) {
  applicationId application { id status } userErrors { code field message } } }"""
STEP = """mutation($id: ID!) { %s(input: {applicationId: $id}) {
  application { status due } userErrors { code message } } }"""
QUEUE = "{ departmentQueue { edges { node { id item status } } } }"
MEMBERSHIPS = "{ me { citizen { enterprises { edges { node { enterprise { id name } } } } } } }"
WALLET = """query($e: ID) { myLicences(enterpriseId: $e) { edges { node {
  id identifier typeName status fields { name value } } } } }"""
PRESENT = """mutation($l: ID!) { presentLicence(input: {licenceId: $l,
  fields: ["enterprise_name", "credit_code"], png: true}) {
  payload expiresAt png userErrors { code message } } }"""
VERIFY = """mutation($p: String!) { verifyPresentation(input: {payload: $p,
  purpose: "guest check-in: company stay"}) {
  valid reason licence { identifier typeName } fields { name value } userErrors { code } } }"""
USES = """query($e: ID) { myLicenceUses(enterpriseId: $e) { edges { node {
  verifierRole verifierName purpose fields } } } }"""


def uploaded(base_url: str, token: str, content: bytes) -> str:
    answer = httpx.post(
        f"{base_url}/uploads", content=content, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["sha256"])


def eventually(read: Any, tries: int = 200) -> Any:
    """What a process writes after the command answered: ask until it is there."""
    for _ in range(tries):
        if found := read():
            return found
        time.sleep(0.05)
    raise AssertionError("never appeared")


def test_a_business_licence_from_application_to_a_verified_presentation(
    api: Api, city: City, demo: dict[str, dict[str, str]], server: str
) -> None:
    wang = api.log_in_citizen(WANG.phone)["accessToken"]
    item = city.catalogue.item("AMR-001")
    materials = [
        {"code": m.code, "document": uploaded(server, wang, b"%PDF-1.7 " + m.code.encode())}
        for m in item.materials
    ]
    form = [{"name": k, "value": v} for k, v in ESTABLISHMENT.items()]
    submitted = api.run(
        SUBMIT, {"i": {"itemCode": "AMR-001", "form": form, "materials": materials}}, wang
    )["submitApplication"]
    assert submitted["userErrors"] == [] and submitted["application"]["status"] == "SUBMITTED"
    application_id = submitted["application"]["id"]

    officer = api.log_in_client("officer-amr-01", demo["officer-amr-01"]["secret"])
    queue = api.run(QUEUE, token=officer)["departmentQueue"]["edges"]
    assert application_id in [edge["node"]["id"] for edge in queue]
    for step, status in (("acceptApplication", "ACCEPTED"), ("approveApplication", "APPROVED")):
        done = api.run(STEP % step, {"id": application_id}, officer)[step]
        assert done["userErrors"] == [] and done["application"]["status"] == status

    def enterprise() -> str | None:
        found = api.run(MEMBERSHIPS, token=wang)["me"]["citizen"]["enterprises"]["edges"]
        named = [e["node"]["enterprise"] for e in found if e["node"]["enterprise"]]
        mine = [e["id"] for e in named if e["name"] == ESTABLISHMENT["enterprise_name"]]
        return mine[0] if mine else None

    enterprise_id = eventually(enterprise)
    [licence] = eventually(
        lambda: api.run(WALLET, {"e": enterprise_id}, wang)["myLicences"]["edges"]
    )
    assert licence["node"]["typeName"] == "营业执照" and licence["node"]["status"] == "VALID"
    completed = api.run(STEP % "completeApplication", {"id": application_id}, officer)
    assert completed["completeApplication"]["application"]["status"] == "COMPLETED"

    shown = api.run(PRESENT, {"l": licence["node"]["id"]}, wang)["presentLicence"]
    assert shown["userErrors"] == []
    assert read_image(base64.b64decode(shown["png"])) == [shown["payload"]]
    keys = load_keys(httpx.get(f"{server}/licences/keys").json())
    offline = verify_presentation(shown["payload"], keys, now=time.time())
    assert offline.ok and set(offline.disclosed) == {"enterprise_name", "credit_code"}

    hotel = api.log_in_client("venue-hotel-01", demo["venue-hotel-01"]["secret"])
    verified = api.run(VERIFY, {"p": shown["payload"]}, hotel)["verifyPresentation"]
    assert verified["valid"] and verified["reason"] == "VALID", verified
    assert {f["name"]: f["value"] for f in verified["fields"]}["enterprise_name"] == (
        ESTABLISHMENT["enterprise_name"]
    )
    assert "legal_representative" not in {f["name"] for f in verified["fields"]}
    again = api.run(VERIFY, {"p": shown["payload"]}, hotel)["verifyPresentation"]
    assert (again["valid"], again["reason"], again["fields"]) == (False, "REPLAYED", [])

    [use] = eventually(lambda: api.run(USES, {"e": enterprise_id}, wang)["myLicenceUses"]["edges"])
    assert use["node"]["verifierName"] == "常德华天大酒店"
    assert sorted(use["node"]["fields"]) == ["credit_code", "enterprise_name"]


def test_the_applicant_hears_each_change_of_their_application(
    api: Api, city: City, demo: dict[str, dict[str, str]], served: Served
) -> None:
    person = CITIZENS[1]
    token = api.log_in_citizen(person.phone)["accessToken"]
    officer = api.log_in_client("officer-amr-01", demo["officer-amr-01"]["secret"])
    feed = served.app.state.graphql.feed
    citizen_id = served.app.state.city.tokens.verify(token).citizen_id
    url = api.base_url.replace("http://", "ws://") + "/graphql"
    materials = [
        {"code": m.code, "document": uploaded(api.base_url, token, b"%PDF-1.7 " + m.code.encode())}
        for m in city.catalogue.item("AMR-001").materials
    ]
    form = [{"name": k, "value": v + "二"} for k, v in ESTABLISHMENT.items()]

    async def watch() -> list[dict[str, Any]]:
        transport = WebsocketsTransport(
            url=url,
            init_payload={"authorization": f"Bearer {token}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport) as session:
            stream = session.subscribe(
                gql("subscription { myApplicationChanges { event version fileId } }")
            )
            heard: list[dict[str, Any]] = []

            async def listen() -> None:
                async for change in stream:
                    heard.append(change["myApplicationChanges"])
                    if len(heard) == 2:
                        return

            listening = asyncio.ensure_future(listen())
            for _ in range(500):  # until the server has the subscription (10 s at most)
                if citizen_id in feed._behalf:
                    break
                await asyncio.sleep(0.02)
            variables = {"i": {"itemCode": "AMR-001", "form": form, "materials": materials}}
            submitted = await asyncio.to_thread(api.run, SUBMIT, variables, token)
            application_id = submitted["submitApplication"]["applicationId"]
            await asyncio.to_thread(
                api.run, STEP % "acceptApplication", {"id": application_id}, officer
            )
            await asyncio.wait_for(listening, timeout=10)
            assert {change["fileId"] for change in heard} == {application_id}
            return heard

    heard = asyncio.run(watch())
    assert [(c["event"], c["version"]) for c in heard] == [
        ("Application.Submitted", 1),
        ("Application.Accepted", 2),
    ]
