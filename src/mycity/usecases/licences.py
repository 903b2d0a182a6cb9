"""E-licences after issuance: their status, their presentations (亮证), and what a verifier
needs to check them offline: the trust list of keys and each issuer's signed status list.

A status list is signed when it is asked for and then served from memory for
`STATUS_REFRESH_SECONDS`, so a suspension reaches verifiers that fetch it within that
time; a verifier trusts a list for `STATUS_FRESH_SECONDS` (its freshness window).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from mycity.domain.citizen import Citizen
from mycity.domain.enterprise import AgentScope, Enterprise
from mycity.domain.errors import ErrorCode, Forbidden, UserError
from mycity.domain.licence import Licence, LicenceStatus
from mycity.identity.keys import SigningKeyRing, licence_trust_list
from mycity.identity.presentation_nonces import PresentationNonces
from mycity.identity.principal import Principal
from mycity.integrations.qr import render_png
from mycity.policy import applications as policy
from mycity.policy.base import require_citizen
from mycity.store.files import CityFiles
from mycity.verifier.licence import (
    MAX_LIFETIME,
    MAX_QR_TEXT,
    TooLongForQr,
    make_compact_presentation,
    make_presentation,
)
from mycity.verifier.licence_credential import Disclosure, read_credential
from mycity.verifier.licence_status import sign_status_list

STATUS_FRESH_SECONDS = 600
STATUS_REFRESH_SECONDS = 60
STATUS_READ_MODELS = ("wallet",)  # what a status list is built from

Flagged = Callable[[str], tuple[list[int], list[int]]]  # issuer -> (revoked, suspended)
# Whether the read models `flagged` reads (`STATUS_READ_MODELS`) include the event at a position.
CaughtUp = Callable[[int], bool]


class PresentationFormat(StrEnum):
    """`COMPACT` (`LC2:`, unlinkable: every showing is signed afresh by the department and
    holds only the fields shown) is made by default; `FULL` (`LC1:`, the credential signed
    at issuance) for partners whose verifiers do not read `LC2:` yet."""

    COMPACT = "COMPACT"
    FULL = "FULL"


@dataclass(frozen=True)
class Shown:
    payload: str  # the QR text
    expires_at: int  # unix seconds
    png: bytes | None  # the QR code drawn, when asked: slow, so only then


@dataclass
class Licences:
    files: CityFiles
    rings: Mapping[str, SigningKeyRing]  # each department's licence keys
    wallet_ring: SigningKeyRing  # signs presentations
    nonces: PresentationNonces  # a compact presentation's nonce: the licence, for the city
    # A type's name now: every compact showing of a type says the same, whatever the name
    # its licence was issued under (a rename would tell old licences from new).
    type_name: Callable[[str, str], str]
    flagged: Flagged
    caught_up: CaughtUp
    today: Callable[[], date]
    clock: Callable[[], float] = time.time
    _lists: dict[str, tuple[float, str]] = field(default_factory=dict)
    _changed: dict[str, int] = field(default_factory=dict)  # issuer: its last change here
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- status, by the issuing department ------------------------------------------------

    def suspend(self, actor: Principal, licence_id: UUID, reason: str) -> int:
        return self._by_issuer(actor, licence_id, Licence.suspend, reason)

    def reinstate(self, actor: Principal, licence_id: UUID, reason: str) -> int:
        return self._by_issuer(actor, licence_id, Licence.reinstate, reason)

    def revoke(self, actor: Principal, licence_id: UUID, reason: str) -> int:
        return self._by_issuer(actor, licence_id, Licence.revoke, reason)

    def _by_issuer(
        self,
        actor: Principal,
        licence_id: UUID,
        change: Callable[..., None],
        reason: str,
    ) -> int:
        """A status change by an officer of the issuing department, with its reason."""
        issuer = self.files.get(Licence, licence_id, "licenceId").issuer
        officer = policy.officer_of(actor, issuer)

        def command(licence: Licence) -> None:
            change(licence, officer=officer, reason=reason)

        position = self.files.update(Licence, licence_id, command)
        with self._lock:
            self._changed[issuer] = max(position, self._changed.get(issuer, 0))
            self._lists.pop(issuer, None)
        return position

    # -- presentations, by the holder -----------------------------------------------------

    def present(
        self,
        actor: Principal,
        licence_id: UUID,
        fields: list[str],
        lifetime: int = MAX_LIFETIME,
        *,
        png: bool = False,
        format: PresentationFormat = PresentationFormat.COMPACT,
    ) -> Shown:
        """A presentation of the licence revealing only `fields`, living `lifetime` seconds
        (at most five minutes); the licence must be valid now."""
        licence = self._held(actor, licence_id)
        # A closed account's licences stay valid (legal facts, kept as statutory records),
        # but nobody presents them any more: presenting is the app account's.
        self.files.read(Citizen, require_citizen(actor)).require_live()
        if licence.fields is None or licence.salts is None:
            raise UserError(ErrorCode.FILE_ERASED, "This licence's holder was erased")
        status = licence.status(self.today())
        if status is not LicenceStatus.VALID:
            raise UserError(ErrorCode.LICENCE_NOT_VALID, f"The licence is {status.value.lower()}")
        chosen = sorted(set(fields))
        if unknown := [f for f in chosen if f not in licence.fields]:
            known = ", ".join(licence.fields)
            raise UserError(
                ErrorCode.INVALID_FIELDS, f"No such fields {unknown}; it has {known}", "fields"
            )
        if not 1 <= lifetime <= MAX_LIFETIME:
            raise UserError(
                ErrorCode.INVALID_ARGUMENT, f"Live 1 to {MAX_LIFETIME} seconds", "lifetime"
            )
        now = int(self.clock())
        try:
            if format is PresentationFormat.COMPACT:
                payload = self._compact(licence, chosen, now, now + lifetime)
            else:
                payload = make_presentation(
                    read_credential(json.loads(licence.credential)),
                    [
                        Disclosure(n, licence.fields[n], bytes.fromhex(licence.salts[n]))
                        for n in chosen
                    ],
                    key=self.wallet_ring.private_key(),
                    kid=self.wallet_ring.active_kid,
                    issued_at=now,
                    expires_at=now + lifetime,
                    nonce=secrets.token_bytes(16),
                )
        except TooLongForQr as e:
            raise UserError(
                ErrorCode.INVALID_FIELDS,
                f"These fields make a code of {e.length} characters, and a QR code holds "
                f"{MAX_QR_TEXT}: show fewer of them",
                "fields",
            ) from None
        return Shown(payload, now + lifetime, render_png(payload) if png else None)

    def _compact(self, licence: Licence, chosen: list[str], issued_at: int, expires_at: int) -> str:
        """The department signs, for this showing alone, the licence's type and the fields
        chosen; the nonce tells the city alone which licence it was."""
        ring = self.rings[licence.issuer]
        assert licence.fields is not None
        return make_compact_presentation(
            ring.private_key(),
            kid=ring.active_kid,
            type_code=licence.identifier.split(".")[5],
            type_name=self.type_name(licence.type_code, licence.type_name),
            issuer=licence.issuer,
            fields={n: licence.fields[n] for n in chosen},
            issued_at=issued_at,
            expires_at=expires_at,
            nonce=self.nonces.make(licence.id),
        )

    def _held(self, actor: Principal, licence_id: UUID) -> Licence:
        """The caller's licence, or their enterprise's (LICENCES scope); to anyone else
        a licence is not found, so ids cannot be probed."""
        citizen_id = require_citizen(actor)
        licence = self.files.find(licence_id)
        if isinstance(licence, Licence):
            if licence.holder == citizen_id:
                return licence
            enterprise = self.files.find(licence.holder)
            if isinstance(enterprise, Enterprise) and enterprise.may(
                citizen_id, AgentScope.LICENCES
            ):
                return licence
        raise Forbidden("Not your licence", "licenceId")

    # -- what verifiers fetch -------------------------------------------------------------

    def trust_list(self, checkpoint_keys: Sequence[str] = ()) -> dict[str, Any]:
        """Every key a licence verifier needs (GET /licences/keys), and the log's
        checkpoint keys beside them."""
        return licence_trust_list(self.rings, self.wallet_ring, checkpoint_keys)

    def status_list(self, issuer: str) -> str:
        """The issuer's signed status list (the same text for STATUS_REFRESH_SECONDS)."""
        if issuer not in self.rings:
            raise UserError(ErrorCode.NOT_FOUND, f"No issuer {issuer}", "issuer")
        now = self.clock()
        with self._lock:
            kept = self._lists.get(issuer)
        if kept and now - kept[0] < STATUS_REFRESH_SECONDS:
            return kept[1]
        with self._lock:
            changed = self._changed.get(issuer, 0)
        # A list built from a read model that has not folded this server's last change of
        # the issuer's statuses is served, but not kept: the next asker gets a fresher one.
        keep = self.caught_up(changed)
        revoked, suspended = self.flagged(issuer)
        ring = self.rings[issuer]
        text = sign_status_list(
            ring.private_key(),
            ring.active_kid,
            issuer=issuer,
            revoked=revoked,
            suspended=suspended,
            issued_at=int(now),
            valid_until=int(now) + STATUS_FRESH_SECONDS,
        )
        if keep:
            with self._lock:
                self._lists[issuer] = (now, text)
        return text
