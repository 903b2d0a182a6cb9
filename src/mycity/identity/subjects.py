"""Subject identifiers: aggregate ids are keyed hashes, so no ID number is ever an identifier.

The same ID number always maps to the same id, so a second registration collides in the
event store itself; without the key, an id cannot be traced back to the number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from uuid import UUID


class SubjectIds:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def digest(self, kind: str, value: str) -> bytes:
        return hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).digest()

    def uuid(self, kind: str, value: str) -> UUID:
        """A version-8 (custom) UUID from the first 16 bytes of the keyed hash."""
        raw = bytearray(self.digest(kind, value)[:16])
        raw[6] = (raw[6] & 0x0F) | 0x80
        raw[8] = (raw[8] & 0x3F) | 0x80
        return UUID(bytes=bytes(raw))

    def citizen(self, id_number: str) -> UUID:
        return self.uuid("citizen", id_number)

    def enterprise(self, credit_code: str) -> UUID:
        return self.uuid("enterprise", credit_code)

    def phone(self, phone: str) -> UUID:
        return self.uuid("phone", phone)

    def payer(self, file_id: UUID) -> str:
        """How a payment provider knows a payer: `p:` and 26 base32 characters, a pseudonym
        only the city can tie to the file (and, once it is erased, nobody)."""
        digest = self.digest("payer", str(file_id))[:16]
        return "p:" + base64.b32encode(digest).decode().rstrip("=").lower()
