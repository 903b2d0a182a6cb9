"""The credit process: follows the log and applies the credit rules (`data/credit/rules.json`)
to the events they name, each change recorded with the process's position in one
transaction, so a crash neither loses nor doubles one.

It reads only the events some rule names, and loads nothing for one that no rule's
conditions match. Each change cites its evidence by its position in the log. Rules apply to
events as they are answered: a changed rule changes no score already recorded.
"""

from __future__ import annotations

from datetime import date
from functools import singledispatchmethod
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.utils import resolve_topic

from mycity.domain.citizen import Citizen
from mycity.domain.credit import SEALED, Credit, SubjectKind, credit_id, opened
from mycity.domain.credit_rules import CreditRules, Rule
from mycity.domain.enterprise import Enterprise
from mycity.domain.fare import Fare
from mycity.domain.licence import Licence
from mycity.domain.payment import Payment
from mycity.processes.tracked import Process, Reply
from mycity.store.seals import key_id

SOURCE = "rules"  # the source of the changes the rules give


class Scoring(Process):
    name = "credit"

    def __init__(self, rules: CreditRules, timezone: str) -> None:
        self.rules = rules
        self.zone = ZoneInfo(timezone)

    def follows(self) -> tuple[str, ...]:
        """The topics of the events some rule names (a rule names `Class.Event`)."""
        return tuple(t for t in self.topics if resolve_topic(t).__qualname__ in self.rules.events)

    @singledispatchmethod
    def policy(self, event: Any, reply: Reply) -> None:
        pass

    @policy.register
    def _(self, event: Payment.Succeeded, reply: Reply) -> None:
        payer = lambda: reply.get(Payment, event.originator_id).payer  # noqa: E731
        self._score(event, reply, payer)

    @policy.register
    def _(self, event: Fare.Overdue, reply: Reply) -> None:
        rider = lambda: reply.get(Fare, event.originator_id).rider  # noqa: E731
        self._score(event, reply, rider)

    @policy.register
    def _(
        self, event: Licence.Suspended | Licence.Reinstated | Licence.Revoked, reply: Reply
    ) -> None:
        holder = lambda: reply.get(Licence, event.originator_id).holder  # noqa: E731
        self._score(event, reply, holder)

    def _score(self, event: Any, reply: Reply, subject_of: Any) -> None:
        named = type(event).__qualname__  # as the rules name it: `Fare.Overdue`
        rules = [r for r in self.rules.for_event(named) if r.matches(event)]
        if not rules:
            return
        subject: UUID = subject_of()
        found = reply.find(credit_id(subject))
        kind = found.kind if isinstance(found, Credit) else _kind(reply.find(subject))
        if kind is None or reply.files.vault.is_shredded(key_id(subject, SEALED)):
            return  # a payer that is no one's file, or a person erased
        credit = opened(found, subject, kind, self.rules.base)
        day = event.timestamp.astimezone(self.zone).date()
        changed = [self._apply(credit, rule, day, reply.position) for rule in rules]
        if any(changed):
            reply.save(credit)

    @staticmethod
    def _apply(credit: Any, rule: Rule, day: date, position: int) -> bool:
        return bool(
            credit.change(
                rule.delta,
                rule.reason,
                SOURCE,
                rule=rule.code,
                cap=rule.cap.points if rule.cap else None,
                period=rule.cap.per.period(day) if rule.cap else "",
                position=position,
            )
        )


def _kind(file: object) -> SubjectKind | None:
    if isinstance(file, Citizen):
        return SubjectKind.CITIZEN
    if isinstance(file, Enterprise):
        return SubjectKind.ENTERPRISE
    return None
