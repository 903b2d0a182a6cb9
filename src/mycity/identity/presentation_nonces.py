"""The nonce of a compact licence presentation (`LC2:`): 32 bytes that look random to
everyone and that the city alone reads back as the licence shown.

A compact presentation names no licence (docs/licences.md §9), yet the city must know
which licence a partner checks online, to check its status now and record the use. So
the nonce is the licence's file id encrypted under the `presentation-nonce` key: 8 random
bytes r, then AES-CBC (a zero IV) of the two blocks r ‖ id[:8] and r ‖ id[8:]. Each
showing's nonce is new and unlinkable. It also proves itself: a nonce the city did not
make, or one altered, decrypts to two different r (but once in 2^64) and names no
licence, whatever the signature over it. The key may be replaced at any time: only the
showings of the last five minutes then fail online.
"""

from __future__ import annotations

import secrets
from uuid import UUID

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SIZE = 32
_ZERO_IV = bytes(16)  # r makes every first block new, and the second chains on it


class PresentationNonces:
    def __init__(self, key: bytes) -> None:
        self._cipher = Cipher(algorithms.AES(key), modes.CBC(_ZERO_IV))

    def make(self, licence_id: UUID) -> bytes:
        r, id_ = secrets.token_bytes(8), licence_id.bytes
        encryptor = self._cipher.encryptor()
        return encryptor.update(r + id_[:8] + r + id_[8:]) + encryptor.finalize()

    def licence_of(self, nonce: bytes) -> UUID | None:
        """The licence id a nonce of the city's holds; None for any other."""
        if len(nonce) != SIZE:
            return None
        decryptor = self._cipher.decryptor()
        plain = decryptor.update(nonce) + decryptor.finalize()
        if plain[:8] != plain[16:24]:
            return None
        return UUID(bytes=plain[8:16] + plain[24:])
