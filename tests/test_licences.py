"""E-licences after issuance: presentations and what refuses them, status changes by the
issuing department, use records, and the holder's list of who read their data."""

from __future__ import annotations

import dataclasses
import json
import random
import time
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from strawberry import relay
from typer.testing import CliRunner

from mycity.bootstrap import City
from mycity.cli import cli
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.licence import Licence
from mycity.integrations.qr import read_image, render_png
from mycity.usecases.licences import PresentationFormat
from mycity.verifier import base45, cbor
from mycity.verifier.licence import (
    QR_PREFIX,
    Reason,
    load_keys,
    make_compact_presentation,
    make_presentation,
    read_presentation,
    read_status_list,
    verify_presentation,
)
from mycity.verifier.licence_codec import b64url, canonical
from mycity.verifier.licence_credential import Disclosure, read_credential
from tests.domain_helpers import refused
from tests.helpers import Api, CitizenFactory, Person
from tests.services import AMR, ESTABLISHMENT, HOTEL, PSB, WHY_SHOWN, establish
from tests.test_applications import marry

FIELDS = ["enterprise_name", "credit_code"]
FULL = PresentationFormat.FULL  # the first format, where a test reads its credential


def business(city: City, people: CitizenFactory) -> tuple[Person, Licence]:
    founder = people.register("持证人", verified=True)
    return founder, establish(city, founder)[2]


def verdict(city: City, payload: str) -> Reason:
    return city.reads.licences.verify(HOTEL, payload, WHY_SHOWN).reason


def test_a_presentation_reveals_only_the_fields_chosen(city: City, people: CitizenFactory) -> None:
    founder, licence = business(city, people)
    shown = city.licences.present(founder.principal, licence.id, FIELDS, format=FULL)
    checked = city.reads.licences.verify(HOTEL, shown.payload, WHY_SHOWN)
    assert checked.ok and set(checked.disclosed) == set(FIELDS)
    presentation = read_presentation(shown.payload)
    assert presentation is not None
    assert licence.fields["legal_representative"] not in shown.payload
    assert set(presentation.credential.digests) == set(licence.fields)  # the rest, hidden


def test_the_credential_names_the_licence_never_its_holder(
    city: City, people: CitizenFactory
) -> None:
    """docs/licences.md §4: `holder` is the licence's own file id, derived from its
    identifier; the verdict's `type_code` is the identifier's, not the catalogue's."""
    founder, licence = business(city, people)
    presentation = read_presentation(
        city.licences.present(founder.principal, licence.id, [], format=FULL).payload
    )
    assert presentation is not None
    credential = presentation.credential
    derived = uuid5(NAMESPACE_URL, f"mycity:licence:{credential.licence_id}")
    assert credential.holder == str(derived) == str(licence.id)
    assert licence.holder != derived  # the enterprise's file is not named
    assert credential.type_code == credential.licence_id.split(".")[5] != licence.type_code
    assert licence.type_code == "BUSINESS_LICENCE"


def test_fields_too_long_for_one_code_are_refused_with_a_typed_error(
    city: City, people: CitizenFactory
) -> None:
    """Form answers may hold 500 characters each: shown all at once, they overflow a QR."""
    rng = random.Random(7)  # varied text: repeated text compresses into nothing
    text = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(1000))
    long = ESTABLISHMENT | {"business_scope": text[:500], "address": text[500:]}
    founder = people.register("长", verified=True)
    _, _, licence = establish(city, founder, long)
    with refused(ErrorCode.INVALID_FIELDS, "fields"):
        city.licences.present(founder.principal, licence.id, list(licence.fields))
    assert city.licences.present(founder.principal, licence.id, ["address"]).payload


def test_a_replayed_presentation_is_refused(city: City, people: CitizenFactory) -> None:
    founder, licence = business(city, people)
    payload = city.licences.present(founder.principal, licence.id, FIELDS).payload
    assert verdict(city, payload) is Reason.VALID
    assert verdict(city, payload) is Reason.REPLAYED


def test_an_expired_presentation_is_refused(city: City, people: CitizenFactory) -> None:
    founder, licence = business(city, people)
    payload = city.licences.present(founder.principal, licence.id, FIELDS, lifetime=60).payload
    city.clock.ahead = timedelta(seconds=120)
    assert verdict(city, payload) is Reason.EXPIRED


