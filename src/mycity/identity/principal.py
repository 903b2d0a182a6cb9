"""Who is calling, as carried in an access token."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID


class Role(StrEnum):
    CITIZEN = "CITIZEN"  # also an enterprise's legal representative or agent, per enterprise
    OFFICER = "OFFICER"  # government officer of one department
    MERCHANT = "MERCHANT"  # partner shop
    VENUE = "VENUE"  # partner venue: a hotel, a museum, an office's front desk
    TRANSIT_GATE = "TRANSIT_GATE"  # a bus or metro gate
    HOSPITAL = "HOSPITAL"  # a hospital's or a clinic's desk
    LIBRARY = "LIBRARY"  # a library's desk
    AUTHORITY_FEED = "AUTHORITY_FEED"  # health authority, credit authority, ...
    AUDITOR = "AUDITOR"
    ADMIN = "ADMIN"


STAFF_ROLES = frozenset({Role.OFFICER, Role.AUDITOR, Role.ADMIN})
# The partners that scan city codes, each answered only what its role needs.
SCANNER_ROLES = frozenset(
    {Role.MERCHANT, Role.VENUE, Role.TRANSIT_GATE, Role.HOSPITAL, Role.LIBRARY}
)
PARTNER_ROLES = SCANNER_ROLES | {Role.AUTHORITY_FEED}


@dataclass(frozen=True)
class Principal:
    subject: str  # a citizen's file id, or a staff or partner client id
    role: Role
    department: str | None = None  # an officer's department; the authority a feed speaks for
    name: str = ""

    @classmethod
    def of_citizen(cls, citizen_id: UUID, name: str) -> Principal:
        return cls(str(citizen_id), Role.CITIZEN, name=name)

    @functools.cached_property
    def citizen_id(self) -> UUID | None:
        """Parsed once: a principal is remembered with its token, and asked every request."""
        return UUID(self.subject) if self.role is Role.CITIZEN else None
