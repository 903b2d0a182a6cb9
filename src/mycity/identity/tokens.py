"""Access tokens (short-lived EdDSA JWTs with a kid) and rotating refresh tokens.

Refresh tokens are opaque, stored hashed, and single-use: each refresh returns a new
pair. Presenting a used refresh token again revokes its whole family, since only a
thief or a replay would do that. Rotating the signing key logs nobody out: old kids
stay in the key ring for verification, and refresh tokens do not depend on keys. An access
token is taken only in the one spelling it was issued in (canonical base64url).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from mycity.domain.errors import ErrorCode, UserError
from mycity.identity.cutoffs import Cutoffs
from mycity.identity.keys import SigningKeyRing
from mycity.identity.principal import Principal, Role
from mycity.settings import TokenSettings
from mycity.store.sql import Database
from mycity.verifier.licence_codec import from_b64url

AUDIENCE = "mycity-api"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


RETRY_GRACE_SECONDS = 30


class ExpiredToken(UserError):
    """A genuine access token, too old: the client should refresh it, not sign in again."""

    def __init__(self) -> None:
        super().__init__(ErrorCode.INVALID_TOKEN, "The access token has expired")


# Who a stored session belongs to now (name, department), or None once it belongs to nobody.
Current = Callable[[Principal], "Principal | None"]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _stored(row: Any) -> Principal:
    return Principal(row["subject"], Role(row["role"]), row["department"])


def _is_retry(row: Any, retry_key: str | None, now: float) -> bool:
    return (
        retry_key is not None
        and row["retry_hash"] is not None
        and hmac.compare_digest(row["retry_hash"], _digest(retry_key))
        and now - row["used_at"] <= RETRY_GRACE_SECONDS
    )


class Tokens:
    def __init__(
        self, ring: SigningKeyRing, db: Database, settings: TokenSettings, current: Current
    ) -> None:
        self.ring = ring
        self.db = db
        self.settings = settings
        self.current = current
        self.cutoffs = Cutoffs(db, keep_seconds=settings.access_seconds)
        self.table = db.table("refresh_tokens")
        # Only successes are cached: a refused token raises, and lru_cache keeps nothing.
        self._verified = functools.lru_cache(maxsize=4096)(self._decode)

    def create_tables(self) -> None:
        """The refresh tokens, by hash; no name (it is read from the file or the client when
        a token is used). Tables of older versions lose their `name` column here."""
        self.db.create_tables(
            [
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                "token_hash TEXT PRIMARY KEY, family TEXT NOT NULL, subject TEXT NOT NULL, "
                "role TEXT NOT NULL, department TEXT, "
                "expires_at DOUBLE PRECISION NOT NULL, used_at DOUBLE PRECISION, retry_hash TEXT)",
                f"CREATE INDEX IF NOT EXISTS refresh_tokens_family ON {self.table} (family)",
            ]
        )
        self.cutoffs.create_tables()
        columns = self.db.columns("refresh_tokens")
        with self.db.transaction() as cur:
            if "name" in columns:
                cur.execute(f"ALTER TABLE {self.table} DROP COLUMN name")
            if "retry_hash" not in columns:
                cur.execute(f"ALTER TABLE {self.table} ADD COLUMN retry_hash TEXT")

    def access_token(self, principal: Principal, now: float | None = None) -> str:
        now = time.time() if now is None else now
        claims = {
            "iss": self.settings.issuer,
            "aud": AUDIENCE,
            "sub": principal.subject,
            "role": principal.role.value,
            "name": principal.name,
            "iat": round(now, 3),  # to the millisecond: a session ended just after still ends it
            "exp": int(now) + self.settings.access_seconds,
            "jti": uuid.uuid4().hex,
        }
        if principal.department:
            claims["dept"] = principal.department
        return jwt.encode(
            claims,
            self.ring.private_key(),
            algorithm="EdDSA",
            headers={"kid": self.ring.active_kid},
        )

    def verify(self, token: str) -> Principal:
        """The caller a token names, if its signature and claims hold, it has not expired,
        and its subject's sessions were not ended after it was issued.

        A token verified once is remembered until it expires (a signature check is a
        tenth of a small request's CPU): the same token is presented on every request."""
        principal, issued, expires = self._verified(token)
        if expires <= time.time():
            raise ExpiredToken()
        if issued < self.cutoffs.not_before(principal.subject):
            raise UserError(ErrorCode.INVALID_TOKEN, "This session has ended; sign in again")
        return principal

    def expires_at(self, token: str) -> int:
        """When a token that verified expires (a subscription ends then)."""
        return self._verified(token)[2]

    def end_sessions(self, subject: str) -> None:
        """Sign the subject out everywhere: its refresh tokens die, its access tokens too."""
        with self.db.transaction() as cur:
            cur.execute(f"DELETE FROM {self.table} WHERE subject = ?", (subject,))
        self.cutoffs.cut(subject)

    def _decode(self, token: str) -> tuple[Principal, float, int]:
        try:
            for part in token.split("."):
                # One spelling only: pyjwt also reads padding, `+` and `/`, stray bits and
                # skipped characters as the same bytes, and each such twin would pass as
                # another token (another key in the cache of verified ones) with our signature.
                from_b64url(part)
            kid = jwt.get_unverified_header(token).get("kid")
            key = self.ring.verifying_key(str(kid))
            claims = jwt.decode(
                token,
                key,
                algorithms=["EdDSA"],
                audience=AUDIENCE,
                issuer=self.settings.issuer,
                options={"require": ["exp", "iat", "sub", "role"]},
            )
            principal = Principal(
                claims["sub"], Role(claims["role"]), claims.get("dept"), claims.get("name", "")
            )
            return principal, float(claims["iat"]), int(claims["exp"])
        except jwt.ExpiredSignatureError:
            raise ExpiredToken() from None
        except (jwt.InvalidTokenError, KeyError, ValueError, TypeError):
            raise UserError(ErrorCode.INVALID_TOKEN, "The access token is not valid") from None

    def issue(self, principal: Principal, family: str | None = None) -> TokenPair:
        refresh = secrets.token_urlsafe(32)
        with self.db.transaction() as cur:
            cur.execute(
                f"INSERT INTO {self.table} (token_hash, family, subject, role, department, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    _digest(refresh),
                    family or uuid.uuid4().hex,
                    principal.subject,
                    principal.role.value,
                    principal.department,
                    time.time() + self.settings.refresh_seconds,
                ),
            )
        return TokenPair(self.access_token(principal), refresh, self.settings.access_seconds)

    def refresh(self, refresh_token: str, retry_key: str | None = None) -> TokenPair:
        """A new pair for a refresh token, which works once. Presenting a used one again
        revokes its whole family (only a thief or a replay does that), except the same
        client's retry: the same `retry_key`, within `RETRY_GRACE_SECONDS` of the use."""
        now = time.time()
        stored: Principal | None = None
        with self.db.transaction() as cur:
            row = cur.execute(
                f"SELECT * FROM {self.table} WHERE token_hash = ?", (_digest(refresh_token),)
            ).fetchone()
            if row is None or row["expires_at"] <= now:
                pass
            elif row["used_at"] is None:
                claimed = cur.execute(
                    f"UPDATE {self.table} SET used_at = ?, retry_hash = ? "
                    "WHERE token_hash = ? AND used_at IS NULL",
                    (now, retry_key and _digest(retry_key), row["token_hash"]),
                ).rowcount
                stored = _stored(row) if claimed == 1 else None
            elif _is_retry(row, retry_key, now):
                stored = _stored(row)
            else:
                cur.execute(f"DELETE FROM {self.table} WHERE family = ?", (row["family"],))
        principal = stored and self.current(stored)
        if principal is None:
            raise UserError(
                ErrorCode.INVALID_TOKEN, "The refresh token is not valid", "refreshToken"
            )
        return self.issue(principal, row["family"])

    def revoke(self, refresh_token: str) -> None:
        """Sign out: the token's whole family stops refreshing."""
        with self.db.transaction() as cur:
            row = cur.execute(
                f"SELECT family FROM {self.table} WHERE token_hash = ?", (_digest(refresh_token),)
            ).fetchone()
            if row:
                cur.execute(f"DELETE FROM {self.table} WHERE family = ?", (row["family"],))
