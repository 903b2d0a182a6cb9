"""The arithmetic of a Merkle tree kept in tiles (C2SP tlog-tiles), with no storage.

A tile at tile-level L, index N holds up to 256 hashes of tree level 8·L: those of the
complete subtrees N·256 … N·256+255 of that level, concatenated. The seven levels above them
inside the tile are recomputed from those hashes (`tile_rows`), so every hash of every
complete subtree is found in exactly one tile (`locate`). A right-edge tile holds fewer
hashes and grows as the tree does (`grow`); what it held before is a prefix of what it holds
after, because a complete subtree never changes. Roots and RFC 9162 proofs are the hashes of
ranges of leaves (`inclusion_ranges`, `consistency_ranges`), and the hash of a range is
folded from the complete subtrees it is made of (`range_nodes`, `fold`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mycity.verifier.merkle import node_hash

HEIGHT = 8
WIDTH = 1 << HEIGHT  # hashes in a full tile
HASH = 32  # bytes per hash

TileKey = tuple[int, int]  # (tile-level, index)
Range = tuple[int, int]  # leaves [start, end)


@dataclass(frozen=True)
class Node:
    """The complete subtree of 2**level leaves starting at leaf index·2**level."""

    level: int
    index: int


@dataclass(frozen=True)
class Spot:
    """Where a node's hash is: row `row` (0: the tile's own hashes) at `column` of tile `tile`,
    which must hold at least `width` hashes for it to be there."""

    tile: TileKey
    row: int
    column: int
    width: int


def locate(node: Node) -> Spot:
    tile_level, row = divmod(node.level, HEIGHT)
    first = node.index << row  # its first hash in the tile's own row, counted from the left
    tile_index = first >> HEIGHT
    offset = tile_index << HEIGHT
    return Spot(
        (tile_level, tile_index),
        row,
        node.index - (offset >> row),
        first + (1 << row) - offset,
    )


def tile_rows(hashes: bytes) -> list[bytes]:
    """The tile's hashes, then each level above them up to the tile's root (row 8, present
    only when the tile is full); each row's hashes concatenated."""
    rows = [hashes]
    for _ in range(HEIGHT):
        below = rows[-1]
        rows.append(
            b"".join(
                node_hash(below[i : i + HASH], below[i + HASH : i + 2 * HASH])
                for i in range(0, len(below) - 2 * HASH + 1, 2 * HASH)
            )
        )
    return rows


def range_nodes(start: int, end: int) -> list[Node]:
    """The complete subtrees of the leaves [start, end), largest first, for a range as RFC
    9162 splits a tree (`start` a multiple of the largest power of two below its length)."""
    nodes = []
    while start < end:
        level = (end - start).bit_length() - 1
        nodes.append(Node(level, start >> level))
        start += 1 << level
    return nodes


def fold(hashes: list[bytes]) -> bytes:
    """The hash of a range from its complete subtrees' hashes: RFC 9162 hashes the largest
    left subtree with the hash of the rest."""
    folded = hashes[-1]
    for left in reversed(hashes[:-1]):
        folded = node_hash(left, folded)
    return folded


def _split(size: int) -> int:
    return 1 << ((size - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose hashes are PATH(index, D[size]), in the proof's order (§2.1.3.1)."""
    ranges = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return ranges[::-1]


def consistency_ranges(size1: int, size2: int) -> list[Range]:
    """The ranges whose hashes are PROOF(size1, D[size2]), in the proof's order (§2.1.4.1);
    none for size1 == 0, as `mycity.verifier.merkle` has it."""
    if size1 == 0:
        return []
    ranges = []
    start, end, m, old_root_known = 0, size2, size1, True
    while m < end - start:
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, old_root_known = start + k, m - k, False
    if not old_root_known:
        ranges.append((start, end))
    return ranges[::-1]


@dataclass(frozen=True)
class Growth:
    tiles: dict[TileKey, bytes]  # every tile the new leaves changed, as it is now
    edges: dict[int, bytes]  # the right-edge tile's hashes of each tile-level (b"" if none)


def grow(size: int, edges: Mapping[int, bytes], leaves: bytes) -> Growth:
    """Append the concatenated leaf hashes `leaves` to a tree of `size` leaves whose partial
    right-edge tiles hold `edges` (by tile-level): each full tile's root is a new hash of the
    tile-level above."""
    changed: dict[TileKey, bytes] = {}
    new_edges = dict(edges)
    level, count, new = 0, size, leaves
    while new:
        combined = edges.get(level, b"") + new
        first = count >> HEIGHT
        promoted = []
        for offset in range(0, len(combined), WIDTH * HASH):
            tile = combined[offset : offset + WIDTH * HASH]
            changed[(level, first + offset // (WIDTH * HASH))] = tile
            if len(tile) == WIDTH * HASH:
                promoted.append(tile_rows(tile)[HEIGHT])
        new_edges[level] = tile if len(tile) < WIDTH * HASH else b""
        level, count, new = level + 1, count >> HEIGHT, b"".join(promoted)
    return Growth(changed, new_edges)


def edge_keys(size: int) -> dict[int, tuple[TileKey, int]]:
    """The partial right-edge tile of each tile-level of a tree of `size` leaves, and how many
    hashes it holds."""
    edges = {}
    level, count = 0, size
    while count:
        if count % WIDTH:
            edges[level] = ((level, count >> HEIGHT), count % WIDTH)
        level, count = level + 1, count >> HEIGHT
    return edges
