"""The composition root's part for payments (`bootstrap.build` calls it): the provider's
adapter, the use cases, the notifications, the sweep, the reads and the processes. With no
provider configured the city takes no payments, and fees are paid at the counter."""

from __future__ import annotations

from dataclasses import dataclass

from mycity.clock import Clock
from mycity.data import load_fares
from mycity.identity.credentials import Clients
from mycity.identity.subjects import SubjectIds
from mycity.integrations.payments import HttpProvider
from mycity.integrations.webhooks import parse_public_key
from mycity.processes.fee_refunds import FeeRefunds
from mycity.processes.payees import Payees
from mycity.processes.tracked import Process
from mycity.projections.application_list import ApplicationLists
from mycity.projections.fare_days import FareDayList
from mycity.projections.payment_list import Payments as PaymentList
from mycity.projections.read_models import ReadModels
from mycity.projections.settlement import Settlements
from mycity.reads.door import Door
from mycity.reads.payments import PaymentReads
from mycity.settings import Settings
from mycity.store.files import CityFiles
from mycity.store.sql import Database
from mycity.usecases.fare_billing import FareBilling
from mycity.usecases.fees import PaidFees
from mycity.usecases.payment_notices import PaymentNotices
from mycity.usecases.payment_sweep import PaymentSweep
from mycity.usecases.payments import Payments
from mycity.usecases.reconciliation import Reconciliation
from mycity.usecases.scans import Scans
from mycity.usecases.seams import Fees, PaidAtCounter, PayLater
from mycity.usecases.tills import Tills
from mycity.usecases.transit import Transit


@dataclass(frozen=True)
class PaymentParts:
    payments: Payments
    notices: PaymentNotices | None
    sweep: PaymentSweep
    reconciliation: Reconciliation
    tills: Tills
    transit: Transit
    fare_billing: FareBilling
    reads: PaymentReads
    processes: list[Process]


def fees(settings: Settings, files: CityFiles) -> Fees:
    return PaidFees(files) if settings.payments.enabled else PaidAtCounter()


def build_payments(
    settings: Settings,
    files: CityFiles,
    db: Database,
    ids: SubjectIds,
    scans: Scans,
    clients: Clients,
    door: Door,
    read_models: ReadModels,
    clock: Clock,
    pay_later: PayLater,
) -> PaymentParts:
    config = settings.payments
    provider = HttpProvider(config.provider, config.api_key) if config.enabled else None
    tills = Tills(files, clients, ids)
    payments = Payments(files, provider, ids, scans, tills, config.ceiling_fen, clock.now)
    listed = PaymentList(read_models.rows("payment_list"))
    settlements = Settlements(read_models.rows("settlement"))
    fare_days = FareDayList(read_models.rows("fare_days"))
    fares, zone = load_fares(), settings.services.timezone
    notices = None
    if config.enabled:
        keys = [parse_public_key(k) for k in config.webhook_keys]
        notices = PaymentNotices(db, payments, keys, clock.now)
    return PaymentParts(
        payments=payments,
        notices=notices,
        sweep=PaymentSweep(payments=payments, owed=listed.owed_an_answer, clock=clock.now),
        reconciliation=Reconciliation(files, provider, settlements.books_of),
        tills=tills,
        transit=Transit(files, scans, payments, fares, pay_later, zone, clock.now),
        fare_billing=FareBilling(
            payments=payments,
            rules=fares,
            pay_later=pay_later,
            to_settle=fare_days.to_settle,
            timezone=zone,
            clock=clock.now,
        ),
        reads=PaymentReads(
            door,
            files,
            listed,
            settlements,
            ApplicationLists(read_models.rows("application_list")),
            fare_days,
            tills.payee_of,
            tills.account_of,
        ),
        processes=[Payees(settings.services.timezone), FeeRefunds()],
    )
