"""Internal errors masked in an operation's result and in each result a stream sends; a
client's own mistakes and the store out of reach told as they are."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from graphql import GraphQLError

from mycity.domain.errors import ErrorCode, UserError
from mycity.graphql.limits import should_mask_error
from mycity.graphql.masking import MASKED, MaskInternalErrors


class Unreachable(Exception):
    pass


def request(result: Any = None) -> MaskInternalErrors:
    city = SimpleNamespace(store_unavailable=lambda e: isinstance(e, Unreachable))
    extension = MaskInternalErrors(should_mask_error)
    extension.execution_context = SimpleNamespace(  # type: ignore[assignment]
        context=SimpleNamespace(city=city), result=result
    )
    return extension


def errors() -> list[GraphQLError]:
    return [
        GraphQLError("password=hunter2", original_error=RuntimeError("password=hunter2")),
        GraphQLError("No such file", original_error=UserError(ErrorCode.NOT_FOUND, "No such file")),
        GraphQLError("db down", original_error=Unreachable("10.0.0.5")),
        GraphQLError("Syntax Error: Unexpected Name"),
    ]


def messages(result: Any) -> list[str]:
    return [e.message for e in result.errors]


def test_an_operations_internal_errors_are_masked_once_it_is_done() -> None:
    result = SimpleNamespace(errors=errors())
    extension = request(result)
    hook = extension.on_operation()
    next(hook)
    assert messages(result)[0] == "password=hunter2"  # not before it is done
    assert next(hook, None) is None
    told = messages(result)
    assert told[0] == MASKED
    assert told[1:] == ["No such file", told[2], "Syntax Error: Unexpected Name"]
    assert (
        "10.0.0.5" not in told[2] and result.errors[2].extensions["code"] == "SERVICE_UNAVAILABLE"
    )
    assert result.errors[0].original_error is None


def test_each_streamed_result_is_masked_as_it_is_sent_and_not_again() -> None:
    extension = request()
    operation = extension.on_operation()
    next(operation)
    sent = [SimpleNamespace(errors=errors()), SimpleNamespace(errors=None)]
    for result in sent:
        hook = extension.on_stream_result(result)
        next(hook)
        assert next(hook, None) is None
    assert messages(sent[0])[0] == MASKED and sent[1].errors is None
    masked = sent[0].errors[0]
    extension.execution_context.result = sent[0]  # type: ignore[assignment]
    assert next(operation, None) is None
    assert sent[0].errors[0] is masked  # masked once
