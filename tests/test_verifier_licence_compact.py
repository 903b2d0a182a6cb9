"""The compact presentation (LC2:, docs/licences.md §9): what the department signs, read
strictly, at every limit on both sides; two showings share nothing but what was shown;
the worked example is recomputed."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from mycity.verifier import base45, cbor
from mycity.verifier.licence import (
    MAX_QR_TEXT,
    Reason,
    TooLongForQr,
    make_compact_presentation,
    read_compact_presentation,
    verify_presentation,
)
from mycity.verifier.licence_compact import COMPACT_PREFIX, COMPACT_TYPE
from tests.test_verifier_licence import (
    DOC,
    FIELDS,
    ISSUED_AT,
    KEYS,
    LICENCE_KEY,
    PSB_KEY,
    WALLET_KEY,
)

TYPE_CODE = "11100000MA0000000X001"
NONCE = bytes(range(0x50, 0x70))  # 32 bytes, fixed for the worked example
SHOWN = {"name": FIELDS["name"], "credit_code": FIELDS["credit_code"]}
NOW = ISSUED_AT + 100


# A statement's elements 1-8, in their order.
STATEMENT: dict[str, Any] = {
    "type_code": TYPE_CODE,
    "type_name": "营业执照",
    "issuer": "AMR",
    "fields": SHOWN,
    "issued_at": ISSUED_AT,
    "expires_at": ISSUED_AT + 300,
    "nonce": NONCE,
    "kid": "amr-2026",
}


def present(key: Ed25519PrivateKey = LICENCE_KEY, **changes: Any) -> str:
    return make_compact_presentation(key, **(STATEMENT | changes))


def verify(text: str, now: float = NOW, **options: Any) -> Any:
    return verify_presentation(text, KEYS, now=now, **options)


def signed(elements: list[Any], key: Ed25519PrivateKey = LICENCE_KEY) -> str:
    """A text signed over whatever elements are given, as a forger with the key could."""
    return COMPACT_PREFIX + base45.encode(cbor.encode([*elements, key.sign(cbor.encode(elements))]))


def elements(typ: str = COMPACT_TYPE, **changes: Any) -> list[Any]:
    """Elements 0-8 of a statement, in order."""
    return [typ, *(STATEMENT | changes).values()]


def test_a_compact_presentation_verifies_and_vouches_for_the_status_itself() -> None:
    verdict = verify(present())
    assert verdict.ok and verdict.reason is Reason.VALID
    assert dict(verdict.disclosed) == SHOWN and verdict.licence is None
    assert verdict.attested is not None and verdict.attested.type_code == TYPE_CODE
    assert verdict.status_checked  # the department signed it for a licence valid then


def test_two_fields_of_a_business_licence_fit_a_version_20_code_at_level_m() -> None:
    import qrcode
    from qrcode.util import MODE_ALPHA_NUM, QRData

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(QRData(present(), mode=MODE_ALPHA_NUM))
    code.make(fit=True)
    assert code.version <= 20


@pytest.mark.parametrize(
    ("at", "reason"),
    [
        (ISSUED_AT - 30, Reason.VALID),  # the skew forgives a clock 30 s behind
        (ISSUED_AT - 30.5, Reason.NOT_YET_VALID),
        (ISSUED_AT + 300 + 30, Reason.VALID),
        (ISSUED_AT + 300 + 30.5, Reason.EXPIRED),
        (float("nan"), Reason.NOT_YET_VALID),
    ],
)
def test_its_window_at_each_edge(at: float, reason: Reason) -> None:
    assert verify(present(), now=at).reason is reason


def test_a_window_of_300_seconds_is_made_and_one_of_301_refused() -> None:
    assert present(expires_at=ISSUED_AT + 300)
    with pytest.raises(ValueError, match="at most 300"):
        present(expires_at=ISSUED_AT + 301)
    assert verify(signed(elements(expires_at=ISSUED_AT + 301))).reason is Reason.TOO_LONG_LIVED


def test_keys_that_may_not_sign_it_and_keys_not_trusted_are_named() -> None:
    assert verify(present(WALLET_KEY, kid="wallet-2026")).reason is Reason.WRONG_KEY
    assert verify(present(PSB_KEY, kid="psb-2026")).reason is Reason.WRONG_KEY  # not AMR's
    assert verify(present(kid="amr-2030")).reason is Reason.UNKNOWN_KEY
    assert verify(present(PSB_KEY)).reason is Reason.BAD_SIGNATURE  # AMR's kid, PSB's key


@pytest.mark.parametrize(
    "change",
    [
        {"fields": SHOWN | {"name": "别的公司"}},
        {"fields": {"name": SHOWN["name"]}},  # a field dropped
        {"type_name": "结婚证"},
        {"expires_at": ISSUED_AT + 200},
        {"nonce": bytes(32)},
    ],
)
def test_anything_altered_after_signing_is_a_bad_signature(change: dict[str, Any]) -> None:
    genuine = cbor.decode(base45.decode(present()[4:]))
    altered = [*elements(**change), genuine[-1]]
    text = COMPACT_PREFIX + base45.encode(cbor.encode(altered))
    assert verify(text).reason is Reason.BAD_SIGNATURE


def test_a_nonce_seen_before_is_a_replay() -> None:
    seen: set[bytes] = set()

    def already(nonce: bytes) -> bool:
        found = nonce in seen
        seen.add(nonce)
        return found

    assert verify(present(), seen=already).ok
    assert verify(present(), seen=already).reason is Reason.REPLAYED


@pytest.mark.parametrize(
    ("count", "value", "ok"),
    [(64, "x", True), (65, "x", False), (1, "x" * 1024, True), (1, "x" * 1025, False)],
)
def test_fields_at_their_limits(count: int, value: str, ok: bool) -> None:
    fields = {f"f{i}": value for i in range(count)}
    text = signed(elements(fields=fields))
    assert (verify(text).reason is Reason.VALID) is ok
    if ok:
        assert present(fields=fields)
    else:
        with pytest.raises(ValueError, match=r"at most 64 fields|UTF-8 string"):
            present(fields=fields)


def test_a_text_longer_than_the_largest_qr_code_is_not_made_nor_read() -> None:
    with pytest.raises(TooLongForQr):
        present(fields={f"f{i}": "长" * 60 for i in range(30)})
    longest = signed(elements(fields={"f": "x" * 1024, "g": "y" * 1024}))
    assert len(longest) <= MAX_QR_TEXT and verify(longest).ok
    assert verify(longest + " " * (MAX_QR_TEXT + 1 - len(longest))).reason is Reason.MALFORMED


def raw(data: bytes) -> str:
    return COMPACT_PREFIX + base45.encode(data)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (raw(cbor.encode([*elements()[:-1], b"x" * 64])[:-1]), "cut short"),
        (raw(cbor.encode([*elements(), b"x" * 64]) + b"\x00"), "bytes after the item"),
        (raw(b"\x9f" + cbor.encode([*elements(), b"x" * 64])[1:] + b"\xff"), "indefinite"),
        (raw(cbor.encode([*elements()[:-1]])), "nine elements"),
        (raw(cbor.encode([*elements(typ="mycity-licence/1"), b"x" * 64])), "another typ"),
        (raw(cbor.encode([*elements(nonce=bytes(16)), b"x" * 64])), "a short nonce"),
        (raw(cbor.encode([*elements(fields={"Name": "x"}), b"x" * 64])), "a field name"),
        (raw(cbor.encode([*elements(type_code="1110000"), b"x" * 64])), "a type code"),
        (raw(cbor.encode([*elements(issued_at=2**53), b"x" * 64])), "a time past 2**53-1"),
        ("LC2:" + "不是", "not Base45"),
        ("LC2:", "empty"),
        (12, "not a text"),
    ],
)
def test_what_is_not_the_format_is_malformed(text: Any, why: str) -> None:
    assert verify(text).reason is Reason.MALFORMED, why
    assert read_compact_presentation(text) is None


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\x18\x05", "5 in two bytes: not the shortest form"),
        (b"\x19\x00\xff", "255 in three bytes"),
        (b"\xa2\x61b\x00\x61a\x00", "map keys out of order"),
        (b"\xa2\x61a\x00\x61a\x00", "a key twice"),
        (b"\x62\xc3\x28", "text that is not UTF-8"),
        (b"\x20", "a negative integer"),
        (b"\xf6", "null"),
        (b"\x81" * 6 + b"\x00", "nested too deep"),
    ],
)
def test_cbor_is_read_only_in_its_deterministic_form(data: bytes, why: str) -> None:
    with pytest.raises(cbor.CborError):
        cbor.decode(data)


@settings(max_examples=150)
@given(
    st.recursive(
        st.integers(0, 2**64 - 1) | st.binary(max_size=40) | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )
)
def test_cbor_reads_back_what_it_writes(value: Any) -> None:
    try:
        data = cbor.encode(value)
    except ValueError:  # a lone surrogate: UTF-8 cannot encode it
        return
    if _depth(value) > cbor.MAX_DEPTH:
        with pytest.raises(cbor.CborError, match="deep"):
            cbor.decode(data)
    else:
        assert cbor.decode(data) == value


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=60)
@given(st.sets(st.sampled_from(sorted(FIELDS)), max_size=3), st.binary(min_size=32, max_size=32))
def test_two_showings_share_only_what_was_shown(chosen: set[str], other_nonce: bytes) -> None:
    """Each element that is not the type, the department, its key or a field shown is new
    in every showing: the nonce, the window, the signature."""
    fields = {name: FIELDS[name] for name in chosen}
    first = cbor.decode(base45.decode(present(fields=fields)[4:]))
    second = cbor.decode(
        base45.decode(present(fields=fields, nonce=other_nonce, issued_at=ISSUED_AT + 7,
                              expires_at=ISSUED_AT + 307)[4:])
    )  # fmt: skip
    common = [i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a == b]
    shared = {0, 1, 2, 3, 4, 8}  # typ, type code, type name, issuer, the fields, the kid
    assert set(common) == shared or (other_nonce == NONCE and set(common) >= shared)
    assert set(first[4]) == chosen  # nothing of a field not shown: not its name, no digest


def test_the_documents_compact_example_still_holds() -> None:
    import qrcode
    from qrcode.util import MODE_ALPHA_NUM, QRData

    text, doc = present(), DOC.replace("\n", "")
    document = cbor.decode(base45.decode(text[4:]))
    assert cbor.encode(document[:-1]).hex() in doc
    assert document[-1].hex() in doc
    assert text in doc
    verdict = verify(text, now=1767225700)
    assert verdict.ok and dict(verdict.disclosed) == SHOWN and verdict.status_checked
    assert verify(text, now=1767225931).reason is Reason.EXPIRED
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(QRData(text, mode=MODE_ALPHA_NUM))
    code.make(fit=True)
    assert (len(text), code.version) == (372, 12)
    assert "about 370 characters, a QR code of version 12 at level M" in " ".join(DOC.split())


@pytest.mark.parametrize(
    ("value", "hex_"),
    [  # RFC 8949 Appendix A, for the kinds this subset has
        (0, "00"),
        (23, "17"),
        (24, "1818"),
        (1000000, "1a000f4240"),
        (18446744073709551615, "1bffffffffffffffff"),
        (b"\x01\x02\x03\x04", "4401020304"),
        ("IETF", "6449455446"),
        ("\u00fc", "62c3bc"),
        ([1, [2, 3], [4, 5]], "8301820203820405"),
        ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
        (
            {"a": "A", "b": "B", "c": "C", "d": "D", "e": "E"},
            "a56161614161626142616361436164614461656145",
        ),
        ({"aa": 0, "b": 1}, "a261620162616100"),  # deterministic: by encoded bytes, "b" first
    ],
)
def test_cbor_matches_rfc_8949(value: Any, hex_: str) -> None:
    assert cbor.encode(value).hex() == hex_
    assert cbor.decode(bytes.fromhex(hex_)) == value


@pytest.mark.parametrize(
    ("type_name", "ok"), [("营" * 64, True), ("营" * 65, False), ("", False), ("营\n业", False)]
)
def test_a_type_name_is_a_line_of_1_to_64_code_points(type_name: str, ok: bool) -> None:
    assert (verify(signed(elements(type_name=type_name))).reason is Reason.VALID) is ok


@pytest.mark.parametrize(("size", "ok"), [(31, False), (32, True), (33, False)])
def test_a_nonce_is_exactly_32_bytes(size: int, ok: bool) -> None:
    assert (verify(signed(elements(nonce=b"n" * size))).reason is Reason.VALID) is ok
