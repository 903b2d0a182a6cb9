"""Mutations: one input each, and a payload whose `userErrors` say what to fix."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

import strawberry
from strawberry import relay

from mycity.domain.enterprise import AgentScope
from mycity.domain.errors import ErrorCode as DomainErrorCode
from mycity.domain.errors import UserError as DomainUserError
from mycity.domain.errors import checked
from mycity.domain.identifiers import validate_phone
from mycity.graphql.context import Info, blocking
from mycity.graphql.types import (
    AuthTokens,
    Citizen,
    Enterprise,
    UserError,
    load_citizen,
    load_enterprise,
    parse_id,
)
from mycity.identity.principal import Principal
from mycity.identity.tokens import TokenPair

P = TypeVar("P")


def reports_user_errors(
    payload: type[P],
) -> Callable[[Callable[..., Awaitable[P]]], Callable[..., Awaitable[P]]]:
    """Turn a refusal into the payload's `userErrors` instead of a GraphQL error."""

    def decorate(resolver: Callable[..., Awaitable[P]]) -> Callable[..., Awaitable[P]]:
        @functools.wraps(resolver)
        async def wrapper(*args: Any, **kwargs: Any) -> P:
            try:
                return await resolver(*args, **kwargs)
            except DomainUserError as e:
                return payload(user_errors=[UserError.of(e)])  # type: ignore[call-arg]

        return wrapper

    return decorate


def _tokens(pair: TokenPair) -> AuthTokens:
    return AuthTokens(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type="Bearer",
        expires_in=pair.expires_in,
    )


async def _settled(info: Info, position: int) -> None:
    """Read-your-writes: wait until the read models include the command's events."""
    await blocking(info.context.city.read_models.wait, position)


async def _citizen_after(info: Info, position: int, citizen_id: UUID) -> Citizen | None:
    await _settled(info, position)
    return await load_citizen(info, citizen_id)


async def _enterprise_after(info: Info, position: int, enterprise_id: UUID) -> Enterprise | None:
    await _settled(info, position)
    return await load_enterprise(info, enterprise_id)


@strawberry.input
class RequestPhoneCodeInput:
    phone: str


@strawberry.type
class RequestPhoneCodePayload:
    retry_after_seconds: int | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RegisterCitizenInput:
    id_number: str
    name: str
    phone: str
    code: str = strawberry.field(description="The code sent to the phone by requestPhoneCode.")


@strawberry.type
class RegisterCitizenPayload:
    citizen: Citizen | None = None
    tokens: AuthTokens | None = None
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


@strawberry.type
class TokensPayload:
    tokens: AuthTokens | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LogOutPayload:
    logged_out: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class VerifyRealNameInput:
    client_mutation_id: str | None = None


@strawberry.input
class VerifyInPersonInput:
    citizen_id: relay.GlobalID


@strawberry.input
class ChangeContactInput:
    phone: str | None = None
    code: str | None = strawberry.field(
        default=None, description="Needed with a new phone: the code sent to it."
    )
    address: str | None = None


@strawberry.type
class CitizenPayload:
    citizen: Citizen | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RegisterEnterpriseInput:
    credit_code: str
    name: str
    legal_representative_id_number: str | None = strawberry.field(
        default=None, description="Officers only; a citizen registers themself as representative."
    )


@strawberry.input
class AuthorizeAgentInput:
    enterprise_id: relay.GlobalID
    agent_id_number: str
    scopes: list[AgentScope]


@strawberry.input
class RevokeAgentInput:
    enterprise_id: relay.GlobalID
    agent_id: relay.GlobalID


@strawberry.input
class ChangeEnterpriseContactInput:
    enterprise_id: relay.GlobalID
    phone: str | None = None
    address: str | None = None


