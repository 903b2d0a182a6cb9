"""The city code's keys: the JWKS partners load, and the server's subject references.

The city signs codes with Ed25519 keys it publishes as `use: "city-code"` JWKS entries, each
with a one-byte index (`code_key`) that a code names instead of a kid; a compromised key is
listed under `withdrawn`, so a verifier can tell a withdrawn key from one it never knew.
The server alone holds the AES key that seals the citizen into each code's reference.
docs/city-code.md specifies both. Standard library and `cryptography` only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from mycity.verifier.licence_codec import KID, b64url, from_b64url, parse_json

USE = "city-code"  # the JWKS `use` of a city-code signing key
SUBJECT_SIZE = 8  # the server's subject number
SUBJECT_REF_SIZE = 16  # one AES block


@dataclass(frozen=True)
class CodeKey:
    """A city-code signing key of the JWKS: its kid, its one-byte index, the public key."""

    kid: str
    code_key: int
    public_key: Ed25519PublicKey = field(compare=False)


@dataclass(frozen=True)
class CodeKeys:
    """The published keys by index, and the indices withdrawn (compromised) with their kid."""

    active: Mapping[int, CodeKey] = field(default_factory=dict)
    withdrawn: Mapping[int, str] = field(default_factory=dict)


# The keys: a JWKS of `use: "city-code"` entries, and the withdrawn ones beside them.


def load_code_keys(jwks: str | Mapping[str, object]) -> CodeKeys:
    """The city-code keys of a JWKS and its `withdrawn` list; ValueError if either is
    malformed or two keys share a kid or an index.

    Entries of another `use` are skipped, so the list may share a JWKS with other keys. An
    index both listed and withdrawn counts as withdrawn: withdrawal must win.
    """
    document = parse_json(jwks) if isinstance(jwks, str) else jwks
    if not isinstance(document, Mapping):
        raise ValueError("a JWKS is an object")
    entries, withdrawn_entries = document.get("keys"), document.get("withdrawn", [])
    if not (isinstance(entries, list) and isinstance(withdrawn_entries, list)):
        raise ValueError('a JWKS\'s "keys" and "withdrawn" are lists')
    withdrawn: dict[int, str] = {}
    for entry in withdrawn_entries:
        kid, index = _kid_and_index(entry)
        if withdrawn.setdefault(index, kid) != kid:
            raise ValueError(f"two withdrawn kids share the index {index}")
    active: dict[int, CodeKey] = {}
    kids: set[str] = set()
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise ValueError("a JWKS key is an object")
        if entry.get("use") != USE:
            continue
        key = _code_key(entry)
        if key.kid in kids or key.code_key in active:
            raise ValueError(f"the kid {key.kid!r} or its index {key.code_key} names two keys")
        kids.add(key.kid)
        if withdrawn.get(key.code_key, key.kid) != key.kid:
            raise ValueError(f"the index {key.code_key} is listed and withdrawn under two kids")
        if key.code_key not in withdrawn:
            active[key.code_key] = key
    return CodeKeys(active, withdrawn)


def code_jwk(public_key: Ed25519PublicKey, kid: str, code_key: int) -> dict[str, object]:
    """The JWKS entry for a city-code key, as `load_code_keys` reads it."""
    jwk: dict[str, object] = {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": USE}
    jwk.update(kid=kid, code_key=code_key, x=b64url(public_key.public_bytes_raw()))
    _code_key(jwk)  # refuses what load_code_keys would refuse
    return jwk


def _code_key(entry: Mapping[str, object]) -> CodeKey:
    kid, index = _kid_and_index(entry)
    if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
        raise ValueError(f"the city-code key {kid!r} is not an Ed25519 key (OKP)")
    if entry.get("alg", "EdDSA") != "EdDSA":
        raise ValueError(f"the city-code key {kid!r} is not for EdDSA")
    public_key = Ed25519PublicKey.from_public_bytes(from_b64url(entry.get("x"), 32))
    return CodeKey(kid, index, public_key)


def _kid_and_index(entry: object) -> tuple[str, int]:
    if not isinstance(entry, Mapping):
        raise ValueError("a key or withdrawn entry is an object")
    kid, index = entry.get("kid"), entry.get("code_key")
    if not (isinstance(kid, str) and KID.fullmatch(kid)):
        raise ValueError(f"the kid {kid!r} is not 1-64 of A-Z a-z 0-9 . _ : -")
    if not (isinstance(index, int) and not isinstance(index, bool) and 0 <= index <= 0xFF):
        raise ValueError(f"the key {kid!r} has no code_key from 0 to 255")
    return kid, index


# The server's half: the subject reference. The verifier never needs these.


def seal_subject(key: bytes, subject: bytes, *, random: bytes | None = None) -> bytes:
    """The 16-byte reference for one code: AES-256 of the 8-byte subject number followed by
    8 random bytes, one block under the server's key.

    The random half makes every block, and so every reference, different: two codes of one
    citizen share nothing. The reference needs no tag of its own: it travels inside the
    signed bytes, so the server opens only references it signed.
    """
    if len(key) != 32 or len(subject) != SUBJECT_SIZE:
        raise ValueError(f"the key is 32 bytes and the subject {SUBJECT_SIZE}")
    random = os.urandom(SUBJECT_REF_SIZE - SUBJECT_SIZE) if random is None else random
    if len(random) != SUBJECT_REF_SIZE - SUBJECT_SIZE:
        raise ValueError(f"the random half is {SUBJECT_REF_SIZE - SUBJECT_SIZE} bytes")
    return _block(key, subject + random, encrypt=True)


def open_subject(key: bytes, ref: bytes) -> bytes | None:
    """The subject number in a reference (of a code whose signature was verified first);
    None if the key or the reference is not of its size."""
    if len(key) != 32 or len(ref) != SUBJECT_REF_SIZE:
        return None
    return _block(key, ref, encrypt=False)[:SUBJECT_SIZE]


def _block(key: bytes, block: bytes, *, encrypt: bool) -> bytes:
    # ECB over exactly one block whose second half is random is the AES permutation itself:
    # no pattern can repeat across blocks, because there is only one.
    cipher = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305
    context = cipher.encryptor() if encrypt else cipher.decryptor()
    return context.update(block) + context.finalize()
