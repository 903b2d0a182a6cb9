"""The city's log as a Merkle tree (RFC 9162): one leaf per stored event, in log order.

Each leaf is `leaf_hash(leaf_data(…))` of an event as stored (`mycity.verifier.records`), so
the root commits to every stored byte of the log up to a size, and a signed root lets anyone
check an event's inclusion, or that a later log only appended to an earlier one.

- **Tiles** (C2SP tlog-tiles, `projections/tiles.py`): the tree is kept as tiles of 256
  hashes, so a proof reads about two tiles per tile-level (three levels hold 16 million
  leaves) in one query instead of a node per row, and a page of a thousand events rewrites
  a handful of rows. Full tiles never change, so they
  are cached (LRU); a partial right-edge tile only grows, so a cached one answers for any
  tree it is wide enough for.
- **Positions**: a proof is asked for "the event at position P", but positions are not leaf
  indexes (PostgreSQL's ids have gaps where an insert rolled back). A level-0 tile keeps its
  leaves' positions beside their hashes, indexed by its first one: one row read maps either
  way.
- **Crash safety**: a page's tiles and the new head (size, position) commit in one
  transaction, whose first statement moves the head only from where this runner read it (a
  compare-and-set). A crash loses the page entirely, to be appended again; a second runner
  that lost the race is refused, rolls back and stops. No leaf is ever added twice or lost.
"""

from __future__ import annotations

import logging
import struct
import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Notification

from mycity.projections.pages import read_pages
from mycity.projections.tiles import (
    HASH,
    HEIGHT,
    WIDTH,
    Growth,
    Node,
    Range,
    TileKey,
    consistency_ranges,
    edge_keys,
    fold,
    grow,
    inclusion_ranges,
    locate,
    range_nodes,
    tile_rows,
)
from mycity.store.sql import Cursor, Database
from mycity.verifier.merkle import leaf_hash, root_hash
from mycity.verifier.records import leaf_data

log = logging.getLogger(__name__)

POSITION = 8  # bytes per stored position (big-endian)


@dataclass(frozen=True)
class Tile:
    rows: list[bytes]  # `tile_rows` of its hashes
    positions: bytes  # level 0: its leaves' positions; b"" above

    @property
    def width(self) -> int:
        return len(self.rows[0]) // HASH


def record_of(notification: Notification) -> bytes:
    """The bytes a stored event's leaf hashes (`mycity.verifier.records`)."""
    n = notification
    stream = n.originator_id if isinstance(n.originator_id, UUID) else UUID(n.originator_id)
    return leaf_data(n.id, stream, n.originator_version, n.topic, n.state)


def leaf_of(notification: Notification) -> bytes:
    """The leaf hash of a stored event."""
    return leaf_hash(record_of(notification))


def unpack_positions(packed: bytes) -> tuple[int, ...]:
    return struct.unpack(f">{len(packed) // POSITION}Q", packed)


