"""容缺受理 through the use cases, for each kind of material the catalogue has (applications.md
§3, §4): a key material missing is refused whatever the credit; one non-key material may be
missing only when the applicant's own credit tier allows it; the material owed is then
supplied (a document uploaded, or a licence the applicant came to hold) and the application
goes on. Documents: AMR-001 and AMR-002; held licences: AMR-002's business licence (key),
PSB-004's birth certificate (key, from another item) and marriage certificate (non-key)."""

from __future__ import annotations

from uuid import UUID

import pytest

from mycity.bootstrap import City
from mycity.demo import CITIZENS
from mycity.domain.application_status import Status
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.licence import Licence
from tests.conftest import Served
from tests.domain_helpers import refused
from tests.helpers import Api, CitizenFactory, Person
from tests.services import (
    AMR,
    ESTABLISHMENT,
    HEALTH,
    PDF,
    PSB,
    documents,
    establish,
    settle,
    upload,
    with_credit,
)
from tests.test_applications import marry
from tests.test_licence_story import uploaded

NEWBORN = {"child_name": "小明", "child_sex": "男", "born_on": "2026-03-01"}


def form_of(city: City, item: str) -> dict[str, str]:
    """The item's form answered; a bundle's: every field of its items."""
    found = city.catalogue.item(item)
    fields = [*found.form, *(f for code in found.bundle for f in city.catalogue.item(code).form)]
    return {f: NEWBORN.get(f, "常德市武陵区朗州路9号") for f in fields}


def bundle_parts(city: City, parent: Person) -> dict[str, UUID]:
    """The birth bundle (GSA-001) submitted with every document: its parts by item."""
    given = {
        k: v
        for code in city.catalogue.item("GSA-001").bundle
        for k, v in documents(city, parent, code).items()
    }
    parts = city.applications.submit(
        parent.principal, "GSA-001", form_of(city, "GSA-001"), given
    ).parts
    return {part.item: part.id for part in parts}


def without(city: City, person: Person, item: str, *left_out: str) -> dict[str, str]:
    """A document for each of the item's documents but these."""
    return {k: v for k, v in documents(city, person, item).items() if k not in left_out}


def approved(city: City, person: Person, item: str, staff: object, **kwargs: object) -> UUID:
    application_id = city.applications.submit(
        person.principal, item, form_of(city, item), documents(city, person, item), **kwargs
    ).application.id
    city.applications.accept(staff, application_id)  # type: ignore[arg-type]
    city.applications.approve(staff, application_id)  # type: ignore[arg-type]
    settle(city)
    return application_id


def birth_certificate(city: City, parent: Person) -> None:
    """HEALTH-001 approved: the parent holds the child's birth certificate."""
    approved(city, parent, "HEALTH-001", HEALTH)


def married(city: City, person: Person, spouse: Person) -> Licence:
    """The person's own marriage certificate."""
    held = [
        city.files.get(Licence, i)
        for i in city.applications.get(marry(city, person, spouse)).licences
    ]
    return next(licence for licence in held if licence.holder == person.id)


def registration(city: City, parent: Person) -> UUID:
    """PSB-004 (birth registration) with its documents; the licences left to the wallet."""
    return city.applications.submit(
        parent.principal, "PSB-004", form_of(city, "PSB-004"), without(city, parent, "PSB-004")
    ).application.id


@pytest.fixture
def parent(people: CitizenFactory) -> Person:
    return people.register("家长", verified=True)


# -- key materials --------------------------------------------------------------------------


@pytest.mark.parametrize("left_out", ["articles_of_association", "premises_proof"])
def test_a_key_document_left_out_is_refused_at_submission(
    city: City, parent: Person, left_out: str
) -> None:
    with refused(ErrorCode.MATERIAL_MISSING, "materials"):
        with_credit(city, parent.id).submit(
            parent.principal, "AMR-001", ESTABLISHMENT, without(city, parent, "AMR-001", left_out)
        )


def test_a_key_licence_not_held_is_refused_at_submission(
    city: City, people: CitizenFactory
) -> None:
    founder = people.register("无照", verified=True)
    enterprise_id = people.enterprise(founder)
    with refused(ErrorCode.MATERIAL_MISSING, "materials"):
        with_credit(city, founder.id, enterprise_id).submit(
            founder.principal,
            "AMR-002",
            form_of(city, "AMR-002"),
            documents(city, founder, "AMR-002"),
            enterprise_id=enterprise_id,
        )


def test_a_key_licence_another_item_has_not_issued_yet_is_refused_at_acceptance(
    city: City, parent: Person
) -> None:
    """In the birth bundle PSB-004 needs HEALTH-001's certificate: trusted or not, it is
    accepted only once the certificate is in the wallet."""
    parts = bundle_parts(city, parent)
    health, psb = parts["HEALTH-001"], parts["PSB-004"]
    trusted = with_credit(city, parent.id)
    with refused(ErrorCode.MATERIAL_MISSING):
        trusted.accept(PSB, psb)
    city.applications.accept(HEALTH, health)
    city.applications.approve(HEALTH, health)
    settle(city)
    with refused(ErrorCode.SHORTFALL_NOT_ALLOWED):  # the certificate is there; no marriage
        with_credit(city).accept(PSB, psb)
    trusted.accept(PSB, psb)
    assert city.applications.get(psb).missing == "marriage_certificate"


