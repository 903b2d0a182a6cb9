"""Each request's cost, counted before it runs: how many QR codes it asks to draw.

Aliases and fragments count every time they select a drawing field, and a `png` given as a
variable counts as the variable's value. A request over its budget, or a caller over their
rate (`identity/costs.py`), is refused whole with a typed error, before any resolver runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from graphql.utilities import value_from_ast_untyped
from strawberry.types import ExecutionContext

from mycity.graphql.context import blocking

Arguments = Mapping[str, Any]


def _png(arguments: Arguments) -> bool:
    return arguments.get("png") is True


def _input_png(arguments: Arguments) -> bool:
    given = arguments.get("input")
    return isinstance(given, Mapping) and given.get("png") is True


# The root fields that draw a QR code, and whether their arguments ask for one.
DRAWING: Mapping[OperationType, Mapping[str, Callable[[Arguments], bool]]] = {
    OperationType.QUERY: {"cityCode": _png, "placeCode": _png},
    OperationType.MUTATION: {"presentLicence": _input_png},
}


def drawn(document: DocumentNode, operation_name: str | None, variables: dict[str, Any]) -> int:
    """How many QR codes the operation to run asks for."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next(
        (o for o in operations if operation_name is None or _name(o) == operation_name), None
    )
    if chosen is None or chosen.operation not in DRAWING:
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    asks = DRAWING[chosen.operation]
    return sum(
        1
        for field in _root_fields(chosen.selection_set, fragments)
        if field.name.value in asks
        and asks[field.name.value](
            {
                a.name.value: value_from_ast_untyped(a.value, variables)
                for a in field.arguments or ()
            }
        )
    )


def _name(operation: OperationDefinitionNode) -> str | None:
    return operation.name.value if operation.name else None


def _root_fields(
    selections: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    """The fields selected at this level, through fragments (validation has refused cycles)."""
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode) and (
            fragment := fragments.get(selection.name.value)
        ):
            yield from _root_fields(fragment.selection_set, fragments)


async def charge(execution: ExecutionContext) -> None:
    """Count a request's drawings against the caller's budget before it executes."""
    document = execution.graphql_document
    variables = execution.variables or {}
    count = 0 if document is None else drawn(document, execution.operation_name, variables)
    if count:
        context = execution.context
        principal = context.principal
        caller = principal.subject if principal else f"address:{context.origin}"
        await blocking(context.city.costs.charge, caller, count)
