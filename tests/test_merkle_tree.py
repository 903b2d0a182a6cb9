"""The log's Merkle tree: RFC 9162 roots and proofs from stored tiles, exactly once per event."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mycity.bootstrap import City
from mycity.projections import tiles
from mycity.projections.merkle import MerkleTree
from mycity.verifier.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from mycity.verifier.records import leaf_data
from tests.helpers import CitizenFactory, join_all


def stored_leaves(city: City) -> list[tuple[int, bytes]]:
    """Each stored event's position and leaf hash, recomputed from the recorder."""
    return [
        (
            n.id,
            leaf_hash(
                leaf_data(n.id, UUID(str(n.originator_id)), n.originator_version, n.topic, n.state)
            ),
        )
        for n in city.files.recorder.select_notifications(0, limit=10**6)
    ]


def built_tree(city: City, page_size: int = 1000) -> MerkleTree:
    tree = MerkleTree(city.files, city.db, page_size=page_size)
    tree.create_tables()
    tree.run_once()
    return tree


def events_table(city: City) -> tuple[str, str]:
    """The events table and its position column."""
    table = city.db.table(city.files.recorder.events_table_name)  # type: ignore[attr-defined]
    return table, "notification_id" if city.db.dialect == "postgres" else "rowid"


@contextmanager
def a_gap_before(city: City, width: int) -> Iterator[None]:
    """Events stored in the block start `width` positions past the log's head, as after
    rolled-back inserts on PostgreSQL (its sequence moves on). SQLite numbers a row after the
    largest one, so there a placeholder row holds the gap's last place until the block ends."""
    table, column = events_table(city)
    place = city.files.head() + width
    with city.db.transaction() as cur:
        if city.db.dialect == "postgres":
            cur.execute("SELECT setval(pg_get_serial_sequence(?, ?), ?)", (table, column, place))
        else:
            cur.execute(
                f"INSERT INTO {table} (rowid, originator_id, originator_version, topic, state) "
                "VALUES (?, ?, 1, 'placeholder', x'')",
                (place, uuid4().hex),
            )
    yield
    if city.db.dialect == "sqlite":
        with city.db.transaction() as cur:
            cur.execute(f"DELETE FROM {table} WHERE rowid = ?", (place,))


def test_the_root_is_the_rfc_9162_root_of_the_stored_events(
    city: City, people: CitizenFactory
) -> None:
    for i in range(5):
        people.register(f"根{i}")
    tree = MerkleTree(city.files, city.db, page_size=3)
    tree.create_tables()
    assert (tree.size(), tree.position(), tree.root()) == (0, 0, root_hash([]))
    leaves = stored_leaves(city)
    assert tree.run_once() == len(leaves)
    assert tree.run_once() == 0
    assert tree.root() == root_hash([h for _, h in leaves])
    assert (tree.size(), tree.position()) == (len(leaves), city.files.head())


def test_proofs_equal_the_reference_and_verify_for_every_size(
    city: City, people: CitizenFactory
) -> None:
    for i in range(20):
        people.register(f"证{i}")
    tree = built_tree(city, page_size=7)
    leaves = [h for _, h in stored_leaves(city)]
    assert len(leaves) == tree.size() == 40
    for size in range(1, 41):
        root = tree.root(size)
        assert root == root_hash(leaves[:size])
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert proof == inclusion_proof(leaves[:size], index)
            assert verify_inclusion(tree.leaf(index), index, size, proof, root)
        for size1 in range(size + 1):
            proof = tree.consistency_proof(size1, size)
            assert proof == consistency_proof(leaves[:size], size1)
            assert verify_consistency(size1, size, proof, tree.root(size1), root)
    with pytest.raises(ValueError, match="41"):
        tree.root(41)
    with pytest.raises(ValueError, match="41"):
        tree.inclusion_proof(0, 41)


def test_proofs_across_tile_boundaries_in_the_store(city: City, people: CitizenFactory) -> None:
    """Two full level-0 tiles, a partial third, and the level-1 tile above them."""
    for i in range(260):
        people.register(f"砖{i}")
    tree = built_tree(city, page_size=97)
    leaves = [h for _, h in stored_leaves(city)]
    assert tree.size() == len(leaves) == 520
    for size in (255, 256, 257, 511, 512, 513, 520):
        assert tree.root(size) == root_hash(leaves[:size])
        for index in (0, 254, 255, 256, size - 1):
            if index < size:
                assert tree.inclusion_proof(index, size) == inclusion_proof(leaves[:size], index)
        for size1 in (1, 255, 256, 257, 300):
            if size1 <= size:
                assert tree.consistency_proof(size1, size) == consistency_proof(
                    leaves[:size], size1
                )


def fake_leaves(count: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(count)]


def in_memory_tree(leaves: list[bytes], pages: list[int]) -> dict[tiles.TileKey, bytes]:
    """The tiles of a tree grown page by page (page sizes taken in turn), in a dict."""
    store: dict[tiles.TileKey, bytes] = {}
    edges: dict[int, bytes] = {}
    size = 0
    while size < len(leaves):
        end = min(size + pages[size % len(pages)], len(leaves))
        growth = tiles.grow(size, edges, b"".join(leaves[size:end]))
        for key, hashes in growth.tiles.items():
            assert hashes.startswith(store.get(key, b""))  # a tile only grows
            store[key] = hashes
        edges, size = growth.edges, end
    return store


