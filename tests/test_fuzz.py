"""Every mutation, fed what an attacker would type: never "Unexpected error", never a 5xx.

The inputs are drawn from the schema itself: each mutation's input type, field by field,
with strings of any code point (lone surrogates and NUL among them), ids that are global ids
of every type or none, enums right and wrong, and now and then a value of the wrong type
altogether. They go over HTTP to the served app, signed in as a citizen, as an officer, or
not at all.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mycity.demo import CITIZENS
from mycity.graphql.schema import schema
from tests.helpers import Api

MUTATIONS = schema._schema.mutation_type.fields  # type: ignore[union-attr]
NASTY = ["\ud800", "\udfff", "\x00", "\u202e", "\ufeff", "%", "_", "\\", "'", '"', "\n"]
# Joined by hand: hypothesis's own text() never holds a lone surrogate.
TEXT = st.lists(st.characters(codec=None) | st.sampled_from(NASTY), max_size=40).map("".join)
UUIDS = st.one_of(st.uuids().map(str), TEXT)
GLOBAL_IDS = st.builds(
    lambda kind, node_id: base64.b64encode(
        f"{kind}:{node_id}".encode("utf-8", "surrogatepass")
    ).decode(),
    st.sampled_from(["Citizen", "Enterprise", "Viewer", "Payment", ""]),
    UUIDS,
)
ANYTHING = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=5,
)


def values(kind: GraphQLInputType) -> st.SearchStrategy[Any]:
    """Values for an input type: mostly of its shape, sometimes of none."""
    nullable = not isinstance(kind, GraphQLNonNull)
    inner = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    if isinstance(inner, GraphQLList):
        shaped: st.SearchStrategy[Any] = st.lists(values(inner.of_type), max_size=4)
    elif isinstance(inner, GraphQLEnumType):
        shaped = st.sampled_from(list(inner.values)) | TEXT
    elif isinstance(inner, GraphQLInputObjectType):
        required = {n: f for n, f in inner.fields.items() if isinstance(f.type, GraphQLNonNull)}
        shaped = st.fixed_dictionaries(
            {name: values(field.type) for name, field in required.items()},
            optional={
                name: values(field.type)
                for name, field in inner.fields.items()
                if name not in required
            },
        )
    elif isinstance(inner, GraphQLScalarType) and inner.name == "ID":
        shaped = GLOBAL_IDS | TEXT
    elif isinstance(inner, GraphQLScalarType) and inner.name == "Int":
        shaped = st.integers(min_value=-(2**40), max_value=2**40)
    elif isinstance(inner, GraphQLScalarType) and inner.name == "Boolean":
        shaped = st.booleans()
    else:
        shaped = TEXT
    if isinstance(inner, GraphQLScalarType):  # a value of another type, one time in four
        shaped = st.one_of(shaped, shaped, shaped, ANYTHING)
    return st.none() | shaped if nullable else shaped


def request(name: str) -> st.SearchStrategy[dict[str, Any]]:
    field = MUTATIONS[name]
    declared = ", ".join(f"${a}: {arg.type}" for a, arg in field.args.items())
    passed = ", ".join(f"{a}: ${a}" for a in field.args)
    query = (
        f"mutation{f'({declared})' if declared else ''} "
        f"{{ {name}{f'({passed})' if passed else ''} {{ __typename }} }}"
    )
    variables = st.fixed_dictionaries({a: values(arg.type) for a, arg in field.args.items()})
    return variables.map(lambda v: {"query": query, "variables": v})


@pytest.fixture
def callers(api: Api, demo: dict[str, dict[str, str]]) -> list[str | None]:
    citizen = api.log_in_citizen(CITIZENS[1].phone)["accessToken"]
    officer = api.log_in_client("officer-psb-01", demo["officer-psb-01"]["secret"])
    return [None, citizen, officer]


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_no_mutation_fails_inside_on_any_input(
    server: str, callers: list[str | None], mutation: str
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:

        @settings(
            max_examples=60,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(body=request(mutation), caller=st.sampled_from(callers))
        def answers_cleanly(body: dict[str, Any], caller: str | None) -> None:
            headers = {"content-type": "application/json"}
            if caller:
                headers["authorization"] = f"Bearer {caller}"
            response = client.post("/graphql", content=json.dumps(body), headers=headers)
            assert response.status_code < 500, (body, response.text)
            assert "Unexpected error" not in response.text, (body, response.text)

        answers_cleanly()
