"""The baseline of `benchmarks.http`: the least a strawberry app served like mycity costs.

One field, the parser and validation caches (as factories: shared instances race across
concurrent requests), the same Starlette route and the same uvicorn options as `mycity serve`,
so that the ratio to it shows what mycity's own work adds. Served by uvicorn with
`uvicorn benchmarks.hello:create_app --factory ...`.
"""

from __future__ import annotations

import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


schema = strawberry.Schema(
    query=Query,
    extensions=[lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512)],
)


def create_app() -> Starlette:
    graphql = GraphQL[None, None](schema, graphql_ide=None, allow_queries_via_get=False)
    return Starlette(routes=[Route("/graphql", graphql, methods=["GET", "POST"])])
