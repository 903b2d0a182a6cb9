"""A person's data: erasing it on request (PIPL art. 47), and holding a file from erasure.

Erasure records `Citizen.Erased` and releases the phone in one transaction, then forgets
the person: their data key is shredded, so every personal field of theirs, in events,
snapshots and read models, can no longer be read, and their sessions end. The events stay
in the log, and the Merkle tree over it still verifies. A legal hold, itself an event,
refuses erasure until it is lifted.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from mycity.domain.citizen import Citizen, ErasureGround
from mycity.domain.phone import PhoneClaim
from mycity.identity.phone_codes import PhoneCodes
from mycity.identity.principal import Principal
from mycity.identity.subjects import SubjectIds
from mycity.identity.tokens import Tokens
from mycity.policy import privacy as policy
from mycity.policy.base import require_citizen
from mycity.store.files import CityFiles


@dataclass(frozen=True)
class Privacy:
    files: CityFiles
    ids: SubjectIds
    tokens: Tokens
    phone_codes: PhoneCodes

    def erase_own(self, actor: Principal, code: str, origin: str | None = None) -> int:
        """The person erases their own data, proving again that they hold the phone: a
        stolen session alone cannot erase anyone."""
        citizen_id = require_citizen(actor)
        phone = self.files.read(Citizen, citizen_id).person.phone
        self.phone_codes.verify(phone, code, origin)
        return self.erase(actor, citizen_id, ErasureGround.REQUESTED_BY_PERSON)

    def erase(self, actor: Principal, citizen_id: UUID, ground: ErasureGround) -> int:
        """Erase the person's data: they ask for it themself, or an admin does on a
        verified request or an order."""
        policy.require_may_erase(actor, citizen_id, ground)

        def attempt() -> int:
            citizen = self.files.get(Citizen, citizen_id)
            phone = citizen.phone
            citizen.erase(ground=ground, by=actor.subject)
            if phone is None:
                return self.files.commit(citizen)
            claim = self.files.get(PhoneClaim, self.ids.phone(phone))
            claim.release()
            return self.files.commit(citizen, claim)

        position = self.files.retrying(attempt)
        self.forget(citizen_id)
        return position

    def forget(self, citizen_id: UUID) -> None:
        """Shred the person's data key and end their sessions (both idempotent: the
        erasures process does it again for every erasure it follows)."""
        self.files.vault.shred(citizen_id)
        self.tokens.end_sessions(str(citizen_id))

    def place_legal_hold(self, actor: Principal, citizen_id: UUID, reason: str) -> int:
        policy.require_may_hold(actor)
        return self.files.update(
            Citizen, citizen_id, lambda c: c.place_legal_hold(reason=reason, by=actor.subject)
        )

    def lift_legal_hold(self, actor: Principal, citizen_id: UUID, reason: str) -> int:
        policy.require_may_hold(actor)
        return self.files.update(
            Citizen, citizen_id, lambda c: c.lift_legal_hold(reason=reason, by=actor.subject)
        )