@strawberry.type
class EnterprisePayload:
    enterprise: Enterprise | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Text a one-time code to a phone, to register or log in.")
    @reports_user_errors(RequestPhoneCodePayload)
    async def request_phone_code(
        self,
        info: Info,
        input: RequestPhoneCodeInput,
    ) -> RequestPhoneCodePayload:
        phone = checked("phone", validate_phone, input.phone)
        wait = await blocking(info.context.city.phone_codes.send, phone)
        return RequestPhoneCodePayload(retry_after_seconds=wait)

    @strawberry.mutation(description="Open a citizen's file, proving the phone with its code.")
    @reports_user_errors(RegisterCitizenPayload)
    async def register_citizen(
        self,
        info: Info,
        input: RegisterCitizenInput,
    ) -> RegisterCitizenPayload:
        city = info.context.city
        phone = checked("phone", validate_phone, input.phone)
        await blocking(city.files.check_registration, input.id_number, input.name, phone)
        await blocking(city.phone_codes.verify, phone, input.code)
        citizen, position = await blocking(
            city.files.register_citizen, input.id_number, input.name, phone
        )
        principal = Principal.of_citizen(citizen.id, citizen.name)
        pair = await blocking(city.tokens.issue, principal)
        info.context.signed_in_as(principal)
        return RegisterCitizenPayload(
            citizen=await _citizen_after(info, position, citizen.id), tokens=_tokens(pair)
        )

    @strawberry.mutation
    @reports_user_errors(TokensPayload)
    async def log_in_with_phone_code(
        self,
        info: Info,
        input: LogInWithPhoneCodeInput,
    ) -> TokensPayload:
        city = info.context.city
        phone = checked("phone", validate_phone, input.phone)
        await blocking(city.phone_codes.verify, phone, input.code)
        principal = await blocking(city.files.principal_for_phone, phone)
        if principal is None:
            raise DomainUserError(DomainErrorCode.NOT_FOUND, "No file has this phone", "phone")
        pair = await blocking(city.tokens.issue, principal)
        return TokensPayload(tokens=_tokens(pair))

    @strawberry.mutation(description="Staff and partners log in with provisioned credentials.")
    @reports_user_errors(TokensPayload)
    async def log_in_with_client_credentials(
        self,
        info: Info,
        input: LogInWithClientCredentialsInput,
    ) -> TokensPayload:
        city = info.context.city
        client = await blocking(city.clients.authenticate, input.client_id, input.client_secret)
        return TokensPayload(tokens=_tokens(await blocking(city.tokens.issue, client.principal())))

    @strawberry.mutation(description="Trade a refresh token for a new pair; each works once.")
    @reports_user_errors(TokensPayload)
    async def refresh_tokens(
        self,
        info: Info,
        input: RefreshTokensInput,
    ) -> TokensPayload:
        pair = await blocking(info.context.city.tokens.refresh, input.refresh_token)
        return TokensPayload(tokens=_tokens(pair))

    @strawberry.mutation
    @reports_user_errors(LogOutPayload)
    async def log_out(self, info: Info, input: RefreshTokensInput) -> LogOutPayload:
        await blocking(info.context.city.tokens.revoke, input.refresh_token)
        return LogOutPayload(logged_out=True)

    @strawberry.mutation(description="Check one's name against the real-name authority.")
    @reports_user_errors(CitizenPayload)
    async def verify_real_name(
        self,
        info: Info,
        input: VerifyRealNameInput | None = None,
    ) -> CitizenPayload:
        principal = info.context.require()
        position = await blocking(info.context.city.files.verify_real_name, principal)
        assert principal.citizen_id is not None
        return CitizenPayload(citizen=await _citizen_after(info, position, principal.citizen_id))

    @strawberry.mutation(description="An officer records seeing the person and their ID card.")
    @reports_user_errors(CitizenPayload)
    async def verify_in_person(
        self,
        info: Info,
        input: VerifyInPersonInput,
    ) -> CitizenPayload:
        citizen_id = parse_id(input.citizen_id, "Citizen", "citizenId")
        position = await blocking(
            info.context.city.files.verify_in_person, info.context.require(), citizen_id
        )
        return CitizenPayload(citizen=await _citizen_after(info, position, citizen_id))

    @strawberry.mutation(description="Change one's phone (with the code sent to it) or address.")
    @reports_user_errors(CitizenPayload)
    async def change_contact(
        self,
        info: Info,
        input: ChangeContactInput,
    ) -> CitizenPayload:
        city = info.context.city
        principal = info.context.require()
        phone = None if input.phone is None else checked("phone", validate_phone, input.phone)
        if phone is not None:
            if not input.code:
                raise DomainUserError(DomainErrorCode.CODE_INVALID, "Send the code", "code")
            await blocking(city.phone_codes.verify, phone, input.code)
        position = await blocking(
            city.files.change_citizen_contact, principal, phone, input.address
        )
        assert principal.citizen_id is not None
        return CitizenPayload(citizen=await _citizen_after(info, position, principal.citizen_id))

    @strawberry.mutation
    @reports_user_errors(EnterprisePayload)
    async def register_enterprise(
        self,
        info: Info,
        input: RegisterEnterpriseInput,
    ) -> EnterprisePayload:
        enterprise, position = await blocking(
            info.context.city.files.register_enterprise,
            info.context.require(),
            input.credit_code,
            input.name,
            input.legal_representative_id_number,
        )
        return EnterprisePayload(enterprise=await _enterprise_after(info, position, enterprise.id))

    @strawberry.mutation(description="The legal representative authorises an agent, with scopes.")
    @reports_user_errors(EnterprisePayload)
    async def authorize_agent(
        self,
        info: Info,
        input: AuthorizeAgentInput,
    ) -> EnterprisePayload:
        enterprise_id = parse_id(input.enterprise_id, "Enterprise", "enterpriseId")
        _, position = await blocking(
            info.context.city.files.authorise_agent,
            info.context.require(),
            enterprise_id,
            input.agent_id_number,
            [s.value for s in input.scopes],
        )
        return EnterprisePayload(enterprise=await _enterprise_after(info, position, enterprise_id))

    @strawberry.mutation
    @reports_user_errors(EnterprisePayload)
    async def revoke_agent(
        self,
        info: Info,
        input: RevokeAgentInput,
    ) -> EnterprisePayload:
        enterprise_id = parse_id(input.enterprise_id, "Enterprise", "enterpriseId")
        agent_id = parse_id(input.agent_id, "Citizen", "agentId")
        position = await blocking(
            info.context.city.files.revoke_agent, info.context.require(), enterprise_id, agent_id
        )
        return EnterprisePayload(enterprise=await _enterprise_after(info, position, enterprise_id))

    @strawberry.mutation(description="Needs the PROFILE scope, or the legal representative.")
    @reports_user_errors(EnterprisePayload)
    async def change_enterprise_contact(
        self,
        info: Info,
        input: ChangeEnterpriseContactInput,
    ) -> EnterprisePayload:
        enterprise_id = parse_id(input.enterprise_id, "Enterprise", "enterpriseId")
        position = await blocking(
            info.context.city.files.change_enterprise_contact,
            info.context.require(),
            enterprise_id,
            input.phone,
            input.address,
        )
        return EnterprisePayload(enterprise=await _enterprise_after(info, position, enterprise_id))
