"""One-thing bundles (一件事一次办): a bundle completes when every item it opened has."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from mycity.domain.application import Application
from mycity.domain.application_status import Status
from mycity.processes.tracked import Process, Reply


class Bundles(Process):
    name = "bundles"

    @singledispatchmethod
    def policy(self, event: Any, reply: Reply) -> None:
        pass

    @policy.register
    def _(self, event: Application.Completed, reply: Reply) -> None:
        part = reply.get(Application, event.originator_id)
        if part.bundle is None:
            return
        bundle = reply.get(Application, part.bundle)
        if all(reply.get(Application, p).status == Status.COMPLETED for p in bundle.parts):
            bundle.complete_bundle(by="bundle")
            reply.save(bundle)
