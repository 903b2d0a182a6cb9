"""E-licences (电子证照): what a department signs, what a holder shows, and the offline check.

At issuance the department signs a credential that holds each field only as a salted
digest (as ISO 18013-5 mDL does). To show a licence (亮证), the holder picks fields; the city
wallet signs the credential, those fields with their salts, a window of at most five minutes
and a one-time nonce, as a QR text. A partner holding the trust list checks it offline
(`verify_presentation`), and the licence's status against its department's signed status
list. docs/licences.md specifies every format; this module is the one implementation of
both halves, so the server signs exactly what partners verify.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mycity.verifier import base45
from mycity.verifier.licence_codec import (
    KID,
    MAX_LIFETIME,
    MAX_QR_TEXT,
    SIGNATURE_SIZE,
    TooLongForQr,
    b64url,
    canonical,
    from_b64url,
    integer,
    members,
    parse_json,
    string,
    verifies,
)
from mycity.verifier.licence_compact import (
    COMPACT_PREFIX,
    Attestation,
    compact_failure,
    make_compact_presentation,
    read_compact_presentation,
)
from mycity.verifier.licence_credential import (
    Credential,
    Disclosure,
    check_bytes,
    credential_json,
    field_digest,
    make_disclosures,
    read_credential,
    read_disclosure,
    sign_credential,
)
from mycity.verifier.licence_id import (
    LicenceIdentifier,
    licence_identifier,
    mod37_36_check_character,
    parse_licence_identifier,
)
from mycity.verifier.licence_status import StatusList, read_status_list, sign_status_list
from mycity.verifier.licence_trust import Keys, Reason, TrustedKey, key_for, load_keys, public_jwk

__all__ = [
    "MAX_LIFETIME",
    "MAX_QR_TEXT",
    "Attestation",
    "Credential",
    "Disclosure",
    "Keys",
    "LicenceIdentifier",
    "Presentation",
    "Reason",
    "StatusList",
    "TooLongForQr",
    "TrustedKey",
    "Verdict",
    "field_digest",
    "licence_identifier",
    "load_keys",
    "make_compact_presentation",
    "make_disclosures",
    "make_presentation",
    "mod37_36_check_character",
    "parse_licence_identifier",
    "public_jwk",
    "read_compact_presentation",
    "read_presentation",
    "read_status_list",
    "sign_credential",
    "sign_status_list",
    "verify_presentation",
]

PRESENTATION_TYPE = "mycity-licence-presentation/1"
QR_PREFIX = "LC1:"
NONCE_SIZE = 16
_MAX_INFLATED = 65_536
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_BEIJING_OFFSET = 8 * 3600  # licence dates are days in China Standard Time (UTC+08:00)
_PRESENTATION = frozenset(
    {"typ", "credential", "disclosures", "issued_at", "expires_at", "nonce", "kid", "sig"}
)


@dataclass(frozen=True)
class Presentation:
    """What a holder shows: a licence, the fields they chose, five minutes, one nonce."""

    credential: Credential
    disclosures: tuple[Disclosure, ...]  # by name
    issued_at: int  # unix seconds
    expires_at: int
    nonce: bytes
    kid: str  # the wallet's presentation key
    signature: bytes

    def __post_init__(self) -> None:
        names = [disclosure.name for disclosure in self.disclosures]
        if names != sorted(set(names)):
            raise ValueError("disclosures are by name, each name once")
        if not integer(self.issued_at) <= integer(self.expires_at):
            raise ValueError("a presentation expires after it is issued")
        check_bytes(self.nonce, NONCE_SIZE)
        string(self.kid, KID)
        check_bytes(self.signature, SIGNATURE_SIZE)

    @property
    def disclosed(self) -> dict[str, str]:
        return {disclosure.name: disclosure.value for disclosure in self.disclosures}


def make_presentation(
    credential: Credential,
    disclosures: Iterable[Disclosure],
    *,
    key: Ed25519PrivateKey,
    kid: str,
    issued_at: int,
    expires_at: int,
    nonce: bytes,
) -> str:
    """The QR text of a presentation signed with the wallet's presentation key `kid`.

    ValueError if a disclosure does not match the credential or the window is longer than
    MAX_LIFETIME; `TooLongForQr` (a ValueError) if the text would not fit in a QR code.
    """
    chosen = tuple(sorted(disclosures, key=lambda disclosure: disclosure.name))
    for disclosure in chosen:
        if credential.digests.get(disclosure.name) != disclosure.digest():
            raise ValueError(f"the disclosed {disclosure.name!r} is not the licence's")
    if integer(expires_at) - integer(issued_at) > MAX_LIFETIME:
        raise ValueError(f"a presentation lives at most {MAX_LIFETIME} seconds")
    unsigned = Presentation(
        credential, chosen, issued_at, expires_at, nonce, kid, bytes(SIGNATURE_SIZE)
    )
    signed = replace(
        unsigned, signature=key.sign(canonical(_presentation_json(unsigned, signed=False)))
    )
    qr_text = QR_PREFIX + base45.encode(zlib.compress(canonical(_presentation_json(signed)), 9))
    if len(qr_text) > MAX_QR_TEXT:
        raise TooLongForQr(len(qr_text))
    return qr_text


def read_presentation(text: str) -> Presentation | None:
    """The presentation a QR text holds if it is well-formed, checking no signature or time;
    never raises."""
    try:
        return _read_presentation(text)
    except (ValueError, TypeError, zlib.error):
        return None


@dataclass(frozen=True)
class Verdict:
    """The answer for one presentation. Once both signatures and every disclosed field are
    checked, it carries what they vouch for, even when a later check fails."""

    ok: bool
    reason: Reason
    licence: Credential | None = None
    disclosed: Mapping[str, str] = field(default_factory=dict)
    issued_at: int | None = None
    expires_at: int | None = None
    nonce: bytes | None = None
    # whether the licence's status is known: from its issuer's status list (`LC1:`), or
    # because its department signed the presentation itself (`LC2:`)
    status_checked: bool = False
    attested: Attestation | None = None  # an `LC2:` presentation's statement, once checked


def verify_presentation(
    text: str,
    keys: Keys,
    *,
    now: float,
    status_lists: Mapping[str, StatusList | Reason] | None = None,
    seen: Callable[[bytes], bool] | None = None,
    skew: float = 30,
) -> Verdict:
    """Whether the QR `text` shows a genuine, current licence at `now` (unix seconds).

    `status_lists` are what `read_status_list` answered, by issuer: a list, or the reason
    it refused one (STATUS_UNKNOWN then, or STATUS_STALE for a stale one); without them the
    status is not checked (`status_checked` is False). `seen(nonce)` answers whether a
    nonce was shown before and records it; it is asked last, so only a presentation that
    passed every other check uses up its nonce. Never raises on any `text`.
    """
    if isinstance(text, str) and text.startswith(COMPACT_PREFIX):
        return _verify_compact(text, keys, now=now, seen=seen, skew=skew)
    presentation = read_presentation(text)
    if presentation is None:
        return Verdict(False, Reason.MALFORMED)
    failure = _signature_failure(presentation, keys) or _field_failure(presentation)
    if failure is not None:
        return Verdict(False, failure)
    credential = presentation.credential
    reason = _time_failure(presentation.issued_at, presentation.expires_at, now, skew)
    reason = reason or _licence_date_failure(credential, now)
    status_checked = False
    if reason is None and status_lists is not None:
        reason = _status_failure(credential, status_lists, now)
        status_checked = reason in (None, Reason.REVOKED, Reason.SUSPENDED)
    if reason is None and seen is not None and seen(presentation.nonce):
        reason = Reason.REPLAYED
    return Verdict(
        reason is None,
        reason or Reason.VALID,
        credential,
        presentation.disclosed,
        presentation.issued_at,
        presentation.expires_at,
        presentation.nonce,
        status_checked,
    )


def _verify_compact(
    text: str, keys: Keys, *, now: float, seen: Callable[[bytes], bool] | None, skew: float
) -> Verdict:
    """An `LC2:` presentation: the department's signature, the window, the nonce. Its status
    is the department's signature itself: it signs only for a licence valid then."""
    attestation = read_compact_presentation(text)
    if attestation is None:
        return Verdict(False, Reason.MALFORMED)
    failure = compact_failure(attestation, keys)
    if failure is not None:
        return Verdict(False, failure)
    reason = _time_failure(attestation.issued_at, attestation.expires_at, now, skew)
    if reason is None and seen is not None and seen(attestation.nonce):
        reason = Reason.REPLAYED
    return Verdict(
        reason is None,
        reason or Reason.VALID,
        None,
        attestation.fields,
        attestation.issued_at,
        attestation.expires_at,
        attestation.nonce,
        True,
        attestation,
    )


