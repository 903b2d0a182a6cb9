"""Scanning the city code: partners read citizens' codes, online or in offline batches, and
citizens scan venues' place codes (场所码).

An online scan checks the code as an offline verifier would, opens its subject reference
to find the citizen's `CodeHolder`, answers what the partner's role may learn (policy), and
records a `Scan` on the citizen's file through the door, through the group commit. The
answer reads no read model, so it waits for none. A payment scan's id comes from the code,
so a second redemption (or two racing) collides in the store: `ALREADY_USED`.

An offline batch is checked item by item as if each were scanned online at the moment the
device read it; the good ones are recorded together, each bad one is reported by its index,
and an item already recorded (twice in the batch, or in an earlier batch) is recorded once.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from mycity.domain.code_holder import CodeHolder, holder_of_subject
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.personal import Retention
from mycity.domain.scan import (
    REVISIT_SECONDS,
    Direction,
    Scan,
    check_in_id,
    offline_scan_id,
    parse_place,
    payment_scan_id,
)
from mycity.identity.credentials import Clients
from mycity.identity.keys import SigningKeyRing
from mycity.identity.principal import Principal, Role
from mycity.integrations.qr import render_png
from mycity.policy import scans as policy
from mycity.policy.base import Grant, require_citizen
from mycity.store.files import CityFiles
from mycity.store.seals import key_id
from mycity.store.sql import Database
from mycity.usecases.health import HealthFeeds
from mycity.usecases.seams import LibraryDeposits
from mycity.verifier.city_code import (
    CodeKeys,
    CodeVerdict,
    Purpose,
    load_code_keys,
    open_subject,
    verify_code,
)
from mycity.verifier.place_code import issue_place_code, verify_place_code

MAX_BATCH = 500  # scans in one offline upload: well inside the body limit (http_limits.py)
VERIFY_THREADS = min(4, os.cpu_count() or 1)
OFFLINE_DAYS = 7  # how long a device may hold its scans before uploading them


class Outcome(StrEnum):
    """A scan's outcome: the offline verifier's reasons, and what only the server knows."""

    VALID = "VALID"
    MALFORMED = "MALFORMED"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    WITHDRAWN_KEY = "WITHDRAWN_KEY"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    NOT_YET_VALID = "NOT_YET_VALID"
    EXPIRED = "EXPIRED"
    NOT_FOR_PURPOSE = "NOT_FOR_PURPOSE"  # the code does not serve this purpose
    UNKNOWN_CITIZEN = "UNKNOWN_CITIZEN"  # the server knows no one by it (erased, or never)
    ALREADY_USED = "ALREADY_USED"  # a payment code redeemed before


@dataclass(frozen=True)
class ScanAnswer:
    outcome: Outcome
    told: policy.Told = field(default_factory=policy.Told)
    scan_id: UUID | None = None
    duplicate: bool = False  # an offline item recorded by an earlier upload or item

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.VALID


@dataclass(frozen=True)
class OfflineScan:
    payload: str
    purpose: Purpose
    place: str
    scanned_at: datetime


@dataclass(frozen=True)
class ItemResult:
    """One offline item: its answer, or the typed error that refused it."""

    index: int
    answer: ScanAnswer | None = None
    error: UserError | None = None


@dataclass(frozen=True)
class CheckIn:
    scan_id: UUID
    partner_name: str
    place: str


@dataclass(frozen=True)
class _Read:
    """A code read by a partner, genuine and fresh then, for a purpose it serves."""

    who: Principal
    purpose: Purpose
    place: str
    at: float  # when it was read
    verdict: CodeVerdict


@dataclass(frozen=True)
class _Checked:
    """An item that passed every check, ready to be recorded (afresh on each try)."""

    id: UUID
    fields: dict[str, Any]
    told: policy.Told

    def scan(self) -> Scan:
        return Scan(id=self.id, **self.fields)  # type: ignore[call-arg]


class ReadRecorder(Protocol):
    """The read door (`reads.door.Door`), as a scan uses it: a partner's read of a citizen's
    data whose own event is its record."""

    def enter_recorded(self, rule: Callable[[], Grant], *records: Aggregate) -> Grant: ...


@dataclass
class Scans:
    files: CityFiles
    db: Database
    door: ReadRecorder
    clients: Clients
    health: HealthFeeds
    ring: SigningKeyRing  # code-signing: city codes and place codes
    subject_key: bytes  # code-subject
    clock: Callable[[], float]
    deposits: LibraryDeposits  # credit: whom a library lends to without a deposit
    skew: float = 30

    @functools.cached_property
    def keys(self) -> CodeKeys:
        return load_code_keys(self.ring.city_code_jwks())

    # -- online ---------------------------------------------------------------------------

    def scan(
        self,
        actor: Principal | None,
        payload: str,
        purpose: Purpose,
        place: str,
        together: Callable[[UUID, policy.Told], Sequence[Aggregate]] | None = None,
    ) -> ScanAnswer:
        """Check and record a scan. `together` makes, from the citizen's file id and what
        the partner is told, what the scan starts (a payment, a fare), recorded in the
        scan's transaction: both, or neither."""
        who = policy.scanner(actor, purpose)
        read = self._read(who, payload, purpose, parse_place(place), self.clock())
        if isinstance(read, ScanAnswer):
            return read
        holder_id = self._holder_id(read.verdict)
        holder = None if holder_id is None else self.health.holder(holder_id)
        checked = self._checked(read, holder, online=True)
        if isinstance(checked, ScanAnswer):
            return checked
        assert holder is not None
        started = together(holder.citizen, checked.told) if together else ()
        try:
            self.door.enter_recorded(lambda: _grant(checked.told), checked.scan(), *started)
        except IntegrityError:
            return ScanAnswer(Outcome.ALREADY_USED)
        return ScanAnswer(Outcome.VALID, checked.told, checked.id)

    def _read(
        self, who: Principal, payload: str, purpose: Purpose, place: str, at: float
    ) -> _Read | ScanAnswer:
        """The code checked as an offline verifier would, at the moment it was read."""
        verdict = verify_code(payload, self.keys, now=at, skew=self.skew)
        if not verdict.ok:
            return ScanAnswer(Outcome(verdict.reason.name))
        if purpose not in verdict.purposes:
            return ScanAnswer(Outcome.NOT_FOR_PURPOSE)
        return _Read(who, purpose, place, at, verdict)

    def _holder_id(self, verdict: CodeVerdict) -> UUID | None:
        """The holder the code's sealed reference names."""
        assert verdict.subject_ref is not None
        subject = open_subject(self.subject_key, verdict.subject_ref)
        return None if subject is None else holder_of_subject(subject)

    def _checked(
        self, read: _Read, holder: CodeHolder | None, *, online: bool
    ) -> _Checked | ScanAnswer:
        """What the partner is told, and the scan to record, once the citizen is known."""
        if holder is None:
            return ScanAnswer(Outcome.UNKNOWN_CITIZEN)
        who, verdict = read.who, read.verdict
        moment = datetime.fromtimestamp(read.at, UTC)
        deposit_free = (
            self.deposits.deposit_free(holder.citizen) if who.role is Role.LIBRARY else None
        )
        told = policy.told(who.role, holder.colour(moment), holder.linked, deposit_free)
        assert verdict.code_id is not None and verdict.colour is not None
        if read.purpose is Purpose.PAYMENT:
            scan_id = payment_scan_id(verdict.code_id)
        elif online:
            scan_id = uuid4()
        else:
            scan_id = offline_scan_id(who.subject, verdict.code_id, read.purpose.name, read.place)
        fields = {
            "citizen": holder.citizen,
            "partner": who.subject,
            "partner_role": who.role.value,
            "partner_name": who.name,
            "place": read.place,
            "purpose": read.purpose.name,
            "colour": verdict.colour.name,
            "shown": told.shown,
            "direction": Direction.CODE.value,
            "scanned_at": moment.isoformat(),
        }
        return _Checked(scan_id, fields, told)

    # -- offline batches ------------------------------------------------------------------

    def upload_offline(
        self, actor: Principal | None, items: Sequence[OfflineScan]
    ) -> list[ItemResult]:
        """Check and record a device's scans; one result per item, in order."""
        if len(items) > MAX_BATCH:
            raise UserError(
                ErrorCode.TOO_MANY_ITEMS, f"Upload at most {MAX_BATCH} scans at once", "scans"
            )
        who = policy.scanning_partner(actor)
        now = self.clock()

        def check(part: Sequence[OfflineScan]) -> list[_Read | ScanAnswer | UserError]:
            outcomes: list[_Read | ScanAnswer | UserError] = []
            for item in part:
                try:
                    outcomes.append(self._offline_read(who, item, now))
                except UserError as e:
                    outcomes.append(e)
            return outcomes

        results: dict[int, ItemResult] = {}
        reads: dict[int, _Read] = {}
        # Ed25519 checks release the GIL: half the batch's time, spread over the cores, a
        # slice a thread (a future per item cost as much again in hand-offs).
        size = max(1, -(-len(items) // VERIFY_THREADS))
        parts = [items[i : i + size] for i in range(0, len(items), size)]
        with ThreadPoolExecutor(VERIFY_THREADS, thread_name_prefix="scan-check") as pool:
            checked_parts = list(pool.map(check, parts))
        for index, outcome in enumerate(o for part in checked_parts for o in part):
            if isinstance(outcome, UserError):
                results[index] = ItemResult(index, error=outcome)
            elif isinstance(outcome, ScanAnswer):
                results[index] = ItemResult(index, outcome)
            else:
                reads[index] = outcome
        holder_ids = {i: self._holder_id(read.verdict) for i, read in reads.items()}
        holders = self.files.read_many(self.db, CodeHolder, filter(None, holder_ids.values()))
        # one statement for all the keys their scans are sealed under
        self.files.vault.ensure(
            key_id(h.citizen, Retention.SERVICE_ACTIVITY) for h in holders.values()
        )
        pending: dict[UUID, tuple[int, _Checked]] = {}
        for index, read in reads.items():
            holder_id = holder_ids[index]
            found = None if holder_id is None else holders.get(holder_id)
            checked = self._checked(read, self.health.live(found), online=False)
            if isinstance(checked, ScanAnswer):
                results[index] = ItemResult(index, checked)
            elif checked.id in pending:  # the same scan twice in this batch
                results[index] = ItemResult(index, _duplicate(checked))
            else:
                pending[checked.id] = (index, checked)
        results |= self.files.retrying(lambda: self._record_new(who, pending))
        return [results[i] for i in range(len(items))]

    def _offline_read(
        self, partner: Principal, item: OfflineScan, now: float
    ) -> _Read | ScanAnswer:
        who = policy.scanner(partner, item.purpose)
        place = parse_place(item.place, "place")
        if item.scanned_at.tzinfo is None:
            raise UserError(
                ErrorCode.INVALID_TIME, "Give the scan's time with its offset", "scannedAt"
            )
        at = item.scanned_at.timestamp()
        if not now - OFFLINE_DAYS * 86400 <= at <= now + self.skew:
            raise UserError(
                ErrorCode.INVALID_TIME,
                f"A scan is uploaded within {OFFLINE_DAYS} days, and not before it happened",
                "scannedAt",
            )
        return self._read(who, item.payload, item.purpose, place, at)

    def _record_new(
        self, who: Principal, pending: dict[UUID, tuple[int, _Checked]]
    ) -> dict[int, ItemResult]:
        """Record the scans not recorded before, together; each earlier one is a duplicate
        (this device's), or, for a payment code another partner redeemed, ALREADY_USED."""
        results: dict[int, ItemResult] = {}
        recorded = self.files.existing(self.db, pending)
        new = []
        for scan_id, (index, checked) in pending.items():
            if scan_id not in recorded:
                new.append(checked.scan())
                results[index] = ItemResult(index, ScanAnswer(Outcome.VALID, checked.told, scan_id))
            elif self.files.read(Scan, scan_id).partner == who.subject:
                results[index] = ItemResult(index, _duplicate(checked))
            else:
                results[index] = ItemResult(index, ScanAnswer(Outcome.ALREADY_USED))
        if new:
            self.door.enter_recorded(Grant, *new)
        return results

    # -- place codes ----------------------------------------------------------------------

    def place_code(
        self, actor: Principal | None, place: str, *, png: bool = False
    ) -> tuple[str, bytes | None]:
        """A venue's static code for one of its places, and its picture when asked."""
        who = policy.scanning_partner(actor)
        text = issue_place_code(
            self.ring.private_key(),
            self.ring.code_keys()[self.ring.active_kid],
            partner=who.subject,
            place=parse_place(place),
        )
        return text, render_png(text) if png else None

    def check_in(self, actor: Principal | None, place_code: str) -> CheckIn:
        """The citizen scanned a place's code: their visit, on their file."""
        citizen_id = require_citizen(actor)
        verdict = verify_place_code(place_code, self.keys)
        partner = self.clients.get(verdict.partner) if verdict.partner else None
        if not verdict.ok or partner is None or verdict.place is None:
            raise UserError(ErrorCode.CODE_INVALID, "Not a place code of this city", "placeCode")
        now = self.clock()
        minute = int(now // 60)
        earlier = self.files.find(check_in_id(citizen_id, place_code, minute - 1))
        if isinstance(earlier, Scan) and _seconds_since(earlier, now) < REVISIT_SECONDS:
            return CheckIn(earlier.id, partner.name, verdict.place)  # begun a minute ago
        held = self.health.for_code(citizen_id)
        moment = datetime.fromtimestamp(now, UTC)
        scan = Scan(  # type: ignore[call-arg]
            id=check_in_id(citizen_id, place_code, minute),
            citizen=citizen_id,
            partner=partner.client_id,
            partner_role=partner.role.value,
            partner_name=partner.name,
            place=verdict.place,
            purpose=Purpose.HEALTH.name,
            colour=held.colour.name,
            shown=[],
            direction=Direction.PLACE.value,
            scanned_at=moment.isoformat(),
        )
        with contextlib.suppress(IntegrityError):  # the app sent the same visit again
            self.files.commit(scan)
        return CheckIn(scan.id, partner.name, verdict.place)


def _seconds_since(scan: Scan, now: float) -> float:
    return now - datetime.fromisoformat(scan.scanned_at).timestamp()


def _grant(told: policy.Told) -> Grant:
    return Grant(full=frozenset(told.shown))


def _duplicate(checked: _Checked) -> ScanAnswer:
    return ScanAnswer(Outcome.VALID, checked.told, checked.id, duplicate=True)
