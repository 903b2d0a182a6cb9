"""Maps the settings to eventsourcing's persistence: SQLite or PostgreSQL, AES-GCM at rest."""

from __future__ import annotations

import base64
import re

from psycopg.conninfo import conninfo_to_dict

from mycity.settings import Settings


def eventsourcing_env(settings: Settings, event_cipher_key: bytes) -> dict[str, str]:
    """The environment eventsourcing reads: store, connection, and AES-GCM at rest."""
    env = {
        "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
        "CIPHER_KEY": base64.b64encode(event_cipher_key).decode(),
        "AGGREGATE_CACHE_MAXSIZE": str(settings.store.aggregate_cache or ""),
        "AGGREGATE_CACHE_FASTFORWARD": "y",
        "IS_SNAPSHOTTING_ENABLED": "y",
    }
    if not settings.is_postgres:
        return env | {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "PROCESS_RECORDER_TOPIC": "mycity.store.recorders:SQLiteCityRecorder",
            "SQLITE_DBNAME": settings.database_url,
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    params = conninfo_to_dict(url_without_schema(settings))
    return env | {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "PROCESS_RECORDER_TOPIC": "mycity.store.recorders:PostgresCityRecorder",
        "POSTGRES_DBNAME": str(params.get("dbname", "mycity")),
        "POSTGRES_HOST": str(params.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(params.get("port", "5432")),
        "POSTGRES_USER": str(params.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(params.get("password", "")),
        "POSTGRES_SCHEMA": schema_of(settings),
        "POSTGRES_POOL_SIZE": "10",
        "POSTGRES_MAX_OVERFLOW": "10",
        "POSTGRES_CONN_MAX_AGE": "",
    }


def schema_of(settings: Settings) -> str:
    """The PostgreSQL schema, from a `?schema=` in the URL; `public` by default."""
    match = re.search(r"[?&]schema=([A-Za-z_][A-Za-z0-9_]*)", settings.database_url)
    return match.group(1) if match else "public"


def url_without_schema(settings: Settings) -> str:
    """The PostgreSQL URL as libpq and its tools take it: our `?schema=` left out."""
    return re.sub(r"([?&])schema=[^&]*&?", r"\1", settings.database_url).rstrip("?&")
