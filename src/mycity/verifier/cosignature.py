"""C2SP cosignatures (c2sp.org/tlog-cosignature, Ed25519, `cosignature/v1`): a witness's
timestamped statement that a checkpoint is the largest consistent tree it has seen of
that log. A cosignature is one more signature line on the checkpoint's note:

    — <witness name> base64(key ID || u64 timestamp || Ed25519 signature)

key ID = SHA-256(name || 0x0A || 0x04 || public key)[:4]; the signed message is
`cosignature/v1\\ntime <timestamp>\\n` followed by the checkpoint's text (its lines up to
the blank line, with the final newline). A witness's key is written as a verifier key with
the type byte 0x04: `<name>+<key ID hex>+base64(0x04 || public key)`.

Standard library and `cryptography` only.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mycity.verifier.note import decode_base64

COSIGNATURE = b"\x04"  # the type byte of Ed25519 cosignatures
_HEADER = "cosignature/v1\n"
_PREFIX = "— "  # U+2014, then a space
_SIGNATURE_SIZE = 4 + 8 + 64


@dataclass(frozen=True)
class Cosigner:
    """A witness a verifier trusts: its name, key ID and public key."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey = field(hash=False)


def cosigner_key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + COSIGNATURE + public_key).digest()[:4]


def cosigner_key(name: str, public_key: bytes) -> str:
    """The witness's key as text: `name+<key ID hex>+base64(0x04 || public key)`."""
    encoded = base64.b64encode(COSIGNATURE + public_key).decode()
    return f"{name}+{cosigner_key_id(name, public_key).hex()}+{encoded}"


def parse_cosigner_key(text: str) -> Cosigner:
    """The cosigner a witness key names; ValueError says what is wrong."""
    name, _, rest = text.strip().partition("+")
    key_id_hex, _, encoded = rest.partition("+")
    key = decode_base64(encoded)
    if not name or " " in name or key is None or key[:1] != COSIGNATURE or len(key) != 33:
        raise ValueError(f"{text!r} is not a witness key (name+keyid+base64 of 0x04 and 32 bytes)")
    if cosigner_key_id(name, key[1:]).hex() != key_id_hex:
        raise ValueError(f"{text!r}: the key ID does not match the name and the key")
    return Cosigner(name, bytes.fromhex(key_id_hex), Ed25519PublicKey.from_public_bytes(key[1:]))


def cosign(text: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """The cosignature line of a checkpoint's text (lines up to the blank line, with the
    final newline), at a time (POSIX seconds)."""
    public_key = private_key.public_key().public_bytes_raw()
    signature = private_key.sign(_message(text, timestamp))
    payload = cosigner_key_id(name, public_key) + struct.pack(">Q", timestamp) + signature
    return f"{_PREFIX}{name} {base64.b64encode(payload).decode()}\n"


def cosigned_by(note: str, cosigners: Sequence[Cosigner]) -> dict[str, int]:
    """The cosigners (by name) whose cosignature on the note verifies, with its time; lines
    of other keys are ignored, as the spec requires."""
    split = note.rfind("\n\n")
    if split < 0:
        return {}
    text, lines = note[: split + 1], note[split + 2 :].splitlines()
    found: dict[str, int] = {}
    for line in lines:
        name, _, encoded = line.removeprefix(_PREFIX).partition(" ")
        payload = decode_base64(encoded)
        if not line.startswith(_PREFIX) or payload is None or len(payload) != _SIGNATURE_SIZE:
            continue
        (timestamp,) = struct.unpack(">Q", payload[4:12])
        for cosigner in cosigners:
            if (cosigner.name, cosigner.key_id) != (name, payload[:4]):
                continue
            try:
                cosigner.public_key.verify(payload[12:], _message(text, timestamp))
            except InvalidSignature:
                continue
            found[name] = timestamp
    return found


def _message(text: str, timestamp: int) -> bytes:
    if not 0 <= timestamp < 2**63:
        raise ValueError("a cosignature's time is 0 to 2^63 - 1")
    return f"{_HEADER}time {timestamp}\n{text}".encode()
