"""Every limit docs/licences.md gives, at its exact boundary, on both sides: the credential's
and the presentation's fields, the QR text, the status list and the trust list.

The side within a limit is signed by the signers and verifies; the side past it is refused
by the signers and, written into a genuine document that is signed again, read as
`malformed` (or the reason the document names).
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import zlib
from datetime import date
from typing import Any

import pytest

from mycity.integrations.qr import read_image, render_png
from mycity.verifier import base45
from mycity.verifier.licence import (
    MAX_QR_TEXT,
    Disclosure,
    Reason,
    StatusList,
    TooLongForQr,
    licence_identifier,
    load_keys,
    make_presentation,
    read_status_list,
    verify_presentation,
)
from mycity.verifier.licence_codec import b64url, canonical
from mycity.verifier.licence_status import MAX_SIZE, MAX_TEXT, MIN_SIZE
from tests.test_verifier_licence import (
    ISSUED_AT,
    JWKS,
    KEYS,
    LICENCE_KEY,
    NONCE,
    NOW,
    OTHER_KEY,
    WALLET_KEY,
    credential,
    pack,
    present,
    resign,
    status_list,
    status_list_text,
    tampered,
    unpack,
    verify,
)

# -- the credential's members ------------------------------------------------------------------

JAN_1 = date(2026, 1, 1)  # NOW is on it, in Beijing
ASTRAL = "\U00020000"  # 𠀀: one code point, two UTF-16 units, four bytes of UTF-8


@pytest.mark.parametrize(
    ("member", "within", "past"),
    [
        ("type_name", "营" * 64, "营" * 65),
        ("type_name", ASTRAL * 64, ASTRAL * 65),  # counted in code points
        ("type_name", "x", ""),
        ("holder", "h" * 128, "h" * 129),
        ("holder", "h", ""),
        ("status_index", 2**24 - 1, 2**24),
        ("status_index", 0, -1),
        ("valid_until", JAN_1, date(2025, 12, 31)),  # from valid_from, JAN_1
    ],
)
def test_credential_members_at_their_limits(member: str, within: Any, past: Any) -> None:
    genuine = present(credential(valid_from=JAN_1, **{member: within}))
    assert verify(genuine).reason is Reason.VALID
    with pytest.raises(ValueError, match=r"UTF-8|line of text|form|status|integer|valid_until"):
        credential(valid_from=JAN_1, **{member: past})

    def write_past(document: dict[str, Any]) -> None:
        document["credential"]["valid_from"] = JAN_1.isoformat()
        document["credential"][member] = past.isoformat() if isinstance(past, date) else past

    assert verify(tampered(write_past)).reason is Reason.MALFORMED


@pytest.mark.parametrize(
    ("within", "past"), [((10**10 - 1, 1), (10**10, 1)), ((0, 999), (0, 1000)), ((0, 1), (0, 0))]
)
def test_identifier_serial_and_version_at_their_limits(
    within: tuple[int, int], past: tuple[int, int]
) -> None:
    identifier = licence_identifier("11100000MA0000000X001", "11430100MB0000000Y", *within)
    assert verify(present(credential(licence_id=identifier))).ok
    with pytest.raises(ValueError, match=r"serial|version"):
        licence_identifier("11100000MA0000000X001", "11430100MB0000000Y", *past)


CONTROL = ["\x00", "\t", "\n", "\x1f", "\x7f", "\x80", "\x85", "\x9f"]  # Unicode's Cc
NOT_CONTROL = ["\xa0", "\u2028", "\u200b", "\ufeff", " "]


@pytest.mark.parametrize("character", CONTROL)
def test_control_characters_in_the_type_name_are_malformed(character: str) -> None:
    with pytest.raises(ValueError, match="line of text"):
        credential(type_name=f"营业{character}执照")

    def write(document: dict[str, Any]) -> None:
        document["credential"]["type_name"] = f"营业{character}执照"

    assert verify(tampered(write)).reason is Reason.MALFORMED


@pytest.mark.parametrize("character", NOT_CONTROL)
def test_other_characters_in_the_type_name_are_not_refused(character: str) -> None:
    assert verify(present(credential(type_name=f"营业{character}执照"))).ok


def fields_credential(fields: dict[str, str]) -> tuple[Any, list[Disclosure]]:
    """A credential of these fields, each salted with 16 bytes of 0x11, all disclosed."""
    disclosures = [Disclosure(name, value, b"\x11" * 16) for name, value in fields.items()]
    digests = {d.name: d.digest() for d in disclosures}
    return credential(digests=digests), disclosures


def show(fields: dict[str, str], shown: list[str] | None = None) -> str:
    """A presentation of a licence of `fields`, showing those `shown` (by default all)."""
    licence, disclosures = fields_credential(fields)
    chosen = [d for d in disclosures if shown is None or d.name in shown]
    window = {"issued_at": ISSUED_AT, "expires_at": ISSUED_AT + 300, "nonce": NONCE}
    return make_presentation(licence, chosen, key=WALLET_KEY, kid="wallet-2026", **window)


def test_a_licence_has_at_most_64_fields() -> None:
    most = {f"f{i}": "x" for i in range(64)}
    verdict = verify(show(most, shown=[]))
    assert verdict.ok and len(verdict.licence.digests) == 64  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="at most 64 fields"):
        fields_credential({**most, "f64": "x"})

    def add_one(document: dict[str, Any]) -> None:
        document["credential"]["digests"]["f64"] = b64url(bytes(32))

    genuine = unpack(show(most, shown=[]))
    add_one(genuine)
    assert verify(pack(resign(genuine, WALLET_KEY))).reason is Reason.MALFORMED


@pytest.mark.parametrize(
    ("within", "past"),
    [("a" * 32, "a" * 33), ("a", ""), ("a_9", "9a"), ("z", "Z"), ("a_b", "a-b"), ("é", "é")],
)
def test_field_names_at_their_limits(within: str, past: str) -> None:
    if within.isascii():
        assert verify(show({within: "v"})).disclosed == {within: "v"}
    with pytest.raises(ValueError, match="form"):
        fields_credential({past: "v"})

    def rename(document: dict[str, Any]) -> None:
        disclosure = document["disclosures"].pop("name")
        document["disclosures"][past] = disclosure

    assert verify(tampered(rename)).reason is Reason.MALFORMED


@pytest.mark.parametrize("value", ["x" * 1024, ASTRAL * 1024, "", "a\x00\n\x7f\x85\u2028b"])
def test_a_field_value_is_any_text_of_at_most_1024_code_points(value: str) -> None:
    assert verify(show({"note": value})).disclosed == {"note": value}


@pytest.mark.parametrize("value", ["x" * 1025, ASTRAL * 1025, "lone \udc80 surrogate"])
def test_a_longer_field_value_or_one_utf8_cannot_encode_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="UTF-8 string"):
        fields_credential({"note": value})

    document = unpack(present())  # malformed is found before any signature is checked
    document["disclosures"]["name"]["value"] = value
    text = json.dumps(document, ensure_ascii=True)  # a lone surrogate as \udc80
    assert verify("LC1:" + base45.encode(zlib.compress(text.encode()))).reason is Reason.MALFORMED


# -- the presentation's window ---------------------------------------------------------------


def test_expires_at_from_issued_at_to_300_seconds_later() -> None:
    assert verify(present(expires_at=ISSUED_AT), now=ISSUED_AT).ok  # a zero-second life
    assert verify(present(expires_at=ISSUED_AT + 300)).ok
    with pytest.raises(ValueError, match="expires after it is issued"):
        present(expires_at=ISSUED_AT - 1)
    with pytest.raises(ValueError, match="at most 300 seconds"):
        present(expires_at=ISSUED_AT + 301)

    def before(document: dict[str, Any]) -> None:
        document["expires_at"] = document["issued_at"] - 1

    def longer(document: dict[str, Any]) -> None:
        document["expires_at"] = document["issued_at"] + 301

    assert verify(tampered(before)).reason is Reason.MALFORMED
    assert verify(tampered(longer)).reason is Reason.TOO_LONG_LIVED


def test_the_window_with_skew_at_both_ends() -> None:
    text = present()
    end = ISSUED_AT + 300
    assert verify(text, now=ISSUED_AT - 30).ok
    assert verify(text, now=ISSUED_AT - 30.5).reason is Reason.NOT_YET_VALID
    assert verify(text, now=end + 30).ok
    assert verify(text, now=end + 30.5).reason is Reason.EXPIRED
    assert verify(text, now=ISSUED_AT, skew=0).ok
    assert verify(text, now=ISSUED_AT - 0.5, skew=0).reason is Reason.NOT_YET_VALID
    assert verify(text, now=end, skew=0).ok
    assert verify(text, now=end + 0.5, skew=0).reason is Reason.EXPIRED


# -- the QR text: 4,296 characters, LC1: included; one zlib stream of at most 64 KiB --------


def stored(payload: bytes) -> str:
    """A QR text of `payload` as zlib stores it (level 0), so its length is exact."""
    return "LC1:" + base45.encode(zlib.compress(payload, 0))


def padded_to(length: int) -> str:
    """The genuine presentation with spaces after its JSON, stored: a text of `length`."""
    payload = canonical(unpack(present()))
    [text] = [t for pad in range(3000) if len(t := stored(payload + b" " * pad)) == length]
    return text


def test_the_text_is_at_most_4296_characters_with_its_prefix() -> None:
    assert MAX_QR_TEXT == 4296
    assert verify(padded_to(4296)).ok  # trailing spaces are JSON's whitespace
    assert verify(padded_to(4297)).reason is Reason.MALFORMED


def test_the_longest_text_is_drawn_and_read_back() -> None:
    """Level M holds at most 3,391 characters: a longer text (3,392 is no Base45 length)
    is drawn at level L."""
    for length in (3391, 3393, 4296):
        text = padded_to(length)
        [read] = read_image(render_png(text))
        assert read == text and verify(read).ok


def test_make_presentation_refuses_what_the_reader_would() -> None:
    """Random letters compress little, so a longer value makes a longer text; each length
    is either made (at most 4296 characters) or refused with the length it would have."""
    letters = random.Random(4296)
    value = "".join(letters.choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", k=3072))
    made: set[int] = set()
    refused: set[int] = set()
    for length in range(2700, 3072):
        part = value[:length]
        fields = {"a": part[:1024], "b": part[1024:2048], "c": part[2048:]}
        try:
            made.add(len(show(fields)))
        except TooLongForQr as too_long:
            refused.add(too_long.length)
    assert max(made) <= 4296 < min(refused)
    assert 4296 in made, "zlib now compresses letters so that no length here makes 4296"


def test_the_json_inflates_to_at_most_64_kib() -> None:
    payload = canonical(unpack(present()))
    padded = payload + b" " * (65_536 - len(payload))
    assert verify("LC1:" + base45.encode(zlib.compress(padded, 9))).ok
    assert verify("LC1:" + base45.encode(zlib.compress(padded + b" ", 9))).reason is (
        Reason.MALFORMED
    )


def test_one_zlib_stream_and_nothing_after_it() -> None:
    payload = canonical(unpack(present()))
    half = len(payload) // 2
    two = zlib.compress(payload[:half]) + zlib.compress(payload[half:])
    for data in [two, zlib.compress(payload) + b"\x00", zlib.compress(payload)[:-1]]:
        assert verify("LC1:" + base45.encode(data)).reason is Reason.MALFORMED


# -- the status list ---------------------------------------------------------------------------

UNTIL = ISSUED_AT + 86_400  # status_list_text's valid_until


def read(text: str, now: float = NOW, skew: float = 30) -> StatusList | Reason:
    return read_status_list(text, KEYS, now=now, skew=skew)


def unchecked_list(**changes: Any) -> str:
    """AMR's list with `changes`, signed as it stands: what sign_status_list would refuse."""
    document = {**json.loads(status_list_text()), **changes}
    return json.dumps(resign(document, LICENCE_KEY))


