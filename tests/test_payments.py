"""Paying through the local provider, a process of its own over HTTP: at the till by the
city code, fees, refunds; idempotency under retries and races; who may do what."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from mycity.bootstrap import City
from mycity.domain.application import Application
from mycity.domain.enterprise import Enterprise
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.fee import Fee, fee_id
from mycity.domain.payment import IN_FLIGHT_S, Payment, PaymentStatus
from mycity.domain.till import enterprise_payee
from mycity.identity.principal import Principal, Role
from mycity.integrations.payments import HttpProvider
from mycity.processes.payees import city_day
from mycity.reads.payments import MAX_BILLS
from mycity.settings import Settings
from mycity.verifier.city_code import Purpose
from tests.domain_helpers import refused
from tests.helpers import CitizenFactory, Person, join_all
from tests.payments_helpers import (
    OTHER_SHOP,
    SHOP,
    SHOP_ACCOUNT,
    LocalProvider,
    funded,
    paying_city,
    provider_process,
)
from tests.services import PSB, documents, settle

VENUE = Principal("venue-test", Role.VENUE, None, "测试场馆")


@pytest.fixture
def folks(paying: City) -> CitizenFactory:
    return CitizenFactory(paying)


def code(city: City, person: Person) -> str:
    return city.city_codes.issue(person.principal).payload


def household_register(city: City, applicant: Person) -> Application:
    """An application for PSB-005 (户口簿补领), whose fee is 800 fen."""
    return city.applications.submit(
        applicant.principal,
        "PSB-005",
        {"household_address": "常德市武陵区朗州路9号"},
        documents(city, applicant, "PSB-005"),
    ).application


def test_a_shop_charges_by_the_code_and_the_money_moves_once(
    paying: City, provider: LocalProvider, folks: CitizenFactory
) -> None:
    payer = funded(folks, provider, 10_000)
    payload = code(paying, payer)
    payment, _ = paying.payments.charge_by_code(SHOP, payload, 1250, "order-0001", "两斤茶叶")
    assert payment.status is PaymentStatus.SUCCEEDED and payment.amount_fen == 1250
    assert provider.balance(paying.ids.payer(payer.id)) == 8750
    assert provider.balance(SHOP_ACCOUNT) == 1250
    again, _ = paying.payments.charge_by_code(SHOP, payload, 1250, "order-0001", "两斤茶叶")
    assert again.id == payment.id and again.status is PaymentStatus.SUCCEEDED
    assert provider.balance(SHOP_ACCOUNT) == 1250  # the same request: the same payment
    with refused(ErrorCode.IDEMPOTENCY_KEY_REUSED, "idempotencyKey"):
        paying.payments.charge_by_code(SHOP, payload, 1300, "order-0001", "两斤茶叶")
    with refused(ErrorCode.ALREADY_USED, "payload"):  # a new key cannot spend the code again
        paying.payments.charge_by_code(SHOP, payload, 1250, "order-0002", "两斤茶叶")
    assert provider.balance(SHOP_ACCOUNT) == 1250


def test_a_charge_at_the_till_settles_the_payment_it_recorded_without_reading_it_back(
    paying: City, provider: LocalProvider, folks: CitizenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    payer = funded(folks, provider, 10_000)
    loaded: list[UUID] = []
    load = paying.files.repository.get

    def spied(file_id: UUID, **options: Any) -> Any:
        loaded.append(file_id)
        return load(file_id, **options)

    monkeypatch.setattr(paying.files.repository, "get", spied)
    payment, _ = paying.payments.charge_by_code(SHOP, code(paying, payer), 900, "order-0003", "茶")
    assert payment.id not in loaded
    assert payment.status is PaymentStatus.SUCCEEDED and payment.version == 2
    stored: Payment = load(payment.id)
    assert (stored.version, stored.status, stored.charge) == (2, payment.status, payment.charge)


def test_a_payment_settled_first_by_the_notification_is_read_again_and_settled_once(
    paying: City, provider: LocalProvider, folks: CitizenFactory
) -> None:
    payer = funded(folks, provider, 10_000)
    payment, _ = paying.payments.charge_by_code(SHOP, code(paying, payer), 900, "order-0004", "茶")
    before: Payment = paying.files.repository.get(
        payment.id, version=1
    )  # as recorded, still pending
    answer = paying.payments._provider().get_charge(payment.charge)
    again, _ = paying.payments.settle(payment.id, answer, recorded=before)
    assert again.status is PaymentStatus.SUCCEEDED and again.version == 2
    assert paying.files.repository.get(payment.id).version == 2  # nothing recorded twice


def test_twenty_requests_with_one_key_make_one_charge(
    paying: City, provider: LocalProvider, folks: CitizenFactory
) -> None:
    payer = funded(folks, provider, 10_000)
    payload = code(paying, payer)
    answers: list[object] = []

    def charge() -> None:
        try:
            answers.append(
                paying.payments.charge_by_code(SHOP, payload, 500, "same-key-1", "面包")[0].id
            )
        except UserError as e:
            answers.append(e.code)

    threads = [threading.Thread(target=charge) for _ in range(20)]
    for thread in threads:
        thread.start()
    assert join_all(threads)
    assert provider.balance(SHOP_ACCOUNT) == 500
    assert provider.balance(paying.ids.payer(payer.id)) == 9_500
    ids = {a for a in answers if isinstance(a, UUID)}
    assert len(ids) == 1
    assert set(answers) - ids <= {ErrorCode.IDEMPOTENCY_IN_PROGRESS}


def test_a_payer_without_the_money_is_refused_and_nothing_moves(
    paying: City, provider: LocalProvider, folks: CitizenFactory
) -> None:
    payer = funded(folks, provider, 100)
    payment, _ = paying.payments.charge_by_code(SHOP, code(paying, payer), 101, "order-poor", "书")
    assert payment.status is PaymentStatus.FAILED and payment.failure == "insufficient_funds"
    assert provider.balance(paying.ids.payer(payer.id)) == 100
    exact, _ = paying.payments.charge_by_code(SHOP, code(paying, payer), 100, "order-rich", "书")
    assert exact.status is PaymentStatus.SUCCEEDED  # the whole balance, to the fen
    assert provider.balance(paying.ids.payer(payer.id)) == 0


def test_the_ceiling_is_kept_at_its_bound(
    settings: Settings, provider: LocalProvider, tmp_path: Path
) -> None:
    with paying_city(settings, provider) as city:
        people = CitizenFactory(city)
        payer = funded(people, provider, 10_000_000)
        with refused(ErrorCode.INVALID_AMOUNT, "amountFen"):
            city.payments.charge_by_code(SHOP, code(city, payer), 5_000_001, "big-order", "车")
        paid, _ = city.payments.charge_by_code(
            SHOP, code(city, payer), 5_000_000, "big-order", "车"
        )
        assert paid.status is PaymentStatus.SUCCEEDED


def test_only_a_merchant_charges_and_only_a_payment_code(
    paying: City, provider: LocalProvider, folks: CitizenFactory
) -> None:
    payer = funded(folks, provider, 1000)
    with refused(ErrorCode.FORBIDDEN):
        paying.payments.charge_by_code(VENUE, code(paying, payer), 100, "order-venue", "房费")
    with refused(ErrorCode.FORBIDDEN):
        paying.payments.charge_by_code(payer.principal, code(paying, payer), 100, "order-self", "x")
    with refused(ErrorCode.CODE_INVALID, "payload"):
        paying.payments.charge_by_code(SHOP, "MC1:forged", 100, "order-forged", "x")
    assert provider.balance(SHOP_ACCOUNT) == 0


def test_refunds_never_exceed_the_payment_even_racing(
    paying: City, provider: LocalProvider, folks: CitizenFactory
) -> None:
    payer = funded(folks, provider, 10_000)
    payment, _ = paying.payments.charge_by_code(SHOP, code(paying, payer), 1000, "order-r1", "鞋")
    refunded, _ = paying.payments.refund(SHOP, payment.id, 300, "refund-0001", "尺码不合")
    assert refunded.refunded_fen == 300
    with refused(ErrorCode.REFUND_EXCEEDS_PAYMENT, "amountFen"):
        paying.payments.refund(SHOP, payment.id, 701, "refund-0002", "")
    outcomes: list[object] = []

    def refund(n: int) -> None:
        try:
            outcomes.append(paying.payments.refund(SHOP, payment.id, 200, f"race-{n:04d}", "")[0])
        except UserError as e:
            outcomes.append(e.code)

    threads = [threading.Thread(target=refund, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    assert join_all(threads)
    made = sum(isinstance(o, Payment) for o in outcomes)
    assert 1 <= made <= 3  # at most three of six fit in the 700 left
    assert {o for o in outcomes if isinstance(o, ErrorCode)} <= {
        ErrorCode.REFUND_EXCEEDS_PAYMENT,
        ErrorCode.CONCURRENT_CHANGE,
    }
    final = paying.files.read(Payment, payment.id)
    assert final.refunded_fen == 300 + 200 * made <= 1000
    assert provider.balance(paying.ids.payer(payer.id)) == 9_000 + final.refunded_fen
    assert provider.balance(SHOP_ACCOUNT) == 1000 - final.refunded_fen


def test_only_the_payee_refunds(
    paying: City, provider: LocalProvider, folks: CitizenFactory
) -> None:
    payer = funded(folks, provider, 1000)
    payment, _ = paying.payments.charge_by_code(SHOP, code(paying, payer), 500, "order-own", "米")
    for wrong in (OTHER_SHOP, payer.principal, PSB):
        with refused(ErrorCode.FORBIDDEN):
            paying.payments.refund(wrong, payment.id, 100, "refund-wrong", "")
    assert paying.files.read(Payment, payment.id).refunded_fen == 0


def test_a_fee_is_paid_once_and_the_application_completes(
    paying: City, provider: LocalProvider, folks: CitizenFactory
) -> None:
    applicant = funded(folks, provider, 5000)
    application = household_register(paying, applicant)
    paying.applications.accept(PSB, application.id)
    paying.applications.approve(PSB, application.id)
    with refused(ErrorCode.FEE_UNPAID):
        paying.applications.complete(PSB, application.id)
    someone = funded(folks, provider, 5000)
    with refused(ErrorCode.FORBIDDEN):
        paying.payments.pay_fee(someone.principal, application.id, "fee-other-1")
    payment, _ = paying.payments.pay_fee(applicant.principal, application.id, "fee-key-01")
    assert payment.status is PaymentStatus.SUCCEEDED and payment.amount_fen == 800
    assert provider.balance("dept:PSB") == 800
    with refused(ErrorCode.ALREADY_PAID):
        paying.payments.pay_fee(applicant.principal, application.id, "fee-key-02")
    paying.applications.complete(PSB, application.id)
    assert provider.balance("dept:PSB") == 800


def test_bills_list_100_fees_owed_and_a_paid_one_takes_no_place(
    paying: City, provider: LocalProvider, folks: CitizenFactory
) -> None:
    """`MAX_BILLS` at its bound: 100 fees owed are all listed, the 101st is not, until one
    is paid."""
    applicant = funded(folks, provider, 5000)
    papers = documents(paying, applicant, "PSB-005")  # one upload, used by every application
    address = {"household_address": "常德市武陵区朗州路9号"}
    applications = [
        paying.applications.submit(applicant.principal, "PSB-005", address, papers).application
        for _ in range(MAX_BILLS + 1)
    ]
    settle(paying)
    listed = [b.application for b in paying.reads.payments.bills(applicant.principal, None)]
    assert listed == [a.id for a in applications[:MAX_BILLS]]  # the oldest first
    paying.payments.pay_fee(applicant.principal, applications[0].id, "fee-first-1")
    settle(paying)
    listed = [b.application for b in paying.reads.payments.bills(applicant.principal, None)]
    assert listed == [a.id for a in applications[1:]]


def test_an_officer_of_the_department_refunds_a_fee_and_no_other_officer_does(
    paying: City, provider: LocalProvider, folks: CitizenFactory
) -> None:
    applicant = funded(folks, provider, 5000)
    application = household_register(paying, applicant)
    payment, _ = paying.payments.pay_fee(applicant.principal, application.id, "fee-refund-1")
    other = Principal("officer-amr", Role.OFFICER, "AMR", "别的部门")
    with refused(ErrorCode.FORBIDDEN):
        paying.payments.refund(other, payment.id, 800, "fee-refund-2", "退费")
    refunded, _ = paying.payments.refund(PSB, payment.id, 800, "fee-refund-3", "多收了")
    assert refunded.refunded_fen == 800
    assert provider.balance(paying.ids.payer(applicant.id)) == 5000
    assert not paying.applications.fees.is_paid(application.id, 800)  # given back: unpaid


def test_a_withdrawn_applications_paid_fee_comes_back_in_full(
    paying: City, provider: LocalProvider, folks: CitizenFactory
) -> None:
    applicant = funded(folks, provider, 5000)
    application = household_register(paying, applicant)
    paying.payments.pay_fee(applicant.principal, application.id, "fee-back-01")
    paying.applications.withdraw(applicant.principal, application.id, "不需要了")
    settle(paying)  # the fee refunds process reserves the refund
    paying.payment_sweep.sweep()  # the sweep asks the provider for it
    assert provider.balance(paying.ids.payer(applicant.id)) == 5000
    assert provider.balance("dept:PSB") == 0
    fee = paying.files.read(Fee, fee_id(application.id))
    assert paying.files.read(Payment, fee.payment).refunded_fen == 800


def test_payments_off_says_so(city: City, people: CitizenFactory) -> None:
    payer = people.register("无支付")
    with refused(ErrorCode.SERVICE_UNAVAILABLE):
        city.payments.charge_by_code(SHOP, code(city, payer), 100, "order-off1", "x")


def test_the_provider_out_of_reach_leaves_the_payment_pending_and_the_sweep_settles_it(
    settings: Settings, tmp_path: Path
) -> None:
    with provider_process(tmp_path / "p2") as provider:
        provider.open(SHOP_ACCOUNT, "payee")
        with paying_city(settings, provider) as city:
            people = CitizenFactory(city)
            payer = funded(people, provider, 1000)
            payload = code(city, payer)
    # the provider has stopped; the city goes on without it
    with paying_city(settings, provider) as city:
        payment, _ = city.payments.charge_by_code(SHOP, payload, 100, "order-down", "x")
        assert payment.status is PaymentStatus.PENDING
        with provider_process(tmp_path / "p2") as again:
            city.payments.provider = HttpProvider(again.url, again.api_key)
            settled, _ = city.payments.charge_again(payment.id)
            assert settled.status is PaymentStatus.SUCCEEDED
            assert again.balance(SHOP_ACCOUNT) == 100


def test_a_scan_for_payment_alone_still_spends_the_code(
    paying: City, provider: LocalProvider, folks: CitizenFactory
) -> None:
    payer = funded(folks, provider, 1000)
    payload = code(paying, payer)
    assert paying.scans.scan(SHOP, payload, Purpose.PAYMENT, "till").ok
    with refused(ErrorCode.ALREADY_USED):
        paying.payments.charge_by_code(SHOP, payload, 100, "order-late", "x")


def test_an_enterprises_fee_is_paid_and_read_by_its_agents_for_payments(
    paying: City, provider: LocalProvider, folks: CitizenFactory
) -> None:
    representative = folks.register("法人", verified=True)
    enterprise = folks.enterprise(representative)
    payer_agent, other_agent = folks.register("出纳"), folks.register("办事")
    folks.agent(enterprise, representative, payer_agent, ["PAYMENTS"])
    folks.agent(enterprise, representative, other_agent, ["APPLICATIONS"])
    provider.open(paying.ids.payer(enterprise), "payer", 5000)
    application = Application(  # type: ignore[call-arg]  # an enterprise's item with a fee
        id=uuid4(), item="PSB-005", department="PSB", applicant=enterprise,
        applicant_kind="ENTERPRISE", co_applicant=None, by=representative.id,
        form={}, materials={}, fee_fen=1500, bundle=None, parts=[],
    )  # fmt: skip
    paying.files.commit(application)
    with refused(ErrorCode.FORBIDDEN):
        paying.payments.pay_fee(other_agent.principal, application.id, "firm-fee-01")
    payment, _ = paying.payments.pay_fee(payer_agent.principal, application.id, "firm-fee-02")
    assert payment.status is PaymentStatus.SUCCEEDED and payment.payer == enterprise
    assert provider.balance(paying.ids.payer(enterprise)) == 3500
    settle(paying)
    reads = paying.reads.payments
    for reader in (representative, payer_agent):
        [row] = reads.mine(reader.principal, enterprise, [], None, 10, None)
        assert row.id == payment.id and row.description == "PSB-005"
        assert reads.get(reader.principal, payment.id, None).description == "PSB-005"
    with refused(ErrorCode.FORBIDDEN, "enterpriseId"):
        reads.mine(other_agent.principal, enterprise, [], None, 10, None)
    with refused(ErrorCode.FORBIDDEN):
        reads.get(other_agent.principal, payment.id, None)
    assert reads.mine(payer_agent.principal, None, [], None, 10, None) == []  # not theirs


def test_a_till_registered_for_an_enterprise_is_paid_into_its_account_and_settled_for_its_agents(
    paying: City, provider: LocalProvider, folks: CitizenFactory
) -> None:
    representative = folks.register("老板", verified=True)
    enterprise_id = folks.enterprise(representative)
    cashier, stranger = folks.register("会计"), folks.register("路人")
    folks.agent(enterprise_id, representative, cashier, ["PAYMENTS"])
    enterprise = paying.files.read(Enterprise, enterprise_id)
    account = enterprise_payee(enterprise.credit_code)
    provider.open(account, "payee")
    paying.clients.add(SHOP.subject, Role.MERCHANT, SHOP.name)
    paying.clients.add("venue-x", Role.VENUE, "场馆")
    with refused(ErrorCode.NOT_FOUND, "clientId"):
        paying.tills.register("venue-x", enterprise.credit_code)  # not a merchant
    with refused(ErrorCode.NOT_FOUND, "creditCode"):
        paying.tills.register(SHOP.subject, "91430702MA4L0C8P0X")  # no such enterprise
    paying.tills.register(SHOP.subject, enterprise.credit_code)
    with refused(ErrorCode.ALREADY_REGISTERED, "clientId"):
        paying.tills.register(SHOP.subject, enterprise.credit_code)
    payer = funded(folks, provider, 10_000)
    payment, _ = paying.payments.charge_by_code(SHOP, code(paying, payer), 700, "till-ent-1", "菜")
    assert payment.payee == account and payment.payee_name == enterprise.name
    assert provider.balance(account) == 700 and provider.balance(SHOP_ACCOUNT) == 0
    with refused(ErrorCode.FORBIDDEN):
        paying.payments.refund(OTHER_SHOP, payment.id, 100, "till-ent-r1", "")
    paying.payments.refund(SHOP, payment.id, 100, "till-ent-r2", "")
    settle(paying)
    settled = paying.files.read(Payment, payment.id).settled_at
    today = city_day(settled, ZoneInfo(paying.settings.services.timezone))
    reads = paying.reads.payments
    day = reads.settlement(SHOP, today, None)
    assert (day.payments, day.received_fen, day.refunded_fen) == (1, 700, 100)
    for reader in (representative, cashier):
        assert reads.settlement(reader.principal, today, enterprise_id) == day
    with refused(ErrorCode.FORBIDDEN, "enterpriseId"):
        reads.settlement(stranger.principal, today, enterprise_id)


def test_the_payee_reads_a_payment_with_a_purpose_recorded_and_without_what_was_bought(
    paying: City, provider: LocalProvider, folks: CitizenFactory
) -> None:
    applicant = funded(folks, provider, 5000)
    fee, _ = paying.payments.pay_fee(
        applicant.principal, household_register(paying, applicant).id, "fee-read-01"
    )
    shopper = funded(folks, provider, 5000)
    bought, _ = paying.payments.charge_by_code(SHOP, code(paying, shopper), 300, "read-0001", "药")
    reads = paying.reads.payments
    with refused(ErrorCode.PURPOSE_REQUIRED, "purpose"):
        reads.get(PSB, fee.id, None)
    seen = reads.get(PSB, fee.id, "核对户口簿补领的缴费")
    assert seen.amount_fen == 800 and seen.description is None
    assert reads.get(SHOP, bought.id, "核对一笔退货").description is None
    assert reads.get(shopper.principal, bought.id, None).description == "药"
    other = Principal("officer-amr", Role.OFFICER, "AMR", "别的部门")
    for wrong, payment in ((other, fee), (OTHER_SHOP, bought), (applicant.principal, bought)):
        with refused(ErrorCode.FORBIDDEN):
            reads.get(wrong, payment.id, "看看")
    settle(paying)
    found = paying.reads.access.of_person(applicant.principal, applicant.id, 10, None)
    readers = [r.reader_name for r in found]
    assert PSB.name in readers  # the officer's read, in the payer's list of who read their data


def test_a_key_whose_first_answer_was_lost_is_in_flight_30_seconds_then_asked_again(
    paying: City, provider: LocalProvider, folks: CitizenFactory
) -> None:
    """The provider out of reach at the first request: the payment stays pending with no
    charge. The same key is `IDEMPOTENCY_IN_PROGRESS` until 30 s after the request, and
    from then on asks the provider again (by the payment's own key: once)."""
    payer = funded(folks, provider, 10_000)
    payload = code(paying, payer)
    reachable = paying.payments.provider
    paying.payments.provider = HttpProvider("http://127.0.0.1:9", "no-key", timeout=0.5)
    lost, _ = paying.payments.charge_by_code(SHOP, payload, 700, "order-lost-1", "茶")
    assert lost.status is PaymentStatus.PENDING and not lost.charge
    paying.payments.provider = reachable
    requested = datetime.fromisoformat(lost.requested_at).timestamp()
    paying.clock.stopped_at = datetime.fromtimestamp(requested + IN_FLIGHT_S - 0.001, UTC)
    with refused(ErrorCode.IDEMPOTENCY_IN_PROGRESS, "idempotencyKey"):
        paying.payments.charge_by_code(SHOP, payload, 700, "order-lost-1", "茶")
    paying.clock.stopped_at = datetime.fromtimestamp(requested + IN_FLIGHT_S, UTC)
    again, _ = paying.payments.charge_by_code(SHOP, payload, 700, "order-lost-1", "茶")
    assert (again.id, again.status) == (lost.id, PaymentStatus.SUCCEEDED)
    assert provider.balance(SHOP_ACCOUNT) == 700
