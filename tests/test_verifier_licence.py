"""E-licences: identifiers, credentials, presentations, status lists and their verifier.

Vectors: Base45 from RFC 9285 section 4.3; MOD 37,36 from the ISO/IEC 7064 example quoted by
implementations (A12425GABC1234002 -> M), the cdigit package's samples, and identifiers the
national platform issued, as they appear in public code. Every failure reason comes from a
real manipulation of a genuine presentation; docs/licences.md's worked example is recomputed.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import re
import zlib
from datetime import date
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from mycity.verifier import base45
from mycity.verifier.licence import (
    Credential,
    Disclosure,
    Reason,
    StatusList,
    Verdict,
    field_digest,
    licence_identifier,
    load_keys,
    make_disclosures,
    make_presentation,
    mod37_36_check_character,
    parse_licence_identifier,
    public_jwk,
    read_presentation,
    read_status_list,
    sign_credential,
    sign_status_list,
    verify_presentation,
)
from mycity.verifier.licence_codec import b64url, canonical
from mycity.verifier.licence_id import ALPHABET

DOC = (Path(__file__).parent.parent / "docs" / "licences.md").read_text()

LICENCE_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
WALLET_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(33, 65)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(65, 97)))
PSB_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(97, 129)))
JWKS = {
    "keys": [
        public_jwk(LICENCE_KEY.public_key(), "amr-2026", use="licence", issuer="AMR"),
        public_jwk(WALLET_KEY.public_key(), "wallet-2026", use="presentation"),
        public_jwk(PSB_KEY.public_key(), "psb-2026", use="licence", issuer="PSB"),
    ]
}
KEYS = load_keys(JWKS)
LICENCE_ID = licence_identifier("11100000MA0000000X001", "11430100MB0000000Y", 42, 1)
FIELDS = {
    "name": "长沙示例科技有限公司",
    "credit_code": "91430100MA4L000001",
    "registered_capital": "100万元人民币",
}
SALTS = {"credit_code": b"\x11" * 16, "name": b"\x22" * 16, "registered_capital": b"\x33" * 16}
DISCLOSURES = {name: Disclosure(name, value, SALTS[name]) for name, value in FIELDS.items()}
ISSUED_AT = 1_767_225_600  # 2026-01-01T00:00:00Z, 08:00 in Beijing
NOW = ISSUED_AT + 100
NONCE = b"\x44" * 16
WIDTH = 80  # docs/licences.md wraps long values at this width


def credential(key: Ed25519PrivateKey = LICENCE_KEY, **changes: Any) -> Credential:
    content: dict[str, Any] = {
        "licence_id": LICENCE_ID,
        "type_name": "营业执照",
        "issuer": "AMR",
        "holder": "h:9b1f0c3a",
        "valid_from": date(2025, 6, 1),
        "valid_until": None,
        "status_index": 7,
        "digests": {name: d.digest() for name, d in DISCLOSURES.items()},
    }
    return sign_credential(key, changes.pop("kid", "amr-2026"), **{**content, **changes})


def present(
    licence: Credential | None = None,
    shown: tuple[str, ...] = ("name", "credit_code"),
    key: Ed25519PrivateKey = WALLET_KEY,
    **changes: Any,
) -> str:
    options: dict[str, Any] = {
        "kid": "wallet-2026",
        "issued_at": ISSUED_AT,
        "expires_at": ISSUED_AT + 300,
        "nonce": NONCE,
    }
    disclosures = [DISCLOSURES[name] for name in shown]
    return make_presentation(
        licence or credential(), disclosures, key=key, **{**options, **changes}
    )


def status_list(**changes: Any) -> StatusList:
    text = status_list_text(**changes)
    read = read_status_list(text, KEYS, now=NOW)
    assert isinstance(read, StatusList), read
    return read


def status_list_text(key: Ed25519PrivateKey = LICENCE_KEY, **changes: Any) -> str:
    content: dict[str, Any] = {
        "issuer": "AMR",
        "revoked": [3],
        "suspended": [5],
        "issued_at": ISSUED_AT - 600,
        "valid_until": ISSUED_AT + 86_400,
    }
    return sign_status_list(key, changes.pop("kid", "amr-2026"), **{**content, **changes})


def verify(text: str, **options: Any) -> Verdict:
    return verify_presentation(text, KEYS, **{"now": NOW, **options})


# A tamperer's tools: the QR text as JSON and back, and signing a JSON document again.


def unpack(text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(zlib.decompress(base45.decode(text[4:])))
    return document


def pack(document: object) -> str:
    return "LC1:" + base45.encode(zlib.compress(canonical(document)))


def resign(document: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    body = {name: value for name, value in document.items() if name != "sig"}
    return {**body, "sig": b64url(key.sign(canonical(body)))}


def tampered(change: Any) -> str:
    """A genuine presentation changed by `change(document)`, then signed by the wallet again,
    so that the wallet's signature does not fail it."""
    document = unpack(present())
    change(document)
    return pack(resign(document, WALLET_KEY))


