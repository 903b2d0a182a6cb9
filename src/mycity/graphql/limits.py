"""The limits every request meets, and which errors a client may see.

The depth and alias limits are validation rules. strawberry's limiter extensions build a
new rule class each time they are made, and they are made per request (a shared extension
instance would race across concurrent requests), so the validation cache, keyed by the
rules, never hit and graphql-core validated every request again. The rule classes are
built here once; each request's extension adds the same ones, and a repeated query costs
parsing and validation nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import (
    SKIP,
    FieldNode,
    GraphQLError,
    ValidationRule,
    get_named_type,
    is_introspection_type,
)
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.relay.types import GlobalIDValueError

from mycity.domain.errors import ErrorCode, UserError
from mycity.graphql.context import ReportLag
from mycity.graphql.costs import Costs
from mycity.graphql.masking import MaskInternalErrors

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


class Limits(AddValidationRules):
    """The rules above, the same classes on every request (the validation cache keys on
    them); an anonymous caller outside development mode gets no introspection as well."""

    def __init__(self) -> None:
        super().__init__(list(RULES))

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        anonymous = context.principal is None and not context.city.settings.dev_mode
        rules = ANONYMOUS_RULES if anonymous else RULES
        self.execution_context.validation_rules = (
            *self.execution_context.validation_rules,
            *rules,
        )
        yield


def is_clients_mistake(error: GraphQLError) -> bool:
    """A refusal of what the client sent: our user errors, GraphQL's own syntax, validation
    and coercion errors (a malformed global id among them)."""
    original = error.original_error
    return original is None or isinstance(original, UserError | GraphQLError | GlobalIDValueError)


def should_mask_error(error: GraphQLError) -> bool:
    """Mask internal errors: their messages may tell an attacker how the system is built."""
    return not is_clients_mistake(error)


def extensions() -> list[Any]:
    """Factories, not instances: a shared instance would race across concurrent requests."""
    factories: list[Any] = [
        lambda: ParserCache(maxsize=CACHED_DOCUMENTS),
        lambda: ValidationCache(maxsize=CACHED_DOCUMENTS),
        Limits,
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        Costs,
        lambda: MaskInternalErrors(should_mask_error=should_mask_error),
        ReportLag,
    ]
    return factories


class CitySchema(strawberry.Schema):
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
