"""`POST /uploads`: a document as the raw request body, streamed into the store.

The caller is checked before a byte of the body is read; a declared length over the limit
or over what is left of the person's day is refused before reading too; otherwise the body
is handed on a chunk at a time, and refused at the byte that passes a limit. Every refusal
is the documented JSON (`code`, `field`, `message`, and `retryAfterSeconds` for a quota).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from mycity.bootstrap import City
from mycity.domain.errors import ErrorCode, Throttled, UserError
from mycity.graphql.context import identify
from mycity.usecases.uploads import Receiving

CHUNK = 256 * 1024  # what one hop to a worker thread carries: hashed, sealed and written
STATUS = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.TOKEN_EXPIRED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.UPLOAD_TOO_LARGE: 413,
    ErrorCode.UPLOAD_QUOTA_EXCEEDED: 429,
}


def upload_endpoint(city: City) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def upload(request: Request) -> JSONResponse:
        receiving: Receiving | None = None
        try:
            caller = await run_in_threadpool(identify, city, request.headers.get("authorization"))
            receiving = await run_in_threadpool(
                city.uploads.begin, caller.require(), declared_length(request)
            )
            async for chunk in chunked(request.stream()):
                await run_in_threadpool(receiving.write, chunk)
            stored = await run_in_threadpool(receiving.finish)
        except UserError as e:
            return refused(e)
        finally:
            if receiving is not None:
                receiving.discard()
        return JSONResponse(
            {"sha256": stored.digest, "mediaType": stored.media_type, "size": stored.size},
            status_code=201,
        )

    return upload


def declared_length(request: Request) -> int | None:
    length = request.headers.get("content-length")
    if length is None:
        return None  # chunked: measured as it comes
    if not length.isdigit():
        raise UserError(ErrorCode.INVALID_ARGUMENT, "Content-Length is not a number", "file")
    return int(length)


async def chunked(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The body in chunks of about `CHUNK` bytes, whatever sizes the server received."""
    pending: list[bytes] = []
    size = 0
    async for piece in stream:
        pending.append(piece)
        size += len(piece)
        if size >= CHUNK:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


def refused(error: UserError) -> JSONResponse:
    """The error as JSON; the connection closes, since the rest of the body is not read."""
    body: dict[str, object] = {
        "code": error.code.value,
        "field": error.field,
        "message": error.message,
    }
    headers = {"Connection": "close"}
    if isinstance(error, Throttled):
        body["retryAfterSeconds"] = error.retry_after
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(body, status_code=STATUS.get(error.code, 400), headers=headers)
