"""Reading who read a person's data: the person themself, or auditors checking staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID

from mycity.identity.principal import Principal
from mycity.policy import access as policy
from mycity.projections.data_access import DataAccesses, DataAccessView
from mycity.reads.door import Door


@dataclass(frozen=True)
class AccessReads:
    # What a request that wrote waits for before reading.
    read_models: ClassVar[tuple[str, ...]] = ("data_access",)

    door: Door
    accesses: DataAccesses

    def of_person(
        self,
        principal: Principal,
        citizen_id: UUID,
        first: int,
        before: tuple[str, str] | None,
        purpose: str | None = None,
    ) -> list[DataAccessView]:
        """Up to `first` reads of the person's data, newest first, and one more if there
        are more."""
        self.door.enter(
            principal,
            "citizen.data_access",
            [citizen_id],
            lambda: policy.read_accesses(principal, citizen_id),
            fields=policy.ACCESS_RECORD,
            purpose=purpose,
        )
        return self.accesses.of_subject(citizen_id, first + 1, before)
