"""Citizens: the file's profile, signing up, real-name verification, contact, live changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator
from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.types.nodes import SelectedField, Selection

from mycity.domain.citizen import RealNameLevel
from mycity.graphql.access import DataAccess, data_accesses
from mycity.graphql.context import PURPOSE, Info, blocking
from mycity.graphql.enterprises import Membership, memberships
from mycity.graphql.errors import UserError, parse_id, reports_user_errors
from mycity.graphql.feed import FileChange
from mycity.graphql.pagination import Connection
from mycity.graphql.sessions import AuthTokens
from mycity.graphql.shapes import shaped
from mycity.policy.base import require_citizen
from mycity.projections.citizen_profile import CitizenProfileView
from mycity.reads.citizens import Identifiers
from mycity.usecases.citizens import SignedUp

strawberry.enum(RealNameLevel)


ERASED = "Null once the person's data is erased."


@strawberry.type
class Citizen(relay.Node):
    """A citizen's file as its profile screen shows it."""

    id: relay.NodeID[str]
    name: str | None = strawberry.field(description=ERASED)
    address: str | None = strawberry.field(description=ERASED)
    real_name_level: RealNameLevel
    registered_at: datetime
    updated_at: datetime
    erased_at: datetime | None = strawberry.field(description="When the data was erased.")
    version: int
    view: strawberry.Private[CitizenProfileView]
    purpose: strawberry.Private[str | None]  # the reader's, for the reads nested in it

    @classmethod
    def of(cls, view: CitizenProfileView, purpose: str | None) -> Citizen:
        return shaped(cls, view, id=str(view.id), view=view, purpose=purpose)

    async def _identifiers(self, info: Info) -> Identifiers | None:
        """Read once per object: idNumber and phone resolve concurrently."""
        if "_read_identifiers" not in self.__dict__:
            context = info.context
            self.__dict__["_read_identifiers"] = asyncio.ensure_future(
                context.read(
                    context.city.reads.citizens.identifiers,
                    context.require(),
                    self.view.id,
                    self.purpose,
                    self.view.version,
                )
            )
        found: Identifiers | None = await self.__dict__["_read_identifiers"]
        return found

    @strawberry.field(
        description="Masked unless the reader is the person, an officer or an admin "
        "(unmasking is recorded as a read). " + ERASED
    )
    async def id_number(self, info: Info) -> str | None:
        found = await self._identifiers(info)
        return found.id_number if found else self.view.id_number_masked

    @strawberry.field(
        description="Masked unless the reader is the person, an officer or an admin "
        "(unmasking is recorded as a read). " + ERASED
    )
    async def phone(self, info: Info) -> str | None:
        found = await self._identifiers(info)
        return found.phone if found else self.view.phone_masked

    @strawberry.field(description="The enterprises this person represents or acts for.")
    async def enterprises(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Membership]:
        return await memberships(info, self.view.enterprises, first, after, self.purpose)

    @strawberry.field(
        description="Every read of this person's data by staff or partners, newest first: "
        "who, which fields, why, when. For the person, auditors and admins."
    )
    async def data_accesses(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[DataAccess]:
        return await data_accesses(info, self.view.id, first, after, self.purpose)


async def load_citizen(
    info: Info, citizen_id: UUID, purpose: str | None, *, identifiers: bool = False
) -> Citizen | None:
    """The citizen's profile; with `identifiers` (the request asks for them), their
    identifiers read in the same call."""
    context = info.context
    reads = context.city.reads.citizens
    if not identifiers:
        view = await context.read(reads.profile, context.require(), citizen_id, purpose)
        return Citizen.of(view, purpose) if view else None
    view, found = await context.read(
        reads.profile_with_identifiers, context.require(), citizen_id, purpose
    )
    if view is None:
        return None
    citizen = Citizen.of(view, purpose)
    read: asyncio.Future[Identifiers | None] = asyncio.get_running_loop().create_future()
    read.set_result(found)
    citizen.__dict__["_read_identifiers"] = read
    return citizen


def selected(selections: Iterable[Selection], *names: str) -> Iterator[SelectedField]:
    """The fields of these names among the selections, through fragments too."""
    for selection in selections:
        if not isinstance(selection, SelectedField):
            yield from selected(selection.selections, *names)
        elif selection.name in names:
            yield selection


def asks_identifiers(citizens: Iterable[SelectedField]) -> bool:
    """Whether any of these selections of a Citizen asks for idNumber or phone."""
    return any(next(selected(c.selections, "idNumber", "phone"), None) for c in citizens)


@strawberry.input
class RegisterCitizenInput:
    id_number: str
    name: str
    phone: str
    code: str = strawberry.field(description="The code sent to the phone by requestPhoneCode.")


@strawberry.input
class ReclaimFileInput:
    id_number: str
    name: str
    phone: str
    code: str = strawberry.field(description="The code sent to the phone by requestPhoneCode.")


@strawberry.input
class ReclaimFileInPersonInput:
    id_number: str
    name: str
    phone: str
    code: str = strawberry.field(description="The code the person received on that phone.")


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
    user_errors: list[UserError] = strawberry.field(default_factory=list)
    citizen_id: strawberry.Private[UUID | None] = None
    purpose: strawberry.Private[str | None] = None  # staff read back what they changed

    @strawberry.field
    async def citizen(self, info: Info) -> Citizen | None:
        if self.citizen_id is None:
            return None
        return await load_citizen(info, self.citizen_id, self.purpose)


@strawberry.type
class RegisterCitizenPayload(CitizenPayload):
    tokens: AuthTokens | None = None


async def _sign_up(
    info: Info,
    use_case: Callable[..., SignedUp],
    input: RegisterCitizenInput | ReclaimFileInput,
) -> RegisterCitizenPayload:
    """Sign up (or take a file back) with a proven phone; from here on the request acts as
    the person who has just signed in."""
    signed_up = await blocking(
        use_case, input.id_number, input.name, input.phone, input.code, info.context.origin
    )
    info.context.signed_in_as(signed_up.principal)
    info.context.wrote(signed_up.position)
    return RegisterCitizenPayload(
        tokens=AuthTokens.of(signed_up.tokens), citizen_id=signed_up.principal.citizen_id
    )


def changed(
    info: Info, citizen_id: UUID, position: int, purpose: str | None = None
) -> CitizenPayload:
    """The payload of a change; `purpose` is what a staff member's read-back is for."""
    info.context.wrote(position)
    return CitizenPayload(citizen_id=citizen_id, purpose=purpose)


@strawberry.type
class CitizenQueries:
    @strawberry.field(description="A citizen's file: the person themself, or staff.")
    async def citizen(
        self,
        info: Info,
        id: relay.GlobalID,
        purpose: Annotated[str | None, PURPOSE] = None,
    ) -> Citizen | None:
        return await load_citizen(info, parse_id(id, "Citizen", "id"), purpose)


@strawberry.type
class CitizenMutations:
    @strawberry.mutation(description="Open a citizen's file, proving the phone with its code.")
    @reports_user_errors(RegisterCitizenPayload)
    async def register_citizen(
        self, info: Info, input: RegisterCitizenInput
    ) -> RegisterCitizenPayload:
        return await _sign_up(info, info.context.city.citizens.sign_up, input)

    @strawberry.mutation(
        description=(
            "Take back a file someone else registered with one's ID number: the phone proven "
            "by its code, and the real-name check confirming number, name and phone together. "
            "Only for a file nobody has verified; otherwise in person (reclaimFileInPerson)."
        )
    )
    @reports_user_errors(RegisterCitizenPayload)
    async def reclaim_file(self, info: Info, input: ReclaimFileInput) -> RegisterCitizenPayload:
        return await _sign_up(info, info.context.city.citizens.reclaim, input)

    @strawberry.mutation(
        description="An officer, having seen the person and their ID card, gives them back "
        "the file registered with their ID number; every session of its former holder ends."
    )
    @reports_user_errors(CitizenPayload)
    async def reclaim_file_in_person(
        self, info: Info, input: ReclaimFileInPersonInput
    ) -> CitizenPayload:
        citizen_id, position = await blocking(
            info.context.city.citizens.reclaim_in_person,
            info.context.require(),
            input.id_number,
            input.name,
            input.phone,
            input.code,
        )
        return changed(info, citizen_id, position, "reclaimFileInPerson")

    @strawberry.mutation(description="Check one's name against the real-name authority.")
    @reports_user_errors(CitizenPayload)
    async def verify_real_name(
        self, info: Info, input: VerifyRealNameInput | None = None
    ) -> CitizenPayload:
        principal = info.context.require()
        position = await blocking(info.context.city.citizens.verify_real_name, principal)
        return changed(info, require_citizen(principal), position)

    @strawberry.mutation(description="An officer records seeing the person and their ID card.")
    @reports_user_errors(CitizenPayload)
    async def verify_in_person(self, info: Info, input: VerifyInPersonInput) -> CitizenPayload:
        citizen_id = parse_id(input.citizen_id, "Citizen", "citizenId")
        position = await blocking(
            info.context.city.citizens.verify_in_person, info.context.require(), citizen_id
        )
        return changed(info, citizen_id, position, "verifyInPerson")

    @strawberry.mutation(description="Change one's phone (with the code sent to it) or address.")
    @reports_user_errors(CitizenPayload)
    async def change_contact(self, info: Info, input: ChangeContactInput) -> CitizenPayload:
        principal = info.context.require()
        position = await blocking(
            info.context.city.citizens.change_contact,
            principal,
            input.phone,
            input.code,
            input.address,
            info.context.origin,
        )
        return changed(info, require_citizen(principal), position)


@strawberry.type
class CitizenSubscriptions:
    @strawberry.subscription(description="Each event recorded on the caller's own file.")
    async def my_file_changes(self, info: Info) -> AsyncGenerator[FileChange, None]:
        context = info.context
        citizen_id = require_citizen(context.require())
        async for change in context.while_signed_in(context.feed.changes(citizen_id)):
            yield change
