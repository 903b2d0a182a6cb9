"""Reading the scan logs: the citizen's own, a partner's own scans with the citizens
masked, and the health authority's contact trace, each through the door.

A partner sees who was scanned only as a visitor mark that is stable at that partner and
differs at every other, so it can count its visitors without learning who they are or
following them across the city. A contact trace names the people, with their phones,
and is recorded as a read of each one's data with its stated reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar
from uuid import UUID

from mycity.domain.citizen import Citizen
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.scan import parse_place
from mycity.identity.principal import Principal
from mycity.policy import scans as policy
from mycity.projections.scan_log import ScanLogs, ScanRow
from mycity.reads.door import Door
from mycity.store.files import CityFiles

MAX_TRACE = 500  # people in one contact trace


@dataclass(frozen=True)
class VenueScan:
    scan: ScanRow
    visitor: str  # the citizen, masked: the same at this partner, unlinkable elsewhere


@dataclass(frozen=True)
class Contact:
    citizen: UUID
    name: str | None  # None once erased
    phone: str | None
    scanned_at: datetime
    colour: str | None


@dataclass(frozen=True)
class ScanReads:
    read_models: ClassVar[tuple[str, ...]] = ("scan_log",)

    door: Door
    files: CityFiles
    scans: ScanLogs

    def mine(self, principal: Principal, first: int, after: str | None) -> list[ScanRow]:
        """The caller's scans and check-ins, newest first; one more than `first` if more
        (their own data, read for them: no access to record)."""
        return self.scans.of_citizen(policy.own_scans(principal), first + 1, after)

    def at_venue(
        self, principal: Principal, first: int, after: str | None, purpose: str | None
    ) -> list[VenueScan]:
        """The partner's own scans (and check-ins at its places), newest first."""
        partner = policy.scanning_partner(principal)
        rows = [_as_told(row) for row in self.scans.of_partner(partner.subject, first + 1, after)]
        self.door.record(
            partner,
            "city_code.venue_scans",
            {row.citizen for row in rows},
            policy.venue_grant(),
            fields={"citizen"}.union(*(policy.venue_log_shows(row.shown) for row in rows)),
            purpose=purpose,
        )
        mark = self.scans.rows.vault.index
        return [VenueScan(row, mark(f"{partner.subject}:{row.citizen}")[1:13]) for row in rows]

    def contact_trace(
        self,
        principal: Principal,
        partner: str,
        place: str,
        since: datetime,
        until: datetime,
        reason: str | None,
    ) -> list[Contact]:
        """Who was scanned at, or checked in to, a partner's place in [since, until)."""
        grant = policy.contact_tracer(principal)
        where = parse_place(place)
        if not since < until:
            raise UserError(
                ErrorCode.INVALID_TIME, "Give a span that ends after it starts", "until"
            )
        rows = self.scans.at_place(partner, where, since, until, limit=MAX_TRACE * 4)
        people: dict[UUID, ScanRow] = {}
        for row in rows:
            if row.place is not None:  # an erased person's row keeps its blind index only
                people.setdefault(row.citizen, row)
        chosen = list(people.values())[:MAX_TRACE]
        self.door.record(
            principal,
            "city_code.contact_trace",
            [row.citizen for row in chosen],
            grant,
            fields=policy.TRACE,
            purpose=reason,
        )
        contacts = []
        for row in chosen:
            citizen = self.files.read(Citizen, row.citizen)
            contacts.append(
                Contact(row.citizen, citizen.name, citizen.phone, row.scanned_at, row.colour)
            )
        return contacts


def _as_told(row: ScanRow) -> ScanRow:
    """The scan as its partner may see it again: nothing of the person it was not told."""
    return row if "colour" in policy.venue_log_shows(row.shown) else replace(row, colour=None)
