"""A record of one read of people's data by staff or a partner (like Estonia's Data Tracker).

Recorded before the data is read, in the same global log as everything else, so that the
Merkle tree covers it: nobody can read a person's data and quietly remove the trace. It
holds no personal data itself: whose data (their file ids), which fields, who, and why.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from mycity.domain.personal import not_personal


class AccessRecord(Aggregate):
    @not_personal(
        "reader",
        "reader_role",
        "reader_department",
        "reader_name",
        "read",
        "subjects",
        "fields",
        "unmasked",
        "purpose",
    )
    class Recorded(Aggregate.Created):
        reader: str  # the reader's subject: a staff or partner client id
        reader_role: str
        reader_department: str
        reader_name: str
        read: str  # which read, e.g. "citizen.profile"
        subjects: list[UUID]  # whose data
        fields: list[str]  # the fields shown
        unmasked: list[str]  # of those, the ones shown in full
        purpose: str

    @event(Recorded)
    def __init__(
        self,
        reader: str,
        reader_role: str,
        reader_department: str,
        reader_name: str,
        read: str,
        subjects: list[UUID],
        fields: list[str],
        unmasked: list[str],
        purpose: str,
    ) -> None:
        self.reader = reader
        self.read = read
        self.subjects = list(subjects)
        self.purpose = purpose

    @staticmethod
    def create_id(**_: object) -> UUID:
        return uuid4()
