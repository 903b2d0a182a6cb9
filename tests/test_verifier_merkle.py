"""RFC 9162 Merkle trees against the reference vectors of Go's transparency-dev/merkle.

The vectors (leaves, roots, proofs) are those of github.com/transparency-dev/merkle,
testonly/constants.go and proof/verify_test.go (as of commit 9ca563d, before they moved to
testdata/*.json), which certificate-transparency-go shares. Edge cases follow its
cmd/proofgen/main.go probes; where this verifier answers otherwise, the case says why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mycity.verifier.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

LEAF_INPUTS = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]
LEAF_HASHES = [
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
    h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
    h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
    h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
    h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
    h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
    h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
]
EMPTY_ROOT = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
ROOTS = {  # tree size -> root over the first that many leaves
    1: h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    2: h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    3: h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    4: h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    5: h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    6: h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    7: h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    8: h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
}
INCLUSION_PROOFS = [  # (index, tree size, proof); Go's table numbers leaves from 1
    (0, 1, []),
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (2, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]
CONSISTENCY_PROOFS = [  # (size1, size2, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")  # Go's


def test_leaf_hashes_and_roots_match_the_vectors() -> None:
    assert [leaf_hash(data) for data in LEAF_INPUTS] == LEAF_HASHES
    assert {size: root_hash(LEAF_HASHES[:size]) for size in ROOTS} == ROOTS


def test_the_empty_tree_hashes_to_sha256_of_nothing() -> None:
    assert root_hash([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_inclusion_vectors_verify_and_are_what_the_generator_makes(
    index: int, size: int, proof: list[bytes]
) -> None:
    assert verify_inclusion(LEAF_HASHES[index], index, size, proof, ROOTS[size])
    assert inclusion_proof(LEAF_HASHES[:size], index) == proof


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY_PROOFS)
def test_consistency_vectors_verify_and_are_what_the_generator_makes(
    size1: int, size2: int, proof: list[bytes]
) -> None:
    assert verify_consistency(size1, size2, proof, ROOTS[size1], ROOTS[size2])
    assert consistency_proof(LEAF_HASHES[:size2], size1) == proof


def reference_root(hashes: Sequence[bytes]) -> bytes:
    """MTH exactly as RFC 9162 2.1.1 defines it, recursively: split at the largest power of
    two smaller than n."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while 2 * k < len(hashes):
        k *= 2
    return node_hash(reference_root(hashes[:k]), reference_root(hashes[k:]))


LEAVES_70 = [leaf_hash(b"entry %d" % i) for i in range(70)]


def test_root_hash_is_the_recursive_definition_for_every_size_to_70() -> None:
    for size in range(1, 71):
        assert root_hash(LEAVES_70[:size]) == reference_root(LEAVES_70[:size])


def test_every_generated_inclusion_proof_to_70_leaves_verifies() -> None:
    for size in range(1, 71):
        root = root_hash(LEAVES_70[:size])
        for index in range(size):
            proof = inclusion_proof(LEAVES_70[:size], index)
            assert verify_inclusion(LEAVES_70[index], index, size, proof, root), (index, size)


def test_every_generated_consistency_proof_to_70_leaves_verifies() -> None:
    roots = [root_hash(LEAVES_70[:size]) for size in range(71)]
    for size2 in range(71):
        for size1 in range(size2 + 1):
            proof = consistency_proof(LEAVES_70[:size2], size1)
            assert verify_consistency(size1, size2, proof, roots[size1], roots[size2]), (
                size1,
                size2,
            )


def test_a_million_leaves_hash_without_recursion() -> None:
    """Equal leaves make the root computable another way: perfect subtrees of 2**k equal
    leaves hash alike, and RFC 9162 joins them right to left (10**6 = 2**19 + ... + 2**6)."""
    leaf = leaf_hash(b"same")
    perfect = [leaf]
    for _ in range(20):
        perfect.append(node_hash(perfect[-1], perfect[-1]))
    bits = [k for k in range(20) if 1_000_000 >> k & 1]
    expected = perfect[bits[0]]
    for k in bits[1:]:
        expected = node_hash(perfect[k], expected)
    assert root_hash([leaf] * 1_000_000) == expected


# -- edge cases: Go's static probes ---------------------------------------------------------


DONT_CARE = b"don't care 1".ljust(32, b".")
OTHER = b"don't care 2".ljust(32, b".")


