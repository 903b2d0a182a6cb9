"""Subscriptions, over WebSocket with graphql-transport-ws."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from mycity.graphql.context import Info
from mycity.graphql.feed import FileChange
from mycity.identity import policy


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Each event recorded on the caller's own file.")
    async def my_file_changes(self, info: Info) -> AsyncGenerator[FileChange, None]:
        citizen_id = policy.require_citizen(info.context.principal)
        async for change in info.context.feed.changes(citizen_id):
            yield change
