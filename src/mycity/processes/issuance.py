"""Licence issuance, following the log: every approved application of a licensing item ends
in its licences (and, for an establishment registration, the enterprise) on the holders'
files, recorded with the process's position in one transaction, so after a crash nothing
is issued twice and nothing is left out."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any, Protocol

from mycity.domain.application import Application
from mycity.processes.tracked import Process, Reply


class Issuer(Protocol):
    def issue(self, application: Application, reply: Reply) -> None:
        """Record what the approval issues, through the reply."""
        ...


class Issuance(Process):
    name = "licence issuance"

    def __init__(self, issuer: Issuer) -> None:
        self.issuer = issuer

    @singledispatchmethod
    def policy(self, event: Any, reply: Reply) -> None:
        pass

    @policy.register
    def _(self, event: Application.Approved, reply: Reply) -> None:
        application = reply.get(Application, event.originator_id)
        if not application.issued:
            self.issuer.issue(application, reply)