def _signature_failure(presentation: Presentation, keys: Keys) -> Reason | None:
    """The wallet's signature over the whole presentation, then the issuer's."""
    credential = presentation.credential
    wallet = key_for(keys, presentation.kid, "presentation")
    if isinstance(wallet, Reason):
        return wallet
    unsigned = canonical(_presentation_json(presentation, signed=False))
    if not verifies(wallet.public_key, presentation.signature, unsigned):
        return Reason.BAD_SIGNATURE
    issuer = key_for(keys, credential.kid, "licence", credential.issuer)
    if isinstance(issuer, Reason):
        return issuer
    unsigned = canonical(credential_json(credential, signed=False))
    if not verifies(issuer.public_key, credential.signature, unsigned):
        return Reason.BAD_SIGNATURE
    return None


def _field_failure(presentation: Presentation) -> Reason | None:
    for disclosure in presentation.disclosures:
        if presentation.credential.digests.get(disclosure.name) != disclosure.digest():
            return Reason.FIELD_MISMATCH
    return None


def _time_failure(issued_at: int, expires_at: int, now: float, skew: float) -> Reason | None:
    """The comparisons are written so that a NaN clock fails them."""
    if expires_at - issued_at > MAX_LIFETIME:
        return Reason.TOO_LONG_LIVED
    if not now >= issued_at - skew:
        return Reason.NOT_YET_VALID
    if not now <= expires_at + skew:
        return Reason.EXPIRED
    return None


