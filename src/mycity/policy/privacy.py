"""Who may erase a person's data, and who may hold a file from erasure."""

from __future__ import annotations

from uuid import UUID

from mycity.domain.citizen import ErasureGround
from mycity.domain.errors import Forbidden
from mycity.identity.principal import Principal, Role
from mycity.policy.base import require


def require_may_erase(principal: Principal | None, citizen_id: UUID, ground: ErasureGround) -> None:
    """The person asks for their own erasure; an admin erases on a verified request or on
    an order. Nobody else erases anyone."""
    who = require(principal)
    if who.citizen_id == citizen_id and ground is ErasureGround.REQUESTED_BY_PERSON:
        return
    if who.role is Role.ADMIN:
        return
    raise Forbidden("Only the person themself or an admin erases a person's data")


def require_may_hold(principal: Principal | None) -> None:
    """Officers and admins place and lift legal holds (an investigation, a court case)."""
    if require(principal).role not in (Role.OFFICER, Role.ADMIN):
        raise Forbidden("Only officers and admins place or lift legal holds")
