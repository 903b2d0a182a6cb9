"""The service catalogue: the shipped one, every kind of malformed file, and credit codes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mycity.data import department_codes, load_catalogue
from mycity.domain.catalogue import (
    ISSUANCE_FIELDS,
    Applicants,
    Catalogue,
    CatalogueError,
    Holder,
    parse_catalogue,
)
from mycity.domain.errors import ErrorCode
from mycity.domain.identifiers import (
    CREDIT_CODE_ALPHABET,
    assign_credit_code,
    validate_credit_code,
)
from tests.domain_helpers import refused
from tests.test_identifiers import ref_credit_code

# -- the shipped catalogue -------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return load_catalogue()


def issuing(catalogue: Catalogue, type_code: str) -> list[str]:
    return [
        c
        for c, item in catalogue.items.items()
        if item.licence and item.licence.type_code == type_code
    ]


def test_the_shipped_catalogue_is_broad(shipped: Catalogue) -> None:
    departments = {item.department for item in shipped.items.values()}
    assert len(shipped.items) >= 10
    assert len(departments) >= 5
    assert departments == set(shipped.departments)
    assert department_codes() == tuple(sorted(departments))  # one signing ring each
    for department in shipped.departments.values():
        assert validate_credit_code(department.issuer_code).startswith("11")
    assert sum(item.fee_fen == 0 for item in shipped.items.values()) > len(shipped.items) // 2


def test_business_establishment_registers_the_enterprise_its_licence_goes_to(
    shipped: Catalogue,
) -> None:
    item = shipped.item("AMR-001")
    assert item.applicants is Applicants.CITIZEN
    assert item.registers_enterprise
    assert item.licence_holder is Holder.ENTERPRISE
    assert item.licence is not None
    assert item.licence.type_code == "BUSINESS_LICENCE"
    assert item.licence.name == "营业执照"
    for field in ("enterprise_name", "credit_code", "legal_representative", "established_on"):
        assert field in item.licence.fields
    assert {"enterprise_name", "registered_capital", "business_scope", "address"} <= set(item.form)


def test_driving_licence_renewal_needs_the_held_licence_and_an_uploaded_medical(
    shipped: Catalogue,
) -> None:
    item = shipped.item("PSB-001")
    assert item.licence is not None
    assert item.licence.type_code == "DRIVING_LICENCE"
    by_code = {m.code: m for m in item.materials}
    assert by_code["driving_licence"].satisfied_by_licence == "DRIVING_LICENCE"
    assert by_code["medical_certificate"].satisfied_by_licence is None
    assert by_code["medical_certificate"].key
    assert item.fee_fen == 1000


def test_marriage_is_joint_and_each_spouse_holds_a_certificate(shipped: Catalogue) -> None:
    item = shipped.item("CAB-001")
    assert item.applicants is Applicants.JOINT_CITIZENS
    assert item.licence is not None
    assert item.licence.type_code == "MARRIAGE_CERTIFICATE"
    assert item.licence.held_by is Holder.CITIZEN
    assert {"spouse_name", "spouse_id_number"} <= set(item.licence.fields)


def test_the_food_business_licence_needs_a_valid_business_licence(shipped: Catalogue) -> None:
    item = shipped.item("AMR-002")
    assert item.applicants is Applicants.ENTERPRISE
    assert item.licence is not None
    assert item.licence.name == "食品经营许可证"
    prerequisite = [m for m in item.materials if m.satisfied_by_licence == "BUSINESS_LICENCE"]
    assert len(prerequisite) == 1
    assert prerequisite[0].key


@pytest.mark.parametrize(
    ("type_code", "name"),
    [
        ("RESIDENCE_PERMIT", "居住证"),
        ("SOCIAL_SECURITY_CARD", "社会保障卡"),
        ("BIRTH_CERTIFICATE", "出生医学证明"),
    ],
)
def test_the_other_named_licences_are_issued(shipped: Catalogue, type_code: str, name: str) -> None:
    assert shipped.licence(type_code).name == name
    assert issuing(shipped, type_code)


def test_birth_is_one_submission_across_departments(shipped: Catalogue) -> None:
    bundle = shipped.item("GSA-001")
    members = shipped.members(bundle)
    assert [m.code for m in members] == list(bundle.bundle)
    assert {m.department for m in members} >= {"HEALTH", "PSB", "MEDINS", "HRSS"}
    assert not bundle.materials
    assert bundle.licence is None
    assert bundle.time_limit_days >= max(m.time_limit_days for m in members)
    assert shipped.members(shipped.item("PSB-001")) == ()


def test_every_bundle_member_and_licence_reference_exists(shipped: Catalogue) -> None:
    issued = {item.licence.type_code for item in shipped.items.values() if item.licence}
    for item in shipped.items.values():
        assert all(code in shipped.items for code in item.bundle)
        assert {m.satisfied_by_licence for m in item.materials} - {None} <= issued
        if item.licence:
            assert set(item.licence.fields) <= set(item.form) | ISSUANCE_FIELDS


def test_items_are_found_by_department(shipped: Catalogue) -> None:
    assert {item.code for item in shipped.of_department("AMR")} >= {"AMR-001", "AMR-002"}
    assert shipped.of_department("NOPE") == ()


def test_an_unknown_item_or_licence_type_is_a_typed_refusal(shipped: Catalogue) -> None:
    with refused(ErrorCode.UNKNOWN_SERVICE_ITEM, "itemCode"):
        shipped.item("AMR-999")
    with refused(ErrorCode.UNKNOWN_LICENCE_TYPE):
        shipped.licence("PASSPORT")


# -- malformed files -------------------------------------------------------------------------


def issuer(serial: int) -> str:
    return assign_credit_code(authority="1", kind="1", division="430700", serial=serial)


def material(code: str, key: bool = True, by: str | None = None) -> dict[str, Any]:
    return {"code": code, "name": code, "key": key, "satisfied_by_licence": by}


def good() -> dict[str, Any]:
    """A small valid catalogue: a registration, a licence needing it, and a bundle."""
    return {
        "amr.json": {
            "department": {"code": "AMR", "name": "市场监督管理局", "issuer_code": issuer(1)},
            "licences": [
                {
                    "type_code": "BUSINESS_LICENCE",
                    "number": "001",
                    "name": "营业执照",
                    "validity_years": None,
                    "held_by": "ENTERPRISE",
                    "fields": ["enterprise_name", "credit_code", "business_scope"],
                },
                {
                    "type_code": "FOOD_BUSINESS_LICENCE",
                    "number": "002",
                    "name": "食品经营许可证",
                    "validity_years": 5,
                    "held_by": "ENTERPRISE",
                    "fields": ["enterprise_name", "business_items"],
                },
            ],
            "items": [
                {
                    "code": "AMR-001",
                    "name": "企业设立登记",
                    "applicants": "CITIZEN",
                    "registers_enterprise": True,
                    "materials": [material("articles"), material("premises"), material("staff")],
                    "fee_fen": 0,
                    "time_limit_days": 3,
                    "licence": "BUSINESS_LICENCE",
                    "form": ["enterprise_name", "business_scope"],
                },
                {
                    "code": "AMR-002",
                    "name": "食品经营许可证核发",
                    "applicants": "ENTERPRISE",
                    "materials": [material("business_licence", by="BUSINESS_LICENCE")],
                    "fee_fen": 0,
                    "time_limit_days": 10,
                    "licence": "FOOD_BUSINESS_LICENCE",
                    "form": ["business_items"],
                },
            ],
        },
        "psb.json": {
            "department": {"code": "PSB", "name": "公安局", "issuer_code": issuer(2)},
            "items": [
                {
                    "code": "PSB-001",
                    "name": "户口登记",
                    "applicants": "CITIZEN",
                    "fee_fen": 0,
                    "time_limit_days": 3,
                },
                {
                    "code": "PSB-002",
                    "name": "居住登记",
                    "applicants": "CITIZEN",
                    "fee_fen": 1000,
                    "time_limit_days": 5,
                },
                {
                    "code": "PSB-003",
                    "name": "一件事",
                    "applicants": "CITIZEN",
                    "fee_fen": 0,
                    "time_limit_days": 5,
                    "bundle": ["PSB-001", "PSB-002"],
                },
            ],
        },
    }


Edit = Callable[[dict[str, Any]], object]


def amr_item(n: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda docs: docs["amr.json"]["items"][n]


def psb_item(n: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda docs: docs["psb.json"]["items"][n]


def amr_licence(n: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda docs: docs["amr.json"]["licences"][n]


REG, FOOD, BUNDLE = amr_item(0), amr_item(1), psb_item(2)

MALFORMED: list[tuple[str, Edit, str]] = [
    (
        "material key not a boolean",
        lambda d: REG(d)["materials"][2].update(key="yes"),
        "amr.json: item AMR-001: materials[2].key: expected true or false",
    ),
    (
        "unknown item key",
        lambda d: REG(d).update(colour="red"),
        "amr.json: item AMR-001: colour: unknown key",
    ),
    (
        "missing item key",
        lambda d: REG(d).pop("fee_fen"),
        "amr.json: item AMR-001: fee_fen: missing",
    ),
    (
        "unknown material key",
        lambda d: REG(d)["materials"][0].update(pages=3),
        "amr.json: item AMR-001: materials[0].pages: unknown key",
    ),
    (
        "material listed twice",
        lambda d: REG(d)["materials"][1].update(code="articles"),
        "amr.json: item AMR-001: materials[1].code: articles is listed twice",
    ),
    (
        "fee a string",
        lambda d: REG(d).update(fee_fen="0"),
        "amr.json: item AMR-001: fee_fen: expected a whole number",
    ),
    (
        "fee a boolean",
        lambda d: REG(d).update(fee_fen=True),
        "amr.json: item AMR-001: fee_fen: expected a whole number",
    ),
    (
        "fee negative",
        lambda d: REG(d).update(fee_fen=-1),
        "amr.json: item AMR-001: fee_fen: expected 0 to 1000000, not -1",
    ),
    (
        "fee absurd",
        lambda d: REG(d).update(fee_fen=10**9),
        "amr.json: item AMR-001: fee_fen: expected 0 to 1000000, not 1000000000",
    ),
    (
        "time limit zero",
        lambda d: REG(d).update(time_limit_days=0),
        "amr.json: item AMR-001: time_limit_days: expected 1 to 60, not 0",
    ),
    (
        "time limit too long",
        lambda d: REG(d).update(time_limit_days=365),
        "amr.json: item AMR-001: time_limit_days: expected 1 to 60, not 365",
    ),
    (
        "unknown applicants",
        lambda d: REG(d).update(applicants="ALIEN"),
        "amr.json: item AMR-001: applicants: expected CITIZEN, ENTERPRISE or JOINT_CITIZENS",
    ),
    (
        "empty name",
        lambda d: REG(d).update(name=""),
        "amr.json: item AMR-001: name: expected a name of 1 to 60 printable characters",
    ),
    (
        "form field not snake_case",
        lambda d: REG(d)["form"].append("Business Scope"),
        "amr.json: item AMR-001: form[2]: expected a snake_case name",
    ),
    (
        "form field twice",
        lambda d: REG(d)["form"].append("business_scope"),
        "amr.json: item AMR-001: form[2]: business_scope is listed twice",
    ),
    (
        "licence field fed by nothing",
        lambda d: REG(d)["form"].remove("business_scope"),
        "amr.json: item AMR-001: form: nothing feeds the licence's field business_scope",
    ),
    (
        "item issues an undefined licence",
        lambda d: REG(d).update(licence="PASSPORT"),
        "amr.json: item AMR-001: licence: PASSPORT is not among this department's licences",
    ),
    (
        "item issues another department's licence",
        lambda d: psb_item(0)(d).update(licence="BUSINESS_LICENCE"),
        "psb.json: item PSB-001: licence: BUSINESS_LICENCE is not among this department's licences",
    ),
    (
        "a citizen's item issues an enterprise's licence",
        lambda d: REG(d).update(registers_enterprise=False),
        "amr.json: item AMR-001: licence: "
        "BUSINESS_LICENCE is held by ENTERPRISE; it goes to CITIZEN",
    ),
    (
        "an enterprise registered by an enterprise",
        lambda d: REG(d).update(applicants="ENTERPRISE"),
        "amr.json: item AMR-001: registers_enterprise: "
        "the applicant is the future legal representative",
    ),
    (
        "registration without a licence",
        lambda d: REG(d).update(licence=None),
        "amr.json: item AMR-001: licence: "
        "registering an enterprise issues a licence with its credit_code",
    ),
    (
        "registration without the enterprise's name",
        lambda d: REG(d)["form"].remove("enterprise_name"),
        "amr.json: item AMR-001: form: registering an enterprise asks for its enterprise_name",
    ),
    (
        "item code of another department",
        lambda d: psb_item(0)(d).update(code="AMR-009"),
        "psb.json: item AMR-009: code: expected PSB-NNN, an item of PSB",
    ),
    (
        "item code malformed",
        lambda d: psb_item(1)(d).update(code="psb-2"),
        "psb.json: items[1]: code: expected an item code (AMR-001)",
    ),
    (
        "item code twice",
        lambda d: psb_item(1)(d).update(code="PSB-001"),
        "psb.json: item PSB-001: code: also in psb.json",
    ),
    (
        "department in the wrong file",
        lambda d: d["psb.json"]["department"].update(code="CAB"),
        "psb.json: department.code: CAB belongs in cab.json",
    ),
    (
        "department code malformed",
        lambda d: d["psb.json"]["department"].update(code="psb"),
        "psb.json: department.code: expected 2 to 8 capital letters",
    ),
    (
        "issuer code check character wrong",
        lambda d: d["psb.json"]["department"].update(issuer_code=issuer(2)[:17] + "0"),
        "psb.json: department.issuer_code: The check character does not match",
    ),
    (
        "issuer not a government body",
        lambda d: d["psb.json"]["department"].update(
            issuer_code=assign_credit_code(division="430700", serial=2)
        ),
        "psb.json: department.issuer_code: expected a government body's code, 11...",
    ),
    (
        "document not an object",
        lambda d: d.update({"psb.json": []}),
        "psb.json: document: expected an object",
    ),
    (
        "unknown document key",
        lambda d: d["psb.json"].update(version=2),
        "psb.json: version: unknown key",
    ),
    (
        "licence validity zero",
        lambda d: amr_licence(1)(d).update(validity_years=0),
        "amr.json: licence FOOD_BUSINESS_LICENCE: validity_years: expected 1 to 30, not 0",
    ),
    (
        "two licences of a department with one number",
        lambda d: amr_licence(1)(d).update(number="001"),
        "amr.json: licence FOOD_BUSINESS_LICENCE: number: 001 is another licence's",
    ),
    (
        "a licence number that is not 3 digits",
        lambda d: amr_licence(1)(d).update(number="2"),
        "amr.json: licence FOOD_BUSINESS_LICENCE: number: expected 3 digits (001)",
    ),
    (
        "licence held by nobody known",
        lambda d: amr_licence(1)(d).update(held_by="STATE"),
        "amr.json: licence FOOD_BUSINESS_LICENCE: held_by: expected CITIZEN or ENTERPRISE",
    ),
    (
        "licence without fields",
        lambda d: amr_licence(1)(d).update(fields=[]),
        "amr.json: licence FOOD_BUSINESS_LICENCE: fields: a licence carries at least one field",
    ),
    (
        "licence type code malformed",
        lambda d: amr_licence(1)(d).update(type_code="food"),
        "amr.json: licences[1]: type_code: expected a licence type code",
    ),
    (
        "licence defined twice",
        lambda d: d["psb.json"].update(licences=[copy.deepcopy(amr_licence(1)(d))]),
        "psb.json: licence FOOD_BUSINESS_LICENCE: type_code: also defined in amr.json",
    ),
    (
        "licence no item issues",
        lambda d: FOOD(d).update(licence=None),
        "amr.json: licence FOOD_BUSINESS_LICENCE: no item issues it",
    ),
    (
        "material satisfied by a licence no item issues",
        lambda d: FOOD(d)["materials"][0].update(satisfied_by_licence="PASSPORT"),
        "amr.json: item AMR-002: materials[0].satisfied_by_licence: no item issues PASSPORT",
    ),
    (
        "citizen presenting an enterprise's licence",
        lambda d: psb_item(0)(d).update(materials=[material("licence", by="BUSINESS_LICENCE")]),
        "psb.json: item PSB-001: materials[0].satisfied_by_licence: "
        "BUSINESS_LICENCE is held by ENTERPRISE; the applicant is CITIZEN",
    ),
    (
        "bundle member missing",
        lambda d: BUNDLE(d)["bundle"].append("PSB-009"),
        "psb.json: item PSB-003: bundle[2]: no item PSB-009",
    ),
    (
        "bundle of one",
        lambda d: BUNDLE(d)["bundle"].pop(),
        "psb.json: item PSB-003: bundle: a bundle opens at least two items",
    ),
    (
        "bundle member listed twice",
        lambda d: BUNDLE(d)["bundle"].append("PSB-001"),
        "psb.json: item PSB-003: bundle[2]: PSB-001 is listed twice",
    ),
    (
        "bundle of itself",
        lambda d: BUNDLE(d)["bundle"].append("PSB-003"),
        "psb.json: item PSB-003: bundle[2]: PSB-003 is itself a bundle",
    ),
    (
        "bundle member with other applicants",
        lambda d: BUNDLE(d)["bundle"].append("AMR-002"),
        "psb.json: item PSB-003: bundle[2]: AMR-002 has other applicants",
    ),
    (
        "bundle promising less than a member",
        lambda d: BUNDLE(d).update(time_limit_days=4),
        "psb.json: item PSB-003: time_limit_days: PSB-002 alone takes longer",
    ),
    (
        "bundle with materials of its own",
        lambda d: BUNDLE(d).update(materials=[material("photo")]),
        "psb.json: item PSB-003: materials: a bundle has none: its members do",
    ),
    (
        "bundle with a fee",
        lambda d: BUNDLE(d).update(fee_fen=100),
        "psb.json: item PSB-003: fee_fen: a bundle has none: its members do",
    ),
]


def test_the_small_catalogue_is_valid() -> None:
    catalogue = parse_catalogue(good())
    assert set(catalogue.items) == {"AMR-001", "AMR-002", "PSB-001", "PSB-002", "PSB-003"}
    assert catalogue.item("AMR-002").materials[0].satisfied_by_licence == "BUSINESS_LICENCE"


@pytest.mark.parametrize(
    ("edit", "message"),
    [(edit, message) for _, edit, message in MALFORMED],
    ids=[i for i, _, _ in MALFORMED],
)
def test_a_malformed_catalogue_is_refused_naming_file_item_and_field(
    edit: Edit, message: str
) -> None:
    documents = good()
    edit(documents)
    with pytest.raises(CatalogueError) as refused_with:
        parse_catalogue(documents)
    assert str(refused_with.value) == message


def test_an_empty_catalogue_is_refused() -> None:
    with pytest.raises(CatalogueError, match="no department files"):
        parse_catalogue({})


# -- credit-code assignment ------------------------------------------------------------------

DIVISIONS = st.from_regex(r"\A[1-8][0-9]{5}\Z")
SERIALS = st.integers(min_value=0, max_value=31**8 - 1)


@settings(max_examples=200)
@given(
    authority=st.sampled_from("159Y"),
    kind=st.sampled_from("123"),
    division=DIVISIONS,
    serial=SERIALS,
)
def test_an_assigned_credit_code_is_valid(
    authority: str, kind: str, division: str, serial: int
) -> None:
    code = assign_credit_code(authority=authority, kind=kind, division=division, serial=serial)
    assert validate_credit_code(code) == code
    assert code[:8] == authority + kind + division
    assert ref_credit_code(code[:8], code[8:16]) == code  # check characters, computed apart


@settings(max_examples=200)
@given(division=DIVISIONS, serials=st.lists(SERIALS, min_size=2, max_size=2, unique=True))
def test_distinct_serials_give_distinct_codes(division: str, serials: list[int]) -> None:
    first, second = (assign_credit_code(division=division, serial=s) for s in serials)
    assert first != second


def test_the_serial_is_written_in_the_credit_alphabet() -> None:
    assert assign_credit_code(division="430702", serial=0)[8:16] == "00000000"
    assert assign_credit_code(division="430702", serial=31**8 - 1)[8:16] == "YYYYYYYY"
    assert assign_credit_code(division="430702", serial=31)[8:16] == "00000010"
    assert set(assign_credit_code(division="430702", serial=31**7 * 18)) <= set(
        CREDIT_CODE_ALPHABET
    )


@pytest.mark.parametrize(
    "arguments",
    [
        {"division": "430702", "serial": -1},
        {"division": "430702", "serial": 31**8},
        {"division": "43070", "serial": 1},
        {"division": "030702", "serial": 1},
        {"division": "43070A", "serial": 1},
        {"division": "430702", "serial": 1, "authority": "I"},
        {"division": "430702", "serial": 1, "kind": "12"},
    ],
)
def test_assignment_refuses_what_would_not_be_a_code(arguments: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"^(authority|kind|division|serial) is"):
        assign_credit_code(**arguments)
