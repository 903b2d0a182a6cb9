"""Who may read a citizen's file, and see its full identifiers; who verifies in person."""

from __future__ import annotations

from uuid import UUID

from mycity.domain.errors import Forbidden
from mycity.identity.principal import STAFF_ROLES, Principal, Role
from mycity.policy.base import Grant

IDENTIFIERS = frozenset({"id_number", "phone"})
# What the profile screen shows of a file (identifiers masked).
PROFILE = frozenset({"name", "address", "id_number_masked", "phone_masked", "real_name_level"})

# Roles that see a citizen's full ID number and phone, besides the citizen themself.
UNMASKED_IDENTIFIER_ROLES = frozenset({Role.OFFICER, Role.ADMIN})


def read_file(principal: Principal, citizen_id: UUID) -> Grant:
    """A citizen reads their own file; staff read any file. ID numbers and phones are
    masked unless the reader is the person or needs them (officers, admins)."""
    if principal.citizen_id == citizen_id:
        return Grant(IDENTIFIERS)
    if principal.role in STAFF_ROLES:
        return Grant(IDENTIFIERS if principal.role in UNMASKED_IDENTIFIER_ROLES else frozenset())
    raise Forbidden("This is another person's file")


def can_verify_in_person(principal: Principal) -> bool:
    return principal.role is Role.OFFICER
