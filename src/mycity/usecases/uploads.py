"""Documents a citizen uploads as application materials, named by their content hash.

Only PDF, PNG and JPEG, told by their first bytes (a declared type is not trusted), up to
`MAX_BYTES`. The content is sealed under the uploader's data key before it is stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from uuid import UUID

from mycity.domain.errors import ErrorCode, UserError
from mycity.identity.principal import Principal
from mycity.integrations.uploads import UploadStore
from mycity.policy.base import require_citizen
from mycity.store.vault import Sealed, Vault

MAX_BYTES = 10 * 1024 * 1024
SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}


@dataclass(frozen=True)
class Upload:
    digest: str  # SHA-256 of the content, hex: how a material names it
    media_type: str
    size: int


def media_type_of(content: bytes) -> str | None:
    return next((t for magic, t in SIGNATURES.items() if content.startswith(magic)), None)


@dataclass(frozen=True)
class Uploads:
    store: UploadStore
    vault: Vault

    def put(self, actor: Principal | None, content: bytes) -> Upload:
        owner = require_citizen(actor)
        if len(content) > MAX_BYTES:
            raise UserError(
                ErrorCode.UPLOAD_TOO_LARGE, f"Documents are at most {MAX_BYTES} bytes", "file"
            )
        media_type = media_type_of(content)
        if media_type is None:
            raise UserError(
                ErrorCode.UPLOAD_TYPE_NOT_ALLOWED, "Upload a PDF, PNG or JPEG document", "file"
            )
        digest = hashlib.sha256(content).hexdigest()
        if not self.store.exists(owner, digest):
            self.store.put(owner, digest, self.vault.seal(owner, content).blob)
        return Upload(digest, media_type, len(content))

    def exists(self, owner: UUID, digest: str) -> bool:
        try:
            return self.store.exists(owner, digest)
        except ValueError:
            return False

    def content(self, owner: UUID, digest: str) -> bytes | None:
        """The document, or None if there is none or its owner was erased."""
        blob = self.store.get(owner, digest)
        return None if blob is None else self.vault.open(Sealed(blob))
