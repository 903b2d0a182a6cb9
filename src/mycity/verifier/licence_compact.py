"""The compact presentation (`LC2:`): unlinkable, and small enough for a QR code of version
20 at level M with two fields shown.

A credential signed once at issuance makes every showing of a licence linkable: the same
identifier, holder reference, status index, digests and signature travel each time, and
a field's salt recognises it once seen. Here the issuing department signs, for each
showing, a statement living at most five minutes that holds only the licence type and
the fields shown: a licence valid at that moment has those values. Nothing else travels:
no identifier or validity unless shown as fields, no digest of a hidden field, no status
index (the department signs only for a licence valid when it signs, so the statement is
its own status). Two showings share the type, the department, its key and what was
shown. docs/licences.md §9 specifies it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mycity.verifier import base45, cbor
from mycity.verifier.licence_codec import (
    ISSUER,
    KID,
    MAX_LIFETIME,
    MAX_QR_TEXT,
    SIGNATURE_SIZE,
    TooLongForQr,
    integer,
    string,
    verifies,
)
from mycity.verifier.licence_credential import MAX_FIELDS, check_bytes, check_field
from mycity.verifier.licence_id import TYPE_CODE
from mycity.verifier.licence_trust import Keys, Reason, key_for

COMPACT_TYPE = "mycity-licence/2"
COMPACT_PREFIX = "LC2:"
NONCE_SIZE = 32


@dataclass(frozen=True)
class Attestation:
    """What a department signs for one showing; building one checks its content."""

    type_code: str  # the identifier's type code (docs/licences.md §1)
    type_name: str
    issuer: str
    fields: dict[str, str]  # the fields shown, and only those
    issued_at: int  # unix seconds
    expires_at: int
    nonce: bytes
    kid: str  # the department's licence key
    signature: bytes

    def __post_init__(self) -> None:
        string(self.type_code, TYPE_CODE)
        string(self.type_name, max_length=64)
        string(self.issuer, ISSUER)
        if not (isinstance(self.fields, dict) and len(self.fields) <= MAX_FIELDS):
            raise ValueError(f"at most {MAX_FIELDS} fields")
        for name, value in self.fields.items():
            check_field(name, value)
        if not integer(self.issued_at) <= integer(self.expires_at):
            raise ValueError("a presentation expires after it is issued")
        check_bytes(self.nonce, NONCE_SIZE)
        string(self.kid, KID)
        check_bytes(self.signature, SIGNATURE_SIZE)

    def signed_bytes(self) -> bytes:
        """The deterministic CBOR of elements 0-8, what the department signs."""
        return cbor.encode(self._elements())

    def encoded(self) -> bytes:
        return cbor.encode([*self._elements(), self.signature])

    def _elements(self) -> list[object]:
        return [
            COMPACT_TYPE,
            self.type_code,
            self.type_name,
            self.issuer,
            self.fields,
            self.issued_at,
            self.expires_at,
            self.nonce,
            self.kid,
        ]


def make_compact_presentation(
    key: Ed25519PrivateKey,
    *,
    kid: str,
    type_code: str,
    type_name: str,
    issuer: str,
    fields: dict[str, str],
    issued_at: int,
    expires_at: int,
    nonce: bytes,
) -> str:
    """The `LC2:` QR text, signed with the department's licence key `kid`; ValueError if
    any part is not of its form or the window is longer than 300 seconds, `TooLongForQr`
    (a ValueError) if the text would not fit in a QR code."""
    if integer(expires_at) - integer(issued_at) > MAX_LIFETIME:
        raise ValueError(f"a presentation lives at most {MAX_LIFETIME} seconds")
    unsigned = Attestation(
        type_code,
        type_name,
        issuer,
        dict(fields),
        issued_at,
        expires_at,
        nonce,
        kid,
        bytes(SIGNATURE_SIZE),
    )
    signed = Attestation(**{**vars(unsigned), "signature": key.sign(unsigned.signed_bytes())})
    qr_text = COMPACT_PREFIX + base45.encode(signed.encoded())
    if len(qr_text) > MAX_QR_TEXT:
        raise TooLongForQr(len(qr_text))
    return qr_text


def read_compact_presentation(text: str) -> Attestation | None:
    """The attestation an `LC2:` text holds if it is well-formed (no signature or time
    checked); never raises."""
    try:
        if not (isinstance(text, str) and len(text) <= MAX_QR_TEXT):
            return None
        if not text.startswith(COMPACT_PREFIX):
            return None
        document = cbor.decode(base45.decode(text[len(COMPACT_PREFIX) :]))
        if not (isinstance(document, list) and len(document) == 10):
            return None
        if document[0] != COMPACT_TYPE or not isinstance(document[4], dict):
            return None
        return Attestation(*document[1:])
    except (ValueError, TypeError):
        return None


def compact_failure(attestation: Attestation, keys: Keys) -> Reason | None:
    """The department's key for this issuer, and its signature."""
    department = key_for(keys, attestation.kid, "licence", attestation.issuer)
    if isinstance(department, Reason):
        return department
    if not verifies(department.public_key, attestation.signature, attestation.signed_bytes()):
        return Reason.BAD_SIGNATURE
    return None
