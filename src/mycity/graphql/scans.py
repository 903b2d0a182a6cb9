"""Scanning the city code: online scans, offline batches, place codes and check-ins, and the
scan logs (the citizen's, a partner's own, the health authority's contact trace)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import relay

from mycity.domain.code_holder import CardKind, Colour
from mycity.graphql.context import PURPOSE, Info, blocking
from mycity.graphql.errors import UserError, reports_user_errors
from mycity.graphql.pagination import Connection, check_first, keyed_page, keyset
from mycity.identity.principal import Role
from mycity.projections.scan_log import ScanRow
from mycity.reads.scans import Contact, VenueScan
from mycity.usecases.scans import ItemResult, OfflineScan, Outcome, ScanAnswer
from mycity.usecases.transit import FareAnswer
from mycity.verifier.city_code import Purpose

ScanOutcome = strawberry.enum(Outcome, name="ScanOutcome")


@strawberry.enum(description="What a code is scanned for.")
class ScanPurpose(Enum):
    IDENTITY = "IDENTITY"
    TRANSIT = "TRANSIT"
    HEALTH = "HEALTH"
    PAYMENT = "PAYMENT"

    @property
    def purpose(self) -> Purpose:
        return Purpose[self.name]


@strawberry.enum(description="Who scanned whose code.")
class ScanDirection(Enum):
    CODE = "CODE"  # a partner scanned the citizen's code
    PLACE = "PLACE"  # the citizen scanned the place's code (场所码)


@strawberry.input
class ScanCityCodeInput:
    payload: str = strawberry.field(description="The QR text read (MC1:…).")
    purpose: ScanPurpose
    place: str = strawberry.field(description="Where: the gate, desk or till, 1-64 chars.")


@strawberry.type(description="A ride a gate's tap ended, and its charge: no rider.")
class FareCharge:
    ride: int = strawberry.field(description="The ride's number this day.")
    fare_fen: int
    charged_fen: int = strawberry.field(description="After the daily cap.")
    status: str = strawberry.field(
        description="PAID, PENDING or FAILED at the gate; DEFERRED to the day's bill; CAPPED."
    )
    payment_id: relay.GlobalID | None

    @classmethod
    def of(cls, fare: FareAnswer) -> FareCharge:
        payment = relay.GlobalID("Payment", str(fare.payment)) if fare.payment else None
        return cls(
            ride=fare.ride,
            fare_fen=fare.fare_fen,
            charged_fen=fare.charged_fen,
            status=fare.status,
            payment_id=payment,
        )


@strawberry.type
class ScanCityCodePayload:
    """What the partner's role may learn, and nothing else: a gate `allowed` (and the fares
    its tap charged), a hospital or a library the card's number (a library also whether it
    lends without a deposit), a shop or a venue the colour."""

    valid: bool = False
    outcome: ScanOutcome | None = None  # type: ignore[valid-type]
    scan_id: str | None = None
    allowed: bool | None = None
    colour: Colour | None = None
    card: CardKind | None = None
    card_number: str | None = None
    deposit_free: bool | None = strawberry.field(
        default=None, description="A library: whether it lends without a deposit (credit)."
    )
    fares: list[FareCharge] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, answer: ScanAnswer, fares: Sequence[FareAnswer] = ()) -> ScanCityCodePayload:
        told = answer.told
        return cls(
            fares=[FareCharge.of(f) for f in fares],
            valid=answer.ok,
            outcome=answer.outcome,
            scan_id=str(answer.scan_id) if answer.scan_id else None,
            allowed=told.allowed,
            colour=told.colour,
            card=told.card,
            card_number=told.card_number,
            deposit_free=told.deposit_free,
        )


@strawberry.input
class OfflineScanInput:
    payload: str
    purpose: ScanPurpose
    place: str
    scanned_at: datetime = strawberry.field(description="When the device read it, with offset.")


@strawberry.input
class UploadOfflineScansInput:
    scans: list[OfflineScanInput] = strawberry.field(description="At most 500.")


@strawberry.type
class OfflineScanResult:
    index: int
    scan: ScanCityCodePayload = strawberry.field(description="Its answer, or its userErrors.")
    duplicate: bool = strawberry.field(description="Recorded before: by this batch or another.")

    @classmethod
    def of(cls, result: ItemResult) -> OfflineScanResult:
        if result.answer is None:
            assert result.error is not None
            failed = ScanCityCodePayload(user_errors=[UserError.of(result.error)])
            return cls(index=result.index, scan=failed, duplicate=False)
        return cls(
            index=result.index,
            scan=ScanCityCodePayload.of(result.answer),
            duplicate=result.answer.duplicate,
        )


@strawberry.type
class UploadOfflineScansPayload:
    results: list[OfflineScanResult] = strawberry.field(default_factory=list)
    recorded: int = strawberry.field(default=0, description="Scans recorded by this upload.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PlaceCode:
    payload: str = strawberry.field(description="The QR text (MP1:…), docs/city-code.md.")
    png: str | None = strawberry.field(description="Base64 PNG, only when asked.")


@strawberry.input
class CheckInInput:
    place_code: str


@strawberry.type
class CheckInPayload:
    scan_id: str | None = None
    partner_name: str | None = None
    place: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CodeScan:
    """A scan of the citizen's code, or their check-in at a place."""

    id: str
    direction: ScanDirection
    partner_role: Role
    partner_name: str
    place: str | None = strawberry.field(description="Null once erased.")
    purpose: ScanPurpose
    colour: Colour | None = strawberry.field(description="What the code showed.")
    shown: list[str] = strawberry.field(description="What the partner was told.")
    scanned_at: datetime

    @classmethod
    def of(cls, row: ScanRow) -> CodeScan:
        return cls(
            id=str(row.id),
            direction=ScanDirection(row.direction),
            partner_role=Role(row.partner_role),
            partner_name=row.partner_name,
            place=row.place,
            purpose=ScanPurpose(row.purpose),
            colour=Colour(row.colour) if row.colour else None,
            shown=list(row.shown),
            scanned_at=row.scanned_at,
        )


