"""The citizen's own profile screen, with the enterprises they represent or act for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from mycity.domain.citizen import Citizen, RealNameLevel
from mycity.domain.enterprise import AgentScope, Enterprise
from mycity.domain.personal import Kind, masked
from mycity.projections.fold import RowProjection, touched
from mycity.projections.store import LiveRows, Row, TableSpec, ViewsById

# Enterprise events that land on a citizen's row, not their own stream's: the agent's.
AGENT_EVENTS = (Enterprise.AgentAuthorised, Enterprise.AgentAccepted, Enterprise.AgentRevoked)
# Their topics and the registration's (the legal representative's row): whose row a stored
# one of these lands on only the decoded event tells.
ELSEWHERE = frozenset(get_topic(c) for c in (Enterprise.Registered, *AGENT_EVENTS))


class CitizenProfile(RowProjection):
    name = "citizen_profile"
    version = 3  # 3: personal values sealed together
    creating = (Citizen.Registered,)
    elsewhere = ELSEWHERE
    spec = TableSpec(
        columns=(
            ("id", "TEXT"),
            ("name", "TEXT"),
            ("id_number_masked", "TEXT"),
            ("phone_masked", "TEXT"),
            ("address", "TEXT"),
            ("real_name_level", "TEXT NOT NULL"),
            ("enterprises", "TEXT NOT NULL"),
            ("registered_at", "TEXT NOT NULL"),
            ("updated_at", "TEXT NOT NULL"),
            ("erased_at", "TEXT"),
            ("version", "INTEGER NOT NULL"),
        ),
        json_columns=frozenset({"enterprises"}),
        personal=frozenset({"name", "id_number_masked", "phone_masked", "address"}),
    )

    def key(self, event: Any) -> str:
        """Enterprise events land on the row of the citizen they concern."""
        if isinstance(event, Enterprise.Registered):
            return str(event.legal_representative_id)
        if isinstance(event, AGENT_EVENTS):
            return str(event.agent_id)
        return str(event.originator_id)

    @singledispatchmethod
    def apply(self, event: Any, row: Row | None) -> Row | None:
        return row

    @apply.register
    def _(self, event: Citizen.Registered, row: Row | None) -> Row:
        at = event.timestamp.isoformat()
        return {
            "id": str(event.originator_id),
            "name": event.name,
            "id_number_masked": masked(Kind.ID_NUMBER, event.id_number),
            "phone_masked": masked(Kind.PHONE, event.phone),
            "address": "",
            "real_name_level": "REGISTERED",
            "enterprises": [],
            "registered_at": at,
            "updated_at": at,
            "erased_at": None,
            "version": event.originator_version,
        }

    @apply.register
    def _(self, event: Citizen.RealNameVerified, row: Row | None) -> Row | None:
        return row and touched(row, event, real_name_level=event.level)

    @apply.register
    def _(self, event: Citizen.ContactChanged, row: Row | None) -> Row | None:
        return row and touched(
            row, event, phone_masked=masked(Kind.PHONE, event.phone), address=event.address
        )

    @apply.register
    def _(self, event: Citizen.TakenOver, row: Row | None) -> Row | None:
        return row and touched(
            row,
            event,
            name=event.name,
            phone_masked=masked(Kind.PHONE, event.phone),
            address="",
            real_name_level=event.level,
        )

    @apply.register
    def _(self, event: Citizen.Erased, row: Row | None) -> Row | None:
        return row and touched(
            row,
            event,
            name=None,
            id_number_masked=None,
            phone_masked=None,
            address=None,
            erased_at=event.timestamp.isoformat(),
        )

    @apply.register
    def _(self, event: Enterprise.Registered, row: Row | None) -> Row | None:
        return row and _with_enterprise(row, str(event.originator_id), "LEGAL_REPRESENTATIVE", [])

    @apply.register
    def _(
        self, event: Enterprise.AgentAuthorised | Enterprise.AgentAccepted, row: Row | None
    ) -> Row | None:
        return row and _with_enterprise(row, str(event.originator_id), "AGENT", event.scopes)

    @apply.register
    def _(self, event: Enterprise.AgentRevoked, row: Row | None) -> Row | None:
        return row and _with_enterprise(row, str(event.originator_id), None, [])


def _with_enterprise(row: Row, enterprise_id: str, role: str | None, scopes: list[str]) -> Row:
    others = [e for e in row["enterprises"] if e["id"] != enterprise_id]
    mine = [{"id": enterprise_id, "role": role, "scopes": list(scopes)}] if role else []
    return row | {"enterprises": others + mine}


@dataclass(frozen=True)
class Membership:
    enterprise_id: UUID
    role: str  # LEGAL_REPRESENTATIVE or AGENT
    scopes: tuple[AgentScope, ...]


@dataclass(frozen=True)
class CitizenProfileView:
    """One citizen's row; its identifiers are masked (the full ones are only in the file).
    Personal fields are None once the person is erased."""

    id: UUID
    name: str | None
    id_number_masked: str | None
    phone_masked: str | None
    address: str | None
    real_name_level: RealNameLevel
    enterprises: tuple[Membership, ...]
    registered_at: datetime
    updated_at: datetime
    erased_at: datetime | None
    version: int

    @classmethod
    def of(cls, row: Row) -> CitizenProfileView:
        return cls(
            id=UUID(row["id"]),
            name=row["name"],
            id_number_masked=row["id_number_masked"],
            phone_masked=row["phone_masked"],
            address=row["address"],
            real_name_level=RealNameLevel(row["real_name_level"]),
            enterprises=tuple(
                Membership(UUID(m["id"]), m["role"], tuple(AgentScope(s) for s in m["scopes"]))
                for m in row["enterprises"]
            ),
            registered_at=datetime.fromisoformat(row["registered_at"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
            erased_at=datetime.fromisoformat(row["erased_at"]) if row["erased_at"] else None,
            version=row["version"],
        )


class CitizenProfiles(ViewsById[CitizenProfileView]):
    """The reader of `citizen_profile`; only `mycity.reads` uses it (the one door)."""

    def __init__(self, rows: LiveRows) -> None:
        super().__init__(rows, CitizenProfileView.of)
