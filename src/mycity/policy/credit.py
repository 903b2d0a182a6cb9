"""Who records credit changes and penalty decisions, who decides repairs, and who reads a
subject's credit.

An authority acts through its feed (an `AUTHORITY_FEED` client): its department is the
source of what it records. A repair is decided by an officer of the authority that decided
the penalty. A citizen reads their own credit; an enterprise's legal representative and its
agents with the CREDIT scope read its credit and apply for its repair; officers and auditors
read anyone's with a purpose, recorded through the door.
"""

from __future__ import annotations

from uuid import UUID

from mycity.domain.enterprise import AgentScope, Enterprise
from mycity.domain.errors import Forbidden
from mycity.identity.principal import Principal, Role
from mycity.policy.applications import department_of, officer_of
from mycity.policy.base import Grant, require, require_citizen, require_role
from mycity.policy.enterprises import require_scope

# What a read of a subject's credit shows: all of it, to whoever may read it at all.
CREDIT_FIELDS = frozenset({"score", "tier", "benefits", "history"})


def authority_feed(principal: Principal | None) -> str:
    """The department a feed speaks for: the source of its changes."""
    feed = require_role(principal, Role.AUTHORITY_FEED)
    if not feed.department:
        raise Forbidden("A feed speaks for an authority: this one names none")
    return feed.department


def repair_officer(principal: Principal | None, authority: str) -> str:
    """Only an officer of the deciding authority decides a repair of its penalty."""
    return officer_of(principal, authority)


def decides_repairs(principal: Principal | None) -> str:
    """The authority whose pending repairs an officer lists: their own department's."""
    return department_of(principal)


def acts_for_credit(principal: Principal | None, enterprise: Enterprise) -> UUID:
    """The enterprise's legal representative, or an agent with the CREDIT scope."""
    return require_scope(require(principal), enterprise, AgentScope.CREDIT)


def own_credit(principal: Principal | None) -> UUID:
    """A citizen reads their own credit."""
    return require_citizen(principal)


def reads_anyones(principal: Principal | None) -> Principal:
    """Officers and auditors read anyone's credit (with a purpose, recorded)."""
    return require_role(principal, Role.OFFICER, Role.AUDITOR)


def read_credit(principal: Principal, subject: UUID, enterprise: Enterprise | None) -> Grant:
    """The citizen themselves; the enterprise's own people with the CREDIT scope; officers
    and auditors (with a purpose, which the door records)."""
    if principal.role in (Role.OFFICER, Role.AUDITOR):
        return Grant(full=CREDIT_FIELDS)
    if enterprise is not None:
        acts_for_credit(principal, enterprise)
        return Grant(full=CREDIT_FIELDS)
    if principal.citizen_id == subject:
        return Grant(full=CREDIT_FIELDS)
    raise Forbidden("Not your credit")
