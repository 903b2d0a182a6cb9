"""Invitations to act for an enterprise that wait for an answer: the invitee's list, and
the legal representative's list of whom they invited.

A row per enterprise and invited person, gone once the person accepts or declines or the
invitation is withdrawn. It is keyed by the person's id, which any ID number has whether
or not it has a file, so someone invited before they sign up finds the invitation after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from mycity.domain.enterprise import MAX_INVITATIONS, AgentScope, Enterprise
from mycity.projections.fold import RowProjection
from mycity.projections.store import LiveRows, Row, TableSpec
from mycity.projections.subject_history import utc


class AgentInvitations(RowProjection):
    name = "agent_invitations"
    version = 1
    creating = (Enterprise.AgentInvited,)
    spec = TableSpec(
        columns=(
            ("id", "TEXT"),  # "<enterprise id>/<agent id>"
            ("enterprise", "TEXT NOT NULL"),
            ("agent", "TEXT NOT NULL"),
            ("scopes", "TEXT NOT NULL"),
            ("invited_at", "TEXT NOT NULL"),
        ),
        indexes=(("agent", "invited_at"), ("enterprise", "invited_at")),
        json_columns=frozenset({"scopes"}),
    )
    elsewhere = frozenset()  # each row folds events of one enterprise's stream

    def key(self, event: Any) -> str:
        return f"{event.originator_id}/{event.agent_id}"

    @singledispatchmethod
    def apply(self, event: Any, row: Row | None) -> Row | None:
        return row

    @apply.register
    def _(self, event: Enterprise.AgentInvited, row: Row | None) -> Row:
        return {
            "id": self.key(event),
            "enterprise": str(event.originator_id),
            "agent": str(event.agent_id),
            "scopes": list(event.scopes),
            "invited_at": utc(event.timestamp),
        }

    @apply.register
    def _(
        self,
        event: Enterprise.AgentAccepted
        | Enterprise.AgentDeclined
        | Enterprise.AgentInvitationWithdrawn,
        row: Row | None,
    ) -> None:
        return None  # answered or withdrawn: nothing waits any more


@dataclass(frozen=True)
class Invitation:
    enterprise_id: UUID
    agent_id: UUID
    scopes: tuple[AgentScope, ...]
    invited_at: datetime

    @classmethod
    def of(cls, row: Row) -> Invitation:
        return cls(
            enterprise_id=UUID(row["enterprise"]),
            agent_id=UUID(row["agent"]),
            scopes=tuple(AgentScope(s) for s in row["scopes"]),
            invited_at=datetime.fromisoformat(row["invited_at"]),
        )


class Invitations:
    """The reader of `agent_invitations`; only `mycity.reads` uses it (the one door). An
    enterprise has at most `MAX_INVITATIONS` waiting; a person's list shows the oldest as many."""

    def __init__(self, rows: LiveRows) -> None:
        self.rows = rows

    def _where(self, column: str, value: UUID) -> list[Invitation]:
        found = self.rows.select(
            f"WHERE {column} = ? ORDER BY invited_at LIMIT {MAX_INVITATIONS}", [str(value)]
        )
        return [Invitation.of(row) for row in found]

    def of_agent(self, agent_id: UUID) -> list[Invitation]:
        return self._where("agent", agent_id)

    def of_enterprise(self, enterprise_id: UUID) -> list[Invitation]:
        return self._where("enterprise", enterprise_id)
