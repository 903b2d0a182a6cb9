"""One-time codes sent by SMS to prove that the caller holds a phone.

The budget (the `PhoneCodeSettings` defaults):
- a code lives 5 minutes and works once; a new one replaces it;
- per phone: a new code at most every 60 s and at most 5 an hour (no SMS bombing);
- per client address (`origin`): at most 10 codes per 10 minutes, to any phones;
- per code and client address: 5 wrong guesses, then that address needs a new code, so an
  attacker's guesses do not burn the code its holder is typing;
- per phone: at most 20 wrong guesses an hour from all addresses together, however many
  codes were sent; then no code for it is taken until the hour is over.
So at most 20 guesses an hour reach any one phone's codes: one chance in 50,000. Only
hashes are stored: of the phone, the code and the address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from mycity.domain.errors import ErrorCode, Throttled, UserError
from mycity.identity.budgets import Budgets, seconds_until
from mycity.identity.subjects import SubjectIds
from mycity.integrations.sms import SmsSender
from mycity.settings import PhoneCodeSettings
from mycity.store.sql import Cursor, Database

HOUR = 3600.0


class PhoneCodes:
    def __init__(
        self,
        db: Database,
        sms: SmsSender,
        ids: SubjectIds,
        settings: PhoneCodeSettings,
        budgets: Budgets | None = None,
    ) -> None:
        self.db = db
        self.sms = sms
        self.ids = ids
        self.settings = settings
        self.budgets = budgets or Budgets(db)
        self.table = db.table("phone_codes")

    def create_tables(self) -> None:
        self.db.create_tables(
            [
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                "phone_hash TEXT PRIMARY KEY, code_hash TEXT NOT NULL, "
                "sent_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL)"
            ]
        )
        if "attempts" in self.db.columns("phone_codes"):  # counted in budgets since
            with self.db.transaction() as cur:
                cur.execute(f"ALTER TABLE {self.table} DROP COLUMN attempts")
        self.budgets.create_tables()

    def _hash(self, phone_hash: str, code: str) -> str:
        return hmac.new(
            self.ids.digest("code", phone_hash), code.encode(), hashlib.sha256
        ).hexdigest()

    def send(self, phone: str, origin: str | None = None) -> int:
        """Send a fresh code; returns the seconds until another may be asked for."""
        phone_hash = self.ids.digest("phone", phone).hex()
        now = time.time()
        code = f"{secrets.randbelow(10**6):06d}"
        with self.db.transaction() as cur:
            row = cur.execute(
                f"SELECT sent_at FROM {self.table} WHERE phone_hash = ?{self.db.for_update}",
                (phone_hash,),
            ).fetchone()
            if row and now - row["sent_at"] < self.settings.resend_seconds:
                self._refuse_send(row["sent_at"] + self.settings.resend_seconds, now)
            self._spend(cur, f"sends:{phone_hash}", self.settings.sends_per_hour, HOUR, now)
            self._spend(
                cur,
                f"from:{self._origin(origin)}",
                self.settings.sends_per_address,
                self.settings.address_window_seconds,
                now,
            )
            cur.execute(
                f"INSERT INTO {self.table} VALUES (?, ?, ?, ?) ON CONFLICT (phone_hash) DO "
                "UPDATE SET code_hash = excluded.code_hash, sent_at = excluded.sent_at, "
                "expires_at = excluded.expires_at",
                (phone_hash, self._hash(phone_hash, code), now, now + self.settings.seconds),
            )
            self.budgets.forget_before(cur, now - 24 * HOUR)
        minutes = self.settings.seconds // 60
        self.sms.send(phone, f"【我的城市】验证码 {code}，{minutes} 分钟内有效。Code {code}.")
        return self.settings.resend_seconds

    def verify(self, phone: str, code: str, origin: str | None = None) -> None:
        """Consume the code if it is right; otherwise count the guess and raise."""
        phone_hash = self.ids.digest("phone", phone).hex()
        now = time.time()
        with self.db.transaction() as cur:
            row = cur.execute(
                f"SELECT * FROM {self.table} WHERE phone_hash = ?{self.db.for_update}",
                (phone_hash,),
            ).fetchone()
            if row is None:
                raise UserError(ErrorCode.CODE_INVALID, "Ask for a code first", "code")
            failures = f"failures:{phone_hash}"
            spent, ends = self.budgets.spent(cur, failures, HOUR, now)
            if spent >= self.settings.failures_per_hour:
                raise Throttled(
                    ErrorCode.TOO_MANY_ATTEMPTS,
                    "Too many wrong codes for this phone; ask again later",
                    "code",
                    seconds_until(ends, now),
                )
            guesses = f"guesses:{phone_hash}:{self._origin(origin)}:{row['sent_at']!r}"
            lifetime = self.settings.seconds
            if self.budgets.spent(cur, guesses, lifetime, now)[0] >= self.settings.attempts:
                raise UserError(ErrorCode.TOO_MANY_ATTEMPTS, "Ask for a new code", "code")
            if now > row["expires_at"]:
                raise UserError(ErrorCode.CODE_EXPIRED, "The code has expired", "code")
            if hmac.compare_digest(self._hash(phone_hash, code.strip()), row["code_hash"]):
                cur.execute(f"DELETE FROM {self.table} WHERE phone_hash = ?", (phone_hash,))
                return
            self.budgets.spend(cur, guesses, lifetime, now)
            self.budgets.spend(cur, failures, HOUR, now)
        raise UserError(ErrorCode.CODE_INVALID, "The code is wrong", "code")

    def _origin(self, origin: str | None) -> str:
        """The client address a request came from, hashed (None where there is none)."""
        return self.ids.digest("origin", origin or "").hex()

    def _spend(self, cur: Cursor, key: str, limit: int, window: float, now: float) -> None:
        spent, ends = self.budgets.spend(cur, key, window, now)
        if spent > limit:  # the transaction rolls back, and this one is not counted
            self._refuse_send(ends, now)

    @staticmethod
    def _refuse_send(until: float, now: float) -> None:
        wait = seconds_until(until, now)
        raise Throttled(ErrorCode.RATE_LIMITED, f"Ask again in {wait} s", "phone", wait)
