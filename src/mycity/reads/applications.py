"""Reading applications: the applicant's list, each department's queue and overdue list,
the departments' ratings, and an application's form, which is personal and so is read by
officers only through the door, for a stated purpose."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from mycity.domain.application import Application
from mycity.domain.enterprise import AgentScope, Enterprise
from mycity.domain.errors import Forbidden
from mycity.identity.principal import Principal, Role
from mycity.policy import applications as policy
from mycity.policy.base import Grant, require, require_citizen
from mycity.projections.application_list import ApplicationLists, ApplicationRow
from mycity.projections.ratings import RatingStatistics, RatingStats
from mycity.reads.door import Door
from mycity.store.files import CityFiles


@dataclass(frozen=True)
class ApplicationReads:
    read_models: ClassVar[tuple[str, ...]] = ("application_list", "rating_statistics")

    door: Door
    files: CityFiles
    lists: ApplicationLists
    ratings: RatingStatistics
    today: Callable[[], date]

    def mine(
        self, principal: Principal, enterprise_id: UUID | None, first: int, after: str | None
    ) -> list[ApplicationRow]:
        """The caller's applications (also those they co-applied for), or their
        enterprise's; up to `first`, and one more if there are more."""
        return self.lists.mine([self._applicant(principal, enterprise_id)], first + 1, after)

    def queue(self, principal: Principal, first: int, after: str | None) -> list[ApplicationRow]:
        department = policy.department_of(principal)
        return self.lists.queue(department, first + 1, after)

    def overdue(self, principal: Principal, first: int, after: str | None) -> list[ApplicationRow]:
        department = policy.department_of(principal)
        return self.lists.overdue(department, self.today(), first + 1, after)

    def rating_statistics(self, principal: Principal, department: str | None) -> list[RatingStats]:
        """好差评 statistics are published: anyone signed in reads them."""
        require(principal)
        return [self.ratings.of(department)] if department else self.ratings.all()

    def get(self, principal: Principal, application_id: UUID) -> ApplicationRow | None:
        """One application, for its applicants and the officers of its department."""
        row = self.lists.get(application_id)
        if row is None:
            return None
        if principal.role is Role.OFFICER:
            policy.officer_of(principal, row.department)
        elif self._applicant(principal, None) not in (row.applicant, row.co_applicant):
            self._applicant(principal, row.applicant)  # an agent of the applying enterprise
        return row

    def form(
        self, principal: Principal, application_id: UUID, purpose: str | None
    ) -> dict[str, str] | None:
        """The form's answers: the applicant's own data; an officer of the department reads
        them for a stated purpose, recorded. None once the applicant is erased."""
        application = self.files.read(Application, application_id, "applicationId")

        def rule() -> Grant:
            if principal.role is Role.OFFICER:
                policy.officer_of(principal, application.department)
            elif principal.citizen_id not in (application.applicant, application.co_applicant):
                self._applicant(principal, application.applicant)
            return Grant(full=frozenset(application.form or ()))

        self.door.enter(
            principal,
            "application.form",
            [application.applicant],
            rule,
            fields=sorted(application.form or ()),
            purpose=purpose,
        )
        return dict(application.form) if application.form is not None else None

    @staticmethod
    def parties(found: Aggregate | None) -> list[UUID]:
        """Whose behalf a file is kept on, if it is an application: its applicants (for the
        applicants' live changes; ids only)."""
        if not isinstance(found, Application):
            return []
        return [p for p in (found.applicant, found.co_applicant) if p is not None]

    def _applicant(self, principal: Principal, enterprise_id: UUID | None) -> UUID:
        """The caller's own file, or an enterprise they apply for (APPLICATIONS scope)."""
        citizen_id = require_citizen(principal)
        if enterprise_id is None or enterprise_id == citizen_id:
            return citizen_id
        enterprise = self.files.find(enterprise_id)
        if isinstance(enterprise, Enterprise) and enterprise.may(
            citizen_id, AgentScope.APPLICATIONS
        ):
            return enterprise_id
        raise Forbidden("Not your enterprise's applications", "enterpriseId")