# Base45


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"AB", "BB8"),
        (b"Hello!!", "%69 VD92EX0"),
        (b"base-45", "UJCLQE7W581"),
        (b"ietf!", "QED8WEX0"),
    ],
)
def test_base45_matches_rfc_9285(data: bytes, text: str) -> None:
    assert base45.encode(data) == text
    assert base45.decode(text) == data


@pytest.mark.parametrize("text", ["GGW", "A", "ABCD", "ab", "BB8\n", ":::", "ZZ"])
def test_base45_refuses_what_no_bytes_encode(text: str) -> None:
    with pytest.raises(ValueError, match="Base45"):
        base45.decode(text)


@given(st.binary(max_size=64))
def test_base45_round_trips(data: bytes) -> None:
    assert base45.decode(base45.encode(data)) == data


# Identifiers and their check character

REAL_IDENTIFIERS = [  # issued by provincial platforms; quoted in public code
    "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S",
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    "1.2.156.3005.2.11100000000013338W087.11370800MB28559184.37080001202411010001.001.3",
    "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
]


@pytest.mark.parametrize(
    ("body", "check"),
    [("A12425GABC1234002", "M"), ("104G7M", "3"), ("12CD", "5"), ("9", "J"), ("OW", "N")]
    + [("TRO", "D"), ("B7Q3SFTUSH2QN7BIXBPMNZAM", "I"), ("EFWW032G2TI", "U")]
    + [("".join(i.split(".")[5:-1]), i[-1]) for i in REAL_IDENTIFIERS],
)
def test_mod37_36_matches_published_check_characters(body: str, check: str) -> None:
    assert mod37_36_check_character(body) == check


@pytest.mark.parametrize("body", ["abc", "A-B", "Ａ", "١٢", None])
def test_mod37_36_refuses_other_characters(body: Any) -> None:
    with pytest.raises(ValueError, match="0-9 and A-Z"):
        mod37_36_check_character(body)


def checks(text: str) -> bool:
    return mod37_36_check_character(text[:-1]) == text[-1]


def test_mod37_36_detects_every_substitution() -> None:
    rng = random.Random(36)
    for _ in range(300):
        body = "".join(rng.choices(ALPHABET, k=rng.randint(1, 40)))
        protected = body + mod37_36_check_character(body)
        for i, old in enumerate(protected):
            for new in ALPHABET.replace(old, ""):
                assert not checks(protected[:i] + new + protected[i + 1 :])


