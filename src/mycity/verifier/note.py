"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, as Go's sumdb/note writes them.

The log signs its checkpoints as notes: text, a blank line, then one line per signature. An
auditor holding the log's verifier key can so tell a published tree head from a forged one.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_ED25519 = b"\x01"  # the signature type byte the spec assigns to Ed25519
_PUBLIC_KEY_SIZE = 32
_SIGNATURE_PREFIX = "— "  # U+2014 EM DASH, then a space
_MAX_SIGNATURES = 100  # as Go's note.Open; the spec asks verifiers to accept at least 16
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f]")
_KEY_HASH_HEX = re.compile(r"[0-9a-f]{8}")


@dataclass(frozen=True)
class Verifier:
    """A trusted key; its name and 4-byte key hash pick out the signature lines it checks."""

    name: str
    key_hash: bytes
    public_key: Ed25519PublicKey = field(hash=False)  # key objects are not hashable


def key_hash(name: str, public_key: bytes) -> bytes:
    """The key ID, SHA-256(name || 0x0A || 0x01 || public key)[:4]: short, an identifier only."""
    if not (isinstance(public_key, bytes) and len(public_key) == _PUBLIC_KEY_SIZE):
        raise ValueError("an Ed25519 public key is 32 bytes")
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """The `name+hash+base64` text that Go's note.NewVerifier and `parse_verifier_key` read."""
    _check_name(name)
    return f"{name}+{key_hash(name, public_key).hex()}+{_encode_base64(_ED25519 + public_key)}"


def parse_verifier_key(text: str) -> Verifier:
    """The verifier a `name+hash+base64` key describes; ValueError says what is wrong."""
    name, _, rest = text.partition("+")
    hash_hex, _, encoded_key = rest.partition("+")
    _check_name(name)
    if not _KEY_HASH_HEX.fullmatch(hash_hex):
        raise ValueError(f"verifier key of {name!r}: the key hash is not 8 lowercase hex digits")
    key = decode_base64(encoded_key)
    if key is None:
        raise ValueError(f"verifier key of {name!r}: the key is not canonical standard base64")
    if key[:1] != _ED25519:
        raise ValueError(f"verifier key of {name!r}: the signature type is not Ed25519 (0x01)")
    public_key = key[1:]
    if len(public_key) != _PUBLIC_KEY_SIZE:
        raise ValueError(f"verifier key of {name!r}: the Ed25519 key is not 32 bytes")
    if key_hash(name, public_key) != bytes.fromhex(hash_hex):
        raise ValueError(f"verifier key of {name!r}: the key hash does not match name and key")
    return Verifier(name, bytes.fromhex(hash_hex), Ed25519PublicKey.from_public_bytes(public_key))


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """The note of `text` signed as `name`: the text, a blank line, the signature line."""
    if not _is_note_text(text):
        raise ValueError("note text must end in a newline and hold no other control characters")
    _check_name(name)
    public_key = private_key.public_key().public_bytes_raw()
    signature = key_hash(name, public_key) + private_key.sign(text.encode())
    return f"{text}\n{_SIGNATURE_PREFIX}{name} {_encode_base64(signature)}\n"


def open_note(note: str, verifiers: Sequence[Verifier]) -> str | None:
    """The note's text if one of `verifiers` signed it, else None; never raises.

    Lines by unknown keys are skipped, as the spec requires. Every line by a known key must
    verify, repeated lines included (Go's note.Open checks only the first of repeats).
    """
    if not (isinstance(note, str) and _is_note_text(note)):
        return None
    split = note.rfind("\n\n")
    if split < 0 or split + 2 == len(note):
        return None
    text, lines = note[: split + 1], note[split + 2 : -1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        return None
    message = text.encode()
    verified = False
    for line in lines:
        signature_line = _parse_signature_line(line)
        if signature_line is None:
            return None
        name, key_id, signature = signature_line
        for verifier in verifiers:
            if verifier.name == name and verifier.key_hash == key_id:
                if not _signature_verifies(verifier.public_key, signature, message):
                    return None
                verified = True
    return text if verified else None


def decode_base64(text: str) -> bytes | None:
    """Standard padded base64 in its one canonical spelling, or None: no two texts decode alike."""
    if not isinstance(text, str):
        return None
    try:
        decoded = base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error, or a non-ASCII character
        return None
    return decoded if _encode_base64(decoded) == text else None


def _parse_signature_line(line: str) -> tuple[str, bytes, bytes] | None:
    """(key name, key ID, signature) of `— name base64(key ID || signature)`, or None."""
    if not line.startswith(_SIGNATURE_PREFIX):
        return None
    name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    decoded = decode_base64(encoded)
    if not _is_key_name(name) or decoded is None or len(decoded) < 5:
        return None
    return name, decoded[:4], decoded[4:]


def _signature_verifies(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _check_name(name: str) -> None:
    if not _is_key_name(name):
        raise ValueError(f"key name {name!r} must be non-empty, without spaces, '+' or controls")


def _is_key_name(name: object) -> bool:
    """Non-empty, no Unicode spaces or '+' (the spec), and no control characters, which no
    note may hold (stricter than Go, which allows them in names)."""
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(c.isspace() for c in name)
        and not _CONTROL_BUT_NEWLINE.search(name)
        and _is_utf8(name)
    )


def _is_note_text(text: str) -> bool:
    """Ends in a newline, valid UTF-8, and no ASCII control characters other than newline."""
    return text.endswith("\n") and not _CONTROL_BUT_NEWLINE.search(text) and _is_utf8(text)


def _is_utf8(text: str) -> bool:
    """False for a str holding lone surrogates, which UTF-8 cannot encode."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _encode_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