def bitstring(bits: bytes) -> str:
    return "u" + b64url(gzip.compress(bits, mtime=0))


@pytest.mark.parametrize(
    ("within", "past"),
    [(MIN_SIZE, MIN_SIZE - 8), (MAX_SIZE, MAX_SIZE + 8), (MIN_SIZE + 8, MIN_SIZE + 4)],
)
def test_a_list_is_whole_bytes_of_131072_to_2_24_bits(within: int, past: int) -> None:
    listed = read(status_list_text(size=within, revoked=[within - 1]))
    assert isinstance(listed, StatusList) and listed.status(within - 1) == "revoked"
    with pytest.raises(ValueError, match="size"):
        status_list_text(size=past)
    bits = bitstring(bytes(past // 8))
    assert read(unchecked_list(size=past, revocation=bits, suspension=bits)) is Reason.MALFORMED


def test_a_bitstring_inflates_to_exactly_its_size() -> None:
    assert isinstance(read(unchecked_list(revocation=bitstring(bytes(16_384)))), StatusList)
    for wrong in (16_383, 16_385):
        assert read(unchecked_list(revocation=bitstring(bytes(wrong)))) is Reason.MALFORMED


def test_a_list_ends_after_it_starts() -> None:
    assert isinstance(read(status_list_text(issued_at=NOW, valid_until=NOW + 1)), StatusList)
    with pytest.raises(ValueError, match="ends after it starts"):
        status_list_text(issued_at=NOW, valid_until=NOW)
    assert read(unchecked_list(issued_at=NOW, valid_until=NOW)) is Reason.MALFORMED


@pytest.mark.parametrize(
    ("now", "skew", "fresh"),
    [
        (UNTIL - 30, 30, True),
        (UNTIL, 30, True),
        (UNTIL + 0.5, 30, False),
        (UNTIL + 1, 30, False),
        (UNTIL + 30, 30, False),  # the skew does not stretch a list's freshness
        (UNTIL, 0, True),
        (UNTIL + 1, 0, False),
    ],
)
def test_a_list_is_fresh_up_to_and_including_valid_until(
    now: float, skew: float, fresh: bool
) -> None:
    listed = read(status_list_text(), now=now, skew=skew)
    assert isinstance(listed, StatusList) if fresh else listed is Reason.STATUS_STALE
    kept = status_list()  # read while fresh, then kept until `now`
    shown = present(issued_at=int(now), expires_at=int(now))
    verdict = verify(shown, now=now, skew=skew, status_lists={"AMR": kept})
    assert verdict.reason is (Reason.VALID if fresh else Reason.STATUS_STALE)
    assert verdict.status_checked is fresh


@pytest.mark.parametrize(
    ("now", "skew", "early"),
    [
        (ISSUED_AT - 30, 30, False),
        (ISSUED_AT - 30.5, 30, True),
        (ISSUED_AT, 0, False),
        (ISSUED_AT - 0.5, 0, True),
    ],
)
def test_a_list_issued_at_most_skew_ahead_is_read(now: float, skew: float, early: bool) -> None:
    listed = read(status_list_text(issued_at=ISSUED_AT), now=now, skew=skew)
    assert listed is Reason.NOT_YET_VALID if early else isinstance(listed, StatusList)


def test_a_list_text_is_at_most_6_000_000_characters() -> None:
    text = status_list_text()
    assert MAX_TEXT == 6_000_000
    assert isinstance(read(text + " " * (MAX_TEXT - len(text))), StatusList)
    assert read(text + " " * (MAX_TEXT + 1 - len(text))) is Reason.MALFORMED
    noise = random.Random(MAX_SIZE).randbytes
    largest = unchecked_list(  # the largest list, of bitstrings that do not compress at all
        size=MAX_SIZE,
        revocation=bitstring(noise(MAX_SIZE // 8)),
        suspension=bitstring(noise(MAX_SIZE // 8)),
    )
    assert len(largest) < MAX_TEXT and isinstance(read(largest), StatusList)


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        (read_status_list(status_list_text(OTHER_KEY), KEYS, now=NOW), Reason.STATUS_UNKNOWN),
        (Reason.MALFORMED, Reason.STATUS_UNKNOWN),
        (Reason.UNKNOWN_KEY, Reason.STATUS_UNKNOWN),
        (Reason.WRONG_KEY, Reason.STATUS_UNKNOWN),
        (Reason.NOT_YET_VALID, Reason.STATUS_UNKNOWN),
        (Reason.STATUS_STALE, Reason.STATUS_STALE),
    ],
)
def test_a_list_that_was_refused_checks_no_status(given: Reason, reason: Reason) -> None:
    """What read_status_list answered may be passed as it is: a refused list is no list."""
    assert given is not None and not isinstance(given, StatusList)
    verdict = verify(present(), status_lists={"AMR": given})
    assert (verdict.reason, verdict.status_checked) == (reason, False)
    assert verdict.licence is not None  # both signatures held


def test_no_list_for_the_issuer_is_status_unknown_and_none_at_all_checks_nothing() -> None:
    assert verify(present(), status_lists={}).reason is Reason.STATUS_UNKNOWN
    unchecked = verify(present(), status_lists=None)
    assert (unchecked.reason, unchecked.status_checked) == (Reason.VALID, False)


# -- the trust list ----------------------------------------------------------------------------

LICENCE_ENTRY, WALLET_ENTRY = JWKS["keys"][0], JWKS["keys"][1]


@pytest.mark.parametrize(
    ("member", "within", "past"),
    [
        ("kid", "k" * 64, "k" * 65),
        ("kid", "k", ""),
        ("kid", "a.b_c:d-E9", "a b"),
        ("issuer", "A" + "9" * 31, "A" + "9" * 32),
        ("issuer", "A", ""),
        ("issuer", "A-9", "9A"),
        ("issuer", "AMR", "amr"),
    ],
)
def test_trust_list_members_at_their_limits(member: str, within: str, past: str) -> None:
    keys = load_keys({"keys": [{**LICENCE_ENTRY, member: within}, WALLET_ENTRY]})
    licence = credential(**{member: within})
    assert verify_presentation(present(licence), keys, now=NOW).ok
    with pytest.raises(ValueError, match=member if member == "kid" else "department"):
        load_keys({"keys": [{**LICENCE_ENTRY, member: past}]})
    with pytest.raises(ValueError, match="form"):
        credential(**{member: past})


@pytest.mark.parametrize(
    "jwks",
    [
        {"keys": [LICENCE_ENTRY, "an entry that is no object"]},
        {"keys": [LICENCE_ENTRY, {**WALLET_ENTRY, "kid": "amr-2026"}]},  # one kid, two keys
        {"keys": [{**LICENCE_ENTRY, "kty": "EC"}]},
        {"keys": [{**LICENCE_ENTRY, "crv": "X25519"}]},
        {"keys": [{k: v for k, v in LICENCE_ENTRY.items() if k != "x"}]},
        {"keys": [{k: v for k, v in LICENCE_ENTRY.items() if k != "issuer"}]},
        {"keys": [{**LICENCE_ENTRY, "x": b64url(bytes(31))}]},
        {"keys": [{**LICENCE_ENTRY, "x": b64url(bytes(33))}]},
        {"keys": [{**WALLET_ENTRY, "issuer": "AMR"}]},
        {"keys": {"amr-2026": LICENCE_ENTRY}},
        {"not keys": []},
        '{"keys": [], "keys": []}',  # a repeated member, anywhere
        '{"keys": [{"use": "sig", "weight": 1.5}]}',  # a fraction, even in a skipped entry
        "[]",
    ],
)
def test_a_malformed_trust_list_is_refused_whole(jwks: Any) -> None:
    with pytest.raises(ValueError, match=r"JWKS|key|base64url|bytes|department|issuer|numbers"):
        load_keys(jwks)


def test_what_a_trust_list_reader_lets_through() -> None:
    keys = load_keys(
        {
            "keys": [
                {**LICENCE_ENTRY, "alg": "EdDSA", "key_ops": ["verify"]},  # other members
                {**WALLET_ENTRY, "issuer": None},  # a presentation key's issuer may be null
                {"kty": "RSA", "use": "sig", "kid": "amr-2026", "n": "…"},  # skipped, kid too
                {"kty": "OKP", "kid": "no use"},
            ]
        }
    )
    assert set(keys) == {"amr-2026", "wallet-2026"}
    assert verify_presentation(present(), keys, now=NOW).ok


@pytest.mark.parametrize("size", [15, 17])
@pytest.mark.parametrize(
    "path",
    [
        ("nonce",),  # 16 bytes
        ("disclosures", "name", "salt"),  # 16
        ("credential", "digests", "name"),  # 32
        ("credential", "sig"),  # 64
        ("sig",),  # 64
    ],
)
def test_bytes_of_any_other_size_are_malformed(path: tuple[str, ...], size: int) -> None:
    document = unpack(present())
    parent = document
    for name in path[:-1]:
        parent = parent[name]
    exact = len(base64.urlsafe_b64decode(parent[path[-1]] + "=="))
    parent[path[-1]] = b64url(bytes(exact + size - 16))  # one byte short, one too many
    assert verify(pack(document)).reason is Reason.MALFORMED
