"""The one door to personal data: policy, then masking, then the access record, then the
read model's own reader.

Every read of someone's data goes through `Door.enter`: the capability's policy rule
refuses it or grants it, naming the personal fields it may show in full (the rest are
shown masked); a read by staff or a partner of someone else's data must say why, and is
recorded as an `AccessRecord` event before anything is read, so it is in the log the
Merkle tree covers and in the person's own list of who read their data. Only then does the
read model's reader run. Nothing outside `mycity.reads` reads a read model of personal
data, so nothing skips the door.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from uuid import UUID

from eventsourcing.domain import Aggregate

from mycity.domain.access import AccessRecord
from mycity.identity.principal import Principal
from mycity.policy import access as policy
from mycity.policy.base import Grant
from mycity.store.files import CityFiles


class Door:
    def __init__(self, files: CityFiles) -> None:
        self.files = files

    def enter(
        self,
        principal: Principal,
        read: str,
        subjects: Iterable[UUID],
        rule: Callable[[], Grant],
        *,
        fields: Iterable[str],
        purpose: str | None,
        together: Sequence[Aggregate] = (),
    ) -> Grant:
        """Ask the rule, record the access, and say what the read may show in full.

        `together` are saved in the same transaction as the record (a licence's use record,
        whose id refuses a replayed presentation): both are kept, or neither."""
        grant = rule()
        self.record(
            principal, read, subjects, grant, fields=fields, purpose=purpose, together=together
        )
        return grant

    def enter_recorded(self, rule: Callable[[], Grant], *records: Aggregate) -> Grant:
        """Ask the rule, and save `records`: events that are themselves the record of the
        read (a scan names the partner, the purpose and what it was told, and the person's
        list of reads is built from it), so no `AccessRecord` doubles them. Kept, or the
        read does not happen."""
        grant = rule()
        self.files.commit(*records)
        return grant

    def record(
        self,
        principal: Principal,
        read: str,
        subjects: Iterable[UUID],
        grant: Grant,
        *,
        fields: Iterable[str],
        purpose: str | None,
        together: Sequence[Aggregate] = (),
    ) -> None:
        """Record a read of others' data (for a search, once its entries are known: it is
        entered first with none); the reader's purpose is required if their role needs one."""
        stated = policy.stated_purpose(principal, purpose)
        others = [s for s in subjects if str(s) != principal.subject]
        if stated is None or not others:  # a person reading their own data, or their firm's
            if together:
                self.files.commit(*together)
            return
        shown = sorted(fields)
        self.files.commit(
            *together,
            AccessRecord(  # type: ignore[call-arg]
                reader=principal.subject,
                reader_role=principal.role.value,
                reader_department=principal.department or "",
                reader_name=principal.name,
                read=read,
                subjects=others,
                fields=shown,
                unmasked=[f for f in shown if grant.shows(f)],
                purpose=stated,
            ),
        )
