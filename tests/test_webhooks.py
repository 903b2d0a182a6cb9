"""Standard Webhooks' asymmetric signatures (v1a, Ed25519), checked as docs/payments.md §3
says: the signed content, the keys' text, the tolerance at its exact bound either way."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mycity.integrations.webhooks import (
    MAX_SIGNATURE_HEADER,
    TOLERANCE_S,
    NotificationRefused,
    Refusal,
    parse_public_key,
    parse_secret_key,
    public_key_text,
    secret_key_text,
    sign,
    signed_content,
    verify,
)

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = [KEY.public_key()]
BODY = b'{"type":"charge.succeeded"}'
AT = 1_765_000_000


def refusal(headers: dict[str, str], body: bytes = BODY, now: float = AT) -> Refusal:
    with pytest.raises(NotificationRefused) as caught:
        verify(PUBLIC, headers, body, now)
    return caught.value.refusal


def test_the_signature_is_over_id_timestamp_and_body_as_the_docs_say() -> None:
    headers = sign(KEY, "msg_1", AT, BODY)
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == str(AT)
    version, encoded = headers["webhook-signature"].split(",")
    assert version == "v1a"
    KEY.public_key().verify(base64.b64decode(encoded), b"msg_1.%d." % AT + BODY)
    assert signed_content("msg_1", AT, BODY) == b"msg_1.1765000000." + BODY
    assert verify(PUBLIC, headers, BODY, AT).message_id == "msg_1"


@pytest.mark.parametrize("offset", [-TOLERANCE_S, TOLERANCE_S])
def test_a_timestamp_at_the_tolerance_passes(offset: int) -> None:
    assert verify(PUBLIC, sign(KEY, "msg_1", AT, BODY), BODY, AT + offset)


@pytest.mark.parametrize("offset", [-TOLERANCE_S - 1, TOLERANCE_S + 1, -TOLERANCE_S - 0.001])
def test_a_timestamp_past_the_tolerance_is_stale(offset: float) -> None:
    assert refusal(sign(KEY, "msg_1", AT, BODY), now=AT + offset) is Refusal.STALE


def test_forged_signatures_are_refused() -> None:
    headers = sign(KEY, "msg_1", AT, BODY)
    assert refusal(headers, body=BODY + b" ") is Refusal.FORGED  # the body changed
    assert refusal(headers | {"webhook-id": "msg_2"}) is Refusal.FORGED
    other = Ed25519PrivateKey.generate()
    assert refusal(sign(other, "msg_1", AT, BODY)) is Refusal.FORGED  # another key
    v1 = headers | {"webhook-signature": "v1," + headers["webhook-signature"][4:]}
    assert refusal(v1) is Refusal.FORGED  # only v1a is an asymmetric signature
    assert refusal(headers | {"webhook-signature": "v1a,not-base64!"}) is Refusal.FORGED


def test_one_good_signature_among_several_passes_while_keys_rotate() -> None:
    good = sign(KEY, "msg_1", AT, BODY)["webhook-signature"]
    stale = sign(Ed25519PrivateKey.generate(), "msg_1", AT, BODY)["webhook-signature"]
    headers = sign(KEY, "msg_1", AT, BODY) | {"webhook-signature": f"{stale} {good}"}
    assert verify(PUBLIC, headers, BODY, AT)


@pytest.mark.parametrize(
    "change",
    [
        {"webhook-id": ""},
        {"webhook-id": "a" * 65},
        {"webhook-id": "msg 1"},
        {"webhook-timestamp": "12.5"},
        {"webhook-timestamp": "-1"},
        {"webhook-timestamp": "0123"},
        {"webhook-signature": ""},
        {"webhook-signature": "v1a," + "A" * 1024},
    ],
)
def test_malformed_headers_are_refused(change: dict[str, str]) -> None:
    assert refusal(sign(KEY, "msg_1", AT, BODY) | change) is Refusal.MALFORMED


def test_an_id_of_64_characters_passes() -> None:
    headers = sign(KEY, "a" * 64, AT, BODY)
    assert verify(PUBLIC, headers, BODY, AT).message_id == "a" * 64


def test_keys_round_trip_through_their_text() -> None:
    public = public_key_text(KEY.public_key())
    assert public.startswith("whpk_")
    assert parse_public_key(public).public_bytes_raw() == KEY.public_key().public_bytes_raw()
    assert parse_secret_key(secret_key_text(KEY)).private_bytes_raw() == bytes(range(32))
    for wrong in ("whsk_" + public[5:], "whpk_!!", "whpk_" + base64.b64encode(b"x" * 31).decode()):
        with pytest.raises(ValueError, match="key"):
            parse_public_key(wrong)


def test_the_worked_example_in_the_docs_is_what_the_code_signs() -> None:
    """docs/payments.md §3's example: its keys, its body and headers, recomputed."""
    page = (Path(__file__).parent.parent / "docs" / "payments.md").read_text()
    example = page.split("### Worked example", 1)[1].split("\n## ", 1)[0]
    secret = re.search(r"\(`(whsk_[^`]+)`\)", example).group(1)  # type: ignore[union-attr]
    public = re.search(r"`(whpk_[^`]+)`", example).group(1)  # type: ignore[union-attr]
    body = example.split("```json\n", 1)[1].split("\n```", 1)[0].encode()
    block = re.search(r"```\n(webhook-id: .*?)\n```", example, re.DOTALL)
    headers = dict(line.split(": ", 1) for line in block.group(1).splitlines())  # type: ignore[union-attr]
    key = parse_secret_key(secret)
    assert public_key_text(key.public_key()) == public
    at = int(headers["webhook-timestamp"])
    assert sign(key, headers["webhook-id"], at, body) == headers
    assert verify([parse_public_key(public)], headers, body, at).message_id == "msg_example_1"


@pytest.mark.parametrize(
    ("length", "passes"), [(MAX_SIGNATURE_HEADER, True), (MAX_SIGNATURE_HEADER + 1, False)]
)
def test_the_signature_header_is_at_most_its_length(length: int, passes: bool) -> None:
    """A good signature among others (keys rotating) in a header of exactly that length."""
    good = sign(KEY, "msg_1", AT, BODY)["webhook-signature"]
    filler = "v1a," + "A" * (length - len(good) - len(" v1a,"))
    headers = sign(KEY, "msg_1", AT, BODY) | {"webhook-signature": f"{filler} {good}"}
    assert len(headers["webhook-signature"]) == length
    if passes:
        assert verify(PUBLIC, headers, BODY, AT).message_id == "msg_1"
    else:
        assert refusal(headers) is Refusal.MALFORMED
