"""Which facts are a person's own data, and whose.

An event class (or an aggregate class, for its snapshots) declares its personal fields, their
kinds and their retention classes with `@personal(...)`. The store seals those fields under
the data key of the person they belong to and of the field's retention class, so that
shredding that key makes them unreadable everywhere at once: a closed account's service
activity at once, its statutory records when their legal period ends. Masking and the
audit's presentation go by the kinds. The domain only declares: it knows nothing of keys
or storage.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from mycity.domain.identifiers import mask_id_number, mask_phone

T = TypeVar("T", bound=type)


class Kind(StrEnum):
    """What a personal field holds; it decides how the field is masked when shown."""

    ID_NUMBER = "ID_NUMBER"
    PHONE = "PHONE"
    NAME = "NAME"
    ADDRESS = "ADDRESS"
    CARD_NUMBER = "CARD_NUMBER"
    TEXT = "TEXT"  # what the person wrote: a form's answers, a comment
    SECRET = "SECRET"  # what makes a disclosure checkable (a licence's salts): never shown


class Retention(StrEnum):
    """How long a personal field outlives the person's account (PIPL art. 47: what a law
    requires kept is kept, and nothing else)."""

    SERVICE_ACTIVITY = "SERVICE_ACTIVITY"  # erased at once when the account closes
    STATUTORY_RECORD = "STATUTORY_RECORD"  # kept for its legal period (data/retention.json)


@dataclass(frozen=True)
class Personal:
    fields: Mapping[str, Kind]
    subject: str  # the attribute naming whose data it is ("originator_id": the file's own)
    retention: Mapping[str, Retention]  # each field's class

    @functools.cached_property
    def by_retention(self) -> dict[Retention, list[str]]:
        """The fields of each retention class, in declaration order."""
        groups: dict[Retention, list[str]] = {}
        for name in self.fields:
            groups.setdefault(self.retention[name], []).append(name)
        return groups


def personal(
    subject: str = "originator_id",
    *,
    retention: Retention | Mapping[str, Retention],
    **fields: Kind,
) -> Callable[[T], T]:
    """Declare the class's personal fields, the attribute naming their person, and their
    retention class: one for all, or one for each field by name (every field named)."""
    if isinstance(retention, Retention):
        classes = dict.fromkeys(fields, retention)
    else:
        classes = dict(retention)
        if classes.keys() != fields.keys():
            raise TypeError(f"name a retention class for each of {sorted(fields)}")

    def declare(cls: T) -> T:
        cls.__personal__ = Personal(dict(fields), subject, classes)  # type: ignore[attr-defined]
        return cls

    return declare


def not_personal(*fields: str) -> Callable[[T], T]:
    """Declare the class's fields that are no person's own data (ids and references, codes,
    times, what staff and partners did in their office). With `@personal`, every field of
    every event class is classified: a test over every class the store holds fails on a
    field that is neither, so no new field is stored in clear by oversight."""

    def declare(cls: T) -> T:
        cls.__not_personal__ = frozenset(fields)  # type: ignore[attr-defined]
        return cls

    return declare


def not_personal_of(cls: type) -> frozenset[str]:
    """The fields the class declares not personal (eventsourcing may subclass a declared
    event class: the declaration is looked up as `personal_of` looks up its own)."""
    declared: Any = getattr(cls, "__not_personal__", frozenset())
    return declared if isinstance(declared, frozenset) else frozenset()


def personal_of(cls: type) -> Personal | None:
    """The declaration of the class or the nearest class it inherits one from."""
    declared: Any = getattr(cls, "__personal__", None)
    return declared if isinstance(declared, Personal) else None


def masked(kind: Kind, value: Any) -> Any:
    """The field as shown to whoever may not see it in full: ID numbers, phones and card
    numbers partly hidden, secrets not at all, the rest as they are; an erased field (None)
    stays None. A mapping is masked value by value: a text one (a form's answers, a
    licence's fields) by what each key's name says it holds (`holder_id_number`, `phone`)."""
    if kind is Kind.SECRET:
        return None
    if isinstance(value, Mapping):
        return {
            k: masked(kind_named(k) if kind is Kind.TEXT else kind, v) for k, v in value.items()
        }
    if not isinstance(value, str) or not value:
        return value
    if kind is Kind.ID_NUMBER:
        return mask_id_number(value)
    if kind is Kind.PHONE:
        return mask_phone(value)
    if kind is Kind.CARD_NUMBER:
        return "*" * max(len(value) - 4, 0) + value[-4:]
    return value


def kind_named(name: Any) -> Kind:
    """What a text field holds, by the catalogue's naming of fields: `…id_number`, `…phone`,
    `…card_number`; anything else is text."""
    name = str(name)
    if name.endswith("id_number"):
        return Kind.ID_NUMBER
    if name.endswith("phone"):
        return Kind.PHONE
    if name.endswith("card_number"):
        return Kind.CARD_NUMBER
    return Kind.TEXT
