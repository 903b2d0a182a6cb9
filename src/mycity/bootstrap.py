"""The composition root: wires the whole service from the settings.

Store and keys first, then identity, the use cases, the read models and their readers
behind the read door, the processes, and the runner that keeps the followers of the log
caught up. Nothing else constructs these; tests and the CLI call `build`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from mycity.bootstrap_credit import build_credit, credit_standing
from mycity.bootstrap_log import ShardedFolds, open_log
from mycity.bootstrap_payments import build_payments, fees
from mycity.bootstrap_reads import Reads, build_reads
from mycity.clock import Clock
from mycity.data import load_calendar, load_catalogue, load_retention
from mycity.domain.catalogue import Catalogue
from mycity.identity.costs import Costs
from mycity.identity.credentials import Clients
from mycity.identity.holders import Holders
from mycity.identity.keys import Keys, KeyStore
from mycity.identity.phone_codes import PhoneCodes
from mycity.identity.presentation_nonces import PresentationNonces
from mycity.identity.subjects import SubjectIds
from mycity.identity.tokens import Tokens
from mycity.integrations.realname import PopulationRegister, RealNameCheck
from mycity.integrations.sms import OutboxSms, SmsSender
from mycity.integrations.uploads import LocalUploads
from mycity.private import private_dir, private_file
from mycity.processes.bundles import Bundles
from mycity.processes.erasure import Erasures
from mycity.processes.issuance import Issuance
from mycity.processes.tracked import Process, ProcessRunner
from mycity.projections.application_list import ApplicationLists
from mycity.projections.fanout import LogPass
from mycity.projections.licence_uses import LicenceUses
from mycity.projections.listener import Listener
from mycity.projections.merkle import MerkleTree
from mycity.projections.ratings import RatingStatistics
from mycity.projections.read_models import ReadModels
from mycity.projections.retention import Retention
from mycity.projections.runner import Runner
from mycity.projections.wallet import Wallets
from mycity.reads.applications import ApplicationReads
from mycity.reads.door import Door
from mycity.reads.licences import LicenceReads
from mycity.settings import Settings
from mycity.store.checkpoints import Checkpoints
from mycity.store.files import CityFiles
from mycity.store.shred_ledger import ShredLedger
from mycity.store.sql import Database
from mycity.store.unavailable import is_unavailable
from mycity.usecases.applications import Applications
from mycity.usecases.audit import Audit
from mycity.usecases.citizens import Citizens
from mycity.usecases.city_code import CityCodes
from mycity.usecases.credit import Credits
from mycity.usecases.enterprises import Enterprises
from mycity.usecases.fare_billing import FareBilling
from mycity.usecases.health import HealthFeeds
from mycity.usecases.lapses import Lapses
from mycity.usecases.licence_issuance import Issuer
from mycity.usecases.licences import STATUS_READ_MODELS, Licences
from mycity.usecases.materials import Materials
from mycity.usecases.payment_notices import PaymentNotices
from mycity.usecases.payment_sweep import PaymentSweep
from mycity.usecases.payments import Payments
from mycity.usecases.privacy import Privacy
from mycity.usecases.publication_sweep import PublicationSweep
from mycity.usecases.reconciliation import Reconciliation
from mycity.usecases.retention import RetentionSweep
from mycity.usecases.scans import Scans
from mycity.usecases.sessions import Sessions
from mycity.usecases.tills import Tills
from mycity.usecases.transit import Transit
from mycity.usecases.uploads import Uploads
from mycity.verifier.licence_trust import load_keys

log = logging.getLogger(__name__)


@dataclass
class City:
    settings: Settings
    keys: Keys
    ids: SubjectIds
    files: CityFiles
    db: Database
    tokens: Tokens
    clients: Clients
    phone_codes: PhoneCodes
    costs: Costs
    sms: SmsSender
    real_names: RealNameCheck
    citizens: Citizens
    enterprises: Enterprises
    sessions: Sessions
    privacy: Privacy
    audit: Audit
    clock: Clock
    catalogue: Catalogue
    applications: Applications
    licences: Licences
    uploads: Uploads
    lapses: Lapses
    retention: RetentionSweep
    health: HealthFeeds
    city_codes: CityCodes
    scans: Scans
    payments: Payments
    payment_notices: PaymentNotices | None
    payment_sweep: PaymentSweep
    reconciliation: Reconciliation
    tills: Tills
    transit: Transit
    fare_billing: FareBilling
    credits: Credits
    publication: PublicationSweep
    tree: MerkleTree
    read_models: ReadModels
    reads: Reads
    processes: list[ProcessRunner] = field(default_factory=list)
    listener: Listener | None = None  # PostgreSQL's LISTEN/NOTIFY, for this process

    @staticmethod
    def store_unavailable(error: BaseException | None) -> bool:
        """Whether a failure is the store out of reach for a moment (answered as
        `Unavailable`: SERVICE_UNAVAILABLE, to be tried again shortly)."""
        return is_unavailable(error)

    def runner(self) -> Runner:
        """The runner of every follower of the log: one pass reads each new page once for
        the read models and the Merkle tree (folded in one transaction first: answers wait
        for them) and the processes; then the checkpoints and the sweeps, driven by time."""
        log_pass = LogPass(
            self.files,
            self.read_models,
            [self.tree],
            self.processes,
            page_size=self.settings.read_models.page_size,
        )
        followers = [
            ("the log's followers", log_pass.run_once),
            ("checkpoints", self.audit.sign_if_due),
            ("lapses", self.lapses.sweep_if_due),
            ("retention", self.retention.sweep_if_due),
            ("payments", self.payment_sweep.sweep_if_due),
            ("fares", self.fare_billing.sweep_if_due),
            ("publication", self.publication.sweep_if_due),
        ]
        return Runner(self.read_models.wake, followers, start=self.read_models.upgrade)

    def listen(self) -> None:
        """Hear other processes' events and read-model progress (PostgreSQL only)."""
        if self.listener is not None:
            self.listener.start()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        self.files.close()


