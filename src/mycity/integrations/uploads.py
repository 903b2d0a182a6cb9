"""Where uploaded documents are kept, by owner and content hash.

The store keeps opaque blobs: they arrive sealed under their owner's data key (the use
case seals them), so erasing the owner makes them unreadable here too. The local
implementation keeps one file per document under the data directory; a deployment puts an
object store (S3, MinIO) behind the same three methods.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol
from uuid import UUID

from mycity.private import private_dir, write_private_bytes

DIGEST = re.compile(r"^[0-9a-f]{64}$")


class UploadStore(Protocol):
    def put(self, owner: UUID, digest: str, blob: bytes) -> None: ...

    def get(self, owner: UUID, digest: str) -> bytes | None: ...

    def exists(self, owner: UUID, digest: str) -> bool: ...


class LocalUploads:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, owner: UUID, digest: str) -> Path:
        if not DIGEST.match(digest):
            raise ValueError("Not a SHA-256 digest")
        return self.root / str(owner) / digest

    def put(self, owner: UUID, digest: str, blob: bytes) -> None:
        path = self._path(owner, digest)
        private_dir(path.parent)
        write_private_bytes(path, blob)

    def get(self, owner: UUID, digest: str) -> bytes | None:
        path = self._path(owner, digest)
        return path.read_bytes() if path.exists() else None

    def exists(self, owner: UUID, digest: str) -> bool:
        return self._path(owner, digest).exists()
