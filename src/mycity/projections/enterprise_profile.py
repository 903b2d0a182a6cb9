"""The enterprise's profile screen: registration, contact, legal representative and agents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from mycity.domain.enterprise import AgentScope, Enterprise
from mycity.domain.identifiers import mask_phone
from mycity.projections.fold import RowProjection, touched
from mycity.projections.store import LiveRows, Row, TableSpec, ViewsById


class EnterpriseProfile(RowProjection):
    name = "enterprise_profile"
    version = 1
    creating = (Enterprise.Registered,)
    spec = TableSpec(
        columns=(
            ("id", "TEXT"),
            ("credit_code", "TEXT NOT NULL"),
            ("name", "TEXT NOT NULL"),
            ("legal_representative_id", "TEXT NOT NULL"),
            ("phone_masked", "TEXT NOT NULL"),
            ("address", "TEXT NOT NULL"),
            ("agents", "TEXT NOT NULL"),
            ("registered_at", "TEXT NOT NULL"),
            ("updated_at", "TEXT NOT NULL"),
            ("version", "INTEGER NOT NULL"),
        ),
        json_columns=frozenset({"agents"}),
    )

    @singledispatchmethod
    def apply(self, event: Any, row: Row | None) -> Row | None:
        return row

    @apply.register
    def _(self, event: Enterprise.Registered, row: Row | None) -> Row:
        at = event.timestamp.isoformat()
        return {
            "id": str(event.originator_id),
            "credit_code": event.credit_code,
            "name": event.name,
            "legal_representative_id": str(event.legal_representative_id),
            "phone_masked": "",
            "address": "",
            "agents": [],
            "registered_at": at,
            "updated_at": at,
            "version": event.originator_version,
        }

    @apply.register
    def _(
        self, event: Enterprise.AgentAuthorised | Enterprise.AgentAccepted, row: Row | None
    ) -> Row | None:
        if row is None:
            return None
        agent = {
            "citizen_id": str(event.agent_id),
            "scopes": list(event.scopes),
            "authorised_at": event.timestamp.isoformat(),
        }
        others = [a for a in row["agents"] if a["citizen_id"] != agent["citizen_id"]]
        return touched(row, event, agents=[*others, agent])

    @apply.register
    def _(self, event: Enterprise.AgentRevoked, row: Row | None) -> Row | None:
        if row is None:
            return None
        agents = [a for a in row["agents"] if a["citizen_id"] != str(event.agent_id)]
        return touched(row, event, agents=agents)

    @apply.register
    def _(self, event: Enterprise.ContactChanged, row: Row | None) -> Row | None:
        return row and touched(
            row,
            event,
            phone_masked=mask_phone(event.phone) if event.phone else "",
            address=event.address,
        )


@dataclass(frozen=True)
class AgentView:
    citizen_id: UUID
    scopes: tuple[AgentScope, ...]
    authorised_at: datetime


@dataclass(frozen=True)
class EnterpriseProfileView:
    id: UUID
    credit_code: str
    name: str
    legal_representative_id: UUID
    phone_masked: str
    address: str
    agents: tuple[AgentView, ...]
    registered_at: datetime
    updated_at: datetime
    version: int

    @property
    def members(self) -> frozenset[UUID]:
        """Its people: the legal representative and the agents."""
        return frozenset({self.legal_representative_id, *(a.citizen_id for a in self.agents)})

    @classmethod
    def of(cls, row: Row) -> EnterpriseProfileView:
        return cls(
            id=UUID(row["id"]),
            credit_code=row["credit_code"],
            name=row["name"],
            legal_representative_id=UUID(row["legal_representative_id"]),
            phone_masked=row["phone_masked"],
            address=row["address"],
            agents=tuple(
                AgentView(
                    UUID(a["citizen_id"]),
                    tuple(AgentScope(s) for s in a["scopes"]),
                    datetime.fromisoformat(a["authorised_at"]),
                )
                for a in row["agents"]
            ),
            registered_at=datetime.fromisoformat(row["registered_at"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
            version=row["version"],
        )


class EnterpriseProfiles(ViewsById[EnterpriseProfileView]):
    """The reader of `enterprise_profile`; only `mycity.reads` uses it (the one door)."""

    def __init__(self, rows: LiveRows) -> None:
        super().__init__(rows, EnterpriseProfileView.of)
