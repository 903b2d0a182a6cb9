"""The app's pages: the citizen's app at `/app/`, the partner's scanner at `/scan/`, and the
scripts they share (`/lib/`, the project's own; `/vendor/`, pinned copies of three libraries,
static/web/vendor/sources.txt). Plain files, compressed, each answer with a
Content-Security-Policy that allows no inline script or style and no other origin, so a
token in the page is out of reach of any script the city did not serve. docs/app.md.
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

WEB = "static/web"
POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = [
    (b"content-security-policy", POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
    (b"cache-control", b"no-cache"),  # revalidated by ETag: a new release shows at once
]


class PageHeaders:
    """Every answer of the pages with the headers above."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def page_mounts() -> list[Mount]:
    """The four directories, each served as plain files (the two pages' index.html at `/`)."""
    return [
        Mount(f"/{name}", PageHeaders(GZipMiddleware(_files(name))), name=f"web-{name}")
        for name in ("app", "scan", "lib", "vendor")
    ]


def _files(name: str) -> StaticFiles:
    return StaticFiles(packages=[("mycity", f"{WEB}/{name}")], html=True)
