"""Privacy: erasing a person's data, and legal holds that keep a file from erasure."""

from __future__ import annotations

import strawberry
from strawberry import relay

from mycity.domain.citizen import ErasureGround
from mycity.graphql.citizens import CitizenPayload, changed
from mycity.graphql.context import Info, blocking
from mycity.graphql.errors import parse_id, reports_user_errors
from mycity.policy.base import require_citizen

strawberry.enum(ErasureGround)


@strawberry.input
class EraseMyDataInput:
    code: str = strawberry.field(
        description="A code sent to one's own phone by requestPhoneCode: erasure is proven "
        "again, not taken on a session alone."
    )


@strawberry.input
class EraseCitizenInput:
    citizen_id: relay.GlobalID
    ground: ErasureGround


@strawberry.input
class LegalHoldInput:
    citizen_id: relay.GlobalID
    reason: str = strawberry.field(description="The case or order, 4 to 200 characters.")


@strawberry.type
class PrivacyMutations:
    @strawberry.mutation(
        description="Erase one's own data: name, ID number, phone and address become "
        "unreadable everywhere, every session ends, and the phone is free again. The file's "
        "history stays, with its personal fields unreadable. Refused under a legal hold."
    )
    @reports_user_errors(CitizenPayload)
    async def erase_my_data(self, info: Info, input: EraseMyDataInput) -> CitizenPayload:
        principal = info.context.require()
        position = await blocking(
            info.context.city.privacy.erase_own, principal, input.code, info.context.origin
        )
        return changed(info, require_citizen(principal), position)

    @strawberry.mutation(description="An admin erases a person's data, on a request or an order.")
    @reports_user_errors(CitizenPayload)
    async def erase_citizen(self, info: Info, input: EraseCitizenInput) -> CitizenPayload:
        citizen_id = parse_id(input.citizen_id, "Citizen", "citizenId")
        position = await blocking(
            info.context.city.privacy.erase, info.context.require(), citizen_id, input.ground
        )
        return changed(info, citizen_id, position, "eraseCitizen")

    @strawberry.mutation(description="Officers and admins keep a file from erasure.")
    @reports_user_errors(CitizenPayload)
    async def place_legal_hold(self, info: Info, input: LegalHoldInput) -> CitizenPayload:
        citizen_id = parse_id(input.citizen_id, "Citizen", "citizenId")
        position = await blocking(
            info.context.city.privacy.place_legal_hold,
            info.context.require(),
            citizen_id,
            input.reason,
        )
        return changed(info, citizen_id, position, "placeLegalHold")

    @strawberry.mutation(description="Officers and admins lift a legal hold.")
    @reports_user_errors(CitizenPayload)
    async def lift_legal_hold(self, info: Info, input: LegalHoldInput) -> CitizenPayload:
        citizen_id = parse_id(input.citizen_id, "Citizen", "citizenId")
        position = await blocking(
            info.context.city.privacy.lift_legal_hold,
            info.context.require(),
            citizen_id,
            input.reason,
        )
        return changed(info, citizen_id, position, "liftLegalHold")
