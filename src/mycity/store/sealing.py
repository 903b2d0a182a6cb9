"""eventsourcing's mapper, sealing each person's fields under that person's own data key.

Before an event (or a snapshot) is encoded and encrypted at rest as a whole, the fields its
class declares personal (`mycity.domain.personal`) are sealed together, as one `Sealed`
value under the data key of the person the declaration names and of the fields' retention
class (a list of such values if the event holds fields of both classes), kept as `_sealed`;
the fields themselves are stored as null. On the way back the value is opened and the fields take
their values again, or stay None once that person's key is shredded. One seal an event, not
one a field: a rebuild opens every event it reads. Events stored before (each field sealed
on its own) are opened as they are. So any event class of any capability is covered by
declaring its fields, and nothing else. A snapshot holds the aggregate's attributes as they
are, so this mapper also stores the one shape JSON lacks: a dict keyed by UUIDs.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Mapper, Notification, StoredEvent, Transcoder, Transcoding
from eventsourcing.utils import resolve_topic

from mycity.domain.personal import Personal, Retention, personal_of
from mycity.store.seals import Sealed, key_id
from mycity.store.vault import Vault

SEALED_FIELDS = "_sealed"  # where an event's personal fields are kept, sealed together


class SealedAsText(Transcoding):
    type = Sealed
    name = "sealed"

    def encode(self, obj: Sealed) -> str:
        return base64.b64encode(obj.blob).decode()

    def decode(self, data: str) -> Sealed:
        return Sealed(base64.b64decode(data))


@dataclass(frozen=True)
class ByUuid:
    """A dict keyed by UUIDs (an enterprise's agents) in a snapshot: JSON keys an object
    only by strings, so it is stored as its pairs."""

    items: dict[UUID, Any]


class ByUuidAsPairs(Transcoding):
    type = ByUuid
    name = "by_uuid"

    def encode(self, obj: ByUuid) -> list[list[Any]]:
        return [[key, value] for key, value in obj.items.items()]

    def decode(self, data: list[list[Any]]) -> dict[UUID, Any]:
        return {key: value for key, value in data}


class SealingMapper(Mapper[UUID]):
    def __init__(self, transcoder: Transcoder, vault: Vault, **kwargs: Any) -> None:
        super().__init__(transcoder, **kwargs)
        self.vault = vault

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = vars(domain_event)
        if isinstance(domain_event, Snapshot):
            state = state | {"state": self._snapshot_state(domain_event)}
        elif (declared := personal_of(type(domain_event))) is not None:
            state = dict(state)
            self._seal(declared, state, state[declared.subject])
        if state is not vars(domain_event):
            domain_event = _with_state(domain_event, state)
        return super().to_stored_event(domain_event)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        domain_event = super().to_domain_event(stored_event)
        state = vars(domain_event)
        self._open(state)
        if isinstance(domain_event, Snapshot):
            self._open(domain_event.state)
        return domain_event

    def decode(self, stored_event: StoredEvent, opens: frozenset[Retention] | None) -> Any:
        """The event with only its personal fields of these retention classes opened (all
        if None); the others stay None, as an erased person's do. What a rebuild of a read
        model that reads no others decodes: no key looked up, nothing decrypted for them."""
        if opens is None:
            return self.to_domain_event(stored_event)
        domain_event = super().to_domain_event(stored_event)
        state = vars(domain_event)
        declared = personal_of(type(domain_event))
        person = None if declared is None else state.get(declared.subject)
        wanted = set() if person is None else {key_id(_uuid(person), r).bytes for r in opens}
        self._open(state, wanted)
        return domain_event

    def prefetch(
        self, records: Iterable[Notification], opens: frozenset[Retention] | None = None
    ) -> None:
        """Load in one query the keys of the files these stored events are on, before they
        are decoded (a page of the log: one round trip, not one per person); only those of
        the retention classes `opens` names, if given."""
        self.vault.prefetch(
            key_id(_uuid(r.originator_id), retention)
            for r in records
            for retention in _retentions(r.topic)
            if opens is None or retention in opens
        )

    def subjects(self, events: Iterable[Any]) -> set[UUID]:
        """The keys these events' personal fields would be sealed under (to make them
        first)."""
        found: set[UUID] = set()
        for event in events:
            declared = personal_of(type(event))
            if declared is not None:
                person = getattr(event, declared.subject)
                found.update(key_id(person, r) for r in declared.by_retention)
        return found

    def _snapshot_state(self, snapshot: Snapshot) -> dict[str, Any]:
        """The aggregate's attributes, its person's fields sealed; those of a retention
        class already erased not at all (a file may change after its person's erasure: an
        officer rejects their application)."""
        inner = {k: ByUuid(v) if _keyed_by_uuid(v) else v for k, v in snapshot.state.items()}
        declared = personal_of(resolve_topic(snapshot.topic))
        if declared is not None:
            self._seal(declared, inner, _snapshot_subject(declared, snapshot), snapshot=True)
        return inner

    def _seal(
        self,
        declared: Personal,
        state: MutableMapping[str, Any],
        person: UUID,
        *,
        snapshot: bool = False,
    ) -> None:
        """Seal each retention class's fields together under its key (one seal for an
        event of one class, a list of them for an event of several). An event cannot be
        sealed under an erased key (FILE_ERASED); a snapshot leaves those fields out."""
        to_seal = []
        for retention, names in declared.by_retention.items():
            present = {f: state[f] for f in names if state.get(f) is not None}
            if not present:
                continue
            state.update(dict.fromkeys(present))
            key = key_id(person, retention)
            if snapshot and not self.vault.can_seal(key):
                continue
            to_seal.append((key, self.transcoder.encode(present)))
        if to_seal:
            seals = self.vault.seal_each(to_seal)  # the keys looked up together
            state[SEALED_FIELDS] = seals[0] if len(seals) == 1 else seals

    def _open(self, state: MutableMapping[str, Any], wanted: set[bytes] | None = None) -> None:
        """Open the event's seals (only those under the keys `wanted` names, if given)."""
        together = state.pop(SEALED_FIELDS, None)
        if together is None:
            self._open_each(state, wanted)
            return
        seals = together if isinstance(together, list) else [together]
        if wanted is not None:
            seals = [seal for seal in seals if seal.subject_bytes in wanted]
        for opened in self.vault.open_all(seals):
            if opened is not None:  # else the fields stay null: that key was shredded
                state.update(self._fields(opened))

    def _fields(self, opened: bytes) -> dict[str, Any]:
        """A seal's fields: most are flat text, which orjson reads at a tenth of the
        cost of the transcoder's hook on every object. A value that is an object or a
        list may hold a typed value (a date, a UUID), which only the transcoder revives;
        orjson reads an integer beyond 64 bits as a float, so a float is read again too."""
        fields: dict[str, Any] = orjson.loads(opened)
        if any(isinstance(value, dict | list | float) for value in fields.values()):
            return self.transcoder.decode(opened)  # type: ignore[no-any-return]
        return fields

    def _open_each(self, state: MutableMapping[str, Any], wanted: set[bytes] | None) -> None:
        """An event stored when each of its personal fields was sealed on its own."""
        sealed = {field: value for field, value in state.items() if isinstance(value, Sealed)}
        if wanted is not None:
            for field in [f for f, seal in sealed.items() if seal.subject_bytes not in wanted]:
                state[field] = None
                del sealed[field]
        if not sealed:
            return
        opened = self.vault.open_all(list(sealed.values()))
        for field, plaintext in zip(sealed, opened, strict=True):
            state[field] = None if plaintext is None else self.transcoder.decode(plaintext)


def _keyed_by_uuid(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(isinstance(k, UUID) for k in value)


def _snapshot_subject(declared: Personal, snapshot: Snapshot) -> UUID:
    """Whose data a file's snapshot holds: the file's own person, or the one it names (an
    application's applicant)."""
    if declared.subject == "originator_id":
        return snapshot.originator_id  # type: ignore[return-value]
    value = snapshot.state[declared.subject]
    return value if isinstance(value, UUID) else UUID(str(value))


@functools.lru_cache(maxsize=1024)
def _retentions(topic: str) -> tuple[Retention, ...]:
    """The retention classes of the personal fields that events of this topic hold of their
    own file's person: the keys decoding one will ask for."""
    declared = personal_of(resolve_topic(topic))
    if declared is None or declared.subject != "originator_id":
        return ()
    return tuple(declared.by_retention)


def _with_state(domain_event: Any, state: dict[str, Any]) -> Any:
    """A copy of the (frozen) event with other values: what the base mapper encodes."""
    copy = object.__new__(type(domain_event))
    object.__setattr__(copy, "__dict__", state)
    return copy


def _uuid(value: Any) -> UUID:
    """A stored event's originator: a UUID from the store, as eventsourcing gives it."""
    return value if type(value) is UUID else UUID(str(value))
