"""Who must say why they read someone's data."""

from __future__ import annotations

from uuid import UUID

from mycity.domain.errors import ErrorCode, Forbidden, UserError
from mycity.domain.reasons import validate_reason
from mycity.identity.principal import PARTNER_ROLES, STAFF_ROLES, Principal, Role
from mycity.policy.base import Grant

# Staff and partners read other people's data only for a stated purpose, which is
# recorded with the read and shown to the person.
PURPOSE_ROLES = STAFF_ROLES | PARTNER_ROLES


def stated_purpose(principal: Principal, purpose: str | None) -> str | None:
    """The purpose of a read by a role that must state one (refused without it); None
    for the others, whose reads of their own data are not recorded."""
    if principal.role not in PURPOSE_ROLES:
        return None
    if not purpose or not purpose.strip():
        raise UserError(
            ErrorCode.PURPOSE_REQUIRED,
            "Say why you read this person's data (the purpose argument)",
            "purpose",
        )
    return validate_reason(purpose, "purpose", ErrorCode.INVALID_PURPOSE)


# What a record of a read shows.
ACCESS_RECORD = frozenset({"reader", "read", "fields", "purpose", "at"})


def read_accesses(principal: Principal, citizen_id: UUID) -> Grant:
    """The person sees every read of their data; auditors and admins see them too, to
    check how staff use their access."""
    if principal.citizen_id == citizen_id or principal.role in (Role.AUDITOR, Role.ADMIN):
        return Grant()
    raise Forbidden("Only the person, auditors and admins see who read a person's data")
