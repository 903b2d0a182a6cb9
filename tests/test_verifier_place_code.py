"""The place code (场所码): static, signed, refused when forged, altered or withdrawn, and
never mistaken for a city code."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from mycity.verifier import base45
from mycity.verifier.city_code import CodeKey, CodeKeys, Reason, verify_code
from mycity.verifier.place_code import (
    CONTEXT,
    PLACE_PREFIX,
    issue_place_code,
    verify_place_code,
)

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEYS = CodeKeys({3: CodeKey("k3", 3, KEY.public_key())})
POSTER = issue_place_code(KEY, 3, partner="venue-hotel-01", place="正门 大堂")


def test_a_place_code_names_its_venue_and_place() -> None:
    verdict = verify_place_code(POSTER, KEYS)
    assert (verdict.ok, verdict.kid, verdict.partner, verdict.place) == (
        True,
        "k3",
        "venue-hotel-01",
        "正门 大堂",
    )
    assert issue_place_code(KEY, 3, partner="venue-hotel-01", place="正门 大堂") == POSTER


def test_any_byte_changed_is_refused() -> None:
    data = base45.decode(POSTER[len(PLACE_PREFIX) :])
    for i in range(len(data)):
        for flip in (0x01, 0x80):
            altered = bytearray(data)
            altered[i] ^= flip
            text = PLACE_PREFIX + base45.encode(bytes(altered))
            assert not verify_place_code(text, KEYS).ok, (i, flip)


def test_withdrawn_unknown_and_foreign_keys() -> None:
    assert verify_place_code(POSTER, CodeKeys({}, {3: "k3"})).reason is Reason.WITHDRAWN_KEY
    assert verify_place_code(POSTER, CodeKeys()).reason is Reason.UNKNOWN_KEY
    other = Ed25519PrivateKey.generate()
    forged = issue_place_code(other, 3, partner="venue-hotel-01", place="正门 大堂")
    assert verify_place_code(forged, KEYS).reason is Reason.BAD_SIGNATURE


@pytest.mark.parametrize(
    ("partner", "place"), [("", "门"), ("v", ""), ("v" * 65, "门"), ("v", "门" * 22)]
)
def test_names_the_format_cannot_hold_are_refused(partner: str, place: str) -> None:
    with pytest.raises(ValueError, match="1 to 64 bytes"):
        issue_place_code(KEY, 3, partner=partner, place=place)


def test_a_place_codes_signature_never_stands_for_a_city_code() -> None:
    """Signed bytes that parse as a city code's body must not be signable as a place."""
    data = base45.decode(POSTER[len(PLACE_PREFIX) :])
    signature = data[-64:]
    message = CONTEXT + data[:-64]
    assert message[0] >> 4 != 1  # a city code's first byte holds version 1
    as_city_code = "MC1:" + base45.encode((message + signature)[:97])
    assert not verify_code(as_city_code, KEYS, now=0).ok


@given(st.one_of(st.text(max_size=300), st.binary(max_size=300), st.integers(), st.none()))
def test_arbitrary_input_never_raises_and_never_verifies(text: Any) -> None:
    assert not verify_place_code(text, KEYS).ok
    assert not verify_place_code(PLACE_PREFIX + str(text), KEYS).ok


def signed(body: bytes) -> str:
    """A place code of these body bytes, signed as the format says."""
    return PLACE_PREFIX + base45.encode(body + KEY.sign(CONTEXT + body))


def test_names_of_1_to_64_bytes_make_texts_of_109_to_298_characters() -> None:
    shortest = issue_place_code(KEY, 3, partner="v", place="x")
    longest = issue_place_code(KEY, 3, partner="v" * 64, place="门" * 21 + "x")  # 64 bytes
    assert (len(shortest), len(longest)) == (109, 298)
    assert verify_place_code(shortest, KEYS).ok
    verdict = verify_place_code(longest, KEYS)
    assert (verdict.ok, verdict.partner, verdict.place) == (True, "v" * 64, "门" * 21 + "x")


@pytest.mark.parametrize(
    "body",
    [
        b"\x01\x03\x41" + b"v" * 65 + b"\x01p",  # a partner of 65 bytes
        b"\x01\x03\x01v\x41" + b"p" * 65,  # a place of 65 bytes
        b"\x01\x03\x00\x01p",  # an empty partner
        b"\x01\x03\x01v\x00",  # an empty place
        b"\x01\x03\x01\xff\x01p",  # a partner that is not UTF-8
        b"\x01\x03\x02v",  # a name cut short
        b"\x02\x03\x01v\x01p",  # version 2
    ],
)
def test_bodies_the_format_cannot_hold_are_malformed(body: bytes) -> None:
    assert verify_place_code(signed(body), KEYS).reason is Reason.MALFORMED


def test_a_byte_missing_or_left_over_is_malformed() -> None:
    data = base45.decode(POSTER[len(PLACE_PREFIX) :])
    assert verify_place_code(signed(data[:-64]), KEYS).ok
    for wrong in (data[:-1], data + b"\x00"):
        assert verify_place_code(PLACE_PREFIX + base45.encode(wrong), KEYS).reason is (
            Reason.MALFORMED
        )