@pytest.mark.parametrize(
    ("size1", "size2", "root1", "root2", "proof", "consistent"),
    [
        (0, 0, DONT_CARE, OTHER, [], False),
        (1, 1, DONT_CARE, OTHER, [], False),
        (1, 1, OTHER, OTHER, [], True),
        (1, 0, DONT_CARE, OTHER, [], False),
        (2, 1, DONT_CARE, OTHER, [], False),
        (1, 2, DONT_CARE, OTHER, [], False),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        # The empty tree is a prefix of every tree, so from size 0 an empty proof proves
        # consistency, but only from the empty tree's root. Go's transparency-dev/merkle
        # refuses any size1 == 0 since its #236; certificate-transparency-go accepts it
        # whatever root1 is.
        (0, 0, DONT_CARE, DONT_CARE, [], False),
        (0, 1, DONT_CARE, OTHER, [], False),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [], True),
        (0, 0, EMPTY_ROOT, OTHER, [], False),
        (0, 1, EMPTY_ROOT, OTHER, [], True),
        (0, 8, EMPTY_ROOT, ROOTS[8], [], True),
    ],
)
def test_consistency_edge_cases(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes], consistent: bool
) -> None:
    assert verify_consistency(size1, size2, proof, root1, root2) is consistent


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_inclusion_edge_cases_of_an_empty_proof(index: int, size: int) -> None:
    for leaf, root in [(SOME_HASH, EMPTY_ROOT), (EMPTY_ROOT, SOME_HASH), (SOME_HASH, b"")]:
        assert not verify_inclusion(leaf, index, size, [], root)


def test_a_single_leaf_is_its_own_root() -> None:
    leaf = leaf_hash(b"data")
    assert verify_inclusion(leaf, 0, 1, [], leaf)
    assert not verify_inclusion(b"", 0, 1, [], leaf)
    assert not verify_inclusion(leaf, 0, 1, [], b"")


def test_a_proof_binds_the_size_only_through_the_root() -> None:
    """Leaf 0's path in the tree of 3 is also a well-formed path in a tree of 4 (two right
    siblings), so it 'verifies' against the size-3 root with size 4 claimed, in Go as here.
    No tree of 4 leaves has that root; a checkpoint signs size and root together."""
    proof = inclusion_proof(LEAF_HASHES[:3], 0)
    assert verify_inclusion(LEAF_HASHES[0], 0, 4, proof, ROOTS[3])
    assert not verify_inclusion(LEAF_HASHES[0], 0, 4, proof, ROOTS[4])


# -- property tests: any change to a good proof fails ----------------------------------------


def tree(salt: bytes, size: int) -> list[bytes]:
    """Distinct leaves: with two equal leaves, swapping them would be no change at all."""
    return [leaf_hash(salt + i.to_bytes(4, "big")) for i in range(size)]


def flip(data: bytes, position: int) -> bytes:
    position %= len(data)
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


any_hash = st.binary(min_size=32, max_size=32)


@st.composite
def trees(draw: st.DrawFn) -> tuple[list[bytes], int]:
    """Twice as many leaves as the tree's size, so that other sizes have their leaves too."""
    size = draw(st.integers(1, 200))
    return tree(draw(st.binary(max_size=8)), 2 * size), size


@settings(max_examples=200, deadline=None)
@given(trees(), st.data())
def test_changing_an_inclusion_proof_fails(
    case: tuple[list[bytes], int], data: st.DataObject
) -> None:
    leaves, size = case
    index = data.draw(st.integers(0, size - 1))
    leaf, root = leaves[index], root_hash(leaves[:size])
    proof = inclusion_proof(leaves[:size], index)
    assert verify_inclusion(leaf, index, size, proof, root)
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        byte = data.draw(st.integers(0, 31))
        changed = [flip(p, byte) if i == at else p for i, p in enumerate(proof)]
        assert not verify_inclusion(leaf, index, size, changed, root)
        assert not verify_inclusion(leaf, index, size, proof[:-1], root)
        assert not verify_inclusion(leaf, index, size, proof[1:], root)
    other_index = data.draw(st.integers(0, 2 * size).filter(lambda i: i != index))
    assert not verify_inclusion(leaf, other_index, size, proof, root)
    extra = data.draw(any_hash)
    assert not verify_inclusion(leaf, index, size, [*proof, extra], root)
    assert not verify_inclusion(leaf, index, size, [extra, *proof], root)
    byte = data.draw(st.integers(0, 31))
    assert not verify_inclusion(flip(leaf, byte), index, size, proof, root)
    assert not verify_inclusion(leaf, index, size, proof, flip(root, byte))
    # Another size, with that tree's root: a proof made for one size convinces for no other.
    other_size = data.draw(st.integers(index + 1, 2 * size).filter(lambda n: n != size))
    assert not verify_inclusion(leaf, index, other_size, proof, root_hash(leaves[:other_size]))


