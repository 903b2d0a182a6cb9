"""Replaying the log for auditors: a file's history, its state at any version or moment,
and what a screen (a read model's row) showed when the log had reached a position.

Every replay is a read of a person's data, through the door: it needs a purpose, and the
person sees it. Names and addresses are shown as recorded; ID numbers, phones and card
numbers masked, by the kinds the events and files declare (`mycity.domain.personal`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.personal import masked, personal_of
from mycity.identity.principal import Principal
from mycity.policy import audit as policy
from mycity.policy.base import Grant
from mycity.projections.read_models import ReadModels
from mycity.projections.store import Row
from mycity.projections.subject_history import HistoryPage, SubjectHistories
from mycity.reads.door import Door
from mycity.store.files import CityFiles

# The screens an auditor can see as they were: read models of one row per key.
SCREENS = ("citizen_profile", "enterprise_profile", "directory")
EVENT_METADATA = ("originator_id", "originator_version", "timestamp", "originator_topic")


@dataclass(frozen=True)
class HistoryEntry:
    position: int
    stream: UUID  # the file's own, or one kept on its behalf (an application, a licence)
    version: int
    type: str
    recorded_at: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class FileState:
    subject: UUID
    kind: str
    version: int
    at: datetime  # when that version was recorded
    state: dict[str, Any]


@dataclass(frozen=True)
class ScreenState:
    read_model: str
    key: str
    position: int
    row: Row | None


@dataclass(frozen=True)
class AuditReads:
    # What a request that wrote waits for before reading.
    read_models: ClassVar[tuple[str, ...]] = ("subject_history",)

    door: Door
    files: CityFiles
    histories: SubjectHistories
    models: ReadModels

    def history(
        self,
        principal: Principal,
        subject: UUID,
        page: HistoryPage,
        purpose: str | None,
        unmask: bool = False,
    ) -> list[HistoryEntry]:
        """The page of the file's events (and one more if there are more), in the log's
        order, with what each recorded: its own stream's, and those of the streams kept on
        its behalf (applications, licences)."""
        grant = self._enter(principal, "audit.history", subject, "events", purpose, unmask)
        found = self.histories.page(subject, replace(page, first=page.first + 1))
        versions: dict[UUID, list[int]] = {}
        for entry in found:
            versions.setdefault(entry.subject, []).append(entry.version)
        events = {
            (stream, e.originator_version): e
            for stream, wanted in versions.items()
            for e in self.files.events.get(stream, gt=min(wanted) - 1, lte=max(wanted))
        }
        return [
            HistoryEntry(
                entry.position,
                entry.subject,
                entry.version,
                entry.type,
                entry.recorded_at,
                shown(vars(event), type(event), EVENT_METADATA, grant.shows("events")),
            )
            for entry in found
            for event in [events[(entry.subject, entry.version)]]
        ]

    def state(
        self,
        principal: Principal,
        subject: UUID,
        version: int | None,
        at: datetime | None,
        purpose: str | None,
        unmask: bool = False,
    ) -> FileState:
        """The file as it was at a version, or at a moment (its last event by then)."""
        if version is not None and version < 1:
            raise UserError(ErrorCode.INVALID_ARGUMENT, "Versions start at 1", "version")
        grant = self._enter(principal, "audit.state", subject, "state", purpose, unmask)
        if at is not None:
            version = self.histories.version_at(subject, at)
            if version is None:
                raise UserError(ErrorCode.NOT_FOUND, "The file did not exist yet", "at")
        try:
            aggregate: Aggregate = self.files.repository.get(subject, version=version)
        except AggregateNotFoundError:
            raise UserError(ErrorCode.NOT_FOUND, "No such file or version", "version") from None
        if version is not None and aggregate.version < version:  # the store answers its last
            raise UserError(
                ErrorCode.NOT_FOUND,
                f"The file's last version is {aggregate.version}; there is no {version}",
                "version",
            )
        state = {k.removeprefix("_"): v for k, v in vars(aggregate).items()}
        return FileState(
            subject=subject,
            kind=type(aggregate).__name__,
            version=aggregate.version,
            at=aggregate.modified_on,
            state=shown(
                state, type(aggregate), ("id", "version", "pending_events"), grant.shows("state")
            ),
        )

    def screen(
        self,
        principal: Principal,
        read_model: str,
        key: UUID,
        position: int | None,
        at: datetime | None,
        purpose: str | None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ScreenState:
        """The row of a screen's read model as it stood when the log reached `position`
        (or a moment), its rules folded again over the log up to there."""
        if read_model not in SCREENS:
            raise UserError(
                ErrorCode.INVALID_ARGUMENT, f"Screens are {', '.join(SCREENS)}", "readModel"
            )
        self._enter(principal, f"audit.screen.{read_model}", key, "row", purpose)
        if at is not None:
            position = self.histories.position_at(at)
        reach = self.files.head() if position is None else min(position, self.files.head())
        row = self.models.row_as_of(read_model, str(key), reach, progress)
        return ScreenState(read_model, str(key), reach, row)

    def _enter(
        self,
        principal: Principal,
        read: str,
        subject: UUID,
        what: str,
        purpose: str | None,
        unmask: bool = False,
    ) -> Grant:
        return self.door.enter(
            principal,
            read,
            self._people(subject),
            lambda: policy.replay(principal, what, unmask),
            fields=(what,),
            purpose=purpose,
        )

    def _people(self, subject: UUID) -> list[UUID]:
        """Whose data a replay of this file shows: the file's own, and the person a file
        kept on someone's behalf names (a licence's holder, an application's applicant and
        co-applicant, a code holder's citizen): each sees the read in their records."""
        try:
            found = self.files.find(subject)
        except UserError:  # a file that cannot be loaded any more names nobody else
            return [subject]
        declared = personal_of(type(found)) if found is not None else None
        names = [declared.subject, "co_applicant"] if declared else []
        people = [getattr(found, name, None) for name in names if name != "originator_id"]
        return [subject, *(p for p in people if isinstance(p, UUID) and p != subject)]


def shown(
    state: Mapping[str, Any], cls: type, hidden: tuple[str, ...], in_full: bool = False
) -> dict[str, Any]:
    """A recorded state as auditors see it: plain JSON values, personal fields masked by
    their kinds (in full if unmasked), the event's own metadata left out."""
    declared = personal_of(cls)
    kinds = declared.fields if declared and not in_full else {}
    return {
        name: masked(kinds[name], value) if name in kinds else plain(value)
        for name, value in state.items()
        if name not in hidden
    }


def plain(value: Any) -> Any:
    """A value as JSON has it."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value
