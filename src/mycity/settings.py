"""One settings object, read from the environment (`MYCITY_*`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    keys_dir: Path
    dev_mode: bool = False
    run_projections_inline: bool = True
    access_token_seconds: int = 15 * 60
    refresh_token_seconds: int = 30 * 24 * 3600
    issuer: str = "mycity"
    phone_code_seconds: int = 5 * 60
    phone_code_attempts: int = 5
    phone_code_resend_seconds: int = 60

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))

    @property
    def sms_outbox(self) -> Path:
        return self.data_dir / "sms-outbox.jsonl"

    @property
    def population_register(self) -> Path:
        """The local real-name register's records (see integrations.realname)."""
        return self.data_dir / "population-register.jsonl"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("MYCITY_DATA_DIR") or "var").resolve()
        return cls(
            data_dir=data_dir,
            database_url=env.get("MYCITY_DATABASE_URL") or str(data_dir / "mycity.sqlite"),
            keys_dir=Path(env.get("MYCITY_KEYS_DIR") or data_dir / "keys").resolve(),
            dev_mode=_flag(env.get("MYCITY_DEV"), False),
            run_projections_inline=_flag(env.get("MYCITY_INLINE_PROJECTIONS"), True),
            access_token_seconds=int(env.get("MYCITY_ACCESS_TOKEN_SECONDS") or 900),
            refresh_token_seconds=int(env.get("MYCITY_REFRESH_TOKEN_SECONDS") or 30 * 24 * 3600),
            issuer=env.get("MYCITY_ISSUER") or "mycity",
        )
