"""An application's states and its rating's grades: what the lifecycle moves between."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    AWAITING_CONFIRMATION = "AWAITING_CONFIRMATION"  # joint: the co-applicant has not confirmed
    SUBMITTED = "SUBMITTED"
    CORRECTION_REQUESTED = "CORRECTION_REQUESTED"  # 补正
    ACCEPTED = "ACCEPTED"  # 受理
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    COMPLETED = "COMPLETED"  # 办结
    WITHDRAWN = "WITHDRAWN"
    LAPSED = "LAPSED"  # a material accepted as missing (容缺) was not supplied in time
    IN_PROGRESS = "IN_PROGRESS"  # a bundle, while the items it opened are handled


OPEN = frozenset(
    {
        Status.AWAITING_CONFIRMATION,
        Status.SUBMITTED,
        Status.CORRECTION_REQUESTED,
        Status.ACCEPTED,
        Status.APPROVED,
    }
)

FEE_PAYABLE = (Status.SUBMITTED, Status.ACCEPTED, Status.APPROVED)  # its fee may be paid


class Grade(StrEnum):
    """好差评: the five grades of the national rating of government services."""

    VERY_SATISFIED = "VERY_SATISFIED"  # 非常满意
    SATISFIED = "SATISFIED"  # 满意
    BASICALLY_SATISFIED = "BASICALLY_SATISFIED"  # 基本满意
    DISSATISFIED = "DISSATISFIED"  # 不满意
    VERY_DISSATISFIED = "VERY_DISSATISFIED"  # 非常不满意


BAD_GRADES = frozenset({Grade.DISSATISFIED, Grade.VERY_DISSATISFIED})
