"""What a verifying command was given: a code's text, a file holding it, or a picture of it
(read with a real QR decoder)."""

from __future__ import annotations

from pathlib import Path

from mycity.cli.app import Failure
from mycity.integrations.qr import read_image


def code_text(source: str, prefix: str) -> str:
    """The QR text: given as it is, or read from a file (a picture, or the text itself)."""
    path = Path(source)
    if not source.startswith(prefix) and path.is_file():
        data = path.read_bytes()
        found = read_image(data)
        if len(found) > 1:
            raise Failure(f"{source} holds {len(found)} QR codes: crop it to one")
        if found:
            return found[0]
        return data.decode(errors="replace").strip()
    return source.strip()
