"""Documents a citizen uploads as application materials, named by their content hash.

Only PDF, PNG and JPEG, told by their first bytes (a declared type is not trusted), up to
`MAX_BYTES`. A document streams in: each chunk is hashed, sealed under the uploader's data
key and written as it comes, so the server holds a chunk, never the document, and an upload
that passes the limit (or the person's daily quota) is refused at that byte. Each person may
upload so many documents and bytes in 24 hours (`UploadSettings`), fewer before their real
name is verified.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from uuid import UUID

from mycity.domain.citizen import Citizen, RealNameLevel
from mycity.domain.errors import ErrorCode, Throttled, UserError
from mycity.identity.budgets import Budgets, seconds_until
from mycity.identity.principal import Principal
from mycity.integrations.uploads import Incoming, UploadStore
from mycity.policy.base import require_citizen
from mycity.settings import UploadSettings
from mycity.store.files import CityFiles
from mycity.store.seals import Sealed, StreamSealer
from mycity.store.vault import Vault

MAX_BYTES = 10 * 1024 * 1024
DAY = 24 * 3600.0
SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}
LONGEST_SIGNATURE = max(map(len, SIGNATURES))


@dataclass(frozen=True)
class Upload:
    digest: str  # SHA-256 of the content, hex: how a material names it
    media_type: str
    size: int


@dataclass(frozen=True)
class Quota:
    """What is left of a person's day: documents and bytes, and when the day ends."""

    documents: int
    bytes: int
    ends: float


def media_type_of(content: bytes) -> str | None:
    return next((t for magic, t in SIGNATURES.items() if content.startswith(magic)), None)


def too_large() -> UserError:
    return UserError(ErrorCode.UPLOAD_TOO_LARGE, f"Documents are at most {MAX_BYTES} bytes", "file")


def exhausted(quota: Quota) -> Throttled:
    return Throttled(
        ErrorCode.UPLOAD_QUOTA_EXCEEDED,
        "You have uploaded as much as a day allows: try again later",
        "file",
        seconds_until(quota.ends),
    )


@dataclass(frozen=True)
class Uploads:
    store: UploadStore
    vault: Vault
    files: CityFiles
    budgets: Budgets
    settings: UploadSettings

    def begin(self, actor: Principal | None, declared: int | None = None) -> Receiving:
        """An upload by this citizen, refused at once if its declared length is over the
        limit or what is left of their day."""
        owner = require_citizen(actor)
        if declared is not None and declared > MAX_BYTES:
            raise too_large()
        quota = self._left(owner)
        if quota.documents < 1 or (declared or 0) > quota.bytes:
            raise exhausted(quota)
        return Receiving(self, owner, quota, self.store.receive(owner))

    def put(self, actor: Principal | None, content: bytes) -> Upload:
        """A whole document at once (the demo, tests): the same checks as a stream."""
        receiving = self.begin(actor, len(content))
        try:
            receiving.write(content)
            return receiving.finish()
        finally:
            receiving.discard()

    def exists(self, owner: UUID, digest: str) -> bool:
        try:
            return self.store.exists(owner, digest)
        except ValueError:
            return False

    def content(self, owner: UUID, digest: str) -> bytes | None:
        """The document, or None if there is none or its owner was erased."""
        blob = self.store.get(owner, digest)
        return None if blob is None else self.vault.open(Sealed(blob))

    def _limits(self, owner: UUID) -> tuple[int, int]:
        verified = self.files.read(Citizen, owner).level.rank >= RealNameLevel.VERIFIED.rank
        s = self.settings
        if verified:
            return s.documents_per_day, s.bytes_per_day
        return s.unverified_documents_per_day, s.unverified_bytes_per_day

    def _left(self, owner: UUID) -> Quota:
        documents, size = self._limits(owner)
        now = time.time()
        with self.budgets.db.read() as cur:
            used, ends = self.budgets.spent(cur, f"uploads:{owner}", DAY, now)
            used_bytes, bytes_end = self.budgets.spent(cur, f"upload-bytes:{owner}", DAY, now)
        return Quota(documents - used, size - used_bytes, max(ends, bytes_end))

    def _charge(self, owner: UUID, size: int) -> None:
        """Count the document and its bytes in the person's day, or refuse it: at once, so
        that two uploads racing for the last of a quota cannot both be kept."""
        documents, most = self._limits(owner)
        now = time.time()
        with self.budgets.db.transaction() as cur:
            used, ends = self.budgets.spend(cur, f"uploads:{owner}", DAY, now)
            used_bytes, _ = self.budgets.spend(cur, f"upload-bytes:{owner}", DAY, now, size)
            if used > documents or used_bytes > most:
                raise exhausted(Quota(documents - used, most - used_bytes, ends))


class Receiving:
    """One document streaming in: `write` each chunk, then `finish`; `discard` drops it,
    whatever happened (after `finish`, it does nothing)."""

    def __init__(self, uploads: Uploads, owner: UUID, quota: Quota, incoming: Incoming) -> None:
        self.uploads = uploads
        self.owner = owner
        self.quota = quota
        self.incoming = incoming
        self.size = 0
        self.media_type: str | None = None
        self._head = b""
        self._hash = hashlib.sha256()
        self._sealer: StreamSealer | None = None

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > MAX_BYTES:
            raise too_large()
        if self.size > self.quota.bytes:
            raise exhausted(self.quota)
        if self.media_type is None:
            self._head = (self._head + chunk)[:LONGEST_SIGNATURE]
            if len(self._head) == LONGEST_SIGNATURE or media_type_of(self._head):
                self._typed()
        self._hash.update(chunk)
        sealer = self._started()
        self.incoming.write(sealer.update(chunk))

    def finish(self) -> Upload:
        if self.media_type is None:
            self._typed()  # shorter than the longest signature
        assert self.media_type is not None
        self.incoming.write(self._started().finalize())
        self.uploads._charge(self.owner, self.size)
        digest = self._hash.hexdigest()
        self.incoming.keep(digest)
        return Upload(digest, self.media_type, self.size)

    def discard(self) -> None:
        self.incoming.discard()

    def _typed(self) -> None:
        self.media_type = media_type_of(self._head)
        if self.media_type is None:
            raise UserError(
                ErrorCode.UPLOAD_TYPE_NOT_ALLOWED, "Upload a PDF, PNG or JPEG document", "file"
            )

    def _started(self) -> StreamSealer:
        if self._sealer is None:
            self._sealer = self.uploads.vault.stream_sealer(self.owner)
            self.incoming.write(self._sealer.head)
        return self._sealer
