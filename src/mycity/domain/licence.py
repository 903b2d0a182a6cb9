"""An e-licence (电子证照) on its holder's behalf, and each use of it by a verifier.

The licence's field values and their salts are the holder's data, sealed under the
holder's key; the signed credential holds only their salted digests, so it is kept as
issued and shown to anyone who checks it. Status changes are events by an officer of the
issuing department; expiry is derived from the validity period, never recorded.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from mycity.domain.application import reason_text
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.personal import Kind, Retention, not_personal, personal


class LicenceStatus(StrEnum):
    VALID = "VALID"
    SUSPENDED = "SUSPENDED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


def licence_file_id(application: UUID, holder: UUID) -> UUID:
    """One licence per holder per application: issuing it again collides in the store."""
    return uuid5(NAMESPACE_URL, f"mycity:licence:{application}:{holder}")


@personal(
    subject="holder", retention=Retention.STATUTORY_RECORD, fields=Kind.TEXT, salts=Kind.SECRET
)
class Licence(Aggregate):
    """The declared fields are sealed in snapshots under the holder's key."""

    id: UUID

    @not_personal(
        "identifier",
        "type_code",
        "type_name",
        "issuer",
        "holder",
        "holder_kind",
        "application",
        "valid_from",
        "valid_until",
        "status_index",
        "credential",
    )
    @personal(
        subject="holder", retention=Retention.STATUTORY_RECORD, fields=Kind.TEXT, salts=Kind.SECRET
    )
    class Issued(Aggregate.Created):
        identifier: str  # GB/T 36904 style, with its check character
        type_code: str
        type_name: str
        issuer: str  # the issuing department
        holder: UUID
        holder_kind: str  # CITIZEN or ENTERPRISE
        application: UUID
        fields: dict[str, str]
        salts: dict[str, str]  # per field, hex
        valid_from: str
        valid_until: str  # "" if it never expires
        status_index: int  # its bit in the issuer's status lists
        credential: str  # the signed credential as issued (digests only)

    @not_personal("officer", "reason")
    class Suspended(Aggregate.Event):
        officer: str
        reason: str

    @not_personal("officer", "reason")
    class Reinstated(Aggregate.Event):
        officer: str
        reason: str

    @not_personal("officer", "reason")
    class Revoked(Aggregate.Event):
        officer: str
        reason: str

    @event(Issued)
    def __init__(
        self,
        identifier: str,
        type_code: str,
        type_name: str,
        issuer: str,
        holder: UUID,
        holder_kind: str,
        application: UUID,
        fields: dict[str, str] | None,  # None: read after the holder's erasure
        salts: dict[str, str] | None,
        valid_from: str,
        valid_until: str,
        status_index: int,
        credential: str,
    ) -> None:
        self.identifier = identifier
        self.type_code = type_code
        self.type_name = type_name
        self.issuer = issuer
        self.holder = holder
        self.holder_kind = holder_kind
        self.application = application
        self.fields = None if fields is None else dict(fields)
        self.salts = None if salts is None else dict(salts)
        self.valid_from = valid_from
        self.valid_until = valid_until
        self.status_index = status_index
        self.credential = credential
        self.suspended = False
        self.revoked = False

    def status(self, today: date) -> LicenceStatus:
        if self.revoked:
            return LicenceStatus.REVOKED
        if self.suspended:
            return LicenceStatus.SUSPENDED
        if self.valid_until and date.fromisoformat(self.valid_until) < today:
            return LicenceStatus.EXPIRED
        return LicenceStatus.VALID

    def suspend(self, *, officer: str, reason: str) -> None:
        if self.revoked or self.suspended:
            raise self._illegal("suspend")
        self._suspended(officer=officer, reason=reason_text(reason))

    @event(Suspended)
    def _suspended(self, officer: str, reason: str) -> None:
        self.suspended = True

    def reinstate(self, *, officer: str, reason: str) -> None:
        if self.revoked or not self.suspended:
            raise self._illegal("reinstate")
        self._reinstated(officer=officer, reason=reason_text(reason))

    @event(Reinstated)
    def _reinstated(self, officer: str, reason: str) -> None:
        self.suspended = False

    def revoke(self, *, officer: str, reason: str) -> None:
        if self.revoked:
            raise self._illegal("revoke")
        self._revoked(officer=officer, reason=reason_text(reason))

    @event(Revoked)
    def _revoked(self, officer: str, reason: str) -> None:
        self.revoked = True

    def _illegal(self, action: str) -> UserError:
        state = "revoked" if self.revoked else "suspended" if self.suspended else "valid"
        return UserError(ErrorCode.ILLEGAL_TRANSITION, f"Cannot {action} a {state} licence")


class LicenceUse(Aggregate):
    """用证记录: one verification of a presentation by a partner. Its id comes from the
    presentation's nonce, so a replayed presentation collides in the store, and two
    verifiers racing with one presentation cannot both succeed."""

    id: UUID

    @not_personal(
        "licence",
        "holder",
        "verifier",
        "verifier_role",
        "verifier_name",
        "purpose",
        "fields",
    )
    class Recorded(Aggregate.Created):
        licence: UUID
        holder: UUID
        verifier: str  # the partner's client id
        verifier_role: str
        verifier_name: str
        purpose: str
        fields: list[str]  # the fields the holder disclosed

    @event(Recorded)
    def __init__(
        self,
        licence: UUID,
        holder: UUID,
        verifier: str,
        verifier_role: str,
        verifier_name: str,
        purpose: str,
        fields: list[str],
    ) -> None:
        self.licence = licence
        self.holder = holder
        self.fields = list(fields)


def licence_use_id(nonce: bytes) -> UUID:
    return uuid5(NAMESPACE_URL, f"mycity:licence-use:{nonce.hex()}")
