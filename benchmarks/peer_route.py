"""The `peer` benchmark's minimal route: what answering "my own row" costs with nothing else.

A Starlette app, served by `python -m mycity.server benchmarks.peer_route:create_app`
(the worker processes and sockets mycity uses): it takes mycity's own access tokens, checks
each once (EdDSA, then remembered until it expires, as mycity does), and answers the
caller's row of the `peer` table, read by id from a psycopg pool, as GraphQL-shaped JSON.
Settings from the environment: `PEER_DATABASE_URL`, `PEER_TABLE`, `MYCITY_KEYS_DIR`.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

COLUMNS = "id, name, id_number, phone, real_name_level"


def create_app() -> Starlette:
    ring = json.loads((Path(os.environ["MYCITY_KEYS_DIR"]) / "token-signing.json").read_text())
    keys = {k["kid"]: jwt.PyJWK(k).key.public_key() for k in ring["keys"]}  # type: ignore[union-attr]
    pool = AsyncConnectionPool(os.environ["PEER_DATABASE_URL"], min_size=4, max_size=10, open=False)
    select = f"SELECT {COLUMNS} FROM {os.environ['PEER_TABLE']} WHERE id = %s"
    verified: dict[str, tuple[str, float]] = {}  # token: (subject, expiry)

    def subject(header: str | None) -> str | None:
        if not header or not header.startswith("Bearer "):
            return None
        token = header[7:]
        known = verified.get(token)
        if known and known[1] > time.time():
            return known[0]
        try:
            kid = jwt.get_unverified_header(token)["kid"]
            claims = jwt.decode(token, keys[kid], ["EdDSA"], audience="mycity-api")
        except (jwt.PyJWTError, KeyError):
            return None
        verified[token] = (str(claims["sub"]), float(claims["exp"]))
        return str(claims["sub"])

    async def me(request: Request) -> JSONResponse:
        caller = subject(request.headers.get("authorization"))
        if caller is None:
            return JSONResponse({"data": None, "errors": [{"message": "Sign in first"}]})
        async with pool.connection() as conn:
            cursor = await conn.cursor(row_factory=dict_row).execute(select, (caller,))
            row: dict[str, Any] | None = await cursor.fetchone()
        if row is not None:
            row["id"] = str(row["id"])
        return JSONResponse({"data": {"me": row}})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await pool.open()
        try:
            yield
        finally:
            await pool.close()

    return Starlette(routes=[Route("/graphql", me, methods=["POST"])], lifespan=lifespan)
