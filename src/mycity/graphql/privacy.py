"""Privacy: erasing a person's data, and legal holds that keep a file from erasure."""

from __future__ import annotations

from uuid import UUID

import strawberry
from strawberry import relay

from mycity.domain.citizen import ErasureGround
from mycity.graphql.citizens import CitizenPayload, changed
from mycity.graphql.context import Info, blocking
from mycity.graphql.errors import parse_id, reports_user_errors
from mycity.graphql.retention import ErasurePayload, ErasureReceipt
from mycity.policy.base import require_citizen
from mycity.usecases.privacy import Erasure

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
        description="Close one's account and erase one's data: the service activity (scans, "
        "check-ins, the city code, phone and address) becomes unreadable everywhere at once, "
        "every session ends, and the phone is free again; the statutory records "
        "(registration, applications, licences) are kept for their periods and then erased: "
        "the receipt says which, until when, under which rule. Refused under a legal hold."
    )
    @reports_user_errors(ErasurePayload)
    async def erase_my_data(self, info: Info, input: EraseMyDataInput) -> ErasurePayload:
        principal = info.context.require()
        erasure = await blocking(
            info.context.city.privacy.erase_own, principal, input.code, info.context.origin
        )
        return erased(info, require_citizen(principal), erasure)

    @strawberry.mutation(description="An admin erases a person's data, on a request or an order.")
    @reports_user_errors(ErasurePayload)
    async def erase_citizen(self, info: Info, input: EraseCitizenInput) -> ErasurePayload:
        citizen_id = parse_id(input.citizen_id, "Citizen", "citizenId")
        erasure = await blocking(
            info.context.city.privacy.erase, info.context.require(), citizen_id, input.ground
        )
        return erased(info, citizen_id, erasure, "eraseCitizen")

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


def erased(
    info: Info, citizen_id: UUID, erasure: Erasure, purpose: str | None = None
) -> ErasurePayload:
    info.context.wrote(erasure.position)
    return ErasurePayload(
        citizen_id=citizen_id, purpose=purpose, receipt=ErasureReceipt.of(erasure)
    )