@settings(max_examples=200, deadline=None)
@given(trees(), st.data())
def test_changing_a_consistency_proof_fails(
    case: tuple[list[bytes], int], data: st.DataObject
) -> None:
    leaves, size2 = case
    size1 = data.draw(st.integers(1, size2))
    proof = consistency_proof(leaves[:size2], size1)
    root1, root2 = root_hash(leaves[:size1]), root_hash(leaves[:size2])
    assert verify_consistency(size1, size2, proof, root1, root2)
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        byte = data.draw(st.integers(0, 31))
        changed = [flip(p, byte) if i == at else p for i, p in enumerate(proof)]
        assert not verify_consistency(size1, size2, changed, root1, root2)
        assert not verify_consistency(size1, size2, proof[:-1], root1, root2)
        assert not verify_consistency(size1, size2, proof[1:], root1, root2)
    extra = data.draw(any_hash)
    assert not verify_consistency(size1, size2, [*proof, extra], root1, root2)
    assert not verify_consistency(size1, size2, [extra, *proof], root1, root2)
    byte = data.draw(st.integers(0, 31))
    assert not verify_consistency(size1, size2, proof, flip(root1, byte), root2)
    assert not verify_consistency(size1, size2, proof, root1, flip(root2, byte))
    if root1 != root2:
        assert not verify_consistency(size1, size2, proof, root2, root1)
    # Other sizes, with those trees' roots: a proof made for two sizes convinces for no others.
    if size2 > 1:
        other1 = data.draw(st.integers(1, size2).filter(lambda n: n != size1))
        assert not verify_consistency(other1, size2, proof, root_hash(leaves[:other1]), root2)
    other2 = data.draw(st.integers(size1, 2 * size2).filter(lambda n: n != size2))
    assert not verify_consistency(size1, other2, proof, root1, root_hash(leaves[:other2]))


# -- malformed input: False, never an exception ----------------------------------------------


GOOD_LEAF, GOOD_INDEX, GOOD_SIZE, GOOD_PROOF = LEAF_HASHES[5], 5, 8, INCLUSION_PROOFS[2][2]
BAD_HASHES = [None, b"", b"\x00" * 31, b"\x00" * 33, bytearray(32), "a" * 32, 32, [b"\x00"] * 32]
BAD_NUMBERS = [None, -1, -(2**64), 2**64, 2**64 + 5, 2**200, 1.0, "5", True, False, b"\x05"]
BAD_PROOFS = [
    None,
    b"".join(GOOD_PROOF),
    "proof",
    {0: GOOD_PROOF[0]},
    iter(GOOD_PROOF),
    [None, *GOOD_PROOF[1:]],
    [GOOD_PROOF[0][:31], *GOOD_PROOF[1:]],
    [*GOOD_PROOF[:2], GOOD_PROOF[2].hex()],
    [*GOOD_PROOF[:2], bytearray(GOOD_PROOF[2])],
    [*GOOD_PROOF, *GOOD_PROOF],
    [GOOD_PROOF[0]] * 1_000_000,
]


def test_the_good_inclusion_case_used_below_verifies() -> None:
    assert verify_inclusion(GOOD_LEAF, GOOD_INDEX, GOOD_SIZE, GOOD_PROOF, ROOTS[8])


@pytest.mark.parametrize("bad", BAD_HASHES)
def test_malformed_hashes_fail_inclusion(bad: Any) -> None:
    assert verify_inclusion(bad, GOOD_INDEX, GOOD_SIZE, GOOD_PROOF, ROOTS[8]) is False
    assert verify_inclusion(GOOD_LEAF, GOOD_INDEX, GOOD_SIZE, GOOD_PROOF, bad) is False


@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_malformed_numbers_fail_inclusion(bad: Any) -> None:
    assert verify_inclusion(GOOD_LEAF, bad, GOOD_SIZE, GOOD_PROOF, ROOTS[8]) is False
    assert verify_inclusion(GOOD_LEAF, GOOD_INDEX, bad, GOOD_PROOF, ROOTS[8]) is False


@pytest.mark.parametrize("bad", BAD_PROOFS, ids=range(len(BAD_PROOFS)))
def test_malformed_proofs_fail_inclusion(bad: Any) -> None:
    assert verify_inclusion(GOOD_LEAF, GOOD_INDEX, GOOD_SIZE, bad, ROOTS[8]) is False


GOOD_SIZE1, GOOD_SIZE2, GOOD_CONSISTENCY = 6, 8, CONSISTENCY_PROOFS[2][2]


