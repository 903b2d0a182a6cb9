"""Audit and privacy over the API: erasure, legal holds, history, checkpoints and proofs,
checked offline with `mycity.verifier` against the key and checkpoint the city publishes."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta

import httpx

from mycity.bootstrap import City
from mycity.demo import CITIZENS
from mycity.domain.retention import add_years
from mycity.verifier.checkpoint import verify_checkpoint
from mycity.verifier.licence_trust import load_keys
from mycity.verifier.merkle import leaf_hash, verify_consistency, verify_inclusion
from mycity.verifier.note import parse_verifier_key
from mycity.verifier.proofs import Reason, check_against, check_proof, read_proof
from tests.helpers import Api

CHEN, ZHAO = CITIZENS[4], CITIZENS[5]
HISTORY = """query($id: ID!, $after: String) {
  auditHistory(subject: $id, purpose: "annual audit", first: 2, after: $after) {
    edges { node { position version type data } } pageInfo { hasNextPage endCursor } } }"""


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def staff(api: Api, demo: dict[str, dict[str, str]], client: str) -> str:
    return api.log_in_client(client, demo[client]["secret"])


def citizen_id(api: Api, token: str) -> str:
    return str(api.run("{ me { citizen { id } } }", token=token)["me"]["citizen"]["id"])


def test_a_citizen_erases_their_data_with_a_fresh_code(
    api: Api, demo: dict[str, dict[str, str]]
) -> None:
    token = api.log_in_citizen(CHEN.phone)["accessToken"]
    chen = citizen_id(api, token)
    erase = """mutation($c: String!) { eraseMyData(input: {code: $c}) {
      citizen { name idNumber phone address erasedAt } userErrors { code field }
      receipt { erasedNow statutoryRecordsErasedOn
                kept { kind reference rule years countedFrom ends erasedOn basis } } } }"""
    assert api.run(erase, {"c": "000000"}, token)["eraseMyData"]["userErrors"] == [
        {"code": "CODE_INVALID", "field": "code"}
    ]
    api.run("mutation($p: String!) { requestPhoneCode(input: {phone: $p}) { retryAfterSeconds } }",
            {"p": CHEN.phone})  # fmt: skip
    erased = api.run(erase, {"c": api.last_code(CHEN.phone)}, token)["eraseMyData"]
    assert erased["userErrors"] == []
    receipt = erased["receipt"]
    assert receipt["erasedNow"] == ["SERVICE_ACTIVITY"]
    [registration] = [k for k in receipt["kept"] if k["kind"] == "REGISTRATION"]
    closed_on = date.fromisoformat(registration["ends"])
    assert registration == {
        "kind": "REGISTRATION",
        "reference": registration["reference"],
        "rule": "registration",
        "years": 3,
        "countedFrom": "CLOSED",
        "ends": closed_on.isoformat(),
        "erasedOn": (add_years(closed_on, 3) + timedelta(days=1)).isoformat(),
        "basis": registration["basis"],
    }
    days = [k["erasedOn"] for k in receipt["kept"]]
    assert receipt["statutoryRecordsErasedOn"] == (
        None if "" in days or None in days else max(days)
    )
    shown = erased["citizen"]
    assert (
        shown["erasedAt"]
        and [shown[k] for k in ("name", "idNumber", "phone", "address")] == [None] * 4
    )
    ended = api.errors("{ me { subject } }", token=token)[0]["extensions"]["code"]
    assert ended == "UNAUTHENTICATED"  # every session of the erased person ended
    officer = staff(api, demo, "officer-psb-01")
    file = api.run(
        'query($id: ID!) { citizen(id: $id, purpose: "after erasure") { name idNumber erasedAt } }',
        {"id": chen},
        officer,
    )["citizen"]
    assert file["name"] is None and file["idNumber"] is None and file["erasedAt"]


def test_officers_hold_a_file_from_erasure(api: Api, demo: dict[str, dict[str, str]]) -> None:
    zhao = citizen_id(api, api.log_in_citizen(ZHAO.phone)["accessToken"])
    hold = """mutation($id: ID!, $r: String!) { placeLegalHold(input: {citizenId: $id, reason: $r})
      { userErrors { code } } }"""
    erase = """mutation($id: ID!) { eraseCitizen(input: {citizenId: $id, ground: ORDERED}) {
      citizen { name } userErrors { code } } }"""
    officer, admin = staff(api, demo, "officer-psb-01"), staff(api, demo, "admin-01")
    assert api.run(hold, {"id": zhao, "r": "court order 118"}, officer)["placeLegalHold"] == {
        "userErrors": []
    }
    assert api.run(erase, {"id": zhao}, officer)["eraseCitizen"]["userErrors"] == [
        {"code": "FORBIDDEN"}
    ]
    assert api.run(erase, {"id": zhao}, admin)["eraseCitizen"]["userErrors"] == [
        {"code": "LEGAL_HOLD"}
    ]
    lift = hold.replace("placeLegalHold", "liftLegalHold")
    assert api.run(lift, {"id": zhao, "r": "order lifted"}, admin)["liftLegalHold"] == {
        "userErrors": []
    }
    assert api.run(erase, {"id": zhao}, admin)["eraseCitizen"] == {
        "citizen": {"name": None},
        "userErrors": [],
    }


def test_auditors_page_through_a_files_history(api: Api, demo: dict[str, dict[str, str]]) -> None:
    wang = citizen_id(api, api.log_in_citizen(CITIZENS[0].phone)["accessToken"])
    auditor = staff(api, demo, "auditor-01")
    first = api.run(HISTORY, {"id": wang}, auditor)["auditHistory"]
    assert [e["node"]["type"] for e in first["edges"]] == [
        "Citizen.Registered",
        "Citizen.RealNameVerified",
    ]
    assert "*" in first["edges"][0]["node"]["data"]["id_number"]  # as recorded, masked
    assert first["pageInfo"]["hasNextPage"] is True
    after = first["pageInfo"]["endCursor"]
    kept = api.run(HISTORY, {"id": wang, "after": after}, auditor)["auditHistory"]
    assert [e["node"]["type"] for e in kept["edges"]] == [  # kept on her behalf: her code's
        "CodeHolder.Opened",
        "CodeHolder.CardLinked",
    ]
    officer = staff(api, demo, "officer-psb-01")
    assert api.errors(HISTORY, {"id": wang}, officer)[0]["extensions"]["code"] == "FORBIDDEN"


def test_a_published_checkpoint_and_its_proofs_verify_offline(
    api: Api, city: City, demo: dict[str, dict[str, str]]
) -> None:
    auditor = staff(api, demo, "auditor-01")
    sign = "mutation { signCheckpoint { checkpoint { size root note } userErrors { code } } }"
    old = api.run(sign, token=auditor)["signCheckpoint"]["checkpoint"]
    api.log_in_citizen(CITIZENS[1].phone)  # the log grows
    city.citizens.change_contact(
        city.sessions.principal_for_phone(CITIZENS[1].phone),  # type: ignore[arg-type]
        None,
        None,
        "新址",
    )
    new = api.run(sign, token=auditor)["signCheckpoint"]["checkpoint"]
    published = httpx.get(f"{api.base_url}/audit/checkpoint").text
    assert published == new["note"]
    keys = httpx.get(f"{api.base_url}/audit/key")  # an outsider's copy, not the operator's word
    assert keys.headers["content-type"].startswith("text/plain")
    assert keys.text.splitlines() == city.audit.verifier_keys()
    trust = httpx.get(f"{api.base_url}/licences/keys").json()  # and in the trust list
    listed = [k["note_key"] for k in trust["keys"] if k["use"] == "checkpoint"]
    assert listed == keys.text.splitlines()
    assert load_keys(trust)  # licence verifiers skip the checkpoint keys
    verifier = parse_verifier_key(keys.text.splitlines()[0])
    checkpoint = verify_checkpoint(published, verifier, city.settings.audit.origin)
    assert checkpoint is not None and checkpoint.size == new["size"] > old["size"]

    proof = api.run(
        "query($p: Int!) { auditInclusionProof(position: $p) { position leafIndex treeSize "
        "record proof root } }",
        {"p": 3},
        auditor,
    )["auditInclusionProof"]
    assert proof["treeSize"] == checkpoint.size
    leaf = leaf_hash(b64(proof["record"]))
    hashes = [b64(h) for h in proof["proof"]]
    assert verify_inclusion(leaf, proof["leafIndex"], checkpoint.size, hashes, checkpoint.root)
    consistency = api.run(
        "query($s: Int!) { auditConsistencyProof(fromSize: $s) { fromSize toSize fromRoot "
        "toRoot proof } }",
        {"s": old["size"]},
        auditor,
    )["auditConsistencyProof"]
    assert consistency["toSize"] == checkpoint.size
    assert verify_consistency(
        old["size"],
        checkpoint.size,
        [b64(h) for h in consistency["proof"]],
        b64(old["root"]),
        checkpoint.root,
    )
    assert (consistency["fromRoot"], b64(consistency["toRoot"])) == (old["root"], checkpoint.root)
    for answer in (proof, consistency):  # the shape `mycity audit check-proof` reads
        read = read_proof(json.dumps(answer))
        assert check_proof(read) is Reason.VALID
        assert check_against(read, checkpoint) is Reason.VALID
    merchant = staff(api, demo, "merchant-wuling-01")
    assert api.run(sign, token=merchant)["signCheckpoint"]["userErrors"] == [{"code": "FORBIDDEN"}]
