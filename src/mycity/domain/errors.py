"""Typed, user-facing errors raised by the domain and the application services."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum


class ErrorCode(StrEnum):
    """Every code a client may meet in `userErrors` or in a GraphQL error's extensions."""

    INVALID_ID_NUMBER = "INVALID_ID_NUMBER"
    INVALID_BIRTH_DATE = "INVALID_BIRTH_DATE"
    BIRTH_DATE_IN_FUTURE = "BIRTH_DATE_IN_FUTURE"
    CHECK_CHARACTER_MISMATCH = "CHECK_CHARACTER_MISMATCH"
    INVALID_CREDIT_CODE = "INVALID_CREDIT_CODE"
    ORGANIZATION_CODE_MISMATCH = "ORGANIZATION_CODE_MISMATCH"
    INVALID_NAME = "INVALID_NAME"
    INVALID_PHONE = "INVALID_PHONE"
    INVALID_ADDRESS = "INVALID_ADDRESS"
    INVALID_SCOPES = "INVALID_SCOPES"
    INVALID_ID = "INVALID_ID"
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    ALREADY_REGISTERED = "ALREADY_REGISTERED"
    PHONE_IN_USE = "PHONE_IN_USE"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_VERIFIED = "ALREADY_VERIFIED"
    REAL_NAME_MISMATCH = "REAL_NAME_MISMATCH"
    REAL_NAME_UNAVAILABLE = "REAL_NAME_UNAVAILABLE"
    LEGAL_REPRESENTATIVE_NOT_REGISTERED = "LEGAL_REPRESENTATIVE_NOT_REGISTERED"
    AGENT_IS_LEGAL_REPRESENTATIVE = "AGENT_IS_LEGAL_REPRESENTATIVE"
    AGENT_NOT_AUTHORISED = "AGENT_NOT_AUTHORISED"
    NOT_INVITED = "NOT_INVITED"
    TOO_MANY_INVITATIONS = "TOO_MANY_INVITATIONS"
    CODE_INVALID = "CODE_INVALID"
    CODE_EXPIRED = "CODE_EXPIRED"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    RATE_LIMITED = "RATE_LIMITED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_TOKEN = "INVALID_TOKEN"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    REAL_NAME_REQUIRED = "REAL_NAME_REQUIRED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    CONCURRENT_CHANGE = "CONCURRENT_CHANGE"
    FILE_ERASED = "FILE_ERASED"
    LEGAL_HOLD = "LEGAL_HOLD"
    NO_LEGAL_HOLD = "NO_LEGAL_HOLD"
    PURPOSE_REQUIRED = "PURPOSE_REQUIRED"
    INVALID_PURPOSE = "INVALID_PURPOSE"
    INVALID_TIME = "INVALID_TIME"
    TREE_TOO_SMALL = "TREE_TOO_SMALL"
    UNSIGNED_SIZE = "UNSIGNED_SIZE"  # a proof asked against a tree size no checkpoint signed
    UNKNOWN_SERVICE_ITEM = "UNKNOWN_SERVICE_ITEM"
    UNKNOWN_LICENCE_TYPE = "UNKNOWN_LICENCE_TYPE"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    MATERIAL_MISSING = "MATERIAL_MISSING"
    NOT_A_CO_APPLICANT = "NOT_A_CO_APPLICANT"
    NOT_YOUR_DEPARTMENT = "NOT_YOUR_DEPARTMENT"
    FEE_UNPAID = "FEE_UNPAID"
    ALREADY_RATED = "ALREADY_RATED"
    NO_FOLLOW_UP = "NO_FOLLOW_UP"
    SHORTFALL_NOT_ALLOWED = "SHORTFALL_NOT_ALLOWED"
    INVALID_REASON = "INVALID_REASON"
    INVALID_FORM = "INVALID_FORM"
    UPLOAD_TOO_LARGE = "UPLOAD_TOO_LARGE"
    UPLOAD_QUOTA_EXCEEDED = "UPLOAD_QUOTA_EXCEEDED"
    UPLOAD_TYPE_NOT_ALLOWED = "UPLOAD_TYPE_NOT_ALLOWED"
    UPLOAD_NOT_FOUND = "UPLOAD_NOT_FOUND"
    LICENCE_NOT_HELD = "LICENCE_NOT_HELD"
    LICENCE_NOT_VALID = "LICENCE_NOT_VALID"
    INVALID_FIELDS = "INVALID_FIELDS"
    INVALID_COLOUR = "INVALID_COLOUR"
    INVALID_VALIDITY = "INVALID_VALIDITY"
    INVALID_CARD = "INVALID_CARD"
    CARD_NOT_LINKED = "CARD_NOT_LINKED"
    INVALID_PLACE = "INVALID_PLACE"
    PURPOSE_NOT_ALLOWED = "PURPOSE_NOT_ALLOWED"
    CODE_UNAVAILABLE = "CODE_UNAVAILABLE"
    TOO_MANY_ITEMS = "TOO_MANY_ITEMS"
    TOO_COSTLY = "TOO_COSTLY"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    INVALID_IDEMPOTENCY_KEY = "INVALID_IDEMPOTENCY_KEY"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"  # the same key with another request
    IDEMPOTENCY_IN_PROGRESS = "IDEMPOTENCY_IN_PROGRESS"  # the same key, still being answered
    PAYMENT_NOT_SUCCEEDED = "PAYMENT_NOT_SUCCEEDED"  # nothing to refund
    REFUND_EXCEEDS_PAYMENT = "REFUND_EXCEEDS_PAYMENT"
    ALREADY_PAID = "ALREADY_PAID"
    ALREADY_USED = "ALREADY_USED"  # a single-use code spent before
    NO_FEE = "NO_FEE"
    INVALID_DELTA = "INVALID_DELTA"  # a credit change of 0, or beyond the score's range
    INVALID_DATE = "INVALID_DATE"
    DECISION_NUMBER_REUSED = "DECISION_NUMBER_REUSED"  # the same number, another decision
    NOT_PUBLISHED = "NOT_PUBLISHED"  # a public record no longer published
    NOT_REPAIRABLE = "NOT_REPAIRABLE"  # a licensing decision: nothing to repair
    REPAIR_TOO_EARLY = "REPAIR_TOO_EARLY"  # before the penalty's minimum publication period
    REPAIR_PENDING = "REPAIR_PENDING"  # an application for its repair awaits a decision
    NO_REPAIR_PENDING = "NO_REPAIR_PENDING"