@pytest.mark.parametrize("bad", BAD_HASHES)
def test_malformed_hashes_fail_consistency(bad: Any) -> None:
    sizes = (GOOD_SIZE1, GOOD_SIZE2)
    assert verify_consistency(*sizes, GOOD_CONSISTENCY, bad, ROOTS[8]) is False
    assert verify_consistency(*sizes, GOOD_CONSISTENCY, ROOTS[6], bad) is False
    assert verify_consistency(1, 1, [], bad, bad) is False
    assert verify_consistency(0, 0, [], bad, bad) is False


@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_malformed_numbers_fail_consistency(bad: Any) -> None:
    proof, root1, root2 = GOOD_CONSISTENCY, ROOTS[6], ROOTS[8]
    assert verify_consistency(bad, GOOD_SIZE2, proof, root1, root2) is False
    assert verify_consistency(GOOD_SIZE1, bad, proof, root1, root2) is False
    assert verify_consistency(bad, bad, [], root1, root1) is False


@pytest.mark.parametrize("bad", [*BAD_PROOFS, [b"\x00" * 31]], ids=range(len(BAD_PROOFS) + 1))
def test_malformed_proofs_fail_consistency(bad: Any) -> None:
    sizes = (GOOD_SIZE1, GOOD_SIZE2)
    assert verify_consistency(*sizes, bad, ROOTS[6], ROOTS[8]) is False
    assert verify_consistency(2, 4, bad, ROOTS[2], ROOTS[4]) is False


