"""Where uploaded documents are kept, by owner and content hash.

The store keeps opaque blobs: they arrive sealed under their owner's data key (the use
case seals them), so erasing the owner makes them unreadable here too. A document arrives
as a stream (`receive`: written chunk by chunk, then kept under its hash or discarded), so
that no process holds a whole document in memory. The local implementation keeps one file
per document under the data directory; a deployment puts an object store (S3, MinIO: a
multipart upload) behind the same methods.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import BinaryIO, Protocol
from uuid import UUID

from mycity.private import private_dir

DIGEST = re.compile(r"^[0-9a-f]{64}$")


class Incoming(Protocol):
    """A blob on its way in: nothing of it is visible until `keep`."""

    def write(self, data: bytes) -> None: ...

    def keep(self, digest: str) -> None:
        """Store it under this hash (a blob already kept under it stays as it is)."""

    def discard(self) -> None:
        """Drop what was written; after `keep`, does nothing."""


class UploadStore(Protocol):
    def receive(self, owner: UUID) -> Incoming: ...

    def get(self, owner: UUID, digest: str) -> bytes | None: ...

    def exists(self, owner: UUID, digest: str) -> bool: ...


class IncomingFile:
    """A blob written to a hidden file beside its owner's documents, renamed into place."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / f".incoming-{secrets.token_hex(8)}"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file: BinaryIO | None = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        assert self._file is not None, "written after it was kept or discarded"
        self._file.write(data)

    def keep(self, digest: str) -> None:
        assert self._file is not None, "kept twice, or after it was discarded"
        if not DIGEST.match(digest):
            raise ValueError("Not a SHA-256 digest")
        self._file.close()
        self._file = None
        target = self.folder / digest
        if target.exists():
            self.path.unlink()
        else:
            os.replace(self.path, target)

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self.path.unlink(missing_ok=True)


class LocalUploads:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, owner: UUID, digest: str) -> Path:
        if not DIGEST.match(digest):
            raise ValueError("Not a SHA-256 digest")
        return self.root / str(owner) / digest

    def receive(self, owner: UUID) -> IncomingFile:
        folder = self.root / str(owner)
        private_dir(folder)
        return IncomingFile(folder)

    def get(self, owner: UUID, digest: str) -> bytes | None:
        path = self._path(owner, digest)
        return path.read_bytes() if path.exists() else None

    def exists(self, owner: UUID, digest: str) -> bool:
        return self._path(owner, digest).exists()
