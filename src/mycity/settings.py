"""One settings object, read from the environment (`MYCITY_*`), grouped per capability."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mycity.integrations.webhooks import parse_public_key
from mycity.verifier.cosignature import parse_cosigner_key


class SettingsError(ValueError):
    """A setting in the environment is wrong; the message names it and says what is right."""


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _count(env: Mapping[str, str], name: str, default: int, *, zero: bool = False) -> int:
    value = env.get(name) or ""
    if not value:
        return default
    if not value.strip().isdigit() or (int(value) == 0 and not zero):
        least = "0 or more" if zero else "1 or more"
        raise SettingsError(f"{name} must be a whole number, {least}; it is {value!r}")
    return int(value)


def _database(env: Mapping[str, str], data_dir: Path) -> str:
    """A PostgreSQL URL, or an SQLite file path (`sqlite:///relative`, `sqlite:////absolute`
    are taken too); any other URL is refused, rather than taken for a file's name."""
    value = env.get("MYCITY_DATABASE_URL") or ""
    if not value:
        return str(data_dir / "mycity.sqlite")
    if value.startswith(("postgresql://", "postgres://")):
        return value
    if value.startswith("sqlite:///"):
        return value.removeprefix("sqlite:///") or str(data_dir / "mycity.sqlite")
    if "://" in value:
        raise SettingsError(
            "MYCITY_DATABASE_URL takes postgresql://… for PostgreSQL or a file path "
            f"(or sqlite:///path) for SQLite, not {value.split('://')[0]}://"
        )
    return value


@dataclass(frozen=True)
class StoreSettings:
    # Files kept decoded in each process, brought up to date from the store on each read
    # (eventsourcing's aggregate cache with fast-forward): a long file is not replayed.
    aggregate_cache: int = 10_000


@dataclass(frozen=True)
class TokenSettings:
    access_seconds: int = 15 * 60
    refresh_seconds: int = 30 * 24 * 3600
    issuer: str = "mycity"


@dataclass(frozen=True)
class PhoneCodeSettings:
    """The budget of phone codes; `identity/phone_codes.py` says what it adds up to."""

    seconds: int = 5 * 60  # a code's lifetime
    attempts: int = 5  # wrong guesses per code and client address
    resend_seconds: int = 60  # between two codes to one phone
    sends_per_hour: int = 5  # codes to one phone
    failures_per_hour: int = 20  # wrong guesses at one phone's codes, from anywhere
    sends_per_address: int = 10  # codes asked for from one client address...
    address_window_seconds: int = 10 * 60  # ...in this long


@dataclass(frozen=True)
class UploadSettings:
    """What one person may upload in 24 hours (from their first upload of the window):
    less until their real name is verified, since anyone can open an unverified file."""

    documents_per_day: int = 50
    bytes_per_day: int = 200 * 1024 * 1024
    unverified_documents_per_day: int = 10
    unverified_bytes_per_day: int = 30 * 1024 * 1024


CPUS = os.cpu_count() or 1  # a rebuild's processes by default


@dataclass(frozen=True)
class ReadModelSettings:
    inline: bool = True  # each server process runs the runner in a thread
    page_size: int = 1000
    wait_seconds: float = 5.0  # read-your-writes: how long an answer waits for its views
    rebuild_workers: int = CPUS  # processes


MIN_RETENTION_DAYS = 183  # MLPS 2.0: access records and audit logs for six months at least


@dataclass(frozen=True)
class AuditSettings:
    # The log's name in its checkpoints (C2SP tlog-checkpoint: a schema-less URL), which is
    # also the checkpoint key's name; see docs/audit.md.
    origin: str = "mycity.example/log"
    checkpoint_seconds: int = 600  # a checkpoint this often while the log grows (0: never)
    retention_days: int = 365  # how long the lists of access records keep them, at least
    # Witnesses asked to cosign each checkpoint: (address, witness key), see docs/audit.md.
    witnesses: tuple[tuple[str, str], ...] = ()


