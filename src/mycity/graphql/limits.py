"""The limits every request meets, and which errors a client may see.

The depth and alias limits are validation rules, built here once: the validation cache is
keyed by the rules, so a rule class built per request (as strawberry's limiter extensions
build theirs) would never hit it. A repeated query costs parsing and validation nothing.

Every request's checks run in one extension, `CityRequest`: strawberry makes each
extension anew per request and enters each of its hooks as a context manager at every
stage, so seven small extensions cost a worker about a seventh of its time on a small
query (a profile under load); one extension with four hooks costs a fraction of that, and
entered by `runner.py`'s runner, less again.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import strawberry
from graphql import (
    SKIP,
    ASTValidationRule,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    ValidationRule,
    get_named_type,
    is_introspection_type,
    parse,
)
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.relay.types import GlobalIDValueError
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from mycity.domain.errors import ErrorCode, UserError
from mycity.graphql import costs
from mycity.graphql.context import lag_report
from mycity.graphql.masking import MaskInternalErrors
from mycity.graphql.runner import OneExtensionRunner, wrapped_hooks

log = logging.getLogger(__name__)

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2000
CACHED_DOCUMENTS = 512

RULES = (
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
)
INTROSPECTION_NEEDS_SIGN_IN = (
    "Introspection (__schema, __type) is answered to a signed-in caller only: send a valid "
    "access token as the header `Authorization: Bearer <access token>`, or run the server "
    "with MYCITY_DEV=1 (in development only)"
)


class IntrospectionNeedsSignIn(ValidationRule):
    """Outside development, the schema is described only to a caller who signed in: the first
    field that returns an introspection type is refused, once, with what to do."""

    def enter_field(self, node: FieldNode, *_args: Any) -> Any:
        named = get_named_type(self.context.get_type())
        if named and is_introspection_type(named):
            self.report_error(
                GraphQLError(
                    INTROSPECTION_NEEDS_SIGN_IN,
                    node,
                    extensions={"code": ErrorCode.UNAUTHENTICATED.value},
                )
            )
            return SKIP  # not again for the fields inside it
        return None


ANONYMOUS_RULES = (*RULES, IntrospectionNeedsSignIn)


def rules_for(context: Any) -> tuple[type[ValidationRule], ...]:
    """The limits' rules; an anonymous caller outside development mode gets no
    introspection as well."""
    anonymous = context.principal is None and not context.city.settings.dev_mode
    return ANONYMOUS_RULES if anonymous else RULES


parse_cached = functools.lru_cache(maxsize=CACHED_DOCUMENTS)(parse)


@functools.lru_cache(maxsize=CACHED_DOCUMENTS)
def validate_cached(
    schema: GraphQLSchema, query: str, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """The validation errors of a query, cached by its text: a parsed document is a frozen
    dataclass whose hash walks every node of it, at every request."""
    return validate_document(schema, parse_cached(query, max_tokens=MAX_TOKENS), rules)


class CityRequest(MaskInternalErrors):
    """The token limit, the depth, alias and introspection rules, cached parsing and
    validation, the drawing costs, masked internal errors and the read models' lag: every
    request's checks, as one extension."""

    def __init__(self) -> None:
        super().__init__(should_mask=should_mask_error)

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        execution.parse_options["max_tokens"] = MAX_TOKENS
        execution.validation_rules = (
            *execution.validation_rules,
            *rules_for(execution.context),
        )
        yield from super().on_operation()  # errors masked once the operation is done

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        execution.graphql_document = parse_cached(execution.query, **execution.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        schema, rules, query = execution.schema._schema, execution.validation_rules, execution.query
        if query is not None:
            execution.pre_execution_errors = validate_cached(schema, query, rules)
        else:  # a document given already parsed
            assert execution.graphql_document is not None
            execution.pre_execution_errors = validate_document(
                schema, execution.graphql_document, rules
            )
        yield

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        await costs.charge(self.execution_context)
        yield

    def get_results(self) -> dict[str, Any]:
        return lag_report(self.execution_context.context)


def is_clients_mistake(error: GraphQLError) -> bool:
    """A refusal of what the client sent: our user errors, GraphQL's own syntax, validation
    and coercion errors (a malformed global id among them)."""
    original = error.original_error
    return original is None or isinstance(original, UserError | GraphQLError | GlobalIDValueError)


def should_mask_error(error: GraphQLError) -> bool:
    """Mask internal errors: their messages may tell an attacker how the system is built."""
    return not is_clients_mistake(error)


HOOKS = wrapped_hooks(CityRequest)


class CitySchema(strawberry.Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        """CityRequest alone (every request): its hooks entered directly (`runner.py`)."""
        if len(extensions) == 1 and type(extensions[0]) is CityRequest:
            return OneExtensionRunner(execution_context, extensions, HOOKS)
        return super().create_extensions_runner(execution_context, extensions)

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Log what went wrong inside, with its traceback, at ERROR; the store out of reach,
        in one line at WARNING. A client's mistake is logged as such, at INFO, by kind only:
        its message may echo the input, and the input may be an ID number or a phone."""
        city = getattr(getattr(execution_context, "context", None), "city", None)
        internal, unreachable = [], []
        for error in errors:
            if is_clients_mistake(error):
                continue
            if city is not None and city.store_unavailable(error.original_error):
                unreachable.append(error)
            else:
                internal.append(error)
        if unreachable:  # told to the client as SERVICE_UNAVAILABLE: no bug to trace
            log.warning("The store was out of reach: %s", unreachable[0].original_error)
        refused = [
            e
            for e in errors
            if is_clients_mistake(e) and not isinstance(e.original_error, UserError)
        ]
        if refused:
            log.info(
                "Refused a GraphQL request: %d syntax, validation or input errors", len(refused)
            )
        if internal:
            super().process_errors(internal, execution_context)
