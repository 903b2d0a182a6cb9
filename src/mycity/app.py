"""The ASGI app: GraphQL over HTTP and WebSocket, health checks, the public keys, the log's
latest checkpoint (for witnesses and auditors, as plain text), what licence verifiers
fetch (the trust list and each issuer's signed status list), document uploads, a home page
that lists them, the app's pages (web.py), and GraphiQL's scripts and styles in development."""

from __future__ import annotations

import contextlib
import gc
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator

import psycopg
import psycopg_pool
from eventsourcing.persistence import PersistenceError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from mycity.bootstrap import City, build
from mycity.domain.errors import ErrorCode, Unavailable
from mycity.domain.errors import UserError as DomainUserError
from mycity.graphql import graphiql
from mycity.graphql.view import CityGraphQL
from mycity.http_limits import UPLOADS, SizeLimits
from mycity.http_notifications import PATH as NOTIFICATIONS
from mycity.http_notifications import notification_endpoint
from mycity.http_uploads import upload_endpoint
from mycity.pages import home
from mycity.settings import Settings
from mycity.usecases.licences import STATUS_REFRESH_SECONDS
from mycity.web import page_mounts

log = logging.getLogger(__name__)

# What the store's failures are raised as: asked whether they mean a blip (City.store_unavailable).
OUT_OF_REACH = (PersistenceError, psycopg.Error, psycopg_pool.PoolTimeout, sqlite3.Error)


def create_app(settings: Settings | None = None, city: City | None = None) -> Starlette:
    """Build the app; with no city given, wire one from the settings (or the environment)."""
    city = city or build(settings or Settings.from_env())
    graphql = CityGraphQL(city)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        try:
            head = await run_in_threadpool(city.files.head)
        except Exception:
            log.exception("Store check failed")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ready", "head": head})

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse(
            city.keys.token_signing.public_jwks(),
            headers={"Cache-Control": "public, max-age=300"},
        )

    async def checkpoint(request: Request) -> Response:
        """The latest signed checkpoint, the note's exact text; its keys at /audit/key."""
        kept = await run_in_threadpool(city.audit.checkpoints.latest)
        if kept is None:
            return PlainTextResponse("no checkpoint yet\n", status_code=404)
        return PlainTextResponse(kept.note, headers={"Cache-Control": "no-cache"})

    async def checkpoint_keys(request: Request) -> Response:
        """The keys checkpoints are signed with, one a line as C2SP signed notes name them
        (`<name>+<key hash>+<base64>`), the active one first: what an outside auditor or
        a witness checks a checkpoint with, without asking the operator."""
        lines = "".join(f"{key}\n" for key in city.audit.verifier_keys())
        return PlainTextResponse(lines, headers={"Cache-Control": "public, max-age=300"})

    async def consistency(request: Request) -> JSONResponse:
        """A consistency proof between two signed sizes, for monitors and witnesses outside
        the city: hashes only, nothing of anyone's data, so no token is asked for."""
        try:
            asked = request.query_params
            old = _size(asked.get("from"), "from")
            new = _size(asked["to"], "to") if "to" in asked else None
            found = await run_in_threadpool(city.audit.consistency, None, old, new)
        except DomainUserError as e:
            status = 404 if e.code is ErrorCode.UNSIGNED_SIZE else 400
            return JSONResponse({"code": e.code.value, "message": e.message}, status_code=status)
        return JSONResponse(found.document(), headers={"Cache-Control": "no-cache"})

    async def city_code_keys(request: Request) -> JSONResponse:
        """The keys city codes are signed with, by their one-byte index, and the withdrawn
        ones (docs/city-code.md): partners refresh them every five minutes."""
        return JSONResponse(
            city.keys.code_signing.city_code_jwks(),
            headers={"Cache-Control": "public, max-age=300"},
        )

    async def licence_keys(request: Request) -> JSONResponse:
        return JSONResponse(
            city.licences.trust_list(city.audit.verifier_keys()),
            headers={"Cache-Control": "public, max-age=300"},
        )

    async def status_list(request: Request) -> Response:
        """An issuer's signed status list: verifiers trust it for STATUS_FRESH_SECONDS, and
        may keep it that long; it is re-signed every STATUS_REFRESH_SECONDS."""
        try:
            text = await run_in_threadpool(city.licences.status_list, request.path_params["issuer"])
        except DomainUserError as e:
            return JSONResponse({"code": e.code.value, "message": e.message}, status_code=404)
        return Response(
            text,
            media_type="application/json",
            headers={"Cache-Control": f"public, max-age={STATUS_REFRESH_SECONDS}"},
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # What start-up built lives as long as the process: leave it out of the collector's
        # scans, whose full passes over it stalled requests by tens of milliseconds.
        gc.collect()
        gc.freeze()
        city.listen()
        stop = threading.Event()
        runner = None
        if city.settings.read_models.inline:
            runner = threading.Thread(
                target=city.runner().run_forever, args=(stop,), name="runner", daemon=True
            )
            runner.start()
        try:
            yield
        finally:
            stop.set()
            city.read_models.wake.set()
            if runner:
                runner.join(timeout=10)

    async def store_out_of_reach(request: Request, error: Exception) -> Response:
        """A store blip on a plain endpoint: 503 with when to try again (never a 500)."""
        if not city.store_unavailable(error):
            raise error
        log.warning("The store was out of reach: %s", error)
        unavailable = Unavailable()
        return JSONResponse(
            {
                "code": unavailable.code.value,
                "message": unavailable.message,
                "retryAfterSeconds": unavailable.retry_after,
            },
            status_code=503,
            headers={"Retry-After": str(unavailable.retry_after)},
        )

    assets = StaticFiles(packages=[("mycity", graphiql.ASSETS)])  # GraphiQL's, for development
    app = Starlette(
        exception_handlers={e: store_out_of_reach for e in OUT_OF_REACH},
        middleware=[Middleware(SizeLimits)],
        routes=[
            Route("/", home(city.settings.dev_mode)),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/.well-known/jwks.json", jwks),
            Route("/audit/checkpoint", checkpoint),
            Route("/audit/key", checkpoint_keys),
            Route("/audit/consistency", consistency),
            Route("/city-code/keys", city_code_keys),
            Route("/licences/keys", licence_keys),
            Route("/licences/status/{issuer}", status_list),
            Route(UPLOADS, upload_endpoint(city), methods=["POST"]),
            Route(NOTIFICATIONS, notification_endpoint(city), methods=["POST"]),
            *page_mounts(),
            *([Mount(f"/{graphiql.ASSETS}", assets)] if city.settings.dev_mode else []),
        ],
        lifespan=lifespan,
    )
    app.state.city = city
    app.state.graphql = graphql
    return app


def _size(value: str | None, name: str) -> int:
    """A tree size given in a query string: a whole number, 0 or more."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 20:
        raise DomainUserError(
            ErrorCode.INVALID_ARGUMENT, f"Give `{name}` as a tree size: 0, 1, 2, …", name
        )
    return int(value)
