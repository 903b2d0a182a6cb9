"""Reading e-licences: the holder's wallet and its use records, and a partner's check of a
presentation, which reads the holder's data and so comes through the door.

A verification checks the presentation as an offline verifier would (signatures, fields,
freshness), then the licence's status on its file, which is newer than any status list;
then the use is recorded together with the access record, under an id made from the
presentation's nonce, so a replayed presentation (or two partners racing with one) finds
the id taken and is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import ClassVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from mycity.domain.enterprise import AgentScope, Enterprise
from mycity.domain.errors import Forbidden
from mycity.domain.licence import Licence, LicenceStatus, LicenceUse, licence_use_id
from mycity.identity.presentation_nonces import PresentationNonces
from mycity.identity.principal import Principal
from mycity.policy import licences as policy
from mycity.projections.licence_uses import LicenceUseRow, LicenceUses
from mycity.projections.wallet import WalletLicence, Wallets
from mycity.reads.door import Door
from mycity.store.files import CityFiles
from mycity.verifier.licence import Attestation, Verdict, verify_presentation
from mycity.verifier.licence_trust import Keys, Reason

ONLINE_STATUS = {
    LicenceStatus.REVOKED: Reason.REVOKED,
    LicenceStatus.SUSPENDED: Reason.SUSPENDED,
    LicenceStatus.EXPIRED: Reason.LICENCE_EXPIRED,
}


@dataclass(frozen=True)
class LicenceReads:
    read_models: ClassVar[tuple[str, ...]] = ("wallet", "licence_uses")

    door: Door
    files: CityFiles
    wallets: Wallets
    uses: LicenceUses
    keys: Callable[[], Keys]  # the trust list
    nonces: PresentationNonces  # which licence a compact presentation shows
    type_name: Callable[[str, str], str]  # a licence type's name now (as showings say it)
    clock: Callable[[], float]
    today: Callable[[], date]

    def wallet(
        self, principal: Principal, holder: UUID | None, first: int, after: str | None
    ) -> list[WalletLicence]:
        """The caller's licences, or an enterprise's they hold licences for; up to `first`
        and one more if there are more."""
        return self.wallets.of(self._holder(principal, holder), first + 1, after, self.today())

    def uses_of(
        self, principal: Principal, holder: UUID | None, first: int, after: str | None
    ) -> list[LicenceUseRow]:
        """用证记录: who verified the holder's licences, newest first."""
        return self.uses.of(self._holder(principal, holder), first + 1, after)

    def held(self, holder: UUID, type_code: str, today: date) -> list[WalletLicence]:
        """The holder's valid licences of a type: the materials of their own applications
        (their own data, read for them: no access to record)."""
        return self.wallets.held(holder, type_code, today)

    def flagged(self, issuer: str) -> tuple[list[int], list[int]]:
        """Status-list bits: no personal data."""
        return self.wallets.flagged(issuer)

    def verify(self, principal: Principal, payload: str, purpose: str | None) -> Verdict:
        """A partner's check of a presentation: the verdict, and on success the fields the
        holder chose to show, recorded as a use of the licence and a read of their data."""
        policy.require_verifier(principal)
        verdict = verify_presentation(payload, self.keys(), now=self.clock())
        if not verdict.ok or verdict.nonce is None:
            return verdict
        licence = self._shown(verdict)
        if licence is None:
            return _refused(verdict, Reason.UNKNOWN_KEY)
        if reason := ONLINE_STATUS.get(licence.status(self.today())):
            return _refused(verdict, reason)
        fields = sorted(verdict.disclosed)
        use = LicenceUse(  # type: ignore[call-arg]
            id=licence_use_id(verdict.nonce),
            licence=licence.id,
            holder=licence.holder,
            verifier=principal.subject,
            verifier_role=principal.role.value,
            verifier_name=principal.name,
            purpose=(purpose or "").strip(),
            fields=fields,
        )
        try:
            self.door.enter(
                principal,
                "licence.verification",
                [licence.holder],
                lambda: policy.verify_presentation(principal, fields),
                fields=fields,
                purpose=purpose,
                together=[use],
            )
        except IntegrityError:
            return _refused(verdict, Reason.REPLAYED)
        return verdict

    def _shown(self, verdict: Verdict) -> Licence | None:
        """The licence a presentation shows: named by its credential's holder reference (its
        file id) and identifier (`LC1:`), or held in its nonce (`LC2:`), of the type and
        issuer it says; None if no licence is."""
        assert verdict.nonce is not None
        try:
            if verdict.attested is not None:
                licence_id = self.nonces.licence_of(verdict.nonce)
                found = None if licence_id is None else self.files.find(licence_id)
                ok = isinstance(found, Licence) and self._states(found, verdict.attested)
            elif verdict.licence is not None:
                found = self.files.find(UUID(verdict.licence.holder))
                ok = isinstance(found, Licence) and found.identifier == verdict.licence.licence_id
            else:
                return None
        except ValueError:
            return None
        return found if ok and isinstance(found, Licence) else None

    def _states(self, licence: Licence, attested: Attestation) -> bool:
        """Whether a compact statement says what the licence its nonce names holds: its
        department, type and type name, and each field shown (a department key alone
        forges nothing)."""
        fields = licence.fields or {}
        name = self.type_name(licence.type_code, licence.type_name)
        return (attested.issuer, attested.type_code, attested.type_name) == (
            licence.issuer,
            licence.identifier.split(".")[5],
            name,
        ) and all(fields.get(field) == value for field, value in attested.fields.items())

    def _holder(self, principal: Principal, holder: UUID | None) -> UUID:
        citizen_id = principal.citizen_id
        if citizen_id is None:
            raise Forbidden("Only holders read their wallet")
        if holder is None or holder == citizen_id:
            return citizen_id
        enterprise = self.files.find(holder)
        if isinstance(enterprise, Enterprise) and enterprise.may(citizen_id, AgentScope.LICENCES):
            return holder
        raise Forbidden("Not your enterprise's licences", "holderId")


def _refused(verdict: Verdict, reason: Reason) -> Verdict:
    """The verdict refused for a reason only the server knows; it shows no fields."""
    return Verdict(False, reason, verdict.licence, {}, verdict.issued_at, verdict.expires_at)
