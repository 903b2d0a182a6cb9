"""Given-events / when-command / then-events helpers for the domain's aggregates.

    citizen = given(Citizen, fact(Citizen.Registered, id_number=..., name=..., phone=...))
    citizen.verify_real_name(matched=True, check_reference="r-1")  # when
    assert then(citizen) == [("RealNameVerified", {"level": "VERIFIED", ...})]

`given` builds each past event with the envelope eventsourcing would have stored
(originator id, consecutive versions, timestamp, and for the created event the
aggregate's topic) and rebuilds the aggregate exactly as a repository does: by calling
`event.mutate(aggregate)` in order, starting from None. The rebuilt aggregate has no
pending events, so `then` sees only what the command under test recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, CanInitAggregate
from eventsourcing.utils import get_topic

from mycity.domain.errors import ErrorCode, UserError

A = TypeVar("A", bound=Aggregate)

# Set on every event by eventsourcing; not part of what the event says.
ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})

Fact = tuple[type, dict[str, Any]]


def fact(event_class: type, **attributes: Any) -> Fact:
    """A past event, before it is numbered: its class and what it says."""
    return event_class, attributes


def given(cls: type[A], *facts: Fact, id: UUID | None = None) -> A:
    """The aggregate as rebuilt from these past events, with nothing pending."""
    originator_id = id or uuid4()
    aggregate: Any = None
    for version, (event_class, attributes) in enumerate(facts, start=1):
        envelope: dict[str, Any] = {
            "originator_id": originator_id,
            "originator_version": version,
            "timestamp": event_class.create_timestamp(),
        }
        if issubclass(event_class, CanInitAggregate):
            envelope["originator_topic"] = get_topic(cls)
        event = event_class(**envelope, **attributes)
        aggregate = event.mutate(aggregate)
    assert isinstance(aggregate, cls), f"the given events do not build a {cls.__name__}"
    assert aggregate.version == len(facts)
    assert not aggregate.pending_events
    return aggregate


def then(aggregate: Aggregate, *names: str) -> list[tuple[str, dict[str, Any]]]:
    """The events the command recorded, as (class name, attributes), in order.

    With `names`, only those attributes are kept; otherwise every attribute outside the
    envelope. The events are collected: a second call returns only newer ones. Each
    event is also checked to continue the aggregate's own sequence.
    """
    events = list(aggregate.collect_events())
    first = aggregate.version - len(events) + 1
    result = []
    for offset, event in enumerate(events):
        assert event.originator_id == aggregate.id
        assert event.originator_version == first + offset
        attributes = {
            k: v for k, v in vars(event).items() if k not in ENVELOPE and (not names or k in names)
        }
        result.append((type(event).__name__, attributes))
    return result


_ANY_FIELD: Any = object()


@contextmanager
def refused(code: ErrorCode, field: str | None = _ANY_FIELD) -> Iterator[None]:
    """Expect the command to raise a UserError with this code, naming this field if given."""
    with pytest.raises(UserError) as caught:
        yield
    assert caught.value.code is code, caught.value
    if field is not _ANY_FIELD:
        assert caught.value.field == field, caught.value