def test_a_tuple_proof_is_a_sequence_too() -> None:
    assert verify_inclusion(GOOD_LEAF, GOOD_INDEX, GOOD_SIZE, tuple(GOOD_PROOF), ROOTS[8])
    assert verify_consistency(6, 8, tuple(GOOD_CONSISTENCY), ROOTS[6], ROOTS[8])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: inclusion_proof(LEAF_HASHES, 8), "outside"),
        (lambda: inclusion_proof(LEAF_HASHES, -1), "outside"),
        (lambda: inclusion_proof([], 0), "outside"),
        (lambda: consistency_proof(LEAF_HASHES, 9), "outside"),
        (lambda: consistency_proof(LEAF_HASHES, -1), "outside"),
        (lambda: root_hash([b"short"]), "32 bytes"),
    ],
)
def test_proof_generators_refuse_bad_arguments(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# -- proof lengths, at their exact boundaries (RFC 9162) ---------------------------------------

LEAVES = tree(b"lengths", 70)
ROOTS_70 = [root_hash(LEAVES[:size]) for size in range(71)]


def inclusion_length(index: int, size: int) -> int:
    """The audit path's length, as docs/audit.md §3 gives it (transparency-dev's decomposition)."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + bin(index >> inner).count("1")


def consistency_length(size1: int, size2: int) -> int:
    if size1 in (0, size2):
        return 0
    shift = (size1 & -size1).bit_length() - 1  # trailing zero bits
    power_of_two = size1 & (size1 - 1) == 0
    return inclusion_length(size1 - 1, size2) - shift + (0 if power_of_two else 1)


def test_an_inclusion_proof_one_hash_short_or_one_too_long_fails() -> None:
    for size in range(1, 71):
        root = ROOTS_70[size]
        for index in range(size):
            leaf, proof = LEAVES[index], inclusion_proof(LEAVES[:size], index)
            assert len(proof) == inclusion_length(index, size)
            assert verify_inclusion(leaf, index, size, proof, root)
            if proof:
                assert not verify_inclusion(leaf, index, size, proof[:-1], root)
                assert not verify_inclusion(leaf, index, size, proof[1:], root)
            for extra in (root, LEAVES[0], proof[-1] if proof else leaf):
                assert not verify_inclusion(leaf, index, size, [*proof, extra], root)


def test_a_shorter_trees_proof_fails_for_a_larger_claimed_size() -> None:
    """Against the larger tree's root it always fails; against its own root too, unless it
    happens to be as long as the larger tree's path (then only the checkpoint, which signs
    size and root together, tells them apart: see the size-3 and size-4 case above)."""
    for size in range(1, 33):
        for index in range(size):
            leaf, proof = LEAVES[index], inclusion_proof(LEAVES[:size], index)
            for claimed in range(size + 1, 34):
                assert not verify_inclusion(leaf, index, claimed, proof, ROOTS_70[claimed])
                if len(proof) != inclusion_length(index, claimed):
                    assert not verify_inclusion(leaf, index, claimed, proof, ROOTS_70[size])


def test_the_first_leaf_after_a_tree_and_its_last_one() -> None:
    """A checkpoint of `size` holds leaves 0 to size - 1: the next one is in none of its size."""
    for size in range(1, 70):
        last, following = LEAVES[size - 1], LEAVES[size]
        proof = inclusion_proof(LEAVES[:size], size - 1)
        assert verify_inclusion(last, size - 1, size, proof, ROOTS_70[size])
        assert not verify_inclusion(following, size, size, proof, ROOTS_70[size])
        later = inclusion_proof(LEAVES[: size + 1], size)
        assert verify_inclusion(following, size, size + 1, later, ROOTS_70[size + 1])
        assert not verify_inclusion(following, size, size, later, ROOTS_70[size])
        assert not verify_inclusion(following, size, size + 1, later, ROOTS_70[size])


def test_a_consistency_proof_one_hash_short_or_one_too_long_fails() -> None:
    for size2 in range(71):
        for size1 in range(size2 + 1):
            proof = consistency_proof(LEAVES[:size2], size1)
            roots = (ROOTS_70[size1], ROOTS_70[size2])
            assert len(proof) == consistency_length(size1, size2), (size1, size2)
            assert verify_consistency(size1, size2, proof, *roots)
            if proof:
                assert not verify_consistency(size1, size2, proof[:-1], *roots)
                assert not verify_consistency(size1, size2, proof[1:], *roots)
            for extra in (roots[1], LEAVES[0]):
                assert not verify_consistency(size1, size2, [*proof, extra], *roots)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 8, 70])
def test_consistency_between_equal_sizes_is_an_empty_proof_and_equal_roots(size: int) -> None:
    root, other = ROOTS_70[size], ROOTS_70[size - 1]
    assert consistency_proof(LEAVES[:size], size) == []
    assert verify_consistency(size, size, [], root, root)
    assert not verify_consistency(size, size, [], root, other)
    assert not verify_consistency(size, size, [root], root, root)


@pytest.mark.parametrize("size2", [0, 1, 2, 3, 8, 70])
def test_consistency_from_size_0_is_an_empty_proof_from_the_empty_root(size2: int) -> None:
    root2 = ROOTS_70[size2]
    assert consistency_proof(LEAVES[:size2], 0) == []
    assert verify_consistency(0, size2, [], EMPTY_ROOT, root2)
    assert not verify_consistency(0, size2, [EMPTY_ROOT], EMPTY_ROOT, root2)
    assert not verify_consistency(0, size2, [], LEAVES[0], root2)


@pytest.mark.parametrize("size2", [1, 2, 3, 4, 5, 8, 9, 70])
def test_consistency_from_size_1_is_the_first_leafs_path(size2: int) -> None:
    proof = consistency_proof(LEAVES[:size2], 1)
    assert proof == inclusion_proof(LEAVES[:size2], 0)
    assert len(proof) == (size2 - 1).bit_length()
    assert verify_consistency(1, size2, proof, LEAVES[0], ROOTS_70[size2])
    assert not verify_consistency(1, size2, proof, LEAVES[1], ROOTS_70[size2])
    if proof:
        assert not verify_consistency(1, size2, proof[:-1], LEAVES[0], ROOTS_70[size2])
    assert not verify_consistency(1, size2, [*proof, LEAVES[0]], LEAVES[0], ROOTS_70[size2])


def path_root(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes:
    """The root an audit path leads to, by RFC 9162's recursive definition of PATH."""
    if size == 1:
        assert not path
        return leaf
    k = 1 << ((size - 1).bit_length() - 1)
    if index < k:
        return node_hash(path_root(leaf, index, k, path[:-1]), path[-1])
    return node_hash(path[-1], path_root(leaf, index - k, size - k, path[:-1]))


@pytest.mark.parametrize("index", [0, 1, 2**63, 2**64 - 3, 2**64 - 2])
def test_the_largest_tree_has_2_64_minus_1_leaves(index: int) -> None:
    """Sizes and indexes are 64-bit: a tree of 2^64 - 1 leaves is verified, one of 2^64 not,
    even with a path of the right length and the root it leads to."""
    largest = 2**64 - 1
    path = [leaf_hash(bytes([i])) for i in range(inclusion_length(index, largest))]
    root = path_root(LEAVES[0], index, largest, path)
    assert verify_inclusion(LEAVES[0], index, largest, path, root)
    beyond = [leaf_hash(bytes([i])) for i in range(inclusion_length(index, 2**64))]
    assert not verify_inclusion(
        LEAVES[0], index, 2**64, beyond, path_root(LEAVES[0], index, 2**64, beyond)
    )
    assert not verify_inclusion(LEAVES[0], largest, largest, path, root)
