"""Wires the whole service from the settings: store, keys, application, identity, read models."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from mycity.identity.credentials import Clients
from mycity.identity.keys import Keys, KeyStore
from mycity.identity.phone_codes import PhoneCodes
from mycity.identity.subjects import SubjectIds
from mycity.identity.tokens import Tokens
from mycity.integrations.realname import PopulationRegister, RealNameCheck
from mycity.integrations.sms import OutboxSms, SmsSender
from mycity.persistence import Database, eventsourcing_env, schema_of
from mycity.projections.read_models import ReadModels
from mycity.services import CityFiles
from mycity.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class City:
    settings: Settings
    keys: Keys
    files: CityFiles
    db: Database
    tokens: Tokens
    clients: Clients
    phone_codes: PhoneCodes
    read_models: ReadModels
    sms: SmsSender
    real_names: RealNameCheck

    def close(self) -> None:
        self.files.close()


def build(
    settings: Settings,
    *,
    sms: SmsSender | None = None,
    real_names: RealNameCheck | None = None,
    setup: bool = True,
) -> City:
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # names live here
    keys = KeyStore(settings.keys_dir, generate_missing=not settings.is_postgres).load()
    ids = SubjectIds(keys.identity_hash)
    real_names = real_names or PopulationRegister(settings.population_register)
    files = CityFiles(
        eventsourcing_env(settings, keys.event_cipher), ids=ids, real_names=real_names
    )
    datastore: Any = files.recorder.datastore  # type: ignore[attr-defined]
    db = Database(
        datastore,
        "postgres" if settings.is_postgres else "sqlite",
        schema_of(settings) if settings.is_postgres else "",
    )
    sms = sms or OutboxSms(settings.sms_outbox)
    city = City(
        settings=settings,
        keys=keys,
        files=files,
        db=db,
        tokens=Tokens(keys.token_signing, db, settings),
        clients=Clients(db),
        phone_codes=PhoneCodes(db, sms, ids, settings),
        read_models=ReadModels(files, db),
        sms=sms,
        real_names=real_names,
    )
    files.on_saved.append(city.read_models.wake.set)
    if setup:
        for part in (city.tokens, city.clients, city.phone_codes):
            part.create_tables()
        city.read_models.setup()
    return city
