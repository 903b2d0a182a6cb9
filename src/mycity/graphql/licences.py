"""E-licences: the wallet, its use records, status changes by the issuer, presentations
(亮证) and a partner's verification of one."""

from __future__ import annotations

import base64
from datetime import date, datetime
from uuid import UUID

import strawberry
from strawberry import relay

from mycity.domain.licence import LicenceStatus
from mycity.graphql.applications import FormField
from mycity.graphql.context import Info, blocking
from mycity.graphql.errors import UserError, parse_id, reports_user_errors
from mycity.graphql.pagination import Connection, check_first, keyed_page, keyset
from mycity.identity.principal import Role
from mycity.projections.licence_uses import LicenceUseRow
from mycity.projections.wallet import WalletLicence
from mycity.usecases.licences import STATUS_READ_MODELS, PresentationFormat
from mycity.verifier.licence_trust import Reason

strawberry.enum(LicenceStatus)
strawberry.enum(PresentationFormat)
VerificationReason = strawberry.enum(Reason, name="VerificationReason")


@strawberry.type
class Licence:
    """A licence in its holder's wallet."""

    id: relay.GlobalID
    identifier: str = strawberry.field(description="GB/T 36904 style, with its check character.")
    type_code: str
    type_name: str
    issuer: str
    status: LicenceStatus
    valid_from: date
    valid_until: date | None
    issued_at: datetime
    fields: list[FormField] | None = strawberry.field(description="Null once erased.")

    @classmethod
    def of(cls, view: WalletLicence) -> Licence:
        return cls(
            id=relay.GlobalID("Licence", str(view.id)),
            identifier=view.identifier,
            type_code=view.type_code,
            type_name=view.type_name,
            issuer=view.issuer,
            status=view.status,
            valid_from=view.valid_from,
            valid_until=view.valid_until,
            issued_at=view.issued_at,
            fields=None
            if view.fields is None
            else [FormField(name=k, value=v) for k, v in view.fields.items()],
        )


@strawberry.type
class LicenceUse:
    """用证记录: one verification of a presentation by a partner."""

    licence_id: relay.GlobalID
    at: datetime
    verifier_role: Role
    verifier_name: str
    purpose: str
    fields: list[str] = strawberry.field(description="The fields the holder revealed.")

    @classmethod
    def of(cls, row: LicenceUseRow) -> LicenceUse:
        return cls(
            licence_id=relay.GlobalID("Licence", str(row.licence)),
            at=row.used_at,
            verifier_role=Role(row.verifier_role),
            verifier_name=row.verifier_name,
            purpose=row.purpose,
            fields=list(row.fields),
        )


def holder_of(gid: relay.GlobalID | None) -> UUID | None:
    return None if gid is None else parse_id(gid, "Enterprise", "enterpriseId")


@strawberry.input
class LicenceStatusInput:
    licence_id: relay.GlobalID
    reason: str


@strawberry.input
class PresentLicenceInput:
    licence_id: relay.GlobalID
    fields: list[str] = strawberry.field(description="The fields to reveal; none reveals none.")
    png: bool = strawberry.field(default=False, description="Also draw the QR code as a PNG.")
    format: PresentationFormat = strawberry.field(
        default=PresentationFormat.COMPACT,
        description="COMPACT (LC2:, unlinkable: signed afresh for this showing, holding only "
        "the fields shown) or FULL (LC1:, the credential signed at issuance) for verifiers "
        "that do not read LC2: yet. docs/licences.md.",
    )


@strawberry.input
class VerifyPresentationInput:
    payload: str
    purpose: str


@strawberry.type
class LicencePayload:
    licence_id: strawberry.Private[UUID | None] = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @strawberry.field
    def licence(self) -> relay.GlobalID | None:
        return relay.GlobalID("Licence", str(self.licence_id)) if self.licence_id else None