def _witnesses(value: str) -> tuple[tuple[str, str], ...]:
    """`<address> <witness key>` pairs, separated by `;`."""
    found = []
    for entry in filter(None, (e.strip() for e in value.split(";"))):
        address, _, key = entry.partition(" ")
        if not address.startswith(("http://", "https://")) or not key.strip():
            raise SettingsError(
                "MYCITY_WITNESSES is `<address> <witness key>` pairs separated by `;`, "
                f"each address http:// or https://; {entry!r} is not"
            )
        try:
            parse_cosigner_key(key)
        except ValueError as e:
            raise SettingsError(
                f"MYCITY_WITNESSES: {e}; give it as `mycity witness key` prints it"
            ) from None
        found.append((address.rstrip("/"), key.strip()))
    return tuple(found)


def _retention(env: Mapping[str, str]) -> int:
    days = _count(env, "MYCITY_RETENTION_DAYS", 365)
    if days < MIN_RETENTION_DAYS:
        raise SettingsError(
            f"MYCITY_RETENTION_DAYS must be {MIN_RETENTION_DAYS} or more (six months, MLPS "
            f"2.0); it is {days}"
        )
    return days


def _origin(env: Mapping[str, str]) -> str:
    origin = env.get("MYCITY_LOG_ORIGIN") or AuditSettings.origin
    if not origin.isprintable() or " " in origin or "+" in origin:
        raise SettingsError(
            "MYCITY_LOG_ORIGIN names the log, like example.gov.cn/mycity/log: no spaces or '+'"
        )
    return origin


@dataclass(frozen=True)
class PaymentSettings:
    """The payment provider (docs/payments.md): none configured, no payments are taken and
    an application's fee is paid at the counter."""

    provider: str = ""  # its address, http:// or https://
    api_key: str = ""  # the city's bearer key at the provider
    webhook_keys: tuple[str, ...] = ()  # the provider's `whpk_` keys its notifications verify by
    ceiling_fen: int = 5_000_000  # the most one payment may be

    @property
    def enabled(self) -> bool:
        return bool(self.provider)


def _payments(env: Mapping[str, str]) -> PaymentSettings:
    provider = (env.get("MYCITY_PAYMENT_PROVIDER") or "").rstrip("/")
    ceiling = _count(env, "MYCITY_PAYMENT_CEILING_FEN", PaymentSettings.ceiling_fen)
    if not provider:
        return PaymentSettings(ceiling_fen=ceiling)
    if not provider.startswith(("http://", "https://")):
        raise SettingsError("MYCITY_PAYMENT_PROVIDER is the provider's http:// or https:// address")
    key_file = env.get("MYCITY_PAYMENT_PROVIDER_KEY_FILE")
    api_key = Path(key_file).read_text().strip() if key_file else ""
    api_key = env.get("MYCITY_PAYMENT_PROVIDER_KEY") or api_key
    keys = tuple((env.get("MYCITY_PAYMENT_WEBHOOK_KEY") or "").split())
    if not api_key or not keys:
        raise SettingsError(
            "MYCITY_PAYMENT_PROVIDER needs MYCITY_PAYMENT_PROVIDER_KEY (or _KEY_FILE) and "
            "MYCITY_PAYMENT_WEBHOOK_KEY (`mycity provider api-key` and `key` print them)"
        )
    for key in keys:
        try:
            parse_public_key(key)
        except ValueError as e:
            raise SettingsError(f"MYCITY_PAYMENT_WEBHOOK_KEY: {e}") from None
    return PaymentSettings(provider, api_key, keys, ceiling)