def _licence_date_failure(credential: Credential, now: float) -> Reason | None:
    """Valid from the start of valid_from to the end of valid_until, Beijing time."""
    if not now >= _day_start(credential.valid_from.toordinal()):
        return Reason.LICENCE_NOT_YET_VALID
    until = credential.valid_until
    if until is not None and not now < _day_start(until.toordinal() + 1):
        return Reason.LICENCE_EXPIRED
    return None


def _status_failure(
    credential: Credential, status_lists: Mapping[str, StatusList | Reason], now: float
) -> Reason | None:
    status_list = status_lists.get(credential.issuer)
    if status_list is Reason.STATUS_STALE:  # read_status_list refused it as stale
        return Reason.STATUS_STALE
    if not isinstance(status_list, StatusList) or status_list.issuer != credential.issuer:
        return Reason.STATUS_UNKNOWN  # none, another issuer's, or one that was refused
    if not now <= status_list.valid_until:
        return Reason.STATUS_STALE
    if not credential.status_index < status_list.size:
        return Reason.STATUS_UNKNOWN
    status = status_list.status(credential.status_index)
    if status == "revoked":
        return Reason.REVOKED
    return Reason.SUSPENDED if status == "suspended" else None


def _day_start(ordinal: int) -> int:
    """Unix seconds at 00:00 Beijing time of the day with this proleptic ordinal."""
    return (ordinal - _EPOCH_DAY) * 86_400 - _BEIJING_OFFSET


def _presentation_json(presentation: Presentation, *, signed: bool = True) -> dict[str, object]:
    document: dict[str, object] = {
        "typ": PRESENTATION_TYPE,
        "credential": credential_json(presentation.credential),
        "disclosures": {
            disclosure.name: {"salt": b64url(disclosure.salt), "value": disclosure.value}
            for disclosure in presentation.disclosures
        },
        "issued_at": presentation.issued_at,
        "expires_at": presentation.expires_at,
        "nonce": b64url(presentation.nonce),
        "kid": presentation.kid,
    }
    if signed:
        document["sig"] = b64url(presentation.signature)
    return document


def _read_presentation(text: str) -> Presentation:
    """Base45, then zlib (inflating at most _MAX_INFLATED bytes), then the JSON's members."""
    if not (isinstance(text, str) and len(text) <= MAX_QR_TEXT and text.startswith(QR_PREFIX)):
        raise ValueError(f"not a {QR_PREFIX} text that fits in a QR code")
    inflater = zlib.decompressobj()
    data = inflater.decompress(base45.decode(text[len(QR_PREFIX) :]), _MAX_INFLATED + 1)
    if not (inflater.eof and not inflater.unused_data and len(data) <= _MAX_INFLATED):
        raise ValueError("not one zlib stream of a bounded size")
    document = members(parse_json(data.decode()), _PRESENTATION)
    disclosures = document["disclosures"]
    if document["typ"] != PRESENTATION_TYPE or not isinstance(disclosures, dict):
        raise ValueError("not a presentation")
    return Presentation(
        read_credential(document["credential"]),
        tuple(read_disclosure(name, disclosures[name]) for name in sorted(disclosures)),
        integer(document["issued_at"]),
        integer(document["expires_at"]),
        from_b64url(document["nonce"]),
        string(document["kid"], KID),
        from_b64url(document["sig"]),
    )