def test_mod37_36_detects_transpositions_but_of_neighbouring_values() -> None:
    """A hybrid system detects "all or nearly all" transpositions (ISO/IEC 7064): it misses
    a swap of two characters whose values differ by one (mod 36) in 1 of 36 positions."""
    rng = random.Random(37)
    missed = 0
    for _ in range(2000):
        body = "".join(rng.choices(ALPHABET, k=rng.randint(1, 40)))
        protected = body + mod37_36_check_character(body)
        for i in range(len(protected) - 1):
            a, b = protected[i], protected[i + 1]
            if a != b and checks(protected[:i] + b + a + protected[i + 2 :]):
                missed += 1
                assert (ALPHABET.index(a) - ALPHABET.index(b)) % 36 in (1, 35)
    assert missed > 0


def test_licence_identifier_round_trips_and_parses_real_ones() -> None:
    identifier = parse_licence_identifier(LICENCE_ID)
    assert identifier is not None
    assert (identifier.type_code, identifier.issuer_code) == (
        "11100000MA0000000X001",
        "11430100MB0000000Y",
    )
    assert (identifier.serial, identifier.version, str(identifier)) == (42, 1, LICENCE_ID)
    assert LICENCE_ID == "1.2.156.3005.2.11100000MA0000000X001.11430100MB0000000Y.0000000042.001.I"
    real = parse_licence_identifier(REAL_IDENTIFIERS[4])  # its serial has our 10 digits
    assert real is not None and str(real) == REAL_IDENTIFIERS[4]


@pytest.mark.parametrize(
    "text",
    [
        LICENCE_ID[:-1] + "J",  # wrong check character
        LICENCE_ID.lower(),
        LICENCE_ID.replace(".0000000042.", ".42."),
        LICENCE_ID.replace("2.1110", "2.١110"),
        LICENCE_ID + "\n",
        "1.2.156.3005.2.11100000MA0000000X001.11430100MB0000000Y.0000000042.000.H",  # version 0
        REAL_IDENTIFIERS[0],  # a 7-digit serial
        "",
        None,
    ],
)
def test_parse_licence_identifier_refuses_malformed_ones(text: Any) -> None:
    assert parse_licence_identifier(text) is None


