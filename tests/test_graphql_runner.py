"""The schema's one extension entered directly at each stage; any other set of extensions by
strawberry's own runner; an async hook refused on the synchronous path, as strawberry does."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from strawberry.extensions.runner import SchemaExtensionsRunner

from mycity.graphql.limits import CityRequest
from mycity.graphql.runner import OneExtensionRunner
from mycity.graphql.schema import schema


def runner(*extensions: Any) -> SchemaExtensionsRunner:
    return schema.create_extensions_runner(SimpleNamespace(), list(extensions))  # type: ignore[arg-type]


def test_one_city_extension_gets_the_direct_runner_and_two_get_strawberrys() -> None:
    assert type(runner(CityRequest())) is OneExtensionRunner
    assert type(runner(CityRequest(), CityRequest())) is SchemaExtensionsRunner


def test_the_parse_hook_runs_in_its_stage_and_the_async_execute_hook_refuses_sync() -> None:
    extension = CityRequest()
    query = "{ me { role } }"
    extension.execution_context = SimpleNamespace(  # type: ignore[assignment]
        query=query, parse_options={}, graphql_document=None
    )
    direct = runner(extension)
    with direct.parsing():
        pass
    assert extension.execution_context.graphql_document is not None
    with pytest.raises(RuntimeError, match="synchronously"), direct.executing():
        pass
