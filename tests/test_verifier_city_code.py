"""The city code (一码通城): its format, size, keys and offline verifier.

Every failure reason comes from a real manipulation of a genuine code; docs/city-code.md's
worked example is recomputed; the QR code is drawn and read back by a real decoder.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import qrcode
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from mycity.integrations.qr import read_image, render_png
from mycity.verifier import base45
from mycity.verifier.city_code import (
    CODE_SIZE,
    QR_PREFIX,
    TEXT_LENGTH,
    Card,
    Colour,
    Purpose,
    Reason,
    code_jwk,
    issue_code,
    load_code_keys,
    open_subject,
    read_code,
    seal_subject,
    verify_code,
)

DOC = (Path(__file__).parent.parent / "docs" / "city-code.md").read_text()
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
OLD_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(33, 65)))
STRANGER = Ed25519PrivateKey.from_private_bytes(bytes(range(65, 97)))
SUBJECT_KEY = b"\x77" * 32
SUBJECT = (42).to_bytes(8, "big")
ISSUED_AT = 1_767_225_600  # 2026-01-01T00:00:00Z
NOW = ISSUED_AT + 30
WITHDRAWN = {"kid": "city-code-2025-12", "code_key": 0}
JWKS: dict[str, Any] = {
    "keys": [code_jwk(KEY.public_key(), "city-code-2026-01", 1)],
    "withdrawn": [WITHDRAWN],
}
KEYS = load_code_keys(JWKS)


def issue(key: Ed25519PrivateKey = KEY, code_key: int = 1, **changes: Any) -> str:
    options: dict[str, Any] = {
        "subject_ref": seal_subject(SUBJECT_KEY, SUBJECT, random=b"\x55" * 8),
        "purposes": [Purpose.IDENTITY, Purpose.TRANSIT, Purpose.HEALTH],
        "colour": Colour.GREEN,
        "cards": [Card.SOCIAL_SECURITY, Card.TRANSIT],
        "issued_at": ISSUED_AT,
        "nonce": b"\x66" * 8,
    }
    return issue_code(key, code_key, **{**options, **changes})


def binary(text: str) -> bytes:
    return base45.decode(text[len(QR_PREFIX) :])


def text_of(data: bytes) -> str:
    return QR_PREFIX + base45.encode(data)


def qr_version(text: str) -> int:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    version: int = code.version
    return version


def test_a_code_round_trips_and_verifies() -> None:
    verdict = verify_code(issue(), KEYS, now=NOW)
    assert verdict.ok
    assert verdict.reason is Reason.VALID
    assert verdict.kid == "city-code-2026-01"
    assert verdict.purposes == {Purpose.IDENTITY, Purpose.TRANSIT, Purpose.HEALTH}
    assert verdict.colour is Colour.GREEN
    assert verdict.cards == {Card.SOCIAL_SECURITY, Card.TRANSIT}
    assert (verdict.issued_at, verdict.expires_at) == (ISSUED_AT, ISSUED_AT + 60)
    assert verdict.subject_ref is not None
    assert open_subject(SUBJECT_KEY, verdict.subject_ref) == SUBJECT


@pytest.mark.parametrize("colour", list(Colour))
@pytest.mark.parametrize("lifetime", [1, 60, 300, 65_535])
def test_every_colour_and_lifetime_round_trips(colour: Colour, lifetime: int) -> None:
    code = read_code(issue(colour=colour, lifetime=lifetime, purposes=[Purpose.PAYMENT]))
    assert code is not None
    assert (code.colour, code.lifetime) == (colour, lifetime)
    assert code.purposes == {Purpose.PAYMENT}


def test_each_code_has_its_own_id() -> None:
    first, second = issue(nonce=None), issue(nonce=None)
    ids = {verify_code(text, KEYS, now=NOW).code_id for text in (first, second)}
    assert len(ids) == 2
    assert None not in ids


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"purposes": []}, "at least one purpose"),
        ({"lifetime": 0}, "lives 1 to 65535"),
        ({"lifetime": 65_536}, "lives 1 to 65535"),
        ({"issued_at": 2**32}, "fits 32 bits"),
        ({"code_key": 256}, "key index is 0-255"),
        ({"nonce": b"short"}, "nonce is 8 bytes"),
        ({"subject_ref": b"\x00" * 15}, "reference 16"),
    ],
)
def test_issue_code_refuses_what_the_format_cannot_hold(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        issue(**changes)


def test_tampering_with_any_byte_is_refused() -> None:
    data = binary(issue())
    assert len(data) == CODE_SIZE
    for i in range(len(data)):
        for flip in (0x01, 0x80, 0xFF):
            changed = bytearray(data)
            changed[i] ^= flip
            reason = verify_code(text_of(bytes(changed)), KEYS, now=NOW).reason
            expected = {Reason.BAD_SIGNATURE, Reason.MALFORMED}
            if i == 1:  # the key index: another key's, or one the set lacks
                expected |= {Reason.UNKNOWN_KEY, Reason.WITHDRAWN_KEY}
            assert reason in expected, (i, flip, reason)


def test_a_code_signed_by_another_key_under_a_known_index_is_a_bad_signature() -> None:
    assert verify_code(issue(STRANGER), KEYS, now=NOW).reason is Reason.BAD_SIGNATURE


def test_time_bounds_with_skew_at_the_boundary() -> None:
    text = issue()
    expires_at = ISSUED_AT + 60

    def reason(now: float, skew: float = 30) -> Reason:
        return verify_code(text, KEYS, now=now, skew=skew).reason

    assert reason(ISSUED_AT - 30) is Reason.VALID
    assert reason(ISSUED_AT - 30.001) is Reason.NOT_YET_VALID
    assert reason(expires_at + 30) is Reason.VALID
    assert reason(expires_at + 30.001) is Reason.EXPIRED
    assert reason(ISSUED_AT - 1, skew=0) is Reason.NOT_YET_VALID
    assert reason(expires_at + 1, skew=0) is Reason.EXPIRED
    assert reason(float("nan")) is Reason.NOT_YET_VALID
    late = verify_code(text, KEYS, now=expires_at + 31)
    assert not late.ok
    assert late.colour is Colour.GREEN  # signed, so shown, but not valid


def test_unknown_and_withdrawn_keys() -> None:
    assert verify_code(issue(code_key=7), KEYS, now=NOW).reason is Reason.UNKNOWN_KEY
    unknown = verify_code(issue(code_key=0), KEYS, now=NOW)
    assert unknown.reason is Reason.WITHDRAWN_KEY
    assert unknown.colour is None  # nothing unverified is shown
    gone = load_code_keys({"keys": [], "withdrawn": [{"kid": "city-code-2026-01", "code_key": 1}]})
    assert verify_code(issue(), gone, now=NOW).reason is Reason.WITHDRAWN_KEY
    both = load_code_keys({**JWKS, "withdrawn": [{"kid": "city-code-2026-01", "code_key": 1}]})
    assert verify_code(issue(), both, now=NOW).reason is Reason.WITHDRAWN_KEY


def test_key_rotation() -> None:
    old = code_jwk(OLD_KEY.public_key(), "city-code-2025-11", 2)
    new = code_jwk(KEY.public_key(), "city-code-2026-01", 1)
    by_old = issue(OLD_KEY, 2)
    during = load_code_keys({"keys": [old, new]})
    assert verify_code(by_old, during, now=NOW).ok
    assert verify_code(issue(), during, now=NOW).ok
    after = load_code_keys({"keys": [new]})
    assert verify_code(by_old, after, now=NOW).reason is Reason.UNKNOWN_KEY
    assert verify_code(issue(), after, now=NOW).ok


def test_load_code_keys_skips_other_uses_and_refuses_malformed_sets() -> None:
    other = {"kty": "OKP", "crv": "Ed25519", "kid": "tok-1", "use": "sig", "x": "AA"}
    assert set(load_code_keys({"keys": [other, *JWKS["keys"]]}).active) == {1}
    assert set(load_code_keys(json.dumps(JWKS)).withdrawn) == {0}
    entry = JWKS["keys"][0]
    bad: Any
    for bad in (
        {"keys": [entry, {**entry, "kid": "another"}]},  # one index, two keys
        {"keys": [entry, {**entry, "code_key": 2}]},  # one kid, two keys
        {"keys": [{**entry, "code_key": 256}]},
        {"keys": [{**entry, "code_key": True}]},
        {"keys": [{**entry, "crv": "X25519"}]},
        {"keys": [{**entry, "x": "AAAA"}]},
        {"keys": [{**entry, "kid": "a b"}]},
        {"keys": [entry], "withdrawn": [{"kid": "other", "code_key": 1}]},
        {"keys": [], "withdrawn": [{"kid": "x"}]},
        {"keys": {}},
        [],
    ):
        with pytest.raises(ValueError, match=r"JWKS|key|index|kid|entry|base64url|32"):
            load_code_keys(bad)


def test_two_codes_of_one_citizen_are_unlinkable() -> None:
    texts = [issue(subject_ref=seal_subject(SUBJECT_KEY, SUBJECT), nonce=None) for _ in range(2)]
    assert texts[0] != texts[1]
    first, second = (read_code(text) for text in texts)
    assert first is not None
    assert second is not None
    assert open_subject(SUBJECT_KEY, first.subject_ref) == SUBJECT
    assert open_subject(SUBJECT_KEY, second.subject_ref) == SUBJECT
    # No common substring of 3 bytes or more: 2 match by chance once in ~600 pairs of refs.
    for a, b in ((first.subject_ref, second.subject_ref), (first.nonce, second.nonce)):
        triples = {a[i : i + 3] for i in range(len(a) - 2)}
        assert not any(b[i : i + 3] in triples for i in range(len(b) - 2))


def test_open_subject_refuses_wrong_sizes() -> None:
    assert open_subject(SUBJECT_KEY, b"\x00" * 15) is None
    assert open_subject(b"\x00" * 16, b"\x00" * 16) is None
    with pytest.raises(ValueError, match="subject 8"):
        seal_subject(SUBJECT_KEY, b"\x00" * 7)


def test_the_largest_code_fits_a_version_6_qr_code_at_level_m() -> None:
    text = issue(purposes=list(Purpose), cards=list(Card), colour=Colour.RED, lifetime=65_535)
    assert len(text) == TEXT_LENGTH == 150
    assert qr_version(text) <= 6


def test_the_drawn_qr_code_reads_back_and_verifies() -> None:
    text = issue(purposes=list(Purpose), cards=list(Card))
    assert read_image(render_png(text)) == [text]
    assert verify_code(read_image(render_png(text))[0], KEYS, now=NOW).ok


@settings(max_examples=300)
@given(st.binary(min_size=96, max_size=200) | st.binary(max_size=120))
def test_the_fast_encoder_is_base45(data: bytes) -> None:
    assert base45.encode(data) == rfc_9285_encode(data)
    assert base45.decode(base45.encode(data)) == data


def rfc_9285_encode(data: bytes) -> str:
    """Base45 as RFC 9285 section 4 states it, a group at a time: the reference."""
    out = []
    for start in range(0, len(data), 2):
        chunk = data[start : start + 2]
        number = int.from_bytes(chunk, "big")
        for _ in range(len(chunk) + 1):
            number, digit = divmod(number, 45)
            out.append(base45.ALPHABET[digit])
    return "".join(out)


@settings(max_examples=300)
@given(
    st.text(max_size=200)
    | st.binary(max_size=120).map(text_of)
    | st.binary(min_size=CODE_SIZE, max_size=CODE_SIZE).map(text_of)
    | st.just(b"MC1:")
    | st.none()
)
def test_arbitrary_input_never_raises_and_never_verifies(text: Any) -> None:
    assert not verify_code(text, KEYS, now=NOW).ok


@settings(max_examples=200)
@given(st.data())
def test_a_genuine_text_with_any_character_changed_never_verifies(data: st.DataObject) -> None:
    text = issue()
    i = data.draw(st.integers(0, len(text) - 1))
    character = data.draw(st.sampled_from(base45.ALPHABET + "a\x00é"))
    changed = text[:i] + character + text[i + 1 :]
    assert verify_code(changed, KEYS, now=NOW).ok is (changed == text)


# docs/city-code.md's worked example


def test_the_worked_example_in_the_document() -> None:
    text = issue()
    code = read_code(text)
    assert code is not None
    jwks = json.loads(re.findall(r"```json\n(.*?)```", DOC, re.S)[1])
    assert jwks == JWKS
    assert "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20" in DOC
    assert f"subject_ref: {code.subject_ref.hex()}" in DOC
    spaced = re.search(r"\n(10 01 [0-9a-f ]+)\n", DOC)
    assert spaced is not None
    assert bytes.fromhex(spaced.group(1).replace(" ", "")) == code.body
    sig = code.signature.hex()
    assert f"\n{sig[:64]}\n{sig[64:]}\n" in DOC
    assert f"```text\n{text}\n```" in DOC
    assert qr_version(text) == 6
    assert "version 6 QR code at level M" in DOC
    verdict = verify_code(text, KEYS, now=1_767_225_630)
    assert verdict.code_id is not None
    shown = (
        f"ok: {verdict.ok}\nreason: {verdict.reason}\nkid: {verdict.kid}\n"
        f"purposes: {', '.join(sorted(verdict.purposes))}\ncolour: {verdict.colour}\n"
        f"cards: {', '.join(sorted(verdict.cards))}\nissued_at: {verdict.issued_at}\n"
        f"expires_at: {verdict.expires_at}\ncode_id: {verdict.code_id.hex()}\n"
    )
    assert f"```\n{shown}```" in DOC
    assert verify_code(text, KEYS, now=1_767_225_691).reason is Reason.EXPIRED
    assert verify_code(text, KEYS, now=1_767_225_690).ok
    assert verify_code(text, KEYS, now=1_767_225_569).reason is Reason.NOT_YET_VALID
    assert verify_code(text, KEYS, now=1_767_225_570).ok


# Every field of the format at its limits, on both sides: the bytes are signed again, so only
# the field decides.


def resigned(change: dict[int, int]) -> str:
    """The genuine code with bytes changed (offset -> value) and signed again by its key."""
    body = bytearray(binary(issue())[:33])
    for offset, value in change.items():
        body[offset] = value
    return text_of(bytes(body) + KEY.sign(bytes(body)))


@pytest.mark.parametrize(
    ("change", "well_formed"),
    [
        ({0: 0x10}, True),  # version 1, green
        ({0: 0x12}, True),  # red
        ({0: 0x13}, False),  # colour 3
        ({0: 0x14}, False),  # a reserved bit
        ({0: 0x18}, False),
        ({0: 0x00}, False),  # version 0
        ({0: 0x20}, False),  # version 2
        ({0: 0xF0}, False),
        ({6: 0x00, 7: 0x00}, False),  # lifetime 0
        ({6: 0x00, 7: 0x01}, True),  # 1 second
        ({6: 0xFF, 7: 0xFF}, True),  # 65535 seconds
        ({8: 0x01}, True),  # identity only, no card
        ({8: 0xFF}, True),  # every purpose, every card
        ({8: 0xF0}, False),  # cards, but no purpose
        ({8: 0x00}, False),
    ],
)
def test_each_field_at_its_limits(change: dict[int, int], well_formed: bool) -> None:
    reason = verify_code(resigned(change), KEYS, now=NOW).reason
    assert reason is (Reason.VALID if well_formed else Reason.MALFORMED)


@pytest.mark.parametrize(("issued_at", "code_key"), [(0, 0), (2**32 - 1, 255)])
def test_issued_at_and_the_key_index_span_their_bytes(issued_at: int, code_key: int) -> None:
    keys = load_code_keys({"keys": [code_jwk(KEY.public_key(), "edge", code_key)]})
    text = issue(code_key=code_key, issued_at=issued_at, lifetime=65_535)
    verdict = verify_code(text, keys, now=issued_at)
    assert verdict.ok and verdict.expires_at == issued_at + 65_535


def test_the_text_is_exactly_150_characters() -> None:
    text = issue()
    assert verify_code(text, KEYS, now=NOW).ok
    for other in (text[:-1], text + "0", text[:-2], text + "00", text[:-3], text + "000"):
        assert verify_code(other, KEYS, now=NOW).reason is Reason.MALFORMED


@pytest.mark.parametrize("lifetime", [1, 65_535])
def test_the_window_at_both_ends_of_any_lifetime(lifetime: int) -> None:
    text = issue(lifetime=lifetime)
    end = ISSUED_AT + lifetime
    for now, skew, reason in [
        (ISSUED_AT - 30, 30, Reason.VALID),
        (ISSUED_AT - 30.5, 30, Reason.NOT_YET_VALID),
        (end + 30, 30, Reason.VALID),
        (end + 30.5, 30, Reason.EXPIRED),
        (ISSUED_AT, 0, Reason.VALID),
        (end, 0, Reason.VALID),
        (end + 0.5, 0, Reason.EXPIRED),
    ]:
        assert verify_code(text, KEYS, now=now, skew=skew).reason is reason, (now, skew)
