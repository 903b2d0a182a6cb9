"""`POST /payments/notifications`: the payment provider's signed notifications
(docs/payments.md §3), answered as the table there says."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mycity.bootstrap import City
from mycity.domain.errors import UserError
from mycity.integrations.webhooks import NotificationRefused, Refusal

PATH = "/payments/notifications"
MAX_BODY = 64 * 1024  # a notification is one charge or refund: a few hundred bytes
STATUS = {
    Refusal.MALFORMED: 400,
    Refusal.STALE: 400,
    Refusal.FORGED: 401,
    Refusal.REPLAYED: 409,
}


def notification_endpoint(city: City) -> Callable[[Request], Awaitable[Response]]:
    async def notified(request: Request) -> Response:
        notices = city.payment_notices
        if notices is None:
            return JSONResponse({"error": "payments are not configured"}, status_code=404)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return JSONResponse({"error": "malformed"}, status_code=413)
        try:
            await run_in_threadpool(notices.receive, dict(request.headers), body)
        except NotificationRefused as e:
            return JSONResponse({"error": e.refusal.value.lower()}, status_code=STATUS[e.refusal])
        except UserError:  # the store out of reach, a race lost five times
            return JSONResponse({"error": "unavailable"}, status_code=503)
        return Response(status_code=204)

    return notified