TYPE, ISSUER = "11100000MA0000000X001", "11430100MB0000000Y"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ((TYPE[1:], ISSUER, 1, 1), "type code"),
        ((TYPE, ISSUER.lower(), 1, 1), "issuer code"),
        ((TYPE, ISSUER, 10**10, 1), "serial"),
        ((TYPE, ISSUER, -1, 1), "serial"),
        ((TYPE, ISSUER, 1, 0), "version"),
        ((TYPE, ISSUER, 1, True), "version"),
    ],
)
def test_licence_identifier_refuses_fields_that_do_not_fit(fields: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        licence_identifier(*fields)


# Credentials and presentations


def test_a_presentation_round_trips_and_verifies() -> None:
    licence = credential()
    text = present(licence)
    assert re.fullmatch(r"LC1:[0-9A-Z $%*+\-./:]+", text)
    presentation = read_presentation(text)
    assert presentation is not None and presentation.credential == licence
    verdict = verify(text, status_lists={"AMR": status_list()}, seen=lambda nonce: False)
    assert (verdict.ok, verdict.reason, verdict.status_checked) == (True, Reason.VALID, True)
    assert verdict.licence == licence and licence.type_code == "11100000MA0000000X001"
    assert verdict.disclosed == {"name": FIELDS["name"], "credit_code": FIELDS["credit_code"]}
    assert (verdict.issued_at, verdict.expires_at, verdict.nonce) == (
        ISSUED_AT,
        ISSUED_AT + 300,
        NONCE,
    )


def test_without_status_lists_the_verdict_says_status_was_not_checked() -> None:
    verdict = verify(present())
    assert (verdict.ok, verdict.status_checked) == (True, False)


def test_undisclosed_fields_stay_hidden() -> None:
    text = present(shown=())
    assert verify(text).disclosed == {}
    assert FIELDS["registered_capital"] not in json.dumps(unpack(text), ensure_ascii=False)


def test_make_disclosures_salts_each_field_afresh() -> None:
    made = make_disclosures(FIELDS)
    again = make_disclosures(FIELDS)
    assert {d.value for d in made.values()} == set(FIELDS.values())
    assert all(len(d.salt) == 16 and d.salt != again[n].salt for n, d in made.items())
    assert made["name"].digest() == field_digest("name", FIELDS["name"], made["name"].salt)


def test_the_signers_refuse_what_they_must_not_sign() -> None:
    with pytest.raises(ValueError, match="not the licence's"):
        make_presentation(
            credential(),
            [Disclosure("name", "冒名", SALTS["name"])],
            key=WALLET_KEY,
            kid="wallet-2026",
            issued_at=ISSUED_AT,
            expires_at=ISSUED_AT + 60,
            nonce=NONCE,
        )
    with pytest.raises(ValueError, match="at most 300 seconds"):
        present(expires_at=ISSUED_AT + 301)
    with pytest.raises(ValueError, match="16 bytes"):
        present(nonce=b"short")
    with pytest.raises(ValueError, match="not a licence identifier"):
        credential(licence_id=LICENCE_ID[:-1] + "J")
    with pytest.raises(ValueError, match="valid_until"):
        credential(valid_until=date(2025, 5, 31))
    with pytest.raises(ValueError, match="32 bytes"):
        credential(digests={"name": b"short"})
    with pytest.raises(ValueError, match="form"):
        credential(holder="张三")


# Each failure reason, from a real manipulation


def test_garbage_is_malformed() -> None:
    genuine = present()
    for text in ["", "LC1:", "HC1:" + genuine[4:], genuine[:-3], genuine + "A", genuine.lower()]:
        assert verify(text).reason is Reason.MALFORMED
    assert verify(pack({"typ": "mycity-licence-presentation/1"})).reason is Reason.MALFORMED


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("issued_at",), 1.5),
        (("issued_at",), True),
        (("expires_at",), 2**53),
        (("nonce",), "AAAA"),
        (("credential", "status_index"), -1),
        (("credential", "valid_from"), "20250601"),
        (("credential", "valid_until"), "2025-05-31"),
        (("credential", "digests"), []),
        (("credential", "digests", "name"), 7),
        (("disclosures", "name", "salt"), "ISIiIiIiIiIiIiIiIiIiIg="),
        (("disclosures", "name", "extra"), "x"),
        (("credential", "licence_id"), REAL_IDENTIFIERS[0]),
        (("typ",), "mycity-licence/1"),
    ],
)
def test_wrong_types_and_forms_in_signed_json_are_malformed(
    path: tuple[str, ...], value: Any
) -> None:
    def change(document: dict[str, Any]) -> None:
        for name in path[:-1]:
            document = document[name]
        document[path[-1]] = value

    assert verify(tampered(change)).reason is Reason.MALFORMED


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('{"credential"', '{"nonce":"x","credential"'),  # a repeated key
        ('"issued_at":1767225600', '"issued_at":1767225600.0'),
        ('"issued_at":1767225600', '"issued_at":NaN'),
        ('"issued_at":1767225600', '"issued_at":' + "9" * 5000),
        ('"h:9b1f0c3a"', '"\\ud800"'),  # a lone surrogate, which UTF-8 cannot encode
        ('{"credential"', '{"deep":' + "[" * 50_000 + "]" * 50_000 + ',"credential"'),
    ],
)
def test_json_that_readers_could_read_apart_is_malformed(old: str, new: str) -> None:
    body = json.dumps(unpack(present()), ensure_ascii=False, separators=(",", ":"))
    assert old in body
    assert verify(pack_raw(body.replace(old, new, 1))).reason is Reason.MALFORMED


def pack_raw(json_text: str) -> str:
    return "LC1:" + base45.encode(zlib.compress(json_text.encode()))


