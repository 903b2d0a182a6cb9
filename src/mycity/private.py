"""Files holding personal data or keys: mode 600, in directories of mode 700, whoever makes
them (the server, `mycity keys init`, the demo); an existing one found looser is tightened."""

from __future__ import annotations

import os
from pathlib import Path


def private_dir(path: Path) -> Path:
    """The directory, made if missing (with its missing parents, all 700), and made 700."""
    missing = []
    for directory in (path, *path.parents):
        if directory.exists():
            break
        missing.append(directory)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    for directory in [path, *missing]:
        directory.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """The file, made empty if missing, in a private directory, and made 600."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    path.chmod(0o600)
    return path


def append_private(path: Path, text: str) -> None:
    """Append to the file (one write, so lines from several processes stay whole)."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def write_private(path: Path, text: str) -> None:
    """Replace the file's text in one step (a temporary file, then a rename)."""
    write_private_bytes(path, text.encode())


def write_private_bytes(path: Path, data: bytes) -> None:
    private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    tmp.replace(path)
