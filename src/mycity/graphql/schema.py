"""The schema, with the limits and caches every request goes through."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)

from mycity.domain.errors import UserError
from mycity.graphql.mutations import Mutation
from mycity.graphql.queries import Query
from mycity.graphql.subscriptions import Subscription

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2000


def should_mask_error(error: GraphQLError) -> bool:
    """Mask internal errors; keep our own user errors and GraphQL's own validation errors."""
    original = error.original_error
    return original is not None and not isinstance(original, UserError | GraphQLError)


class CitySchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Log what went wrong inside; a refusal the user can fix is not worth a traceback."""
        internal = [e for e in errors if not isinstance(e.original_error, UserError)]
        if internal:
            super().process_errors(internal, execution_context)


schema = CitySchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        # Factories, not instances: a shared instance would race across concurrent requests.
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaskErrors(should_mask_error=should_mask_error),
    ],
)