def test_a_zlib_bomb_is_malformed_without_being_inflated() -> None:
    bomb = pack_raw(" " * 2_000_000)  # fits in a QR code, inflates to 2 MB
    assert len(bomb) <= 4296
    assert verify(bomb).reason is Reason.MALFORMED


def test_unknown_keys_are_unknown() -> None:
    assert verify(present(kid="wallet-2025")).reason is Reason.UNKNOWN_KEY
    assert verify(present(credential(kid="amr-2025"))).reason is Reason.UNKNOWN_KEY


def test_keys_signing_what_they_may_not_are_wrong_keys() -> None:
    by_wallet = credential(WALLET_KEY, kid="wallet-2026")  # a credential by a presentation key
    assert verify(present(by_wallet)).reason is Reason.WRONG_KEY
    by_psb = credential(PSB_KEY, kid="psb-2026")  # PSB's key signing an AMR licence
    assert verify(present(by_psb)).reason is Reason.WRONG_KEY
    assert verify(present(key=LICENCE_KEY, kid="amr-2026")).reason is Reason.WRONG_KEY


def test_forged_signatures_are_bad() -> None:
    assert verify(present(credential(OTHER_KEY))).reason is Reason.BAD_SIGNATURE
    assert verify(present(key=OTHER_KEY)).reason is Reason.BAD_SIGNATURE

    def lift(document: dict[str, Any]) -> None:  # the wallet's signature no longer covers it
        document["credential"]["holder"] = "h:someone-else"

    assert verify(tampered(lift)).reason is Reason.BAD_SIGNATURE
    document = unpack(present())
    document["expires_at"] += 60  # unsigned by the wallet
    assert verify(pack(document)).reason is Reason.BAD_SIGNATURE


def test_an_altered_disclosure_mismatches_its_digest() -> None:
    def alter_value(document: dict[str, Any]) -> None:
        value = document["disclosures"]["name"]["value"].encode()
        document["disclosures"]["name"]["value"] = (value[:-1] + b"\xa7").decode()  # 司 -> 叧

    def alter_salt(document: dict[str, Any]) -> None:
        document["disclosures"]["name"]["salt"] = b64url(b"\x23" * 16)

    def add_field(document: dict[str, Any]) -> None:  # a field the licence never signed
        document["disclosures"]["owner"] = {"salt": b64url(b"\x55" * 16), "value": "某人"}

    for change in (alter_value, alter_salt, add_field):
        assert verify(tampered(change)).reason is Reason.FIELD_MISMATCH


def test_presentation_lifetime() -> None:
    def stretch(document: dict[str, Any]) -> None:
        document["expires_at"] = document["issued_at"] + 301

    assert verify(tampered(stretch)).reason is Reason.TOO_LONG_LIVED
    text = present()
    assert verify(text, now=ISSUED_AT - 30).ok
    assert verify(text, now=ISSUED_AT - 31).reason is Reason.NOT_YET_VALID
    assert verify(text, now=ISSUED_AT + 330).ok
    assert verify(text, now=ISSUED_AT + 331).reason is Reason.EXPIRED
    assert verify(text, now=ISSUED_AT + 301, skew=0).reason is Reason.EXPIRED
    assert verify(text, now=float("nan")).reason is Reason.NOT_YET_VALID


def test_licence_validity_runs_in_beijing_days() -> None:
    midnight = 1_767_196_800  # 2026-01-01T00:00+08:00
    for valid_from, until, now, reason in [
        (date(2026, 1, 1), None, midnight, Reason.VALID),
        (date(2026, 1, 1), None, midnight - 1, Reason.LICENCE_NOT_YET_VALID),
        (date(2025, 1, 1), date(2025, 12, 31), midnight - 1, Reason.VALID),
        (date(2025, 1, 1), date(2025, 12, 31), midnight, Reason.LICENCE_EXPIRED),
    ]:
        text = present(
            credential(valid_from=valid_from, valid_until=until), issued_at=now, expires_at=now
        )
        verdict = verify(text, now=now)
        assert verdict.reason is reason
        assert verdict.licence is not None  # both signatures held: the verdict says whose


