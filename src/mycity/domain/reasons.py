"""Stated reasons: why staff read someone's data, why a file is held or erased."""

from __future__ import annotations

from mycity.domain.errors import ErrorCode, UserError

SHORTEST, LONGEST = 4, 200


def validate_reason(raw: str, field: str, code: ErrorCode = ErrorCode.INVALID_ARGUMENT) -> str:
    """A reason someone else can read later: 4 to 200 printable characters, spaces folded."""
    reason = " ".join(raw.split())
    if not SHORTEST <= len(reason) <= LONGEST or any(not c.isprintable() for c in reason):
        raise UserError(code, f"Say why in {SHORTEST} to {LONGEST} printable characters", field)
    return reason
