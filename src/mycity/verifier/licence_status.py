"""Licence status lists, in the manner of the W3C Bitstring Status List.

Each department signs one list for all its licences: one bit per licence in a revocation and
a suspension bitstring. A verifier fetches the list now and then and checks any licence
offline, and the issuer never learns which licence was checked; the lists are at least
131,072 bits long so that a licence's index does not narrow down whose it is. The list is
trusted only until its `valid_until`, so a revocation reaches verifiers within that window.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

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
    parse_json,
    string,
    verifies,
)
from mycity.verifier.licence_trust import Keys, Reason, key_for

STATUS_LIST_TYPE = "mycity-licence-status/1"
MIN_SIZE = 131_072  # bits: the W3C spec's minimum, for herd privacy
MAX_SIZE = 2**24  # bits: 2 MiB of bitstring, still a quick download
# A longer text is refused unread. Two bitstrings of MAX_SIZE bits that do not compress
# at all take about 2 * 2.8 million characters of base64url; the rest, a few hundred.
MAX_TEXT = 6_000_000
_SIGNED = frozenset(
    {"typ", "issuer", "issued_at", "valid_until", "size", "revocation", "suspension", "kid"}
)
_BITSTRINGS = ("revocation", "suspension")
_MULTIBASE_BASE64URL = "u"  # the W3C spec writes encodedList as a multibase string

Status = Literal["valid", "revoked", "suspended"]


@dataclass(frozen=True)
class StatusList:
    """A department's status list whose signature and freshness were checked."""

    issuer: str
    issued_at: int
    valid_until: int  # unix seconds: trust the list up to and including this second
    size: int  # bits in each bitstring
    revoked: bytes  # index i is bit 7 - i % 8 of byte i // 8: the first bit is the leftmost
    suspended: bytes
    kid: str

    def status(self, index: int) -> Status:
        """The licence's status at `index`; revocation wins. IndexError outside the list."""
        if not 0 <= index < self.size:
            raise IndexError(f"index {index} is outside a list of {self.size}")
        if _bit(self.revoked, index):
            return "revoked"
        return "suspended" if _bit(self.suspended, index) else "valid"


def sign_status_list(
    key: Ed25519PrivateKey,
    kid: str,
    *,
    issuer: str,
    revoked: Iterable[int],
    suspended: Iterable[int],
    issued_at: int,
    valid_until: int,
    size: int = MIN_SIZE,
) -> str:
    """The signed list's JSON text, as the server serves it; ValueError if out of range."""
    if not (_is_size(size) and integer(issued_at) < integer(valid_until)):
        raise ValueError("a list's size is a multiple of 8 bits in range; it ends after it starts")
    document: dict[str, object] = {
        "typ": STATUS_LIST_TYPE,
        "issuer": string(issuer, ISSUER),
        "issued_at": issued_at,
        "valid_until": valid_until,
        "size": size,
        "revocation": _encode(_bitstring(revoked, size)),
        "suspension": _encode(_bitstring(suspended, size)),
        "kid": string(kid, KID),
    }
    document["sig"] = b64url(key.sign(canonical(document)))
    return canonical(document).decode()


def read_status_list(text: str, keys: Keys, *, now: float, skew: float = 30) -> StatusList | Reason:
    """The list if its issuer's licence key signed it and it is fresh at `now` (unix
    seconds), else the reason why not; never raises.

    Checked in order: MALFORMED, UNKNOWN_KEY, WRONG_KEY, BAD_SIGNATURE, NOT_YET_VALID
    (issued more than `skew` seconds ahead of `now`), STATUS_STALE (past valid_until).
    """
    try:
        if len(text) > MAX_TEXT:
            raise ValueError("longer than any status list")
        document = members(parse_json(text), _SIGNED | {"sig"})
        signature = from_b64url(document.pop("sig"), SIGNATURE_SIZE)
        if document["typ"] != STATUS_LIST_TYPE:
            raise ValueError("not a status list")
        issuer, kid = string(document["issuer"], ISSUER), string(document["kid"], KID)
        issued_at, valid_until = integer(document["issued_at"]), integer(document["valid_until"])
        size = integer(document["size"])
        if not (_is_size(size) and issued_at < valid_until):
            raise ValueError("the size or the validity is out of range")
        encoded = [string(document[p], max_length=MAX_TEXT) for p in _BITSTRINGS]
        message = canonical(document)
    except (ValueError, TypeError):
        return Reason.MALFORMED
    key = key_for(keys, kid, "licence", issuer)
    if isinstance(key, Reason):
        return key
    if not verifies(key.public_key, signature, message):
        return Reason.BAD_SIGNATURE
    try:  # decompressed only once signed, and never past the size the signer stated
        revoked, suspended = (_decode(value, size) for value in encoded)
    except (ValueError, zlib.error):
        return Reason.MALFORMED
    if not now >= issued_at - skew:  # written so that a NaN clock fails
        return Reason.NOT_YET_VALID
    if not now <= valid_until:
        return Reason.STATUS_STALE
    return StatusList(issuer, issued_at, valid_until, size, revoked, suspended, kid)


def _bitstring(indexes: Iterable[int], size: int) -> bytes:
    bits = bytearray(size // 8)
    for index in indexes:
        if not (isinstance(index, int) and 0 <= index < size):
            raise ValueError(f"index {index!r} is outside a list of {size}")
        bits[index // 8] |= 0x80 >> (index % 8)
    return bytes(bits)


def _bit(bits: bytes, index: int) -> bool:
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def _encode(bits: bytes) -> str:
    """GZIP (no timestamp, so the same list signs the same), then multibase base64url."""
    return _MULTIBASE_BASE64URL + b64url(gzip.compress(bits, mtime=0))


def _decode(value: str, size: int) -> bytes:
    if not value.startswith(_MULTIBASE_BASE64URL):
        raise ValueError("not multibase base64url")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # a gzip stream only
    bits = inflater.decompress(from_b64url(value[1:]), size // 8 + 1)
    if not (inflater.eof and not inflater.unused_data and len(bits) == size // 8):
        raise ValueError(f"the bitstring is not one gzip stream of {size} bits")
    return bits


def _is_size(size: object) -> bool:
    return isinstance(size, int) and MIN_SIZE <= size <= MAX_SIZE and size % 8 == 0