def range_hashes(store: dict[tiles.TileKey, bytes], ranges: list[tiles.Range]) -> list[bytes]:
    """Each range's hash, read from the tiles as `tiles.locate` places its subtrees."""
    hashes = []
    for start, end in ranges:
        subtrees = []
        for node in tiles.range_nodes(start, end):
            spot = tiles.locate(node)
            assert len(store[spot.tile]) >= spot.width * tiles.HASH
            row = tiles.tile_rows(store[spot.tile])[spot.row]
            subtrees.append(row[spot.column * tiles.HASH : (spot.column + 1) * tiles.HASH])
        hashes.append(tiles.fold(subtrees))
    return hashes


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(1, 1100),
    pages=st.lists(st.integers(1, 600), min_size=1, max_size=5),
    data=st.data(),
)
def test_tiles_grown_in_any_pages_give_the_reference_tree(
    size: int, pages: list[int], data: st.DataObject
) -> None:
    leaves = fake_leaves(size)
    store = in_memory_tree(leaves, pages)
    tree_size = data.draw(st.integers(1, size))
    index = data.draw(st.integers(0, tree_size - 1))
    size1 = data.draw(st.integers(0, tree_size))
    [root] = range_hashes(store, [(0, tree_size)])
    assert root == root_hash(leaves[:tree_size])
    assert range_hashes(store, tiles.inclusion_ranges(index, tree_size)) == inclusion_proof(
        leaves[:tree_size], index
    )
    assert range_hashes(store, tiles.consistency_ranges(size1, tree_size)) == consistency_proof(
        leaves[:tree_size], size1
    )


def test_tiles_at_the_second_tile_level_boundary() -> None:
    """65,536 leaves fill a level-1 tile, whose root starts tile-level 2."""
    leaves = fake_leaves(65_537)
    store = in_memory_tree(leaves, [1000])
    assert (2, 0) in store and len(store[(1, 0)]) == tiles.WIDTH * tiles.HASH
    for size in (65_535, 65_536, 65_537):
        assert range_hashes(store, [(0, size)]) == [root_hash(leaves[:size])]
        for index in (255, 65_279, size - 1):
            assert range_hashes(store, tiles.inclusion_ranges(index, size)) == inclusion_proof(
                leaves[:size], index
            )
    assert range_hashes(store, tiles.consistency_ranges(65_536, 65_537)) == consistency_proof(
        leaves, 65_536
    )


def test_a_crash_mid_page_resumes_with_nothing_lost_or_added_twice(
    city: City, people: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(10):
        people.register(f"断{i}")
    tree = MerkleTree(city.files, city.db, page_size=3)
    tree.create_tables()
    writes = 0
    original = tree._write

    def crash_on_second_page(*args: Any) -> Any:
        nonlocal writes
        writes += 1
        written = original(*args)
        if writes == 2:
            raise RuntimeError("power cut after writing the tiles, before commit")
        return written

    monkeypatch.setattr(tree, "_write", crash_on_second_page)
    with pytest.raises(RuntimeError):
        tree.run_once()
    leaves = stored_leaves(city)
    assert (tree.size(), tree.position()) == (3, leaves[2][0])

    resumed = MerkleTree(city.files, city.db, page_size=3)
    assert resumed.run_once() == len(leaves) - 3
    assert list(resumed.leaves(resumed.size())) == leaves
    assert resumed.root() == root_hash([h for _, h in leaves])


def test_two_runners_at_once_build_the_tree_one_runner_builds(
    city: City, people: CitizenFactory
) -> None:
    for i in range(15):
        people.register(f"双{i}")
    MerkleTree(city.files, city.db).create_tables()
    head = city.files.head()

    def run() -> None:
        tree = MerkleTree(city.files, city.db, page_size=2)
        for _ in range(100):  # a runner that loses a page to the other stops; go again
            tree.run_once()
            if tree.position() == head:
                return

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    assert join_all(threads)
    tree = MerkleTree(city.files, city.db)
    leaves = stored_leaves(city)
    assert list(tree.leaves(tree.size())) == leaves
    assert tree.root() == root_hash([h for _, h in leaves])


def test_leaf_index_maps_positions_across_a_gap(city: City, people: CitizenFactory) -> None:
    for i in range(130):
        people.register(f"隙{i}")
    with a_gap_before(city, 40):
        for i in range(70):
            people.register(f"隙后{i}")
    tree = built_tree(city, page_size=100)
    positions = [p for p, _ in stored_leaves(city)]
    assert len(positions) == tree.size() == 400
    gap = [p for p in range(1, positions[-1]) if p not in positions]
    assert gap == list(range(261, 301))
    assert [tree.leaf_index(p) for p in positions] == list(range(400))
    assert [tree.leaf_position(i) for i in range(400)] == positions
    assert {tree.leaf_index(p) for p in [0, *gap, positions[-1] + 1]} == {None}
