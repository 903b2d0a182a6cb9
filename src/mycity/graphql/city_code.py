"""The citizen's one code for the city: asked for when shown, pushed before it expires."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncGenerator
from datetime import UTC, datetime

import strawberry

from mycity.graphql.context import Info, blocking
from mycity.usecases.city_code import IssuedCode


@strawberry.type
class CityCode:
    payload: str = strawberry.field(description="The QR text (MC1:…), docs/city-code.md.")
    expires_at: datetime
    refresh_seconds: int = strawberry.field(description="Ask for the next code after this.")
    png: str | None = strawberry.field(description="Base64 PNG, only when asked.")

    @classmethod
    def of(cls, issued: IssuedCode) -> CityCode:
        return cls(
            payload=issued.payload,
            expires_at=datetime.fromtimestamp(issued.expires_at, UTC),
            refresh_seconds=issued.refresh_seconds,
            png=base64.b64encode(issued.png).decode() if issued.png else None,
        )


@strawberry.type
class CityCodeQueries:
    @strawberry.field(description="A fresh code of the caller's; nothing is recorded.")
    async def city_code(self, info: Info, png: bool = False) -> CityCode:
        context = info.context
        issued = await blocking(context.city.city_codes.issue, context.require(), png=png)
        return CityCode.of(issued)


@strawberry.type
class CityCodeSubscriptions:
    @strawberry.subscription(description="A fresh code now, and again before each expires.")
    async def city_code_refreshes(self, info: Info) -> AsyncGenerator[CityCode, None]:
        context = info.context
        codes = context.city.city_codes
        principal = context.require()

        async def fresh() -> AsyncGenerator[CityCode, None]:
            while True:
                issued = await blocking(codes.issue, principal)
                yield CityCode.of(issued)
                await asyncio.sleep(issued.refresh_seconds)

        async for code in context.while_signed_in(fresh()):
            yield code