class UserError(Exception):
    """A refusal the user can act on: it names the input field and a stable code."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"UserError({self.code.value}, {self.message!r}, field={self.field!r})"

    @property
    def extensions(self) -> dict[str, str | None]:
        """Read by graphql-core when this error surfaces as a GraphQL error."""
        return {"code": self.code.value, "field": self.field}

    def at(self, field: str) -> UserError:
        """The same error, named after the input field it came from."""
        return UserError(self.code, self.message, field)


class Throttled(UserError):
    """Refused for now: the same may be asked again in `retry_after` seconds."""

    def __init__(self, code: ErrorCode, message: str, field: str | None, retry_after: int) -> None:
        super().__init__(code, message, field)
        self.retry_after = retry_after

    @property
    def extensions(self) -> dict[str, str | None]:
        return super().extensions | {"retryAfterSeconds": str(self.retry_after)}


class Unavailable(Throttled):
    """The store is out of reach for a moment (a dropped connection, a failover): nothing
    is wrong with the request, which may be sent again shortly."""

    RETRY_AFTER_SECONDS = 2  # a pool refilling or a failover: seconds, not minutes

    def __init__(self) -> None:
        super().__init__(
            ErrorCode.SERVICE_UNAVAILABLE,
            "The service is unavailable for a moment: try again shortly",
            None,
            self.RETRY_AFTER_SECONDS,
        )


class Forbidden(UserError):
    """The caller's role or scopes do not allow this."""

    def __init__(self, message: str = "Not allowed", field: str | None = None) -> None:
        super().__init__(ErrorCode.FORBIDDEN, message, field)


class Unauthenticated(UserError):
    """No valid access token was presented."""

    def __init__(self, message: str = "Sign in first") -> None:
        super().__init__(ErrorCode.UNAUTHENTICATED, message)


def checked(field: str, validate: Callable[[str], str], value: str) -> str:
    """Run a validator and name the input field in any error it raises."""
    try:
        return validate(value)
    except UserError as e:
        raise e.at(field) from None
