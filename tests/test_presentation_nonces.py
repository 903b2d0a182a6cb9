"""A compact presentation's nonce: the city alone reads back the licence; nobody else
reads it, links two of them, or alters one into another that names a licence."""

from __future__ import annotations

from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from mycity.identity.presentation_nonces import SIZE, PresentationNonces

NONCES = PresentationNonces(bytes(range(32)))


@settings(max_examples=100)
@given(st.uuids())
def test_the_city_reads_back_the_licence_and_another_key_does_not(licence: UUID) -> None:
    nonce = NONCES.make(licence)
    assert len(nonce) == SIZE and NONCES.licence_of(nonce) == licence
    assert PresentationNonces(bytes(32)).licence_of(nonce) != licence


def test_two_nonces_of_one_licence_share_no_block() -> None:
    licence = uuid4()
    made = [NONCES.make(licence) for _ in range(1000)]
    assert len({n[:16] for n in made}) == len({n[16:] for n in made}) == 1000


@settings(max_examples=100)
@given(st.integers(0, SIZE - 1), st.integers(1, 255))
def test_an_altered_nonce_names_no_licence(at: int, flip: int) -> None:
    nonce = bytearray(NONCES.make(uuid4()))
    nonce[at] ^= flip
    assert NONCES.licence_of(bytes(nonce)) is None


def test_a_nonce_of_another_length_names_no_licence() -> None:
    nonce = NONCES.make(uuid4())
    assert NONCES.licence_of(nonce[:-1]) is None
    assert NONCES.licence_of(nonce + b"\x00") is None
