"""The licence trust list (a JWKS) and the reasons a licence check gives.

Two kinds of Ed25519 key: a department's `licence` key signs the licences it issues and its
status list; the city wallet's `presentation` key signs what a holder shows. Each key may
sign only its own kind, so one stolen or misused key cannot pass for the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, TypeAlias

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mycity.verifier.licence_codec import ISSUER, KID, b64url, from_b64url, parse_json

Use: TypeAlias = Literal["licence", "presentation"]
_PUBLIC_KEY_SIZE = 32


class Reason(StrEnum):
    """Why a check failed, in the order the checks run; VALID when none did."""

    VALID = "valid"
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    WRONG_KEY = "wrong_key"
    BAD_SIGNATURE = "bad_signature"
    FIELD_MISMATCH = "field_mismatch"
    TOO_LONG_LIVED = "too_long_lived"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    LICENCE_NOT_YET_VALID = "licence_not_yet_valid"
    LICENCE_EXPIRED = "licence_expired"
    STATUS_UNKNOWN = "status_unknown"
    STATUS_STALE = "status_stale"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    REPLAYED = "replayed"


@dataclass(frozen=True)
class TrustedKey:
    """A key of the trust list: what it may sign, and for licence keys whose it is."""

    kid: str
    use: Use
    issuer: str | None  # the department, for licence keys; None for presentation keys
    public_key: Ed25519PublicKey = field(compare=False)


Keys: TypeAlias = Mapping[str, TrustedKey]


def load_keys(jwks: str | Mapping[str, object]) -> dict[str, TrustedKey]:
    """The licence and presentation keys of a JWKS, by kid; ValueError if one is malformed.

    Entries of another `use` are skipped, so the list may share a JWKS with other keys (the
    city's /.well-known/jwks.json also holds its token keys).
    """
    document = parse_json(jwks) if isinstance(jwks, str) else jwks
    entries = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError('a JWKS is an object whose "keys" is a list')
    keys: dict[str, TrustedKey] = {}
    for entry in entries:
        key = _trusted_key(entry)
        if key is not None:
            if key.kid in keys:
                raise ValueError(f"the kid {key.kid!r} names two keys")
            keys[key.kid] = key
    return keys


def public_jwk(
    public_key: Ed25519PublicKey, kid: str, *, use: Use, issuer: str | None = None
) -> dict[str, str]:
    """The trust list's entry for `public_key`, as `load_keys` reads it."""
    jwk = {"kty": "OKP", "crv": "Ed25519", "kid": kid, "use": use}
    jwk["x"] = b64url(public_key.public_bytes_raw())
    if issuer is not None:
        jwk["issuer"] = issuer
    _trusted_key(jwk)  # refuses a kid or an issuer that load_keys would refuse
    return jwk


def key_for(keys: Keys, kid: str, use: Use, issuer: str | None = None) -> TrustedKey | Reason:
    """The key `kid` if it may sign documents of `use` for `issuer` (None: the wallet's)."""
    key = keys.get(kid)
    if key is None:
        return Reason.UNKNOWN_KEY
    if key.use != use or key.issuer != issuer:
        return Reason.WRONG_KEY
    return key


def _trusted_key(entry: object) -> TrustedKey | None:
    """The key a JWK entry describes, None for a key of another use; ValueError if bad."""
    if not isinstance(entry, Mapping):
        raise ValueError("a JWKS key is an object")
    use, kid, issuer = entry.get("use"), entry.get("kid"), entry.get("issuer")
    if use != "licence" and use != "presentation":
        return None
    if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
        raise ValueError(f"the {use} key {kid!r} is not an Ed25519 key (OKP)")
    if not (isinstance(kid, str) and KID.fullmatch(kid)):
        raise ValueError(f"the kid {kid!r} is not 1-64 of A-Z a-z 0-9 . _ : -")
    if use == "licence" and not (isinstance(issuer, str) and ISSUER.fullmatch(issuer)):
        raise ValueError(f"the licence key {kid!r} names no department as its issuer")
    if use == "presentation" and issuer is not None:
        raise ValueError(f"the presentation key {kid!r} names an issuer: is it a licence key?")
    public_key = Ed25519PublicKey.from_public_bytes(from_b64url(entry.get("x"), _PUBLIC_KEY_SIZE))
    if use == "licence":
        return TrustedKey(kid, "licence", issuer, public_key)
    return TrustedKey(kid, "presentation", None, public_key)
