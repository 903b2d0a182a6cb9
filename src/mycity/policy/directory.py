"""Who may search the directory of citizens and enterprises."""

from __future__ import annotations

from mycity.domain.errors import Forbidden
from mycity.identity.principal import STAFF_ROLES, Principal
from mycity.policy.base import Grant

# What an entry shows: a citizen's masked ID number, or an enterprise's credit code.
ENTRY = frozenset({"name", "identifier", "real_name_level"})


def search(principal: Principal) -> Grant:
    """Staff only; entries show masked ID numbers."""
    if principal.role not in STAFF_ROLES:
        raise Forbidden("The directory is for staff")
    return Grant()
