"""The committed schema.graphql is what the code serves."""

from __future__ import annotations

from pathlib import Path

from graphql import get_named_type

from mycity.graphql.schema import schema

SCHEMA_FILE = Path(__file__).parent.parent / "schema.graphql"


def test_committed_schema_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text() == schema.as_str() + "\n", (
        "schema.graphql is stale: run `mycity export-schema schema.graphql`"
    )


def test_every_mutation_takes_one_input_and_returns_user_errors() -> None:
    mutations = schema._schema.mutation_type
    assert mutations is not None
    for name, field in mutations.fields.items():
        assert list(field.args) == ["input"], name
        payload = get_named_type(field.type)
        assert "userErrors" in payload.fields, name  # type: ignore[union-attr]
