"""One-time codes sent by SMS to prove that the caller holds a phone.

Codes expire, each phone gets a limited number of wrong attempts per code, and a new
code cannot be asked for again within the resend interval. Only hashes are stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from mycity.domain.errors import ErrorCode, UserError
from mycity.identity.subjects import SubjectIds
from mycity.integrations.sms import SmsSender
from mycity.settings import PhoneCodeSettings
from mycity.store.sql import Database


class PhoneCodes:
    def __init__(
        self, db: Database, sms: SmsSender, ids: SubjectIds, settings: PhoneCodeSettings
    ) -> None:
        self.db = db
        self.sms = sms
        self.ids = ids
        self.settings = settings
        self.table = db.table("phone_codes")

    def create_tables(self) -> None:
        self.db.create_tables(
            [
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                "phone_hash TEXT PRIMARY KEY, code_hash TEXT NOT NULL, "
                "sent_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL, "
                "attempts INTEGER NOT NULL)"
            ]
        )

    def _hash(self, phone_hash: str, code: str) -> str:
        return hmac.new(
            self.ids.digest("code", phone_hash), code.encode(), hashlib.sha256
        ).hexdigest()

    def send(self, phone: str) -> int:
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
                wait = int(self.settings.resend_seconds - (now - row["sent_at"])) + 1
                raise UserError(ErrorCode.RATE_LIMITED, f"Ask again in {wait} s", "phone")
            cur.execute(
                f"INSERT INTO {self.table} VALUES (?, ?, ?, ?, 0) ON CONFLICT (phone_hash) DO "
                "UPDATE SET code_hash = excluded.code_hash, sent_at = excluded.sent_at, "
                "expires_at = excluded.expires_at, attempts = 0",
                (
                    phone_hash,
                    self._hash(phone_hash, code),
                    now,
                    now + self.settings.seconds,
                ),
            )
        minutes = self.settings.seconds // 60
        self.sms.send(phone, f"【我的城市】验证码 {code}，{minutes} 分钟内有效。Code {code}.")
        return self.settings.resend_seconds

    def verify(self, phone: str, code: str) -> None:
        """Consume the code if it is right; otherwise count the attempt and raise."""
        phone_hash = self.ids.digest("phone", phone).hex()
        with self.db.transaction() as cur:
            row = cur.execute(
                f"SELECT * FROM {self.table} WHERE phone_hash = ?{self.db.for_update}",
                (phone_hash,),
            ).fetchone()
            if row is None:
                raise UserError(ErrorCode.CODE_INVALID, "Ask for a code first", "code")
            if row["attempts"] >= self.settings.attempts:
                raise UserError(ErrorCode.TOO_MANY_ATTEMPTS, "Ask for a new code", "code")
            if time.time() > row["expires_at"]:
                raise UserError(ErrorCode.CODE_EXPIRED, "The code has expired", "code")
            if hmac.compare_digest(self._hash(phone_hash, code.strip()), row["code_hash"]):
                cur.execute(f"DELETE FROM {self.table} WHERE phone_hash = ?", (phone_hash,))
                return
            cur.execute(
                f"UPDATE {self.table} SET attempts = attempts + 1 WHERE phone_hash = ?",
                (phone_hash,),
            )
        raise UserError(ErrorCode.CODE_INVALID, "The code is wrong", "code")