def build(
    settings: Settings,
    *,
    sms: SmsSender | None = None,
    real_names: RealNameCheck | None = None,
    setup: bool = True,
) -> City:
    private_dir(settings.data_dir)  # names, numbers and keys live here
    if not settings.is_postgres:
        private_file(Path(settings.database_url))
    keys = KeyStore(settings.keys_dir, generate_missing=not settings.is_postgres).load()
    ids = SubjectIds(keys.identity_hash)
    real_names = real_names or PopulationRegister(settings.population_register)
    sms = sms or OutboxSms(settings.sms_outbox)
    vault, files, db = open_log(settings, keys)
    vault.ledger = ShredLedger(settings.shred_ledger)
    clients = Clients(db)
    tokens = Tokens(keys.token_signing, db, settings.tokens, Holders(files, clients).current)
    phone_codes = PhoneCodes(db, sms, ids, settings.phone_codes)
    read_models = ReadModels(
        files,
        db,
        page_size=settings.read_models.page_size,
        wait_seconds=settings.read_models.wait_seconds,
    )
    read_models.shards = ShardedFolds(settings, settings.read_models.rebuild_workers)
    door = Door(files)
    tree = MerkleTree(files, db, page_size=settings.read_models.page_size)
    checkpoints = Checkpoints(db)
    clock = Clock(settings.services.timezone, timedelta(days=settings.services.clock_ahead_days))
    schedule = Retention(read_models.rows("retention"))

    privacy = Privacy(
        files,
        ids,
        tokens,
        phone_codes,
        load_retention(),
        schedule.records_of,
        lambda: read_models.wait(files.head(), "retention"),
        clock.utc_today,
    )
    catalogue = load_catalogue()
    nonces = PresentationNonces(keys.presentation_nonce)
    licence_reads = LicenceReads(
        door,
        files,
        Wallets(read_models.rows("wallet")),
        LicenceUses(read_models.rows("licence_uses")),
        lambda: trust,
        nonces,
        catalogue.licence_name,
        clock.now,
        clock.today,
    )
    licences = Licences(
        files,
        keys.licence_signing,
        keys.wallet_signing,
        nonces,
        catalogue.licence_name,
        licence_reads.flagged,
        lambda position: read_models.wait(position, *STATUS_READ_MODELS, timeout=0),
        clock.today,
        clock.now,
    )
    trust = load_keys(licences.trust_list())
    standing = credit_standing(files)
    uploads = Uploads(
        LocalUploads(settings.data_dir / "uploads"),
        vault,
        files,
        phone_codes.budgets,  # one table of budgets, made with the phone codes'
        settings.uploads,
    )
    applications = Applications(
        files,
        ids,
        catalogue,
        load_calendar(),
        Materials(uploads, licence_reads.held),
        standing,
        fees(settings, files),
        clock.today,
    )
    application_reads = ApplicationReads(
        door,
        files,
        ApplicationLists(read_models.rows("application_list")),
        RatingStatistics(read_models.rows("rating_statistics")),
        clock.today,
    )
    health = HealthFeeds(files, ids, clock.now)
    scans = Scans(
        files, db, door, clients, health, keys.code_signing, keys.code_subject, clock.now, standing
    )
    paying = build_payments(
        settings, files, db, ids, scans, clients, door, read_models, clock, standing
    )
    credit = build_credit(files, ids, uploads, door, read_models, clock)
    issuer = Issuer(catalogue, ids, keys.licence_signing, settings.services.division, clock.today)
    # The processes that follow the log and write events; the capabilities add theirs here.
    processes: list[Process] = [
        Erasures(privacy.forget, privacy.forget_records),
        Issuance(issuer),
        Bundles(),
        *paying.processes,
        *credit.processes,
    ]
    city = City(
        settings=settings,
        keys=keys,
        ids=ids,
        files=files,
        db=db,
        tokens=tokens,
        clients=clients,
        phone_codes=phone_codes,
        costs=Costs(phone_codes.budgets),
        sms=sms,
        real_names=real_names,
        citizens=Citizens(files, ids, phone_codes, tokens, real_names),
        enterprises=Enterprises(files, ids),
        sessions=Sessions(files, ids, phone_codes, tokens, clients),
        privacy=privacy,
        audit=Audit(files, tree, checkpoints, keys.checkpoint_signing, settings.audit),
        clock=clock,
        catalogue=catalogue,
        applications=applications,
        licences=licences,
        uploads=uploads,
        lapses=Lapses(applications, application_reads.lists.lapsing),
        retention=RetentionSweep(privacy, schedule.due, every_seconds=3600.0),
        health=health,
        city_codes=CityCodes(
            files,
            keys.code_signing,
            keys.code_subject,
            health,
            clock.now,
            settings.services.code_seconds,
        ),
        scans=scans,
        payments=paying.payments,
        payment_notices=paying.notices,
        payment_sweep=paying.sweep,
        reconciliation=paying.reconciliation,
        tills=paying.tills,
        transit=paying.transit,
        fare_billing=paying.fare_billing,
        credits=credit.credits,
        publication=credit.sweep,
        tree=tree,
        read_models=read_models,
        reads=build_reads(
            door, files, read_models, application_reads, licence_reads, paying.reads, credit.reads
        ),
        processes=[ProcessRunner(files, process) for process in processes],
    )
    if settings.is_postgres:
        city.listener = Listener(
            files,
            read_models.wake.set,
            read_models.positions.advanced,
            read_models.announcer.channel,
        )
    files.on_saved.append(read_models.wake.set)
    if setup:
        for part in (vault, tokens, clients, phone_codes, tree, checkpoints):
            part.create_tables()
        if paying.notices is not None:
            paying.notices.create_tables()
        vault.shred_again(vault.ledger.subjects())  # a store restored, or copied back by hand
        vault.shred_with_their_people()  # people erased before there were retention classes
        read_models.setup()
        for process in city.processes:
            process.setup()
    return city
