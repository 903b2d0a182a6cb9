"""The one door to personal data: policy, then masking, then the access record, then the
read model's own reader.

Every read of someone's data goes through `Door.enter`: the capability's policy rule
refuses it or grants it, naming the personal fields it may show in full (the rest are
shown masked); a read by staff or a partner of someone else's data is then recorded as an
`Access`, before anything is read; only then does the read model's reader run. Nothing
outside `mycity.reads` reads a read model of personal data, so nothing skips the door.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from uuid import UUID

from mycity.identity.principal import PARTNER_ROLES, STAFF_ROLES, Principal
from mycity.policy.base import Grant

RECORDED_ROLES = STAFF_ROLES | PARTNER_ROLES


@dataclass(frozen=True)
class Access:
    """One read of a person's or an enterprise's data by staff or a partner."""

    reader: Principal
    read: str  # which read, e.g. "citizen.file"
    subjects: tuple[UUID, ...]  # whose data
    full: frozenset[str]  # personal fields shown in full


class Door:
    def __init__(self) -> None:
        # Called for every recorded access, before the data is read (the audit keeps them).
        self.on_access: list[Callable[[Access], None]] = []

    def enter(
        self,
        principal: Principal,
        read: str,
        subjects: Iterable[UUID],
        rule: Callable[[], Grant],
    ) -> Grant:
        """Ask the rule, record the access, and say what the read may show in full."""
        grant = rule()
        self.record(principal, read, subjects, grant)
        return grant

    def record(
        self, principal: Principal, read: str, subjects: Iterable[UUID], grant: Grant
    ) -> None:
        """Record a read of others' data; for a search, once its results are known."""
        if principal.role not in RECORDED_ROLES:
            return
        others = tuple(s for s in subjects if str(s) != principal.subject)
        if others:
            access = Access(principal, read, others, grant.full)
            for listener in self.on_access:
                listener(access)
