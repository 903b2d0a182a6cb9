"""The nonce of a compact licence presentation (`LC2:`): 32 bytes that look random to
everyone and that the city alone reads back as the licence shown.

A compact presentation names no licence (docs/licences.md §9), yet the city must know
which licence a partner checks online, to check its status now and record the use. So
the nonce is the licence's file id encrypted under a key of the city's: a fresh random
16-byte IV, then the id encrypted with AES-CBC (one block) under that IV. Each showing's
nonce is new and unlinkable; the department's signature covers it, so nobody can swap in
another; a nonce the city did not make reads back as an id no licence has.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from uuid import UUID

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SIZE = 32
CONTEXT = b"mycity licence presentation nonces/1"


class PresentationNonces:
    def __init__(self, secret: bytes) -> None:
        self._key = algorithms.AES(hmac.new(secret, CONTEXT, hashlib.sha256).digest())

    def make(self, licence_id: UUID) -> bytes:
        iv = secrets.token_bytes(16)
        encryptor = Cipher(self._key, modes.CBC(iv)).encryptor()
        return iv + encryptor.update(licence_id.bytes) + encryptor.finalize()

    def licence_of(self, nonce: bytes) -> UUID:
        """The licence id a nonce of the city's holds (any other reads as a stray id)."""
        if len(nonce) != SIZE:
            raise ValueError(f"a presentation nonce is {SIZE} bytes")
        decryptor = Cipher(self._key, modes.CBC(nonce[:16])).decryptor()
        return UUID(bytes=decryptor.update(nonce[16:]) + decryptor.finalize())