def test_a_key_material_and_a_non_key_one_missing_are_refused_naming_both(
    city: City, parent: Person
) -> None:
    application_id = bundle_parts(city, parent)["PSB-004"]
    with pytest.raises(UserError) as caught:
        with_credit(city, parent.id).accept(PSB, application_id)
    assert caught.value.code is ErrorCode.MATERIAL_MISSING
    assert "birth_certificate" in caught.value.message
    assert "marriage_certificate" in caught.value.message


# -- a non-key document ---------------------------------------------------------------------


def short_establishment(city: City, founder: Person) -> UUID:
    return city.applications.submit(
        founder.principal,
        "AMR-001",
        ESTABLISHMENT,
        without(city, founder, "AMR-001", "officer_appointments"),
    ).application.id


def test_a_non_key_document_may_be_missing_only_on_the_applicants_own_credit(
    city: City, people: CitizenFactory, parent: Person
) -> None:
    application_id = short_establishment(city, parent)
    for applications in (with_credit(city), with_credit(city, people.register("旁人").id)):
        with refused(ErrorCode.SHORTFALL_NOT_ALLOWED):
            applications.accept(AMR, application_id)
    assert city.applications.get(application_id).status == Status.SUBMITTED
    with_credit(city, parent.id).accept(AMR, application_id)
    accepted = city.applications.get(application_id)
    assert (accepted.status, accepted.missing) == (Status.ACCEPTED, "officer_appointments")
    assert accepted.missing_due > accepted.due  # 10 working days, the item's limit 3


def test_the_owed_document_supplied_clears_the_shortfall_and_the_licence_follows(
    city: City, parent: Person
) -> None:
    application_id = short_establishment(city, parent)
    with_credit(city, parent.id).accept(AMR, application_id)
    supply = city.applications.resubmit
    with refused(ErrorCode.MATERIAL_MISSING, "materials"):  # something else than what is owed
        supply(parent.principal, application_id, None, {"premises_proof": upload(city, parent)})
    with refused(ErrorCode.UPLOAD_NOT_FOUND, "materials.officer_appointments"):
        supply(
            parent.principal, application_id, None, {"officer_appointments": "document:" + "0" * 64}
        )
    with refused(ErrorCode.INVALID_ARGUMENT, "materials.officer_appointments"):
        supply(parent.principal, application_id, None, {"officer_appointments": "licence:X"})
    with refused(ErrorCode.ILLEGAL_TRANSITION):  # a form: a correction, which nobody asked
        supply(parent.principal, application_id, ESTABLISHMENT, {})
    supply(
        parent.principal,
        application_id,
        None,
        {"officer_appointments": upload(city, parent, PDF + b"appointments")},
    )
    supplied = city.applications.get(application_id)
    assert (supplied.missing, supplied.missing_due, supplied.status) == ("", "", Status.ACCEPTED)
    assert supplied.materials["officer_appointments"].startswith("document:")
    city.applications.approve(AMR, application_id)
    settle(city)
    assert len(city.applications.get(application_id).licences) == 1


# -- an enterprise's application: its credit, and any of its people --------------------------


def test_an_enterprises_shortfall_rests_on_the_enterprises_credit_and_any_of_its_people_supplies(
    city: City, people: CitizenFactory
) -> None:
    founder, agent = people.register("法人", verified=True), people.register("经办", verified=True)
    _, enterprise, _ = establish(city, founder)
    people.agent(enterprise.id, founder, agent, ["APPLICATIONS"])
    settle(city)
    application_id = city.applications.submit(
        agent.principal,
        "AMR-002",
        form_of(city, "AMR-002"),
        without(city, agent, "AMR-002", "food_safety_manager"),
        enterprise_id=enterprise.id,
    ).application.id
    with refused(ErrorCode.SHORTFALL_NOT_ALLOWED):  # the people's credit is not the firm's
        with_credit(city, founder.id, agent.id).accept(AMR, application_id)
    with_credit(city, enterprise.id).accept(AMR, application_id)
    city.applications.resubmit(  # the legal representative supplies what the agent left out
        founder.principal,
        application_id,
        None,
        {"food_safety_manager": upload(city, founder, PDF + b"manager")},
    )
    city.applications.approve(AMR, application_id)
    assert city.applications.get(application_id).status == Status.APPROVED


# -- a non-key licence ----------------------------------------------------------------------