@strawberry.type
class PresentLicencePayload:
    payload: str | None = strawberry.field(default=None, description="The QR code's text.")
    expires_at: datetime | None = None
    png: str | None = strawberry.field(default=None, description="Base64 PNG, when asked.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PresentedLicence:
    """What a valid full presentation (LC1:) vouches for."""

    identifier: str
    type_name: str
    issuer: str
    valid_from: date
    valid_until: date | None


@strawberry.type
class ShownLicenceType:
    type_code: str = strawberry.field(
        description="The identifier's type code (docs/licences.md §1): the defining "
        "department's credit code and the type's number."
    )
    type_name: str
    issuer: str


@strawberry.type
class VerifyPresentationPayload:
    valid: bool = False
    reason: VerificationReason | None = None  # type: ignore[valid-type]
    licence: PresentedLicence | None = strawberry.field(
        default=None,
        description="A full presentation's licence (LC1:); null for a compact one (LC2:), "
        "which names no licence beyond the fields shown.",
    )
    licence_type: ShownLicenceType | None = strawberry.field(
        default=None, description="What a valid presentation of either format is a licence of."
    )
    fields: list[FormField] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LicenceQueries:
    @strawberry.field(description="The caller's wallet, or their enterprise's (LICENCES).")
    async def my_licences(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        enterprise_id: relay.GlobalID | None = None,
    ) -> Connection[Licence]:
        context = info.context
        found = await context.read(
            context.city.reads.licences.wallet,
            context.require(),
            holder_of(enterprise_id),
            check_first(first),
            keyset(after),
        )
        return keyed_page([(v.cursor, Licence.of(v)) for v in found], first, after)

    @strawberry.field(description="Who verified the caller's licences, newest first.")
    async def my_licence_uses(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        enterprise_id: relay.GlobalID | None = None,
    ) -> Connection[LicenceUse]:
        context = info.context
        found = await context.read(
            context.city.reads.licences.uses_of,
            context.require(),
            holder_of(enterprise_id),
            check_first(first),
            keyset(after),
        )
        return keyed_page([(r.cursor, LicenceUse.of(r)) for r in found], first, after)


async def status_change(info: Info, command: str, input: LicenceStatusInput) -> LicencePayload:
    licence_id = parse_id(input.licence_id, "Licence", "licenceId")
    use_case = getattr(info.context.city.licences, command)
    position = await blocking(use_case, info.context.require(), licence_id, input.reason)
    info.context.wrote(position)
    await info.context.settled(*STATUS_READ_MODELS)  # the status list shows it when we answer
    return LicencePayload(licence_id=licence_id)


@strawberry.type
class LicenceMutations:
    @strawberry.mutation(description="An officer of the issuing department suspends it.")
    @reports_user_errors(LicencePayload)
    async def suspend_licence(self, info: Info, input: LicenceStatusInput) -> LicencePayload:
        return await status_change(info, "suspend", input)

    @strawberry.mutation
    @reports_user_errors(LicencePayload)
    async def reinstate_licence(self, info: Info, input: LicenceStatusInput) -> LicencePayload:
        return await status_change(info, "reinstate", input)

    @strawberry.mutation
    @reports_user_errors(LicencePayload)
    async def revoke_licence(self, info: Info, input: LicenceStatusInput) -> LicencePayload:
        return await status_change(info, "revoke", input)

    @strawberry.mutation(description="亮证: a presentation living five minutes, as a QR code.")
    @reports_user_errors(PresentLicencePayload)
    async def present_licence(
        self, info: Info, input: PresentLicenceInput
    ) -> PresentLicencePayload:
        licence_id = parse_id(input.licence_id, "Licence", "licenceId")
        shown = await blocking(
            info.context.city.licences.present,
            info.context.require(),
            licence_id,
            input.fields,
            png=input.png,
            format=input.format,
        )
        return PresentLicencePayload(
            payload=shown.payload,
            expires_at=datetime.fromtimestamp(shown.expires_at).astimezone(),
            png=base64.b64encode(shown.png).decode() if shown.png else None,
        )

    @strawberry.mutation(description="A partner checks a presentation; recorded as a use.")
    @reports_user_errors(VerifyPresentationPayload)
    async def verify_presentation(
        self, info: Info, input: VerifyPresentationInput
    ) -> VerifyPresentationPayload:
        verdict = await blocking(
            info.context.city.reads.licences.verify,
            info.context.require(),
            input.payload,
            input.purpose,
        )
        credential, attested = verdict.licence, verdict.attested
        shown = attested or credential
        return VerifyPresentationPayload(
            valid=verdict.ok,
            reason=verdict.reason,
            licence_type=ShownLicenceType(
                type_code=shown.type_code, type_name=shown.type_name, issuer=shown.issuer
            )
            if verdict.ok and shown
            else None,
            licence=PresentedLicence(
                identifier=credential.licence_id,
                type_name=credential.type_name,
                issuer=credential.issuer,
                valid_from=credential.valid_from,
                valid_until=credential.valid_until,
            )
            if verdict.ok and credential
            else None,
            fields=[FormField(name=k, value=v) for k, v in sorted(verdict.disclosed.items())]
            if verdict.ok
            else [],
        )
