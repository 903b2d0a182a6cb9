"""Test data for applications and licences: officers, forms, uploads, and an
establishment registered end to end through the use cases and processes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, time
from uuid import UUID, uuid4

from mycity.bootstrap import City
from mycity.data import load_fares
from mycity.domain.application import Application
from mycity.domain.enterprise import Enterprise
from mycity.domain.fare import Fare, fare_day_id
from mycity.domain.licence import Licence
from mycity.domain.payment import Payment
from mycity.identity.principal import Principal, Role
from mycity.usecases.applications import Applications
from mycity.usecases.privacy import Erasure
from mycity.verifier.city_code import Purpose
from tests.helpers import CitizenFactory, Person

PDF = b"%PDF-1.7 a scanned document"


def officer(department: str) -> Principal:
    return Principal(f"officer-{department.lower()}", Role.OFFICER, department, "办事员")


AMR, PSB, CAB, HEALTH = officer("AMR"), officer("PSB"), officer("CAB"), officer("HEALTH")

ESTABLISHMENT = {
    "enterprise_name": "常德市武陵区新开餐饮有限公司",
    "enterprise_type": "有限责任公司",
    "registered_capital": "100万元",
    "business_scope": "餐饮服务",
    "address": "常德市武陵区人民路1号",
}


def upload(city: City, person: Person, content: bytes = PDF) -> str:
    return "document:" + city.uploads.put(person.principal, content).digest


def documents(city: City, person: Person, item: str) -> dict[str, str]:
    """A document for each material of the item a licence does not satisfy."""
    return {
        m.code: upload(city, person, PDF + m.code.encode())
        for m in city.catalogue.item(item).materials
        if not m.satisfied_by_licence
    }


def close_account(city: City, people: CitizenFactory, person: Person) -> Erasure:
    """The person erases their own data with a fresh code, the retention schedule caught
    up first (the receipt is read from it)."""
    settle(city)
    return city.privacy.erase_own(person.principal, people.code_for(person.phone))


def past_retention(city: City, person: Person) -> None:
    """The clock moved to the day the closed account's statutory records all go (noon UTC),
    and them gone, as the retention sweep would."""
    settle(city)
    day = city.privacy.rules.statutory_key_erased_on(city.privacy.records_of(person.id))
    assert day is not None, "a record is still open, or kept for good"
    city.clock.stopped_at = datetime.combine(day, time(12), UTC)
    assert city.privacy.erase_statutory_records(person.id)


def settle(city: City) -> None:
    """Let the read models and the processes follow the log to its head."""
    for _ in range(5):
        if not city.runner().run_once():
            return


def establish(
    city: City, founder: Person, form: dict[str, str] = ESTABLISHMENT
) -> tuple[Application, Enterprise, Licence]:
    """A business registered through AMR-001, approved, its licence issued."""
    submitted = city.applications.submit(
        founder.principal, "AMR-001", form, documents(city, founder, "AMR-001")
    )
    application_id = submitted.application.id
    city.applications.accept(AMR, application_id)
    city.applications.approve(AMR, application_id)
    settle(city)
    application = city.applications.get(application_id)
    assert application.enterprise is not None and len(application.licences) == 1
    enterprise = city.files.get(Enterprise, application.enterprise)
    licence = city.files.get(Licence, application.licences[0])
    return application, enterprise, licence


class CreditOf:
    """A credit tier that allows 容缺受理 to these applicants only (citizens or enterprises),
    or to nobody; the city's own (credit's tiers) allows every good or excellent one."""

    def __init__(self, subjects: Iterable[UUID]) -> None:
        self.subjects = frozenset(subjects)

    def allows_shortfall(self, subject: UUID) -> bool:
        return subject in self.subjects


def with_credit(city: City, *subjects: UUID) -> Applications:
    """The city's applications, asking a credit tier that trusts these applicants."""
    return replace(city.applications, credit=CreditOf(subjects))


def residence_permit(city: City, person: Person) -> Licence:
    """A citizen's own licence (PSB-002, valid a year), approved and issued."""
    application_id = city.applications.submit(
        person.principal,
        "PSB-002",
        {"address": "常德市武陵区朗州路9号", "resident_since": "2020-01-01"},
        documents(city, person, "PSB-002"),
    ).application.id
    city.applications.accept(PSB, application_id)
    city.applications.approve(PSB, application_id)
    settle(city)  # the issuance process
    [licence_id] = city.applications.get(application_id).licences
    return city.files.get(Licence, licence_id)


HOTEL = Principal("venue-hotel-test", Role.VENUE, None, "测试酒店")
WHY_SHOWN = "checking in a guest at the front desk"


def licensed(city: City, founder: Person) -> Licence:
    """An establishment completed and rated, its licence shown to a hotel and verified:
    a row in every read model of applications and licences."""
    application, _, licence = establish(city, founder)
    city.applications.complete(AMR, application.id)
    city.applications.rate(founder.principal, application.id, "SATISFIED", "")
    shown = city.licences.present(founder.principal, licence.id, ["enterprise_name"])
    assert city.reads.licences.verify(HOTEL, shown.payload, WHY_SHOWN).ok
    return licence


GATE = Principal("gate-test", Role.TRANSIT_GATE, None, "测试闸机")
HEALTH_FEED = Principal("feed-health", Role.AUTHORITY_FEED, "HEALTH", "卫健委")


def scanned(city: City, person: Person) -> None:
    """The person's city code scanned at a transit gate: a row of the scan log."""
    payload = city.city_codes.issue(person.principal).payload
    assert city.scans.scan(GATE, payload, Purpose.TRANSIT, "武陵阁站 3号闸机").ok


PAYEE = "merchant:shop-book"


def paid(
    city: City, payer: UUID, amount: int, settled_at: str, refund: int = 0, description: str = "书"
) -> Payment:
    """A payment at a shop that the provider said succeeded (and, if asked, a refund of
    part of it), recorded as the use cases record them, with no provider needed."""
    payment = Payment(  # type: ignore[call-arg]
        id=uuid4(),
        kind="TILL",
        payer=payer,
        payee=PAYEE,
        payee_name="书店",
        amount_fen=amount,
        description=description,
        place="till",
        paying_for="",
        request="r",
        requested_by="shop-book",
        requested_at=settled_at,
    )
    payment.succeeded("ch_x", settled_at)
    if refund:
        refund_id = uuid4()
        payment.request_refund(refund_id, refund, "", "q", "shop-book", settled_at)
        payment.refunded(refund_id, "re_x", settled_at)
    city.files.commit(payment)
    return payment


def paid_and_rode(city: City, person: Person) -> None:
    """A shop's payment, partly refunded, and a day's bus ride on credit: a row in every read
    model of payments and fares once the `payees` process and the runner have run."""
    paid(city, person.id, 1200, "2026-12-06T04:00:00Z", refund=200, description=person.name)
    operator = load_fares().operators["CDBUS"]
    fare = Fare(  # type: ignore[call-arg]
        id=fare_day_id(person.id, operator.code, "2026-12-06"),
        rider=person.id,
        operator=operator.code,
        day="2026-12-06",
    )
    gate = next(iter(operator.gates.values()))
    fare.tap(operator, gate, "2026-12-06T04:10:00+00:00", deferred=True)
    city.files.commit(fare)
    settle(city)