@strawberry.type
class VenueScanNode:
    visitor: str = strawberry.field(description="The citizen, masked: stable here only.")
    scan: CodeScan

    @classmethod
    def of(cls, found: VenueScan) -> VenueScanNode:
        return cls(visitor=found.visitor, scan=CodeScan.of(found.scan))


@strawberry.type
class ContactNode:
    citizen_id: relay.GlobalID
    name: str | None
    phone: str | None
    scanned_at: datetime
    colour: Colour | None

    @classmethod
    def of(cls, contact: Contact) -> ContactNode:
        return cls(
            citizen_id=relay.GlobalID("Citizen", str(contact.citizen)),
            name=contact.name,
            phone=contact.phone,
            scanned_at=contact.scanned_at,
            colour=Colour(contact.colour) if contact.colour else None,
        )


@strawberry.type
class ScanQueries:
    @strawberry.field(description="A venue's static signed code (场所码) for one place.")
    async def place_code(self, info: Info, place: str, png: bool = False) -> PlaceCode:
        text, drawn = await blocking(
            info.context.city.scans.place_code, info.context.require(), place, png=png
        )
        return PlaceCode(payload=text, png=base64.b64encode(drawn).decode() if drawn else None)

    @strawberry.field(description="The caller's scans and check-ins, newest first.")
    async def my_scans(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[CodeScan]:
        context = info.context
        found = await context.read(
            context.city.reads.scans.mine, context.require(), check_first(first), keyset(after)
        )
        return keyed_page([(r.cursor, CodeScan.of(r)) for r in found], first, after)

    @strawberry.field(description="A partner's own scans, the citizens masked; recorded.")
    async def venue_scans(
        self,
        info: Info,
        purpose: Annotated[str | None, PURPOSE] = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[VenueScanNode]:
        context = info.context
        found = await context.read(
            context.city.reads.scans.at_venue,
            context.require(),
            check_first(first),
            keyset(after),
            purpose,
        )
        return keyed_page([(v.scan.cursor, VenueScanNode.of(v)) for v in found], first, after)

    @strawberry.field(description="Health authority: who was at a place in [since, until).")
    async def contact_trace(
        self,
        info: Info,
        partner: str,
        place: str,
        since: datetime,
        until: datetime,
        reason: str,
    ) -> list[ContactNode]:
        context = info.context
        found = await context.read(
            context.city.reads.scans.contact_trace,
            context.require(),
            partner,
            place,
            since,
            until,
            reason,
        )
        return [ContactNode.of(c) for c in found]


@strawberry.type
class ScanMutations:
    @strawberry.mutation(description="A partner scans a citizen's code; recorded on their file.")
    @reports_user_errors(ScanCityCodePayload)
    async def scan_city_code(self, info: Info, input: ScanCityCodeInput) -> ScanCityCodePayload:
        city, principal = info.context.city, info.context.require()
        if input.purpose.purpose is Purpose.TRANSIT:  # a gate's tap: its fare too
            answer, fares = await blocking(city.transit.tap, principal, input.payload, input.place)
            return ScanCityCodePayload.of(answer, fares)
        answer = await blocking(
            city.scans.scan, principal, input.payload, input.purpose.purpose, input.place
        )
        return ScanCityCodePayload.of(answer)

    @strawberry.mutation(description="A device's offline scans; each answered by its index.")
    @reports_user_errors(UploadOfflineScansPayload)
    async def upload_offline_scans(
        self, info: Info, input: UploadOfflineScansInput
    ) -> UploadOfflineScansPayload:
        items = [
            OfflineScan(s.payload, s.purpose.purpose, s.place, s.scanned_at) for s in input.scans
        ]
        results = await blocking(
            info.context.city.scans.upload_offline, info.context.require(), items
        )
        return UploadOfflineScansPayload(
            results=[OfflineScanResult.of(r) for r in results],
            recorded=sum(1 for r in results if r.answer and r.answer.ok and not r.answer.duplicate),
        )

    @strawberry.mutation(description="The citizen scanned a place code: their visit, recorded.")
    @reports_user_errors(CheckInPayload)
    async def check_in(self, info: Info, input: CheckInInput) -> CheckInPayload:
        done = await blocking(
            info.context.city.scans.check_in, info.context.require(), input.place_code
        )
        return CheckInPayload(
            scan_id=str(done.scan_id), partner_name=done.partner_name, place=done.place
        )