@dataclass(frozen=True)
class ServiceSettings:
    """Where the city is: its administrative division (in the credit codes it assigns)
    and its time zone (which day it is, for due dates and licence validity)."""

    division: str = "430700"  # 常德市
    timezone: str = "Asia/Shanghai"
    code_seconds: int = 60  # how long a city code lives
    # The demo's and a rehearsal's switch: the city's clock this many days ahead (a penalty
    # that becomes repairable, a publication that ends); 0 in service.
    clock_ahead_days: int = 0


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    keys_dir: Path
    dev_mode: bool = False
    shred_ledger_path: Path | None = None  # MYCITY_SHRED_LEDGER; see store/shred_ledger.py
    store: StoreSettings = field(default_factory=StoreSettings)
    tokens: TokenSettings = field(default_factory=TokenSettings)
    phone_codes: PhoneCodeSettings = field(default_factory=PhoneCodeSettings)
    uploads: UploadSettings = field(default_factory=UploadSettings)
    read_models: ReadModelSettings = field(default_factory=ReadModelSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    services: ServiceSettings = field(default_factory=ServiceSettings)
    payments: PaymentSettings = field(default_factory=PaymentSettings)

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))

    @property
    def shred_ledger(self) -> Path:
        """Where shreddings are kept apart from the store: never rolled back by a restore."""
        return self.shred_ledger_path or self.data_dir / "shred-ledger.jsonl"

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
            database_url=_database(env, data_dir),
            keys_dir=Path(env.get("MYCITY_KEYS_DIR") or data_dir / "keys").resolve(),
            shred_ledger_path=_path(env.get("MYCITY_SHRED_LEDGER")),
            dev_mode=_flag(env.get("MYCITY_DEV"), False),
            store=StoreSettings(
                aggregate_cache=_count(env, "MYCITY_AGGREGATE_CACHE", 10_000, zero=True),
            ),
            tokens=TokenSettings(
                access_seconds=_count(env, "MYCITY_ACCESS_TOKEN_SECONDS", 900),
                refresh_seconds=_count(env, "MYCITY_REFRESH_TOKEN_SECONDS", 30 * 24 * 3600),
                issuer=env.get("MYCITY_ISSUER") or "mycity",
            ),
            phone_codes=PhoneCodeSettings(
                sends_per_address=_count(env, "MYCITY_PHONE_CODES_PER_ADDRESS", 10),
            ),
            read_models=ReadModelSettings(
                inline=_flag(env.get("MYCITY_INLINE_PROJECTIONS"), True),
                rebuild_workers=_count(env, "MYCITY_REBUILD_WORKERS", CPUS),
            ),
            audit=AuditSettings(
                origin=_origin(env),
                checkpoint_seconds=_count(env, "MYCITY_CHECKPOINT_SECONDS", 600, zero=True),
                retention_days=_retention(env),
                witnesses=_witnesses(env.get("MYCITY_WITNESSES", "")),
            ),
            services=ServiceSettings(
                division=_division(env),
                code_seconds=_code_seconds(env),
                clock_ahead_days=_clock_ahead(env),
            ),
            payments=_payments(env),
        )


def _division(env: Mapping[str, str]) -> str:
    division = env.get("MYCITY_DIVISION") or "430700"
    if not (len(division) == 6 and division.isdigit() and division[0] != "0"):
        raise SettingsError(
            "MYCITY_DIVISION is a 6-digit administrative division code (GB/T 2260), e.g. 430700"
        )
    return division


MAX_CLOCK_AHEAD_DAYS = 3650


def _clock_ahead(env: Mapping[str, str]) -> int:
    days = _count(env, "MYCITY_CLOCK_AHEAD_DAYS", 0, zero=True)
    if days > MAX_CLOCK_AHEAD_DAYS:
        raise SettingsError(f"MYCITY_CLOCK_AHEAD_DAYS is at most {MAX_CLOCK_AHEAD_DAYS}")
    if days and (env.get("MYCITY_DATABASE_URL") or "").startswith("postgres"):
        raise SettingsError(
            "MYCITY_CLOCK_AHEAD_DAYS is for the demo and rehearsals on the embedded store: unset it"
        )
    return days


def _code_seconds(env: Mapping[str, str]) -> int:
    seconds = _count(env, "MYCITY_CITY_CODE_SECONDS", 60)
    if seconds > 3600:
        raise SettingsError(
            "MYCITY_CITY_CODE_SECONDS is at most 3600: a code that lives long is a copy"
        )
    return seconds


def _path(value: str | None) -> Path | None:
    return Path(value).resolve() if value else None
