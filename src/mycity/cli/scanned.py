"""What a verifying command was given: a code's text, a file holding it, or a picture of it
(read with a real QR decoder). A code of another kind is named, with what reads it; a file
that is not there is said to be missing, not read as a code."""

from __future__ import annotations

import os
from pathlib import Path

from mycity.cli.app import Failure
from mycity.integrations.qr import read_image
from mycity.verifier.city_code import QR_PREFIX as CITY_CODE
from mycity.verifier.licence import QR_PREFIX as LICENCE
from mycity.verifier.licence_compact import COMPACT_PREFIX as COMPACT_LICENCE
from mycity.verifier.place_code import PLACE_PREFIX as PLACE_CODE

# Each kind of code the city makes, by its prefix: what it is, and what reads it.
KINDS = {
    COMPACT_LICENCE: ("a licence presentation", "verify it with `mycity licence verify`"),
    LICENCE: ("a licence presentation", "verify it with `mycity licence verify`"),
    CITY_CODE: ("a city code", "verify it with `mycity code verify`"),
    PLACE_CODE: ("a place code", "a citizen's app checks in with it (`checkIn`)"),
}
PICTURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")  # PNG, JPEG
FILE_NAMES = (".png", ".jpg", ".jpeg", ".txt")


def code_text(source: str, *prefixes: str) -> str:
    """The QR text of the code the `prefixes` name (a kind's formats): given as it is, or
    read from a file (a picture, or the text itself)."""
    text = _given(source)
    if not text.startswith(prefixes):
        wanted = KINDS[prefixes[0]][0]
        for other, (kind, reader) in KINDS.items():
            if text.startswith(other):
                raise Failure(f"this is {kind} ({other}), not {wanted}: {reader}")
    return text


def _given(source: str) -> str:
    if source.startswith(tuple(KINDS)):
        return source.strip()
    path = Path(source)
    try:
        is_file, is_dir = path.is_file(), path.is_dir()
    except OSError:  # longer than any file name: the code's text
        return source.strip()
    if is_file:
        data = path.read_bytes()
        found = read_image(data)
        if len(found) > 1:
            raise Failure(f"{source} holds {len(found)} QR codes: crop it to one")
        if found:
            return found[0]
        if data.startswith(PICTURES):
            raise Failure(f"no QR code found in {source}: take a sharper, closer picture")
        return data.decode(errors="replace").strip()
    if is_dir:
        raise Failure(f"{source} is a folder: give the picture or the text file in it")
    if os.sep in source or "/" in source or source.lower().endswith(FILE_NAMES):
        raise Failure(f"no such file: {source}")
    return source.strip()