def test_status_from_the_issuers_list() -> None:
    lists = {"AMR": status_list()}
    assert verify(present(credential(status_index=3)), status_lists=lists).reason is Reason.REVOKED
    assert (
        verify(present(credential(status_index=5)), status_lists=lists).reason is Reason.SUSPENDED
    )
    both = {"AMR": status_list(revoked=[3], suspended=[3])}
    assert verify(present(credential(status_index=3)), status_lists=both).reason is Reason.REVOKED
    revoked = verify(present(credential(status_index=3)), status_lists=lists)
    assert revoked.status_checked and revoked.licence is not None
    outside = credential(status_index=200_000)
    assert verify(present(outside), status_lists=lists).reason is Reason.STATUS_UNKNOWN
    unknown = verify(
        present(), status_lists={"PSB": status_list(key=PSB_KEY, kid="psb-2026", issuer="PSB")}
    )
    assert (unknown.reason, unknown.status_checked) == (Reason.STATUS_UNKNOWN, False)


def test_a_stale_status_list_is_not_trusted() -> None:
    text = status_list_text(valid_until=NOW - 1)
    assert read_status_list(text, KEYS, now=NOW) is Reason.STATUS_STALE
    fetched = status_list()  # read while fresh, then kept too long
    later = fetched.valid_until + 1
    verdict = verify(
        present(issued_at=later, expires_at=later + 60), now=later, status_lists={"AMR": fetched}
    )
    assert verdict.reason is Reason.STATUS_STALE


def test_a_replayed_nonce_is_refused_and_only_a_good_presentation_uses_one() -> None:
    used: set[bytes] = set()

    def seen(nonce: bytes) -> bool:
        fresh = nonce not in used
        used.add(nonce)
        return not fresh

    assert verify(present(key=OTHER_KEY), seen=seen).reason is Reason.BAD_SIGNATURE
    assert verify(present(), now=ISSUED_AT + 400, seen=seen).reason is Reason.EXPIRED
    assert used == set()
    assert verify(present(), seen=seen).ok
    assert verify(present(), seen=seen).reason is Reason.REPLAYED


# Status lists


def test_a_status_list_round_trips() -> None:
    read = status_list(revoked=[0, 7, 131_071], suspended=[8])
    assert [read.status(i) for i in (0, 1, 7, 8, 131_071)] == [
        "revoked",
        "valid",
        "revoked",
        "suspended",
        "revoked",
    ]
    assert read.revoked[0] == 0b1000_0001  # index 0 is the first byte's leftmost bit
    with pytest.raises(IndexError):
        read.status(131_072)
    document = json.loads(status_list_text())
    encoded = document["revocation"][1:]
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    assert document["revocation"][0] == "u" and len(bits) == 16_384


def test_status_list_failures() -> None:
    assert read_status_list(status_list_text(kid="amr-2025"), KEYS, now=NOW) is Reason.UNKNOWN_KEY
    by_wallet = status_list_text(WALLET_KEY, kid="wallet-2026")
    assert read_status_list(by_wallet, KEYS, now=NOW) is Reason.WRONG_KEY
    for_psb = status_list_text(issuer="PSB")  # AMR's key signing PSB's list
    assert read_status_list(for_psb, KEYS, now=NOW) is Reason.WRONG_KEY
    assert read_status_list(status_list_text(OTHER_KEY), KEYS, now=NOW) is Reason.BAD_SIGNATURE
    future = status_list_text(issued_at=NOW + 31)
    assert read_status_list(future, KEYS, now=NOW) is Reason.NOT_YET_VALID
    document = json.loads(status_list_text())
    bomb = "u" + b64url(gzip.compress(bytes(16_385), mtime=0))  # one byte over its size
    for change in [
        {"size": 131_073},
        {"revocation": document["revocation"][1:]},
        {"suspension": bomb},
    ]:
        forged = json.dumps(resign({**document, **change}, LICENCE_KEY))
        assert read_status_list(forged, KEYS, now=NOW) is Reason.MALFORMED
    spaced = json.dumps(resign(document, LICENCE_KEY), indent=2)  # signatures cover content
    assert isinstance(read_status_list(spaced, KEYS, now=NOW), StatusList)


