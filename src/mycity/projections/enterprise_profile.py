"""The enterprise's profile screen: registration, contact, legal representative and agents."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from mycity.domain.enterprise import Enterprise
from mycity.domain.identifiers import mask_phone
from mycity.projections.machinery import Row, RowProjection, TableSpec, touched


class EnterpriseProfile(RowProjection):
    name = "enterprise_profile"
    version = 1
    creates = (Enterprise.Registered,)
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
    def _(self, event: Enterprise.AgentAuthorised, row: Row | None) -> Row | None:
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
