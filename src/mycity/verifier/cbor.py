"""The deterministic CBOR (RFC 8949 §4.2.1) of the compact licence presentation: unsigned
integers, byte strings, text strings, arrays and maps, nothing else.

Written here rather than taken from a CBOR library so that partners' verifiers need only
the standard library and `cryptography`, and so that reading is strict: a reader accepts
exactly the encoding `encode` makes (shortest forms, definite lengths, map keys in the
order of their encoded bytes, each once, valid UTF-8, nothing after the item), since the
signature is checked over the bytes re-encoded from what was read.
"""

from __future__ import annotations

from typing import Any

UINT, BYTES, TEXT, ARRAY, MAP = 0, 2, 3, 4, 5
MAX_UINT = 2**64 - 1
MAX_DEPTH = 4  # the presentation nests an array, a map, and their items


class CborError(ValueError):
    """Not the deterministic encoding of a value of the supported kinds."""


def encode(value: Any) -> bytes:
    """The deterministic encoding of an int ≥ 0, bytes, str, list or dict of them."""
    out = bytearray()
    _encode(value, out)
    return bytes(out)


def _encode(value: Any, out: bytearray) -> None:
    if isinstance(value, bool) or value is None:
        raise CborError(f"not encodable: {value!r}")
    if isinstance(value, int):
        _head(UINT, value, out)
    elif isinstance(value, bytes):
        _head(BYTES, len(value), out)
        out += value
    elif isinstance(value, str):
        data = value.encode()  # UnicodeEncodeError (a ValueError) on a lone surrogate
        _head(TEXT, len(data), out)
        out += data
    elif isinstance(value, list):
        _head(ARRAY, len(value), out)
        for item in value:
            _encode(item, out)
    elif isinstance(value, dict):
        pairs = sorted((encode(k), encode(v)) for k, v in value.items())
        _head(MAP, len(pairs), out)
        for key, item in pairs:
            out += key + item
    else:
        raise CborError(f"not encodable: {type(value).__name__}")


def _head(major: int, argument: int, out: bytearray) -> None:
    if not 0 <= argument <= MAX_UINT:
        raise CborError(f"{argument} is not an unsigned 64-bit integer")
    if argument < 24:
        out.append(major << 5 | argument)
        return
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if argument < 1 << (8 * size):
            out.append(major << 5 | extra)
            out += argument.to_bytes(size, "big")
            return


def decode(data: bytes) -> Any:
    """The one value `data` encodes deterministically; CborError otherwise."""
    value, end = _decode(data, 0, 0)
    if end != len(data):
        raise CborError("bytes after the item")
    return value


def _decode(data: bytes, at: int, depth: int) -> tuple[Any, int]:
    if depth > MAX_DEPTH:
        raise CborError("nested too deep")
    major, argument, at = _read_head(data, at)
    if major == UINT:
        return argument, at
    if major in (BYTES, TEXT):
        end = at + argument
        if end > len(data):
            raise CborError("a string runs past the end")
        chunk = bytes(data[at:end])
        if major == BYTES:
            return chunk, end
        try:
            return chunk.decode(), end
        except UnicodeDecodeError:
            raise CborError("text that is not UTF-8") from None
    if major == ARRAY:
        items = []
        for _ in range(argument):
            item, at = _decode(data, at, depth + 1)
            items.append(item)
        return items, at
    if major == MAP:
        found: dict[Any, Any] = {}
        previous = b""
        for _ in range(argument):
            start = at
            key, at = _decode(data, at, depth + 1)
            encoded_key = data[start:at]
            if not isinstance(key, str | int) or (found and encoded_key <= previous):
                raise CborError("map keys must be texts or integers, sorted, each once")
            previous = bytes(encoded_key)
            found[key], at = _decode(data, at, depth + 1)
        return found, at
    raise CborError(f"major type {major} is not read here")


def _read_head(data: bytes, at: int) -> tuple[int, int, int]:
    if at >= len(data):
        raise CborError("the item ends early")
    major, info = data[at] >> 5, data[at] & 0x1F
    at += 1
    if info < 24:
        return major, info, at
    if info > 27:
        raise CborError("indefinite lengths and reserved forms are not read")
    size = 1 << (info - 24)
    if at + size > len(data):
        raise CborError("the item ends early")
    argument = int.from_bytes(data[at : at + size], "big")
    if argument < (24 if size == 1 else 1 << (4 * size)):
        raise CborError("not the shortest form")
    return major, argument, at + size