# Keys


def test_load_keys_reads_the_trust_list_and_skips_other_keys() -> None:
    token_key = {"kty": "OKP", "crv": "Ed25519", "kid": "token-1", "use": "sig", "x": "AA"}
    keys = load_keys(json.dumps({"keys": [*JWKS["keys"], token_key]}))
    assert set(keys) == {"amr-2026", "wallet-2026", "psb-2026"}
    assert (keys["amr-2026"].use, keys["amr-2026"].issuer) == ("licence", "AMR")
    assert (keys["wallet-2026"].use, keys["wallet-2026"].issuer) == ("presentation", None)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"crv": "Ed25519", "kty": "EC"}, "not an Ed25519 key"),
        ({"kid": "a b"}, "kid"),
        ({"x": "AAAA"}, "32 bytes"),
        ({"x": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, "base64url"),
        ({"issuer": None}, "names no department"),
        ({"use": "presentation"}, "names an issuer"),
    ],
)
def test_load_keys_refuses_a_malformed_entry(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_keys({"keys": [{**JWKS["keys"][0], **entry}]})


def test_load_keys_refuses_two_keys_under_one_kid_and_a_non_jwks() -> None:
    with pytest.raises(ValueError, match="two keys"):
        load_keys({"keys": [JWKS["keys"][0], JWKS["keys"][0]]})
    with pytest.raises(ValueError, match="JWKS"):
        load_keys("[]")


# Whatever a verifier is fed, it answers and does not raise


@settings(max_examples=200)
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: "LC1:" + base45.encode(b)))
def test_arbitrary_text_never_raises_and_never_verifies(text: str) -> None:
    assert verify(text).reason is Reason.MALFORMED
    assert isinstance(read_status_list(text, KEYS, now=NOW), Reason)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=150)
@given(st.data())
def test_a_genuine_presentation_with_any_member_replaced_never_verifies(
    data: st.DataObject,
) -> None:
    """The wallet signs again after each change, so parsing and every later check is hit.

    The wallet may show fewer fields, so a verdict can still be ok; but never for another
    licence, nor with a field the licence does not hold.
    """
    original = unpack(present())
    document = json.loads(json.dumps(original))
    parent = document
    key = data.draw(st.sampled_from(sorted(set(parent) - {"sig"})))  # the wallet signs anew
    while isinstance(parent[key], dict) and data.draw(st.booleans()):
        parent = parent[key]
        key = data.draw(st.sampled_from(sorted(parent)))
    parent[key] = data.draw(JSON)
    verdict = verify(pack(resign(document, WALLET_KEY)), status_lists={"AMR": status_list()})
    assert verdict.ok or document != original
    if verdict.ok:
        assert verdict.licence == credential()
        assert verdict.disclosed.items() <= FIELDS.items()


@settings(max_examples=150)
@given(st.data())
def test_a_genuine_qr_text_with_any_character_changed_never_verifies(data: st.DataObject) -> None:
    text = present()
    i = data.draw(st.integers(0, len(text) - 1))
    character = data.draw(st.sampled_from(base45.ALPHABET + "a\x00é"))
    changed = text[:i] + character + text[i + 1 :]
    assert verify(changed).ok is (changed == text)


