"""What a sealed value is, and which key seals what: the parts of sealing that need no
store (the vault, `store/vault.py`, holds the keys).

A sealed value is version, key id, nonce, ciphertext and tag (AES-GCM, the version and key
id bound in). A person has a key for each retention class (`key_id`).
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass
from uuid import UUID

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mycity.domain.personal import Retention

SEALED_V1 = b"\x01"
SERVICE_ACTIVITY_KEYS = UUID("6d796369-7479-4000-8000-736572766963").int


def key_id(person: UUID, retention: Retention) -> UUID:
    """The key a person's fields of this retention class are sealed under: their statutory
    records under the one named by their own id (as was every field sealed before there
    were classes), their service activity under one named from it by a fixed XOR (a
    bijection, so no two people share one; ids are keyed hashes, so none is another's;
    asked for every sealed event and row, so it must cost nothing)."""
    if retention is Retention.STATUTORY_RECORD:
        return person
    return UUID(int=person.int ^ SERVICE_ACTIVITY_KEYS)


@dataclass(frozen=True)
class Sealed:
    """A value sealed under its person's data key: version, person, nonce, ciphertext."""

    blob: bytes

    @property
    def subject(self) -> UUID:
        return UUID(bytes=self.subject_bytes)

    @property
    def subject_bytes(self) -> bytes:
        """The id of the key it is sealed under, as stored: compared without a UUID made."""
        return self.blob[1:17]


class Nonces:
    """AES-GCM nonces, unique for every seal of this process: a random 8-byte prefix and a
    4-byte count, the prefix drawn again before the count wraps and in a forked child.

    One `os.urandom` per seal cost more than the encryption itself (a system call of some
    13 µs here): a rebuild seals several columns of every row."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fresh()
        os.register_at_fork(after_in_child=self._fresh)

    def _fresh(self) -> None:
        self._prefix = secrets.token_bytes(8)
        self._count = 0

    def next(self) -> bytes:
        with self._lock:
            if self._count == 0xFFFFFFFF:
                self._fresh()
            self._count += 1
            return self._prefix + self._count.to_bytes(4, "big")


NONCES = Nonces()  # one per process: every vault's seals draw from it


@dataclass(frozen=True)
class DataKey:
    """A person's data key, unwrapped: it seals values (`aead`) and streams (`secret`).
    The AEAD is made at each use, not kept: an `AESGCM` holds 1.2 KB of OpenSSL's state,
    so a vault's cache of 100,000 kept ones would be 125 MB a process, and making one
    afresh (about 1 us) costs less than making one to keep (2-3 us, a rebuild's every
    key)."""

    secret: bytes

    @property
    def aead(self) -> AESGCM:
        return AESGCM(self.secret)


class StreamSealer:
    """A long value (a document) sealed as it streams in, in constant memory: `head`, then
    `update` of each chunk, then `finalize` make the same format `Vault.seal` makes of the
    whole (version, person, nonce, ciphertext, tag), which `Vault.open` opens."""

    def __init__(self, subject: UUID, key: DataKey) -> None:
        header = SEALED_V1 + subject.bytes
        nonce = NONCES.next()
        self.head = header + nonce
        self._encryptor = Cipher(algorithms.AES(key.secret), modes.GCM(nonce)).encryptor()
        self._encryptor.authenticate_additional_data(header)

    def update(self, chunk: bytes) -> bytes:
        return self._encryptor.update(chunk)

    def finalize(self) -> bytes:
        return self._encryptor.finalize() + self._encryptor.tag
