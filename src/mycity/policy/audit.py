"""Who audits: replays files, signs checkpoints on demand, and asks for proofs."""

from __future__ import annotations

from mycity.domain.errors import Forbidden
from mycity.identity.principal import Principal, Role
from mycity.policy.base import Grant, require

AUDIT_ROLES = frozenset({Role.AUDITOR, Role.ADMIN})


def require_auditor(principal: Principal | None) -> Principal:
    who = require(principal)
    if who.role not in AUDIT_ROLES:
        raise Forbidden("Only auditors and admins audit the log")
    return who


def replay(principal: Principal, what: str, unmask: bool = False) -> Grant:
    """Auditors and admins replay any file: names and addresses as recorded, ID numbers,
    phones and card numbers masked and secrets (a licence's salts) left out: the audit
    proves what happened and needs nobody's full numbers. Asked to unmask (with the
    purpose every replay states), `what` is shown in full, and its access record says so."""
    require_auditor(principal)
    return Grant(full=frozenset({what}) if unmask else frozenset())