@settings(max_examples=150)
@given(st.data())
def test_a_genuine_payload_with_any_byte_changed_never_verifies(data: st.DataObject) -> None:
    payload = bytearray(canonical(unpack(present())))
    i = data.draw(st.integers(0, len(payload) - 1))
    payload[i] = data.draw(st.integers(0, 255))
    changed = "LC1:" + base45.encode(zlib.compress(bytes(payload)))
    assert verify(changed).ok is (bytes(payload) == canonical(unpack(present())))


@settings(max_examples=100)
@given(st.data())
def test_a_status_list_with_any_member_replaced_reads_only_what_was_signed(
    data: st.DataObject,
) -> None:
    document = json.loads(status_list_text())
    key = data.draw(st.sampled_from(sorted(set(document) - {"sig"})))  # signed anew below
    document[key] = data.draw(JSON)
    read = read_status_list(json.dumps(resign(document, LICENCE_KEY)), KEYS, now=NOW)
    if isinstance(read, StatusList):  # the issuer may sign other times: read what it signed
        members = ("issuer", "issued_at", "valid_until", "size", "kid")
        assert [getattr(read, name) for name in members] == [document[m] for m in members]


def wrap(text: str) -> str:
    """Lines of at most WIDTH characters, none ending in a space (editors strip those)."""
    lines = []
    while len(text) > WIDTH:
        cut = WIDTH
        while text[cut - 1] == " ":
            cut -= 1
        lines.append(text[:cut])
        text = text[cut:]
    return "\n".join([*lines, text])


def doc_block(first: str) -> str:
    """The unwrapped code block of the document that starts with `first`."""
    blocks: list[str] = re.findall(r"```text\n(.*?)\n```", DOC, re.S)
    found = [block for block in blocks if block.startswith(first)]
    assert len(found) == 1, first
    return found[0].replace("\n", "")


def worked_example() -> dict[str, str]:
    """Everything docs/licences.md shows, recomputed; compression-free parts byte for byte."""
    licence = credential()
    text = present(licence)
    document = unpack(text)
    verdict = verify(text, status_lists={"AMR": status_list()}, seen=lambda nonce: False)
    assert verdict.licence is not None
    return {
        "licence seed": bytes(range(1, 33)).hex(),
        "wallet seed": bytes(range(33, 65)).hex(),
        "jwks": json.dumps({"keys": JWKS["keys"][:2]}, indent=2),
        "licence id": LICENCE_ID,
        "holder file id": str(uuid5(NAMESPACE_URL, f"mycity:licence:{LICENCE_ID}")),
        "digest": field_digest("name", FIELDS["name"], SALTS["name"]).hex(),
        "credential": wrap(
            canonical({k: v for k, v in document["credential"].items() if k != "sig"}).decode()
        ),
        "credential sig": document["credential"]["sig"],
        "presentation": wrap(canonical({k: v for k, v in document.items() if k != "sig"}).decode()),
        "presentation sig": document["sig"],
        "verdict": "\n".join(
            [
                f"ok: {verdict.ok}",
                f"reason: {verdict.reason}",
                f"licence: {verdict.licence.licence_id}",
                f"disclosed: {json.dumps(dict(verdict.disclosed), ensure_ascii=False)}",
                f"expires_at: {verdict.expires_at}",
                f"nonce: {verdict.nonce.hex() if verdict.nonce else None}",
                f"status_checked: {verdict.status_checked}",
            ]
        ),
    }


def test_the_documents_worked_example_still_holds() -> None:
    for name, value in worked_example().items():
        assert value in DOC, name
    qr_text = doc_block("LC1:")  # zlib's output may differ by version: check what it says
    assert unpack(qr_text) == unpack(present())
    doc_list = read_status_list(doc_block('{"issued_at"'), KEYS, now=NOW)
    assert isinstance(doc_list, StatusList) and doc_list == status_list()
    verdict = verify(qr_text, status_lists={"AMR": doc_list})
    assert verdict.ok and verdict.disclosed == {
        "name": FIELDS["name"],
        "credit_code": FIELDS["credit_code"],
    }
