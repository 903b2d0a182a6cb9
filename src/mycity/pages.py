"""The home page (`GET /`): what this server serves, for a person in a browser (HTML) or a
program (JSON, for `Accept: application/json`). Public paths only: nothing here needs a
token or tells anything about anyone."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from mycity.graphql.view import media_ranges

SERVICE = "mycity"
ABOUT = "The event-sourced backend of a city's citizen-services app."
DOCS = "The documentation is in the docs/ directory of mycity's repository."

# (name in JSON, path, what it is)
PATHS = (
    ("app", "/app/", "The citizen's app (My City): log in, the city code, licences, services"),
    ("scanner", "/scan/", "The partners' scanner: verify a code or a licence, offline and online"),
    ("graphql", "/graphql", "The GraphQL API: POST (queries also GET ?query=…), and WebSocket"),
    ("tokenKeys", "/.well-known/jwks.json", "The keys access tokens are signed with (JWKS)"),
    ("cityCodeKeys", "/city-code/keys", "The keys city codes are signed with"),
    ("licenceKeys", "/licences/keys", "The licence trust list: the keys licences are signed with"),
    ("checkpoint", "/audit/checkpoint", "The log's latest signed checkpoint"),
    ("checkpointKeys", "/audit/key", "The keys checkpoints are signed with (signed-note form)"),
    ("health", "/healthz", "Liveness"),
    ("ready", "/readyz", "Readiness: whether the store answers"),
)
GRAPHIQL = ("graphiql", "/graphql", "GraphiQL, the API in a browser (development mode)")
GRAPHIQL_OFF = "GraphiQL is off: run the server with MYCITY_DEV=1 for it, never in production."


def home(dev_mode: bool) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of `GET /`; GraphiQL is listed when the server serves it."""
    page = _page((GRAPHIQL, *PATHS) if dev_mode else PATHS, dev_mode)
    listing = {
        "service": SERVICE,
        "about": ABOUT,
        "graphiql": GRAPHIQL[1] if dev_mode else None,
        **{name: path for name, path, _ in PATHS},
        "docs": DOCS,
    }

    async def endpoint(request: Request) -> Response:
        if _prefers_json(request.headers.get("accept")):
            return JSONResponse(listing)
        return HTMLResponse(page)

    return endpoint


def _prefers_json(accept: str | None) -> bool:
    """JSON for a client that asks for it over HTML (a browser asks for HTML)."""
    quality = dict(media_ranges(accept))
    return quality.get("application/json", 0.0) > quality.get("text/html", 0.0)


def _page(paths: tuple[tuple[str, str, str], ...], dev_mode: bool) -> str:
    e = html.escape
    items = "\n".join(
        f'<li><a href="{e(path.lstrip("/"))}"><code>{e(path)}</code></a>: {e(what)}</li>'
        for _, path, what in paths
    )
    graphiql = "" if dev_mode else f"<p>{e(GRAPHIQL_OFF)}</p>\n"
    return (
        '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{e(SERVICE)}</title></head>\n<body>\n<h1>{e(SERVICE)}</h1>\n"
        f"<p>{e(ABOUT)}</p>\n<ul>\n{items}\n</ul>\n{graphiql}<p>{e(DOCS)}</p>\n</body>\n</html>\n"
    )
