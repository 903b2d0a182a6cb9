"""Who handles an application: officers act only on their own department's items."""

from __future__ import annotations

from mycity.domain.errors import ErrorCode, UserError
from mycity.identity.principal import Principal, Role
from mycity.policy.base import require_role


def officer_of(principal: Principal | None, department: str) -> str:
    """The officer's id, if they belong to the department; NOT_YOUR_DEPARTMENT otherwise."""
    officer = require_role(principal, Role.OFFICER)
    if officer.department != department:
        raise UserError(
            ErrorCode.NOT_YOUR_DEPARTMENT, f"Only an officer of {department} handles this item"
        )
    return officer.subject


def department_of(principal: Principal | None) -> str:
    """The department whose queue an officer reads."""
    officer = require_role(principal, Role.OFFICER)
    if not officer.department:
        raise UserError(ErrorCode.NOT_YOUR_DEPARTMENT, "This officer has no department")
    return officer.department
