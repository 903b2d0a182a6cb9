"""What other capabilities ask of city credit: a subject's score, tier and benefits now.

It answers the seams (`usecases/seams.py`): 容缺受理 for applications, pay-later for transit,
deposit-free borrowing for a library's scan. Each benefit is decided from the score as of
the moment it is asked; a subject without a credit file stands at the rules' base.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from mycity.domain.credit import Benefit, Tier, credit_id, score_of
from mycity.domain.credit_rules import CreditRules
from mycity.store.files import CityFiles


@dataclass(frozen=True)
class Standing:
    score: int
    tier: Tier
    benefits: frozenset[Benefit]


@dataclass(frozen=True)
class CreditStanding:
    files: CityFiles
    rules: CreditRules

    def score(self, subject: UUID) -> int:
        return score_of(self.files.find(credit_id(subject)), self.rules.base)

    def of(self, subject: UUID) -> Standing:
        score = self.score(subject)
        return Standing(score, self.rules.tier(score), self.rules.unlocked(score))

    def has(self, subject: UUID, benefit: Benefit) -> bool:
        return benefit in self.rules.unlocked(self.score(subject))

    def allows_shortfall(self, subject: UUID) -> bool:
        return self.has(subject, Benefit.SHORTFALL_ACCEPTANCE)

    def may_ride_now_pay_later(self, rider: UUID) -> bool:
        return self.has(rider, Benefit.PAY_LATER_TRANSIT)

    def deposit_free(self, citizen: UUID) -> bool:
        return self.has(citizen, Benefit.DEPOSIT_FREE_LIBRARY)
