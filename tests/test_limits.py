"""The request limits at their exact boundaries, and the caches that keep them cheap."""

from __future__ import annotations

from typing import Any

from mycity.demo import CITIZENS
from mycity.graphql.limits import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_TOKENS,
    parse_cached,
    validate_cached,
)
from tests.helpers import Api


def messages(api: Api, query: str, token: str) -> list[str]:
    try:
        api.run(query, token=token)
    except Exception as e:  # a GraphQL error: the client raises with them
        return [str(error.get("message")) for error in getattr(e, "errors", None) or [e]]
    return []


def deep(depth: int) -> str:
    """`me` and then `citizen`s down to `depth` levels below the root (the limiter's count)."""
    return "{ me " + "{ citizen " * (depth - 1) + "{ id }" + " }" * depth


def aliased(count: int) -> str:
    return "{ " + " ".join(f"a{i}: me {{ role }}" for i in range(count)) + " }"


def tokens(count: int) -> str:
    """`{ me { role … } }` with exactly `count` lexical tokens: `{ me { role } }` is six,
    `role @include(if: true)` eight and `role` one (fewer fields than tokens, since a
    thousand fields of one name take graphql-core's overlap check past the stack)."""
    fields, ones = divmod(count - 6, 8)
    return "{ me { role " + "role @include(if: true) " * fields + "role " * ones + "} }"


def test_limits_hold_at_their_exact_boundaries(api: Api, demo: Any) -> None:
    token = api.log_in_citizen(CITIZENS[0].phone)["accessToken"]
    too_deep = messages(api, deep(MAX_DEPTH + 1), token)
    assert any("exceeds maximum operation depth of 10" in m for m in too_deep), too_deep
    assert not any("depth" in m for m in messages(api, deep(MAX_DEPTH), token))

    assert messages(api, aliased(MAX_ALIASES), token) == []
    assert messages(api, aliased(MAX_ALIASES + 1), token) == ["16 aliases found. Allowed: 15"]

    assert messages(api, tokens(MAX_TOKENS), token) == []
    too_long = messages(api, tokens(MAX_TOKENS + 1), token)
    assert too_long and "2000 tokens" in too_long[0], too_long


def test_a_repeated_query_is_neither_parsed_nor_validated_again(api: Api, demo: Any) -> None:
    token = api.log_in_citizen(CITIZENS[0].phone)["accessToken"]
    query = "{ me { role citizen { name realNameLevel } } }"
    api.run(query, token=token)
    parsed, validated = parse_cached.cache_info(), validate_cached.cache_info()
    for _ in range(3):
        assert api.run(query, token=token)["me"]["citizen"]["name"] == CITIZENS[0].name
    assert parse_cached.cache_info().hits == parsed.hits + 3
    assert validate_cached.cache_info().hits == validated.hits + 3
    assert validate_cached.cache_info().misses == validated.misses
