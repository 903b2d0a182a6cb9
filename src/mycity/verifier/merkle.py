"""RFC 9162 (Certificate Transparency 2.0, section 2.1) Merkle trees over SHA-256.

A log commits to its entries with one root hash; these proofs let anyone check, from that
root alone, that an entry is in the log (inclusion) and that a later log only appended to an
earlier one (consistency). Hashes are raw 32-byte strings, indexes zero-based, sizes counts.

The verify functions answer False, and never raise, for anything malformed: they are fed
what a server sent. Sizes and indexes are limited to 64 bits, like the Go implementations.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from itertools import islice

_HASH_SIZE = 32
_MAX_SIZE = 2**64 - 1
_EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data); the prefix keeps a leaf from passing for an interior node."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right), the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of already-hashed leaves, built bottom-up in linear time.

    Pairing neighbours level by level and lifting a last odd node unchanged gives the same
    tree as RFC 9162's split at the largest power of two, without recursion.
    """
    level = list(leaf_hashes)
    if not all(_is_hash(h) for h in level):
        raise ValueError("every leaf hash must be 32 bytes")
    if not level:
        return _EMPTY_ROOT
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether `proof` shows the leaf at `index` in the tree of `tree_size` with `root`.

    RFC 9162 section 2.1.3.2, step by step. The proof binds the size only through the root:
    check the root against a signed checkpoint of that size.
    """
    if not (_is_hash(leaf_hash) and _is_hash(root) and _is_proof(proof)):
        return False
    if not (_is_size(index) and _is_size(tree_size) and index < tree_size):
        return False
    fn, sn, r = index, tree_size - 1, leaf_hash
    for p in proof:
        if sn == 0 or not _is_hash(p):
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> bool:
    """Whether `proof` shows the tree of `size2` with `root2` extends that of `size1`/`root1`.

    RFC 9162 section 2.1.4.2 covers 0 < size1 < size2. Equal sizes are consistent with an
    empty proof and equal roots, as in Go's transparency-dev/merkle. The empty tree is a
    prefix of every tree, so size1 == 0 is consistent with an empty proof when root1 is the
    empty tree's root (SHA-256 of nothing); transparency-dev/merkle refuses size1 == 0 outright.
    """
    if not (_is_hash(root1) and _is_hash(root2) and _is_proof(proof)):
        return False
    if not (_is_size(size1) and _is_size(size2) and size1 <= size2):
        return False
    if size1 == 0:
        return not proof and root1 == _EMPTY_ROOT and (size2 > 0 or root2 == root1)
    if size1 == size2:
        return not proof and root1 == root2
    if not proof:
        return False
    path: Iterable[bytes] = proof
    if size1 & (size1 - 1) == 0:  # a power of two: the old root is the proof's first node
        seed = root1
    else:
        seed, path = proof[0], islice(proof, 1, None)
    if not _is_hash(seed):
        return False
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = seed
    for c in path:
        if sn == 0 or not _is_hash(c):
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == root1 and sr == root2


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]) of RFC 9162 section 2.1.3.1 for the tree of all `leaf_hashes`."""
    size = len(leaf_hashes)
    if not (isinstance(index, int) and 0 <= index < size):
        raise ValueError(f"index {index!r} is outside a tree of {size} leaves")
    path = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if index < start + k:
            path.append(root_hash(leaf_hashes[start + k : end]))
            end = start + k
        else:
            path.append(root_hash(leaf_hashes[start : start + k]))
            start += k
    return path[::-1]


def consistency_proof(leaf_hashes: Sequence[bytes], size1: int) -> list[bytes]:
    """PROOF(size1, D[n]) of RFC 9162 section 2.1.4.1 for the tree of all `leaf_hashes`.

    Empty for size1 == n and, matching `verify_consistency`, for size1 == 0.
    """
    size2 = len(leaf_hashes)
    if not (isinstance(size1, int) and 0 <= size1 <= size2):
        raise ValueError(f"size {size1!r} is outside 0..{size2}")
    if size1 == 0:
        return []
    proof = []
    start, end, m, old_root_known = 0, size2, size1, True
    while m < end - start:
        k = _largest_power_of_two_below(end - start)
        if m <= k:
            proof.append(root_hash(leaf_hashes[start + k : end]))
            end = start + k
        else:
            proof.append(root_hash(leaf_hashes[start : start + k]))
            start, m, old_root_known = start + k, m - k, False
    if not old_root_known:  # the verifier cannot know this subtree's root: send it
        proof.append(root_hash(leaf_hashes[start:end]))
    return proof[::-1]


def _shift_until_odd_or_zero(fn: int, sn: int) -> tuple[int, int]:
    """RFC 9162's inner loop: levels where the right-border node has no sibling take no hash."""
    while not fn & 1 and fn != 0:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == _HASH_SIZE


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_SIZE


def _is_proof(value: object) -> bool:
    """A sequence of hashes to walk; its items are checked one by one as they are used."""
    return isinstance(value, Sequence) and not isinstance(
        value, (str, bytes, bytearray, memoryview)
    )