def test_a_non_key_licence_held_by_acceptance_is_taken_from_the_wallet_unasked(
    city: City, people: CitizenFactory, parent: Person
) -> None:
    birth_certificate(city, parent)
    application_id = registration(city, parent)
    assert "marriage_certificate" not in city.applications.get(application_id).materials
    certificate = married(city, parent, people.register("配偶", verified=True))
    city.applications.accept(PSB, application_id)  # no credit needed: nothing is missing
    accepted = city.applications.get(application_id)
    assert accepted.missing == ""
    assert accepted.materials["marriage_certificate"] == f"licence:{certificate.identifier}"


def test_a_non_key_licence_owed_is_supplied_once_held(
    city: City, people: CitizenFactory, parent: Person
) -> None:
    birth_certificate(city, parent)
    application_id = registration(city, parent)
    with refused(ErrorCode.SHORTFALL_NOT_ALLOWED):
        with_credit(city).accept(PSB, application_id)
    with_credit(city, parent.id).accept(PSB, application_id)
    assert city.applications.get(application_id).missing == "marriage_certificate"
    supply = city.applications.resubmit
    with refused(ErrorCode.MATERIAL_MISSING, "materials"):  # not married yet: nothing to give
        supply(parent.principal, application_id, None, {})
    with refused(ErrorCode.INVALID_ARGUMENT, "materials.marriage_certificate"):
        supply(
            parent.principal, application_id, None, {"marriage_certificate": upload(city, parent)}
        )
    certificate = married(city, parent, people.register("配偶", verified=True))
    with refused(ErrorCode.LICENCE_NOT_HELD, "materials.marriage_certificate"):
        supply(parent.principal, application_id, None, {"marriage_certificate": "licence:X"})
    supply(parent.principal, application_id, None, {})  # the wallet's, unasked
    supplied = city.applications.get(application_id)
    assert supplied.missing == ""
    assert supplied.materials["marriage_certificate"] == f"licence:{certificate.identifier}"
    city.applications.approve(PSB, application_id)
    assert city.applications.get(application_id).status == Status.APPROVED


# -- over HTTP ------------------------------------------------------------------------------

SUBMIT = """mutation($i: SubmitApplicationInput!) { submitApplication(input: $i) {
  application { id status } userErrors { code field } } }"""
STEP = """mutation($id: ID!) { %s(input: {applicationId: $id}) {
  application { status missing missingDue } userErrors { code } } }"""
SUPPLY = """mutation($i: ResubmitApplicationInput!) { resubmitApplication(input: $i) {
  application { status missing missingDue } userErrors { code field } } }"""


def test_over_http_a_shortfall_is_refused_then_accepted_on_credit_and_supplied(
    api: Api, served: Served, demo: dict[str, dict[str, str]]
) -> None:
    live: City = served.app.state.city
    wang = api.log_in_citizen(CITIZENS[0].phone)["accessToken"]
    officer = api.log_in_client("officer-amr-01", demo["officer-amr-01"]["secret"])

    def document(code: str) -> dict[str, str]:
        return {"code": code, "document": uploaded(api.base_url, wang, PDF + code.encode())}

    form = [{"name": k, "value": v} for k, v in ESTABLISHMENT.items()]
    keys = [m.code for m in live.catalogue.item("AMR-001").materials if m.key]
    no_key = api.run(SUBMIT, {"i": {"itemCode": "AMR-001", "form": form, "materials": []}}, wang)[
        "submitApplication"
    ]
    assert no_key == {
        "application": None,
        "userErrors": [{"code": "MATERIAL_MISSING", "field": "materials"}],
    }
    short = {"itemCode": "AMR-001", "form": form, "materials": [document(c) for c in keys]}
    application = api.run(SUBMIT, {"i": short}, wang)["submitApplication"]["application"]

    live.applications = with_credit(live)  # a credit that trusts nobody
    refused_step = api.run(STEP % "acceptApplication", {"id": application["id"]}, officer)
    assert refused_step["acceptApplication"]["userErrors"] == [{"code": "SHORTFALL_NOT_ALLOWED"}]
    live.applications = with_credit(live, live.ids.citizen(CITIZENS[0].id_number))
    accepted = api.run(STEP % "acceptApplication", {"id": application["id"]}, officer)
    owed = accepted["acceptApplication"]["application"]
    assert (owed["status"], owed["missing"]) == ("ACCEPTED", "officer_appointments")
    assert owed["missingDue"] is not None
    approve = api.run(STEP % "approveApplication", {"id": application["id"]}, officer)
    assert approve["approveApplication"]["userErrors"] == [{"code": "MATERIAL_MISSING"}]

    supplied = api.run(
        SUPPLY,
        {
            "i": {
                "applicationId": application["id"],
                "materials": [document("officer_appointments")],
            }
        },
        wang,
    )["resubmitApplication"]
    assert supplied["userErrors"] == []
    assert supplied["application"] == {"status": "ACCEPTED", "missing": None, "missingDue": None}
    approved_now = api.run(STEP % "approveApplication", {"id": application["id"]}, officer)
    assert approved_now["approveApplication"]["application"]["status"] == "APPROVED"
