"""GraphQL over HTTP, as the GraphQL-over-HTTP specification has clients expect it.

- A client that accepts `application/graphql-response+json` gets it, and then a request
  the server could not execute at all (a syntax or validation error, variables that do not
  fit) answers 400 without a `data` entry; `application/json` (the default) keeps 200.
- Queries work over GET too; mutations only over POST.
- A request refused before it is parsed (not JSON, not an object, unstorable text, a
  missing query) answers 4xx with a GraphQL error body, not plain text.
- A browser's GET (no query) gets GraphiQL in development, else a 404 that says how to turn
  it on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from mycity.bootstrap import City
from mycity.graphql import graphiql
from mycity.graphql.context import Context
from mycity.graphql.feed import FileFeed
from mycity.graphql.requests import refuse_unstorable
from mycity.graphql.schema import schema

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def media_ranges(accept: str | None) -> Iterator[tuple[str, float]]:
    """The media ranges of an Accept header, in its order, each with its quality."""
    for part in (accept or "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        yield media, next((_quality(p[2:]) for p in params if p.startswith("q=")), 1.0)


def accepted(accept: str | None) -> str:
    """The media type of the answer: graphql-response+json when the client prefers it."""
    best, best_q = JSON, -1.0
    for media, q in media_ranges(accept):
        if media == GRAPHQL_RESPONSE and q > 0 and q > best_q:
            best, best_q = GRAPHQL_RESPONSE, q
        elif media in (JSON, "application/*", "*/*") and q > best_q:
            best, best_q = JSON, q
    return best


def _quality(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0


class CityGraphQL(GraphQL[Context, None]):
    def __init__(self, city: City) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",  # a browser's GET comes to render_graphql_ide
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.city = city
        self.feed = FileFeed(city.files, city.reads.parties)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        media = accepted(request.headers.get("accept"))
        try:
            response = await self.run(request)
        except HTTPException as e:
            body = self.encode_json({"errors": [{"message": e.reason}]})
            response = Response(body, status_code=e.status_code, media_type=media)
        await response(scope, receive, send)

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL in development; otherwise a 404 that says how to turn it on (a page for
        a browser, a GraphQL error body for anything else)."""
        if self.city.settings.dev_mode:
            return HTMLResponse(graphiql.page())
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(graphiql.OFF_PAGE, status_code=404)
        raise HTTPException(404, graphiql.OFF)

    def parse_json(self, data: str | bytes) -> Any:
        try:
            value = super().parse_json(data)
        except RecursionError:
            raise HTTPException(400, "The request body is nested too deeply") from None
        if not isinstance(value, dict):
            raise HTTPException(400, "The request body must be a JSON object")
        return value

    async def parse_http_body(self, request: Any) -> Any:
        data = await super().parse_http_body(request)
        for item in data if isinstance(data, list) else [data]:
            refuse_unstorable([item.query, item.variables, item.operation_name, item.extensions])
        return data

    async def execute_single(self, *args: Any, **kwargs: Any) -> Any:
        """As strawberry executes it, but a mutation over GET is 405 (Method Not Allowed),
        as the specification has it, not 400."""
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as e:
            if isinstance(e.__cause__, InvalidOperationTypeError):
                raise HTTPException(405, e.reason) from e
            raise

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        return Context(city=self.city, feed=self.feed, request=request, response=response)

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        context_request = getattr(sub_response, "request", None)
        media = accepted(context_request.headers.get("accept") if context_request else None)
        response.media_type = media
        response.headers["content-type"] = f"{media}; charset=utf-8"
        if media == GRAPHQL_RESPONSE and _not_executed(response_data):
            response_data.pop("data", None)
            response.body = response.render(self.encode_json(response_data))
            response.headers["content-length"] = str(len(response.body))
            response.status_code = 400
        return response

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.request = request  # type: ignore[attr-defined]  # for create_response
        return sub_response


def _not_executed(response_data: Any) -> bool:
    """A response to a request that was never executed: no data, and only errors that no
    field raised (syntax, validation, variables), which carry no path."""
    return (
        isinstance(response_data, dict)
        and response_data.get("data") is None
        and bool(response_data.get("errors"))
        and all("path" not in error for error in response_data["errors"])
    )
