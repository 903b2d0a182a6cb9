"""Audit: replaying files and screens as they were, and the log's checkpoints and proofs.

Hashes, roots and records travel as standard base64, as in the checkpoints themselves; an
offline verifier (`mycity.verifier`) checks what these answers give.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from mycity.domain.errors import ErrorCode
from mycity.domain.errors import UserError as DomainUserError
from mycity.graphql.context import PURPOSE, Info, blocking
from mycity.graphql.errors import UserError, parse_id, reports_user_errors
from mycity.graphql.pagination import Connection, check_first, connection, decode_cursor
from mycity.graphql.shapes import shaped
from mycity.projections.subject_history import HistoryPage
from mycity.reads.audit import FileState as FileStateView
from mycity.reads.audit import HistoryEntry
from mycity.reads.audit import ScreenState as ScreenView
from mycity.usecases.audit import SignedCheckpoint

FILES = ("Citizen", "Enterprise")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def parse_file(gid: relay.GlobalID, field: str) -> UUID:
    """A citizen's or an enterprise's id."""
    if gid.type_name not in FILES:
        raise DomainUserError(ErrorCode.INVALID_ID, "Not a citizen's or an enterprise's id", field)
    return parse_id(gid, gid.type_name, field)


@strawberry.type
class LoggedEvent:
    """One event of a file, as recorded (ID numbers and phones masked)."""

    position: int = strawberry.field(description="Its place in the city's one log.")
    stream: relay.GlobalID = strawberry.field(
        description="The file's own, or one kept on its behalf: an application, a licence."
    )
    version: int = strawberry.field(description="Its place in that stream.")
    type: str = strawberry.field(description='E.g. "Citizen.ContactChanged".')
    recorded_at: datetime
    data: JSON

    @classmethod
    def of(cls, entry: HistoryEntry) -> LoggedEvent:
        kind = entry.type.split(".")[0]
        return shaped(cls, entry, stream=relay.GlobalID(kind, str(entry.stream)))


@strawberry.type
class FileState:
    """A file as it was at one version (ID numbers and phones masked)."""

    kind: str
    version: int
    recorded_at: datetime = strawberry.field(description="When that version was recorded.")
    state: JSON

    @classmethod
    def of(cls, view: FileStateView) -> FileState:
        return shaped(cls, view, recorded_at=view.at)


@strawberry.type
class Screen:
    """A screen's read-model row as it stood when the log had reached `position`."""

    read_model: str
    key: str
    position: int
    row: JSON | None

    @classmethod
    def of(cls, view: ScreenView) -> Screen:
        return shaped(cls, view)


@strawberry.type
class Checkpoint:
    """A signed head of the log's Merkle tree (C2SP tlog-checkpoint, see docs/audit.md)."""

    size: int
    root: str = strawberry.field(description="The tree's root hash, base64.")
    signed_at: datetime
    note: str = strawberry.field(description="The signed note's exact text, to keep.")

    @classmethod
    def of(cls, kept: SignedCheckpoint) -> Checkpoint:
        return shaped(cls, kept, root=b64(kept.root))


@strawberry.type
class InclusionProof:
    position: int
    leaf_index: int
    tree_size: int
    record: str = strawberry.field(
        description="The stored event's leaf data (base64): its leaf hash is SHA-256 of a "
        "zero byte and these bytes."
    )
    proof: list[str] = strawberry.field(description="RFC 9162 audit path, base64 hashes.")
    root: str
    checkpoint: str = strawberry.field(
        description="The signed checkpoint of `treeSize` leaves the proof is against (the "
        "note's text): check its signature with the keys at /audit/key, then its root."
    )


@strawberry.type
class ConsistencyProof:
    from_size: int
    to_size: int
    from_root: str = strawberry.field(description="The root of the tree of `fromSize`, base64.")
    to_root: str = strawberry.field(description="The root of the tree of `toSize`, base64.")
    proof: list[str] = strawberry.field(description="RFC 9162 consistency proof, base64 hashes.")
    checkpoint: str = strawberry.field(description="The signed checkpoint of `toSize` leaves.")
    from_checkpoint: str | None = strawberry.field(
        description="The signed checkpoint of `fromSize` leaves, if one was signed."
    )


UNMASK = strawberry.argument(
    description="Show ID numbers, phones, card numbers and salts in full: the access record "
    "the person sees then says they were unmasked, with the purpose."
)


