"""Contact details shared by citizens' and enterprises' files."""

from __future__ import annotations

from mycity.domain.errors import ErrorCode, UserError, checked
from mycity.domain.identifiers import validate_phone


def validate_address(raw: str) -> str:
    address = " ".join(raw.split())
    if len(address) > 200 or any(not c.isprintable() for c in address):
        raise UserError(ErrorCode.INVALID_ADDRESS, "At most 200 printable characters")
    return address


def changed_contact(
    current: tuple[str, str], phone: str | None, address: str | None
) -> tuple[str, str] | None:
    """The new (phone, address) after validating the given changes, or None if nothing changes."""
    new = (
        current[0] if phone is None else checked("phone", validate_phone, phone),
        current[1] if address is None else checked("address", validate_address, address),
    )
    return None if new == current else new
