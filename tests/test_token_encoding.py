"""An access token has one spelling: unpadded base64url in its canonical form (RFC 7515
section 2, RFC 4648 section 5). A lenient decoder reads many strings as the same bytes (with
padding, with `+` and `/`, with stray bits in the last character, with characters it skips),
and each of those twins is refused, even after the token itself was verified and remembered.
"""

from __future__ import annotations

import binascii
import string

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from mycity.bootstrap import City
from mycity.domain.errors import ErrorCode
from mycity.identity.principal import Principal
from tests.domain_helpers import refused
from tests.helpers import OFFICER, CitizenFactory

ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def lenient(segment: str) -> bytes:
    """The bytes a lenient decoder reads: both alphabets, padding or none, stray bits and
    characters outside the alphabet ignored."""
    standard = segment.replace("-", "+").replace("_", "/").rstrip("=")
    return binascii.a2b_base64((standard + "==").encode(), strict_mode=False)


@st.composite
def twin(draw: st.DrawFn, segment: str) -> str:
    """Another spelling of the same bytes as `segment`."""
    ways = ["padding", "outside the alphabet"]
    if len(segment) % 4 in (2, 3):
        ways.append("stray bits")
    if any(c in "-_" for c in segment):
        ways.append("standard alphabet")
    way = draw(st.sampled_from(ways))
    if way == "padding":
        return segment + "=" * draw(st.integers(1, 3))
    if way == "stray bits":  # the last character carries 4 or 2 bits nobody reads
        unused = 4 if len(segment) % 4 == 2 else 2
        value = ALPHABET.index(segment[-1]) + draw(st.integers(1, 2**unused - 1))
        return segment[:-1] + ALPHABET[value]
    if way == "standard alphabet":
        at = draw(st.sampled_from([i for i, c in enumerate(segment) if c in "-_"]))
        return segment[:at] + {"-": "+", "_": "/"}[segment[at]] + segment[at + 1 :]
    at = draw(st.integers(0, len(segment)))
    return segment[:at] + draw(st.sampled_from([" ", "\n", "!", "~", "*"])) + segment[at:]


@st.composite
def twins(draw: st.DrawFn, token: str) -> str:
    """The token with one or more of its three segments spelt another way."""
    parts = token.split(".")
    changed = draw(st.sets(st.integers(0, 2), min_size=1))
    return ".".join(draw(twin(p)) if i in changed else p for i, p in enumerate(parts))


def test_every_other_spelling_of_a_valid_token_is_refused(city: City) -> None:
    token = city.tokens.access_token(OFFICER)
    assert city.tokens.verify(token) == OFFICER  # verified, and remembered

    @settings(max_examples=300, deadline=None)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        other = data.draw(twins(token))
        assert other != token
        assert [lenient(p) for p in other.split(".")] == [lenient(p) for p in token.split(".")]
        with refused(ErrorCode.INVALID_TOKEN):
            city.tokens.verify(other)

    check()
    assert city.tokens.verify(token) == OFFICER  # the canonical one still is
    assert city.tokens.expires_at(token) > 0


def test_a_padded_twin_is_refused_before_the_token_itself_was_verified(city: City) -> None:
    token = city.tokens.access_token(OFFICER)
    for padded in (token + "==", token.replace(".", "=.", 1)):
        with refused(ErrorCode.INVALID_TOKEN):
            city.tokens.verify(padded)
    assert city.tokens.verify(token) == OFFICER


def test_the_api_answers_a_twin_unauthenticated(
    server: str, city: City, people: CitizenFactory
) -> None:
    principal: Principal = people.register("双").principal
    token = city.tokens.access_token(principal)

    def me(authorization: str) -> httpx.Response:
        return httpx.post(
            f"{server}/graphql",
            json={"query": "{ me { name } }"},
            headers={"authorization": authorization},
            timeout=30,
        )

    assert me(f"Bearer {token}").json()["data"] == {"me": {"name": "双"}}
    (error,) = me(f"Bearer {token}==").json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
