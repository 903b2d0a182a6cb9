"""Every field of every event class the store holds is classified: personal (with its kind
and whose it is, sealed under that person's key) or declared not personal. A field that is
neither fails here, so a new event cannot store a person's data in clear by oversight."""

from __future__ import annotations

import typing

import pytest
from eventsourcing.domain import Aggregate

from mycity.domain.personal import (
    Kind,
    Retention,
    not_personal,
    not_personal_of,
    personal,
    personal_of,
)
from tests.test_docs import recorded_event_classes

METADATA = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})
EVENTS = sorted(recorded_event_classes(), key=lambda c: c.__qualname__)


def fields_of(event: type) -> set[str]:
    """The fields an event class records (eventsourcing's own metadata aside)."""
    hints = typing.get_type_hints(event)
    return {
        name
        for name, hint in hints.items()
        if name not in METADATA and typing.get_origin(hint) is not typing.ClassVar
    }


def unclassified(event: type) -> tuple[set[str], set[str], set[str]]:
    """The fields neither declared; those declared both ways; declarations of no field."""
    declared = personal_of(event)
    sealed = set(declared.fields) if declared else set()
    plain = set(not_personal_of(event))
    fields = fields_of(event)
    return fields - sealed - plain, sealed & plain, (sealed | plain) - fields


@pytest.mark.parametrize("event", EVENTS, ids=[e.__qualname__ for e in EVENTS])
def test_every_field_is_personal_or_declared_not(event: type) -> None:
    neither, both, unknown = unclassified(event)
    assert neither == set(), f"classify with @personal(...) or @not_personal(...): {neither}"
    assert both == set(), f"declared both personal and not: {both}"
    assert unknown == set(), f"declared, but the class has no such field: {unknown}"


def test_a_personal_fields_subject_is_a_field_of_its_class() -> None:
    for event in EVENTS:
        declared = personal_of(event)
        if declared and declared.subject != "originator_id":
            assert declared.subject in fields_of(event), event.__qualname__


def test_the_check_fails_on_a_field_nobody_classified() -> None:
    class Noted(Aggregate):
        @not_personal("by")
        @personal(subject="by", retention=Retention.SERVICE_ACTIVITY)
        class Said(Aggregate.Event):
            by: str
            text: str  # nobody said whose this is

    assert unclassified(Noted.Said) == ({"text"}, set(), set())


def test_every_personal_field_has_a_retention_class() -> None:
    """Each one is erased on its class's day: at once, or when its period ends."""
    for event in EVENTS:
        declared = personal_of(event)
        if declared:
            assert declared.retention.keys() == declared.fields.keys(), event.__qualname__
            assert set(declared.retention.values()) <= set(Retention), event.__qualname__


def test_a_declaration_naming_classes_field_by_field_must_name_every_field() -> None:
    with pytest.raises(TypeError, match="name a retention class for each of"):
        personal(retention={"name": Retention.STATUTORY_RECORD}, name=Kind.NAME, phone=Kind.PHONE)
    declared = personal(
        retention={"name": Retention.STATUTORY_RECORD, "phone": Retention.SERVICE_ACTIVITY},
        name=Kind.NAME,
        phone=Kind.PHONE,
    )(type("Noted", (), {}))
    assert personal_of(declared).by_retention == {  # type: ignore[union-attr]
        Retention.STATUTORY_RECORD: ["name"],
        Retention.SERVICE_ACTIVITY: ["phone"],
    }
