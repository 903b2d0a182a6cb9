"""What a client is told of a failure that is not its own mistake.

Internal errors are masked ("Unexpected error."): their messages may tell an attacker how
the system is built. But the store out of reach for a moment (a dropped connection, a pool
with none free, a failover) is no bug and no secret: it is said as such, typed and
retryable (`SERVICE_UNAVAILABLE` with `retryAfterSeconds`), so that the app tries again.
"""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from mycity.domain.errors import Unavailable


class MaskInternalErrors(MaskErrors):
    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if not self.execution_context.context.city.store_unavailable(error.original_error):
            return super().anonymise_error(error)
        unavailable = Unavailable()
        return GraphQLError(
            message=unavailable.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=unavailable,
        )
