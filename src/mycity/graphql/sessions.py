"""Signing in and out: phone codes, logins, refreshing and revoking tokens."""

from __future__ import annotations

import strawberry

from mycity.domain.errors import Throttled
from mycity.graphql.context import Info, blocking
from mycity.graphql.errors import UserError, reports_user_errors
from mycity.graphql.shapes import shaped
from mycity.identity.tokens import TokenPair


@strawberry.type
class AuthTokens:
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int

    @classmethod
    def of(cls, pair: TokenPair) -> AuthTokens:
        return shaped(cls, pair, token_type="Bearer")


@strawberry.input
class RequestPhoneCodeInput:
    phone: str


@strawberry.type
class RequestPhoneCodePayload:
    retry_after_seconds: int | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class LogInWithPhoneCodeInput:
    phone: str
    code: str


@strawberry.input
class LogInWithClientCredentialsInput:
    client_id: str
    client_secret: str


@strawberry.input
class RefreshTokensInput:
    refresh_token: str
    retry_key: str | None = strawberry.field(
        default=None,
        description=(
            "Any new random string per refresh. Retrying a refresh whose answer was lost, "
            "send the same refresh token with the same retryKey, within 30 s: it gets a pair "
            "too, where a used refresh token presented again otherwise ends the session."
        ),
    )


@strawberry.input
class LogOutInput:
    refresh_token: str


@strawberry.type
class TokensPayload:
    tokens: AuthTokens | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LogOutPayload:
    logged_out: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SessionMutations:
    @strawberry.mutation(description="Text a one-time code to a phone, to register or log in.")
    @reports_user_errors(RequestPhoneCodePayload)
    async def request_phone_code(
        self, info: Info, input: RequestPhoneCodeInput
    ) -> RequestPhoneCodePayload:
        sessions = info.context.city.sessions
        try:
            wait = await blocking(sessions.request_phone_code, input.phone, info.context.origin)
        except Throttled as e:
            return RequestPhoneCodePayload(
                retry_after_seconds=e.retry_after, user_errors=[UserError.of(e)]
            )
        return RequestPhoneCodePayload(retry_after_seconds=wait)

    @strawberry.mutation
    @reports_user_errors(TokensPayload)
    async def log_in_with_phone_code(
        self, info: Info, input: LogInWithPhoneCodeInput
    ) -> TokensPayload:
        sessions = info.context.city.sessions
        pair = await blocking(
            sessions.log_in_with_phone_code, input.phone, input.code, info.context.origin
        )
        return TokensPayload(tokens=AuthTokens.of(pair))

    @strawberry.mutation(description="Staff and partners log in with provisioned credentials.")
    @reports_user_errors(TokensPayload)
    async def log_in_with_client_credentials(
        self, info: Info, input: LogInWithClientCredentialsInput
    ) -> TokensPayload:
        sessions = info.context.city.sessions
        pair = await blocking(
            sessions.log_in_with_client_credentials, input.client_id, input.client_secret
        )
        return TokensPayload(tokens=AuthTokens.of(pair))

    @strawberry.mutation(description="Trade a refresh token for a new pair; each works once.")
    @reports_user_errors(TokensPayload)
    async def refresh_tokens(self, info: Info, input: RefreshTokensInput) -> TokensPayload:
        pair = await blocking(
            info.context.city.sessions.refresh, input.refresh_token, input.retry_key
        )
        return TokensPayload(tokens=AuthTokens.of(pair))

    @strawberry.mutation
    @reports_user_errors(LogOutPayload)
    async def log_out(self, info: Info, input: LogOutInput) -> LogOutPayload:
        await blocking(info.context.city.sessions.log_out, input.refresh_token)
        return LogOutPayload(logged_out=True)
