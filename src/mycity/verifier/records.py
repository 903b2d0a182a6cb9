"""The bytes a leaf of the city's log tree stands for: one stored event, encoded canonically.

Standard library only: partners vendor this package to check proofs without our code.

Layout of `leaf_data` (integers unsigned, big-endian):

    offset  size  field
    0       18    the domain tag b"mycity-log-leaf/1\\x00"
    18      8     position: the event's place in the global log
    26      16    stream: the originator id (the UUID's 16 bytes, RFC 4122 order)
    42      8     version: the originator version
    50      4     T: the length of the topic in bytes
    54      T     topic, UTF-8
    54+T    4     S: the length of the state in bytes
    58+T    S     state: the event as stored (encrypted), byte for byte

Every field has a fixed size or a length before it, so no two records encode alike; the tag
names the format, and the encoding depends on no store's column types. The leaf's hash is
RFC 9162's: SHA-256(0x00 || leaf_data).
"""

from __future__ import annotations

import struct
from uuid import UUID

TAG = b"mycity-log-leaf/1\x00"
_HEAD = struct.Struct(">Q16sQI")
_LENGTH = struct.Struct(">I")


def leaf_data(position: int, stream: UUID, version: int, topic: str, state: bytes) -> bytes:
    """The canonical encoding of one stored event (the layout is in the module docstring)."""
    encoded_topic = topic.encode()
    return b"".join(
        (
            TAG,
            _HEAD.pack(position, stream.bytes, version, len(encoded_topic)),
            encoded_topic,
            _LENGTH.pack(len(state)),
            state,
        )
    )


def record_position(data: bytes) -> int | None:
    """The position a leaf's data names, or None if it is not a leaf of this layout."""
    if not (isinstance(data, bytes) and data.startswith(TAG)):
        return None
    if len(data) < len(TAG) + _HEAD.size:
        return None
    position: int = _HEAD.unpack_from(data, len(TAG))[0]
    return position
