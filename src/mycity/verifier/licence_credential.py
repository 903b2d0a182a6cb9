"""Licence credentials: what a department signs at issuance, each field a salted digest.

Fields enter the signature only as SHA-256 digests over a random salt and the field, as
ISO 18013-5 mDL does, so the holder can later reveal any subset: a revealed field is checked
against its digest, and an unrevealed one cannot be guessed from its digest.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mycity.verifier.licence_codec import (
    ISSUER,
    KID,
    SIGNATURE_SIZE,
    b64url,
    canonical,
    from_b64url,
    integer,
    members,
    string,
)
from mycity.verifier.licence_id import parse_licence_identifier
from mycity.verifier.licence_status import MAX_SIZE

CREDENTIAL_TYPE = "mycity-licence/1"
SALT_SIZE = 16
DIGEST_SIZE = 32
MAX_FIELDS = 64
_MAX_VALUE = 1024
FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
_HOLDER = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_ANY_TEXT = re.compile(r"(?s:.*)")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MEMBERS = frozenset(
    {"typ", "licence_id", "type_name", "issuer", "holder", "valid_from", "valid_until"}
    | {"status_index", "digests", "kid", "sig"}
)
_DISCLOSURE = frozenset({"salt", "value"})


def field_digest(name: str, value: str, salt: bytes) -> bytes:
    """SHA-256(salt || canonical JSON of [name, value]): a field as the licence signs it.

    The random salt keeps anyone holding the licence from confirming a guessed value.
    """
    _check_field(name, value, salt)
    return hashlib.sha256(salt + canonical([name, value])).digest()


@dataclass(frozen=True)
class Disclosure:
    """A field the holder reveals, with the salt its signed digest was made with."""

    name: str
    value: str
    salt: bytes

    def __post_init__(self) -> None:
        _check_field(self.name, self.value, self.salt)

    def digest(self) -> bytes:
        return field_digest(self.name, self.value, self.salt)


def make_disclosures(fields: Mapping[str, str]) -> dict[str, Disclosure]:
    """Each field with a fresh random salt: the server keeps these for the holder and signs
    their digests."""
    return {name: Disclosure(name, value, os.urandom(SALT_SIZE)) for name, value in fields.items()}


@dataclass(frozen=True)
class Credential:
    """A licence as its department signed it at issuance; building one checks its content."""

    licence_id: str
    type_name: str  # e.g. 营业执照
    issuer: str  # the department's code, e.g. AMR; its status list has the same name
    holder: str  # an opaque reference to the holder, never personal data
    valid_from: date
    valid_until: date | None  # None: the licence does not expire
    status_index: int  # the licence's bit in its issuer's status list
    digests: Mapping[str, bytes]  # field name -> field_digest
    kid: str
    signature: bytes

    def __post_init__(self) -> None:
        if parse_licence_identifier(self.licence_id) is None:
            raise ValueError(f"{self.licence_id!r} is not a licence identifier")
        string(self.type_name, max_length=64)
        string(self.issuer, ISSUER)
        string(self.holder, _HOLDER)
        string(self.kid, KID)
        start, until = self.valid_from, self.valid_until  # a datetime is not a date here
        if type(start) is not date or not (until is None or _is_date_from(until, start)):
            raise ValueError("valid_from is a date; valid_until None or a date no earlier")
        if integer(self.status_index) >= MAX_SIZE:
            raise ValueError("the status index is outside the largest status list")
        if not (isinstance(self.digests, Mapping) and len(self.digests) <= MAX_FIELDS):
            raise ValueError(f"a licence has at most {MAX_FIELDS} fields")
        for name, digest in self.digests.items():
            string(name, FIELD_NAME)
            check_bytes(digest, DIGEST_SIZE)
        check_bytes(self.signature, SIGNATURE_SIZE)

    @property
    def type_code(self) -> str:
        """The licence type's code, the identifier's first field after the root."""
        return self.licence_id.split(".")[5]


def sign_credential(
    key: Ed25519PrivateKey,
    kid: str,
    *,
    licence_id: str,
    type_name: str,
    issuer: str,
    holder: str,
    valid_from: date,
    valid_until: date | None,
    status_index: int,
    digests: Mapping[str, bytes],
) -> Credential:
    """The credential signed with the department's licence key `kid`; ValueError if any
    content is out of its range."""
    unsigned = Credential(
        licence_id=licence_id,
        type_name=type_name,
        issuer=issuer,
        holder=holder,
        valid_from=valid_from,
        valid_until=valid_until,
        status_index=status_index,
        digests=dict(digests),
        kid=kid,
        signature=bytes(SIGNATURE_SIZE),
    )
    return replace(unsigned, signature=key.sign(canonical(credential_json(unsigned, signed=False))))


def credential_json(credential: Credential, *, signed: bool = True) -> dict[str, object]:
    """The credential as JSON; what its signature covers when not `signed`."""
    until = credential.valid_until
    document: dict[str, object] = {
        "typ": CREDENTIAL_TYPE,
        "licence_id": credential.licence_id,
        "type_name": credential.type_name,
        "issuer": credential.issuer,
        "holder": credential.holder,
        "valid_from": credential.valid_from.isoformat(),
        "valid_until": None if until is None else until.isoformat(),
        "status_index": credential.status_index,
        "digests": {name: b64url(digest) for name, digest in credential.digests.items()},
        "kid": credential.kid,
    }
    if signed:
        document["sig"] = b64url(credential.signature)
    return document


def read_credential(value: object) -> Credential:
    """The credential a JSON value holds; ValueError unless it is well-formed."""
    document = members(value, _MEMBERS)
    digests, until = document["digests"], document["valid_until"]
    if document["typ"] != CREDENTIAL_TYPE or not isinstance(digests, dict):
        raise ValueError("not a licence credential")
    return Credential(
        string(document["licence_id"]),
        string(document["type_name"], max_length=64),
        string(document["issuer"], ISSUER),
        string(document["holder"], _HOLDER),
        _read_date(document["valid_from"]),
        None if until is None else _read_date(until),
        integer(document["status_index"]),
        {string(name, FIELD_NAME): from_b64url(digests[name]) for name in digests},
        string(document["kid"], KID),
        from_b64url(document["sig"]),
    )


def read_disclosure(name: str, value: object) -> Disclosure:
    """The disclosure of field `name` a presentation's JSON value holds."""
    document = members(value, _DISCLOSURE)
    return Disclosure(
        name, string(document["value"], _ANY_TEXT, _MAX_VALUE), from_b64url(document["salt"])
    )


def check_bytes(value: object, size: int) -> None:
    """ValueError unless `value` is `size` bytes."""
    if not (isinstance(value, bytes) and len(value) == size):
        raise ValueError(f"expected {size} bytes")


def _read_date(value: object) -> date:
    """YYYY-MM-DD only (Python 3.11's fromisoformat also takes YYYYMMDD and week dates)."""
    return date.fromisoformat(string(value, _DATE))


def _is_date_from(value: object, start: date) -> bool:
    return type(value) is date and value >= start


def _check_field(name: object, value: object, salt: object) -> None:
    check_field(name, value)
    check_bytes(salt, SALT_SIZE)


def check_field(name: object, value: object) -> None:
    """ValueError unless `name` is a field's name and `value` a field's value (§4), in
    either presentation format."""
    string(name, FIELD_NAME)
    string(value, _ANY_TEXT, _MAX_VALUE)