@strawberry.type
class AuditQueries:
    @strawberry.field(description="A file's events, oldest first. Auditors and admins.")
    async def audit_history(
        self,
        info: Info,
        subject: relay.GlobalID,
        purpose: Annotated[str | None, PURPOSE] = None,
        types: list[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int = 20,
        after: str | None = None,
        unmask: Annotated[bool, UNMASK] = False,
    ) -> Connection[LoggedEvent]:
        context = info.context
        page = HistoryPage(
            first=check_first(first),
            after_position=decode_cursor(after, int)[0] if after else 0,
            types=tuple(types or ()),
            since=since,
            until=until,
        )
        found = await context.read(
            context.city.reads.audit.history,
            context.require(),
            parse_file(subject, "subject"),
            page,
            purpose,
            unmask,
        )
        return connection([([e.position], LoggedEvent.of(e)) for e in found], first, after)

    @strawberry.field(
        description="A file as it was at a version, or at a moment (its last event by "
        "then). Auditors and admins."
    )
    async def audit_state(
        self,
        info: Info,
        subject: relay.GlobalID,
        purpose: Annotated[str | None, PURPOSE] = None,
        version: int | None = None,
        at: datetime | None = None,
        unmask: Annotated[bool, UNMASK] = False,
    ) -> FileState:
        if (version is None) == (at is None):
            raise DomainUserError(ErrorCode.INVALID_ARGUMENT, "Give a version or a moment", "at")
        context = info.context
        view = await context.read(
            context.city.reads.audit.state,
            context.require(),
            parse_file(subject, "subject"),
            version,
            at,
            purpose,
            unmask,
        )
        return FileState.of(view)

    @strawberry.field(
        description="What a screen showed: a read model's row (citizen_profile, "
        "enterprise_profile, directory) when the log had reached a position, or a moment."
    )
    async def audit_screen(
        self,
        info: Info,
        read_model: str,
        key: relay.GlobalID,
        purpose: Annotated[str | None, PURPOSE] = None,
        position: int | None = None,
        at: datetime | None = None,
    ) -> Screen:
        context = info.context
        view = await context.read(
            context.city.reads.audit.screen,
            context.require(),
            read_model,
            parse_file(key, "key"),
            position,
            at,
            purpose,
        )
        return Screen.of(view)

    @strawberry.field(description="The latest checkpoint; also at GET /audit/checkpoint.")
    async def audit_checkpoint(self, info: Info) -> Checkpoint | None:
        info.context.require()
        kept = await blocking(info.context.city.audit.checkpoints.latest)
        return Checkpoint.of(kept) if kept else None

    @strawberry.field(
        description="That the event at a position is in the tree of `treeSize` leaves (a "
        "signed checkpoint's size, by default the latest's; another is UNSIGNED_SIZE). "
        "Auditors and admins."
    )
    async def audit_inclusion_proof(
        self, info: Info, position: int, tree_size: int | None = None
    ) -> InclusionProof:
        found = await blocking(
            info.context.city.audit.inclusion, info.context.require(), position, tree_size
        )
        return InclusionProof(
            position=found.position,
            leaf_index=found.leaf_index,
            tree_size=found.tree_size,
            record=b64(found.record),
            proof=[b64(h) for h in found.proof],
            root=b64(found.root),
            checkpoint=found.checkpoint,
        )

    @strawberry.field(
        description="That the tree of `toSize` leaves (a signed checkpoint's size, by default "
        "the latest's) only appended to the tree of `fromSize`. Auditors and admins."
    )
    async def audit_consistency_proof(
        self, info: Info, from_size: int, to_size: int | None = None
    ) -> ConsistencyProof:
        found = await blocking(
            info.context.city.audit.consistency, info.context.require(), from_size, to_size
        )
        return ConsistencyProof(
            from_size=found.from_size,
            to_size=found.to_size,
            from_root=b64(found.from_root),
            to_root=b64(found.to_root),
            proof=[b64(h) for h in found.proof],
            checkpoint=found.checkpoint,
            from_checkpoint=found.from_checkpoint,
        )


@strawberry.type
class CheckpointPayload:
    checkpoint: Checkpoint | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SignCheckpointInput:
    client_mutation_id: str | None = None


@strawberry.type
class AuditMutations:
    @strawberry.mutation(description="Sign a checkpoint of the whole log now. Auditors, admins.")
    @reports_user_errors(CheckpointPayload)
    async def sign_checkpoint(
        self, info: Info, input: SignCheckpointInput | None = None
    ) -> CheckpointPayload:
        kept = await blocking(info.context.city.audit.sign_checkpoint, info.context.require())
        return CheckpointPayload(checkpoint=Checkpoint.of(kept))