@pytest.mark.parametrize(
    ("change", "reason"),
    [(Licence.suspend, Reason.SUSPENDED), (Licence.revoke, Reason.REVOKED)],
)
def test_a_suspended_or_revoked_licence_is_refused_at_once(
    city: City, people: CitizenFactory, change: object, reason: Reason
) -> None:
    founder, licence = business(city, people)
    payload = city.licences.present(founder.principal, licence.id, FIELDS).payload
    command = city.licences.suspend if change is Licence.suspend else city.licences.revoke
    command(AMR, licence.id, "经营场所与登记不符")
    assert verdict(city, payload) is reason
    with pytest.raises(UserError) as refused:
        city.licences.present(founder.principal, licence.id, FIELDS)
    assert refused.value.code is ErrorCode.LICENCE_NOT_VALID


def qr_text(document: dict[str, object]) -> str:
    return QR_PREFIX + base45.encode(zlib.compress(canonical(document)))


def document_of(payload: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(zlib.decompress(base45.decode(payload[4:])))
    return found


def test_an_altered_field_is_refused(city: City, people: CitizenFactory) -> None:
    founder, licence = business(city, people)
    payload = city.licences.present(founder.principal, licence.id, FIELDS, format=FULL).payload
    document = document_of(payload)
    document["disclosures"]["enterprise_name"]["value"] += "（分店）"
    assert verdict(city, qr_text(document)) is Reason.BAD_SIGNATURE  # changed in transit
    del document["sig"]  # and by a wallet that signs whatever it is given
    document["sig"] = b64url(city.keys.wallet_signing.private_key().sign(canonical(document)))
    assert verdict(city, qr_text(document)) is Reason.FIELD_MISMATCH


def test_a_forged_or_unknown_key_presentation_is_refused(
    city: City, people: CitizenFactory
) -> None:
    _, licence = business(city, people)
    credential = read_credential(json.loads(licence.credential))
    disclosures = [
        Disclosure(n, licence.fields[n], bytes.fromhex(licence.salts[n])) for n in FIELDS
    ]
    now = int(time.time())
    wallet = city.keys.wallet_signing

    def signed(key: Ed25519PrivateKey, kid: str) -> str:
        return make_presentation(
            credential, disclosures, key=key, kid=kid, issued_at=now, expires_at=now + 60,
            nonce=now.to_bytes(16, "big"),
        )  # fmt: skip

    assert verdict(city, signed(Ed25519PrivateKey.generate(), wallet.active_kid)) is (
        Reason.BAD_SIGNATURE
    )
    assert verdict(city, signed(wallet.private_key(), "unknown-kid")) is Reason.UNKNOWN_KEY
    assert verdict(city, "LC1:NOT+A+PRESENTATION") is Reason.MALFORMED


def test_only_the_issuing_department_changes_a_licences_status(
    city: City, people: CitizenFactory
) -> None:
    _, licence = business(city, people)
    with pytest.raises(UserError) as refused:
        city.licences.suspend(PSB, licence.id, "不是我们发的证")
    assert refused.value.code is ErrorCode.NOT_YOUR_DEPARTMENT
    city.licences.suspend(AMR, licence.id, "待核查")
    with pytest.raises(UserError) as refused:
        city.licences.suspend(AMR, licence.id, "再次暂停")
    assert refused.value.code is ErrorCode.ILLEGAL_TRANSITION
    city.licences.reinstate(AMR, licence.id, "核查无误")
    assert city.files.get(Licence, licence.id).status(city.clock.today()).value == "VALID"


def test_another_persons_licence_cannot_be_presented(city: City, people: CitizenFactory) -> None:
    _, licence = business(city, people)
    with pytest.raises(UserError) as refused:
        city.licences.present(people.register("路人").principal, licence.id, FIELDS)
    assert refused.value.code is ErrorCode.FORBIDDEN


def test_the_status_list_shows_a_suspension(city: City, people: CitizenFactory) -> None:
    _, licence = business(city, people)
    before = city.licences.status_list("AMR")  # signed, and kept for a minute
    city.licences.suspend(AMR, licence.id, "待核查")  # this server drops its copy
    city.read_models.catch_up()
    assert city.licences.status_list("AMR") != before
    listed = read_status_list(
        city.licences.status_list("AMR"), load_keys(city.licences.trust_list()), now=time.time()
    )
    assert not isinstance(listed, Reason)
    assert listed.status(licence.status_index) == "suspended"


def listed_status(city: City, index: int) -> str:
    listed = read_status_list(
        city.licences.status_list("AMR"), load_keys(city.licences.trust_list()), now=time.time()
    )
    assert not isinstance(listed, Reason)
    return listed.status(index)


def test_a_list_built_before_a_change_is_folded_is_served_but_not_kept(
    city: City, people: CitizenFactory
) -> None:
    _, licence = business(city, people)
    city.licences.suspend(AMR, licence.id, "待核查")  # no runner: the wallet has not folded it
    assert listed_status(city, licence.status_index) == "valid"  # what the store knows yet
    city.read_models.catch_up()
    assert listed_status(city, licence.status_index) == "suspended"  # not the list above


def test_a_suspension_is_in_the_served_list_when_the_mutation_answers(
    api: Api, city: City, people: CitizenFactory, server: str
) -> None:
    _, licence = business(city, people)
    city.read_models.catch_up()
    officer = city.tokens.access_token(AMR)
    for command, status in (("suspendLicence", "suspended"), ("reinstateLicence", "valid")):
        changed = api.run(
            f'mutation($id: ID!) {{ {command}(input: {{licenceId: $id, reason: "待核查的情况"}})'
            " { userErrors { code } } }",
            {"id": str(relay.GlobalID("Licence", str(licence.id)))},
            officer,
        )
        assert changed[command]["userErrors"] == []
        text = httpx.get(f"{server}/licences/status/AMR").text  # at once, from the same server
        listed = read_status_list(text, load_keys(city.licences.trust_list()), now=time.time())
        assert not isinstance(listed, Reason)
        assert listed.status(licence.status_index) == status


def test_the_holder_sees_the_verification_among_their_data_accesses(
    city: City, people: CitizenFactory
) -> None:
    bride, groom = people.register("新娘", verified=True), people.register("新郎", verified=True)
    application = city.applications.get(marry(city, bride, groom))
    own = next(
        city.files.get(Licence, i) for i in application.licences
        if city.files.get(Licence, i).holder == bride.id
    )  # fmt: skip
    payload = city.licences.present(bride.principal, own.id, ["holder_name"]).payload
    assert city.reads.licences.verify(HOTEL, payload, WHY_SHOWN).ok
    city.read_models.catch_up()
    [use] = city.reads.licences.uses_of(bride.principal, None, 10, None)
    assert (use.verifier_name, use.fields, use.purpose) == (HOTEL.name, ("holder_name",), WHY_SHOWN)
    [access] = city.reads.access.of_person(bride.principal, bride.id, 10, None)
    assert (access.read, access.purpose, list(access.unmasked)) == (
        "licence.verification",
        WHY_SHOWN,
        ["holder_name"],
    )


def test_a_verification_needs_a_partner_and_a_purpose(city: City, people: CitizenFactory) -> None:
    founder, licence = business(city, people)
    payload = city.licences.present(founder.principal, licence.id, FIELDS).payload
    with pytest.raises(UserError) as refused:
        city.reads.licences.verify(founder.principal, payload, WHY_SHOWN)
    assert refused.value.code is ErrorCode.FORBIDDEN
    with pytest.raises(UserError) as refused:
        city.reads.licences.verify(HOTEL, payload, None)
    assert refused.value.code is ErrorCode.PURPOSE_REQUIRED


def test_the_rendered_png_decodes_and_verifies(city: City, people: CitizenFactory) -> None:
    founder, licence = business(city, people)
    payload = city.licences.present(founder.principal, licence.id, FIELDS).payload
    [decoded] = read_image(render_png(payload))
    assert decoded == payload
    assert verify_presentation(decoded, load_keys(city.licences.trust_list()), now=time.time()).ok


def test_the_cli_verifies_a_picture_of_a_presentation_offline(
    city: City, people: CitizenFactory, env: dict[str, str], tmp_path: Path
) -> None:
    founder, licence = business(city, people)
    payload = city.licences.present(founder.principal, licence.id, FIELDS).payload
    picture, keys = tmp_path / "code.png", tmp_path / "keys.json"
    picture.write_bytes(render_png(payload))
    keys.write_text(json.dumps(city.licences.trust_list()))
    checked = CliRunner().invoke(cli, ["licence", "verify", str(picture), "--keys", str(keys)])
    assert checked.exit_code == 0, checked.output
    type_code = licence.identifier.split(".")[5]
    assert checked.output.startswith(f"VALID: 营业执照 ({type_code}), by AMR")
    assert f"credit_code: {licence.fields['credit_code']}" in checked.output
    forged = CliRunner().invoke(
        cli, ["licence", "verify", payload[:-3] + "AAA", "--keys", str(keys)], env=env
    )
    assert forged.exit_code == 1 and forged.output.startswith("REFUSED: ")
    own = CliRunner().invoke(cli, ["licence", "verify", payload], env=env)  # this city's keys
    assert own.exit_code == 0, own.output


def test_two_compact_showings_of_one_licence_share_only_what_was_shown(
    city: City, people: CitizenFactory
) -> None:
    """docs/licences.md §9: no identifier, holder reference, status index, digest or salt
    travels; the nonce, the window and the signature are new in each showing."""
    founder, licence = business(city, people)
    shown = [
        cbor.decode(base45.decode(city.licences.present(founder.principal, licence.id, FIELDS)
                                  .payload[4:]))
        for _ in range(20)
    ]  # fmt: skip
    for i, first in enumerate(shown):
        for second in shown[i + 1 :]:
            same = {k for k, (a, b) in enumerate(zip(first, second, strict=True)) if a == b}
            assert same <= {0, 1, 2, 3, 4, 5, 6, 8}  # typ, type, issuer, fields, window, kid
            assert first[7][:16] != second[7][:16] and first[7][16:] != second[7][16:]
    text = json.dumps([repr(s) for s in shown], ensure_ascii=False)
    for kept in (licence.identifier, licence.fields["legal_representative"]):
        assert kept not in text
    for nonce in (s[7] for s in shown):  # the file id is in no nonce, whole or in halves
        halves = (licence.id.bytes[:8], licence.id.bytes[8:])
        assert not any(half in nonce for half in halves)
        assert bytes(a ^ b for a, b in zip(nonce[:16], nonce[16:], strict=True)) != licence.id.bytes
    assert set(shown[0][4]) == set(FIELDS)


def test_a_compact_statement_the_city_did_not_make_is_refused_online(
    city: City, people: CitizenFactory
) -> None:
    """Signed by the department's own key, but naming no licence of the city's through its
    nonce, or another type than the licence its nonce holds."""
    _, licence = business(city, people)
    ring = city.keys.licence_signing[licence.issuer]
    type_code = licence.identifier.split(".")[5]

    credit_code = licence.fields["credit_code"]

    def statement(nonce: bytes, type_code: str = type_code, value: str = credit_code) -> str:
        now = int(time.time())
        return make_compact_presentation(
            ring.private_key(),
            kid=ring.active_kid,
            type_code=type_code,
            type_name=licence.type_name,
            issuer=licence.issuer,
            fields={"credit_code": value},
            issued_at=now,
            expires_at=now + 60,
            nonce=nonce,
        )

    def nonce() -> bytes:
        return city.licences.nonces.make(licence.id)

    tampered = bytearray(nonce())
    tampered[20] ^= 1
    for forged in (
        statement(bytes(32)),  # names no licence
        statement(bytes(tampered)),  # altered: it no longer proves itself
        statement(nonce(), "11430700MB19364P34999"),  # another type than the licence's
        statement(nonce(), value="91430700000000000X"),  # a value the licence does not hold
    ):
        assert verdict(city, forged) is Reason.UNKNOWN_KEY
    assert verdict(city, statement(nonce())) is Reason.VALID


def test_every_compact_showing_of_a_type_says_its_name_now(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A licence keeps the name its type had at issuance; a showing says the catalogue's
    name now, so a rename does not tell old licences from new ones."""
    founder, licence = business(city, people)

    def renamed(type_code: str, issued_as: str) -> str:
        return "营业执照（副本）"

    monkeypatch.setattr(city.licences, "type_name", renamed)
    payload = city.licences.present(founder.principal, licence.id, FIELDS).payload
    assert cbor.decode(base45.decode(payload[4:]))[2] == "营业执照（副本）" != licence.type_name
    assert city.reads.licences.verify(HOTEL, payload, WHY_SHOWN).reason is Reason.UNKNOWN_KEY
    reads = dataclasses.replace(city.reads.licences, type_name=renamed)
    assert reads.verify(HOTEL, payload, WHY_SHOWN).ok
    assert city.catalogue.licence_name("NO_SUCH_TYPE", "旧名") == "旧名"