class MerkleTree:
    """The tree over `files`' log, in tables of `db`; `run_once` appends what is new."""

    TILES = "merkle_tiles"
    HEAD = "merkle_head"

    def __init__(self, files: Any, db: Database, page_size: int = 1000, cache_size: int = 1024):
        self.files = files
        self.db = db
        self.page_size = page_size
        self.tiles_table = db.table(self.TILES)
        self.head_table = db.table(self.HEAD)
        self._cache: OrderedDict[TileKey, Tile] = OrderedDict()
        self._cache_size = cache_size  # about 18 KB a tile
        self._lock = threading.Lock()
        self._known_size = 0  # a size the tree has reached: it never shrinks
        self._followed: tuple[int, int] | None = None  # (size, position) after its last write

    def create_tables(self) -> None:
        blob = "BYTEA" if self.db.dialect == "postgres" else "BLOB"
        self.db.create_tables(
            [
                f"CREATE TABLE IF NOT EXISTS {self.tiles_table} (level INTEGER NOT NULL, "
                f"idx BIGINT NOT NULL, hashes {blob} NOT NULL, first_position BIGINT, "
                f"positions {blob}, PRIMARY KEY (level, idx))",
                f'CREATE INDEX IF NOT EXISTS "{self.TILES}_first_position" '
                f"ON {self.tiles_table} (level, first_position)",
                f"CREATE TABLE IF NOT EXISTS {self.head_table} (id INTEGER PRIMARY KEY, "
                "size BIGINT NOT NULL, position BIGINT NOT NULL)",
                f"INSERT INTO {self.head_table} (id, size, position) VALUES (1, 0, 0) "
                "ON CONFLICT (id) DO NOTHING",
            ]
        )

    # -- the head ---------------------------------------------------------------------------

    def head(self) -> tuple[int, int]:
        """The tree's size and the log position of its last leaf (0 when empty)."""
        with self.db.read() as cur:
            row = cur.execute(f"SELECT size, position FROM {self.head_table} WHERE id = 1")
            found = row.fetchone()
        return int(found["size"]), int(found["position"])

    def size(self) -> int:
        return self.head()[0]

    def position(self) -> int:
        return self.head()[1]

    # -- following the log ------------------------------------------------------------------

    name = "merkle tree"

    def followed(self) -> int:
        """The position of the tree's last leaf, as this runner left it: kept from its own
        last write, read from the store only at first (the head's compare-and-set refuses a
        stale one)."""
        if self._followed is None:
            self._followed = self.head()
        return self._followed[1]

    def fold_in(self, cur: Cursor, page: Any, start: int, last: int) -> Callable[[], None]:
        """Append the page's events after `start`, the tree's position, in the caller's
        transaction (the read models' page: one commit for all); returns what to do once
        it has committed."""
        if self._followed is None or self._followed[1] != start:
            raise IntegrityError(f"the Merkle tree is not at position {start}")
        records = [r for r in page.records if r.id > start]
        if not records:
            return lambda: None
        new, tiles = self._write_leaves(cur, self._followed, records)
        return lambda: self._committed(new, tiles)

    def run_once(self) -> int:
        """Append every stored event after the tree's position up to the log's head, a page
        per transaction; returns the leaves added. Stops if another runner moved the head."""
        self._followed = self.head()
        position = self._followed[1]
        head = self.files.head()
        if position >= head:
            return 0
        added = 0
        with read_pages(self.files, position, head, raw=True, page_size=self.page_size) as pages:
            for page in pages:
                if not page.items:
                    continue
                try:
                    with self.db.transaction() as cur:
                        new, tiles = self._write_leaves(cur, self._followed, page.items)
                except IntegrityError:
                    log.info("the Merkle tree was advanced by another runner")
                    self._followed = None
                    break
                self._committed(new, tiles)
                added += len(page.items)
        return added

    def _committed(self, head: tuple[int, int], tiles: dict[TileKey, Tile]) -> None:
        """A page's leaves are in: the head moves here, and the tiles it wrote are cached
        (the right edge's next page reads them from memory, not from the store)."""
        self._followed = head
        self._remember(tiles)

    def _write_leaves(
        self, cur: Cursor, old: tuple[int, int], records: list[Notification]
    ) -> tuple[tuple[int, int], dict[TileKey, Tile]]:
        """Leaves for these records (the next events of the log) and the new head, written
        with `cur`; the head moves only from `old` (another runner's move refuses it)."""
        size = old[0]
        edges, edge_positions = self._edges(size)
        new = (size + len(records), records[-1].id)
        growth = grow(size, edges, b"".join(leaf_of(n) for n in records))
        positions = edge_positions + b"".join(n.id.to_bytes(POSITION, "big") for n in records)
        self._advance(cur, old, new)
        return new, self._write(cur, growth, size >> HEIGHT, positions)

    def _advance(self, cur: Cursor, old: tuple[int, int], new: tuple[int, int]) -> None:
        moved = cur.execute(
            f"UPDATE {self.head_table} SET size = ?, position = ? "
            "WHERE id = 1 AND size = ? AND position = ?",
            (*new, *old),
        ).rowcount
        if moved != 1:
            raise IntegrityError(f"the Merkle tree is no longer at position {old[1]}")

    def _write(
        self, cur: Cursor, growth: Growth, first_tile: int, positions: bytes
    ) -> dict[TileKey, Tile]:
        """Upsert the changed tiles; level-0 tiles with their slice of `positions`, which
        start at tile `first_tile`. Returns them, for the cache once they have committed."""
        rows = []
        for (level, index), hashes in growth.tiles.items():
            packed = None
            if level == 0:
                start = (index - first_tile) * WIDTH * POSITION
                packed = positions[start : start + len(hashes) // HASH * POSITION]
            first = None if packed is None else int.from_bytes(packed[:POSITION], "big")
            rows.append((level, index, hashes, first, packed))
        cur.executemany(
            f"INSERT INTO {self.tiles_table} (level, idx, hashes, first_position, positions) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (level, idx) DO UPDATE SET "
            "hashes = excluded.hashes, first_position = excluded.first_position, "
            "positions = excluded.positions",
            rows,
        )
        return {
            (level, index): Tile(tile_rows(hashes), packed or b"")
            for level, index, hashes, _, packed in rows
        }

    def _edges(self, size: int) -> tuple[dict[int, bytes], bytes]:
        """The right-edge tiles' hashes by tile-level, and the level-0 one's positions."""
        keys = edge_keys(size)
        tiles = self._tiles(dict(keys.values()))
        hashes = {level: tiles[key].rows[0][: width * HASH] for level, (key, width) in keys.items()}
        if 0 not in keys:
            return hashes, b""
        key, width = keys[0]
        return hashes, tiles[key].positions[: width * POSITION]

    # -- reading ----------------------------------------------------------------------------

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of the first `size` leaves (all of them by default)."""
        size = self.size() if size is None else self._within(size)
        return self._hashes([(0, size)])[0] if size else root_hash([])

    def leaf(self, index: int) -> bytes:
        self._existing(index)
        return self._hashes([(index, index + 1)])[0]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1: the leaf at `index` is in the tree of `size` leaves."""
        if not 0 <= index < size:
            raise ValueError(f"index {index} is outside a tree of {size} leaves")
        return self._hashes(inclusion_ranges(index, self._within(size)))

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """RFC 9162 §2.1.4.1: the tree of `size2` leaves extends the one of `size1`."""
        if not 0 <= size1 <= size2:
            raise ValueError(f"size {size1} is outside 0..{size2}")
        return self._hashes(consistency_ranges(size1, self._within(size2)))

    def leaf_index(self, position: int) -> int | None:
        """The index of the leaf of the event at `position`; None if the tree has none."""
        with self.db.read() as cur:
            found = cur.execute(
                f"SELECT idx, positions FROM {self.tiles_table} WHERE level = 0 "
                "AND first_position <= ? ORDER BY first_position DESC LIMIT 1",
                (position,),
            ).fetchone()
        if found is None:
            return None
        positions = unpack_positions(bytes(found["positions"]))
        column = bisect_left(positions, position)
        if column == len(positions) or positions[column] != position:
            return None
        return int(found["idx"]) * WIDTH + column

    def leaf_position(self, index: int) -> int:
        """The log position of the event of the leaf at `index`."""
        self._existing(index)
        key, column = (0, index >> HEIGHT), index % WIDTH
        tile = self._tiles({key: column + 1})[key]
        return int.from_bytes(tile.positions[column * POSITION : (column + 1) * POSITION], "big")

    def leaves(self, size: int, tiles_per_read: int = 64) -> Iterator[tuple[int, bytes]]:
        """The position and hash of each of the first `size` leaves, as stored now (not from
        the cache), reading `tiles_per_read` level-0 tiles at a time: what a check compares."""
        remaining = size
        for first in range(0, -(-size // WIDTH), tiles_per_read):
            with self.db.read() as cur:
                found = cur.execute(
                    f"SELECT hashes, positions FROM {self.tiles_table} "
                    "WHERE level = 0 AND idx >= ? AND idx < ? ORDER BY idx",
                    (first, first + tiles_per_read),
                ).fetchall()
            for row in found:
                hashes = bytes(row["hashes"])
                positions = unpack_positions(bytes(row["positions"]))[:remaining]
                remaining -= len(positions)
                for column, position in enumerate(positions):
                    yield position, hashes[column * HASH : (column + 1) * HASH]

    def _within(self, size: int) -> int:
        if size > self._known_size:
            self._known_size = self.size()
        if not 0 <= size <= self._known_size:
            raise ValueError(f"the tree has {self._known_size} leaves, not {size}")
        return size

    def _existing(self, index: int) -> None:
        if index < 0:
            raise ValueError(f"there is no leaf {index}")
        self._within(index + 1)

    def _hashes(self, ranges: list[Range]) -> list[bytes]:
        """The hash of each range of leaves, from the tiles that hold its complete subtrees."""
        nodes = [range_nodes(start, end) for start, end in ranges]
        spots = {node: locate(node) for group in nodes for node in group}
        needed: dict[TileKey, int] = {}
        for spot in spots.values():
            needed[spot.tile] = max(needed.get(spot.tile, 0), spot.width)
        tiles = self._tiles(needed)

        def hash_of(node: Node) -> bytes:
            spot = spots[node]
            row = tiles[spot.tile].rows[spot.row]
            return row[spot.column * HASH : (spot.column + 1) * HASH]

        return [fold([hash_of(node) for node in group]) for group in nodes]

    def _tiles(self, needed: dict[TileKey, int]) -> dict[TileKey, Tile]:
        """Each tile, holding at least the hashes needed: from the cache, else in one read."""
        found: dict[TileKey, Tile] = {}
        with self._lock:
            for key, width in needed.items():
                cached = self._cache.get(key)
                if cached is not None and cached.width >= width:
                    self._cache.move_to_end(key)
                    found[key] = cached
        missing = [key for key in needed if key not in found]
        if missing:
            where = " OR ".join(["(level = ? AND idx = ?)"] * len(missing))
            with self.db.read() as cur:
                rows = cur.execute(
                    f"SELECT level, idx, hashes, positions FROM {self.tiles_table} WHERE {where}",
                    [part for key in missing for part in key],
                ).fetchall()
            for row in rows:
                key = (int(row["level"]), int(row["idx"]))
                found[key] = Tile(tile_rows(bytes(row["hashes"])), bytes(row["positions"] or b""))
            self._remember({key: found[key] for key in missing if key in found})
        short = sorted(k for k, width in needed.items() if k not in found or found[k].width < width)
        if short:
            raise LookupError(f"the Merkle tree's tiles {short} are missing or short")
        return found

    def _remember(self, tiles: dict[TileKey, Tile]) -> None:
        with self._lock:
            for key, tile in tiles.items():
                self._cache[key] = tile
                self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
