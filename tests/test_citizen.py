"""The citizen's file and the phone claim: given events, when a command, then events."""

from __future__ import annotations

from uuid import uuid4

import pytest

from mycity.domain.citizen import Citizen, RealNameLevel
from mycity.domain.errors import ErrorCode
from mycity.domain.phone import PhoneClaim
from tests.domain_helpers import fact, given, refused, then

ID_NUMBER = "11010519491231002X"
NAME = "Li Lei"
PHONE = "13800138000"

REGISTERED = fact(Citizen.Registered, id_number=ID_NUMBER, name=NAME, phone=PHONE)


def verified(level: RealNameLevel, check_reference: str = "", officer_id: str = ""):
    return fact(
        Citizen.RealNameVerified,
        level=level.value,
        check_reference=check_reference,
        officer_id=officer_id,
    )


VERIFIED = verified(RealNameLevel.VERIFIED, check_reference="check-1")
VERIFIED_IN_PERSON = verified(RealNameLevel.VERIFIED_IN_PERSON, officer_id="officer-1")


# -- the helpers themselves ---------------------------------------------------------------------


def test_given_rebuilds_the_same_state_as_the_command() -> None:
    registered = Citizen.register(id=uuid4(), id_number=ID_NUMBER, name=NAME, phone=PHONE)
    rebuilt = given(Citizen, REGISTERED, id=registered.id)
    for attribute in ("id", "id_number", "name", "phone", "address", "real_name_level"):
        assert getattr(rebuilt, attribute) == getattr(registered, attribute)
    assert rebuilt.version == registered.version == 1
    assert then(rebuilt) == []


# -- registration -----------------------------------------------------------------------------


def test_registration_records_the_person() -> None:
    citizen_id = uuid4()
    citizen = Citizen.register(id=citizen_id, id_number=ID_NUMBER, name=NAME, phone=PHONE)
    assert citizen.id == citizen_id
    assert then(citizen) == [
        ("Registered", {"id_number": ID_NUMBER, "name": NAME, "phone": PHONE}),
    ]
    assert citizen.level is RealNameLevel.REGISTERED
    assert citizen.address == ""


def test_registration_records_the_canonical_forms() -> None:
    citizen = Citizen.register(
        id=uuid4(), id_number=" 11010519491231002x ", name="  Li   Lei ", phone="+86 138-0013-8000"
    )
    assert then(citizen) == [
        ("Registered", {"id_number": ID_NUMBER, "name": NAME, "phone": PHONE}),
    ]


@pytest.mark.parametrize(
    ("id_number", "name", "phone", "code", "field"),
    [
        ("1101051949123100", NAME, PHONE, ErrorCode.INVALID_ID_NUMBER, "idNumber"),
        ("110105194912310021", NAME, PHONE, ErrorCode.CHECK_CHARACTER_MISMATCH, "idNumber"),
        ("11010519491331002X", NAME, PHONE, ErrorCode.INVALID_BIRTH_DATE, "idNumber"),
        (ID_NUMBER, "", PHONE, ErrorCode.INVALID_NAME, "name"),
        (ID_NUMBER, "   ", PHONE, ErrorCode.INVALID_NAME, "name"),
        (ID_NUMBER, "x" * 61, PHONE, ErrorCode.INVALID_NAME, "name"),
        (ID_NUMBER, "Li\x00Lei", PHONE, ErrorCode.INVALID_NAME, "name"),
        (ID_NUMBER, NAME, "12345", ErrorCode.INVALID_PHONE, "phone"),
        (ID_NUMBER, NAME, "", ErrorCode.INVALID_PHONE, "phone"),
    ],
)
def test_registration_names_the_field_in_error(
    id_number: str, name: str, phone: str, code: ErrorCode, field: str
) -> None:
    with refused(code, field):
        Citizen.register(id=uuid4(), id_number=id_number, name=name, phone=phone)


def test_a_name_of_60_characters_is_accepted() -> None:
    citizen = Citizen.register(id=uuid4(), id_number=ID_NUMBER, name="x" * 60, phone=PHONE)
    assert then(citizen, "name") == [("Registered", {"name": "x" * 60})]


# -- real-name verification ---------------------------------------------------------------------


def test_a_matched_check_verifies_the_real_name() -> None:
    citizen = given(Citizen, REGISTERED)
    citizen.verify_real_name(matched=True, check_reference="check-42")
    assert then(citizen) == [
        (
            "RealNameVerified",
            {"level": "VERIFIED", "check_reference": "check-42", "officer_id": ""},
        )
    ]
    assert citizen.level is RealNameLevel.VERIFIED


@pytest.mark.parametrize(
    ("matched", "code"),
    [(False, ErrorCode.REAL_NAME_MISMATCH), (None, ErrorCode.REAL_NAME_UNAVAILABLE)],
)
def test_an_unmatched_check_records_nothing(matched: bool | None, code: ErrorCode) -> None:
    citizen = given(Citizen, REGISTERED)
    with refused(code):
        citizen.verify_real_name(matched=matched, check_reference="check-42")
    assert then(citizen) == []
    assert citizen.level is RealNameLevel.REGISTERED


@pytest.mark.parametrize("matched", [True, False, None])
@pytest.mark.parametrize(
    "history", [[VERIFIED], [VERIFIED_IN_PERSON], [VERIFIED, VERIFIED_IN_PERSON]]
)
def test_a_verified_file_is_not_checked_again(matched: bool | None, history: list) -> None:
    citizen = given(Citizen, REGISTERED, *history)
    level_before = citizen.level
    with refused(ErrorCode.ALREADY_VERIFIED):
        citizen.verify_real_name(matched=matched, check_reference="check-43")
    assert then(citizen) == []
    assert citizen.level is level_before


@pytest.mark.parametrize("history", [[], [VERIFIED]], ids=["from REGISTERED", "from VERIFIED"])
def test_an_officer_verifies_in_person(history: list) -> None:
    citizen = given(Citizen, REGISTERED, *history)
    citizen.verify_in_person(officer_id="officer-7")
    assert then(citizen) == [
        (
            "RealNameVerified",
            {"level": "VERIFIED_IN_PERSON", "check_reference": "", "officer_id": "officer-7"},
        )
    ]
    assert citizen.level is RealNameLevel.VERIFIED_IN_PERSON


def test_verifying_in_person_twice_is_refused() -> None:
    citizen = given(Citizen, REGISTERED, VERIFIED_IN_PERSON)
    with refused(ErrorCode.ALREADY_VERIFIED):
        citizen.verify_in_person(officer_id="officer-8")
    assert then(citizen) == []


def test_levels_are_ordered_weakest_first() -> None:
    ranks = [level.rank for level in RealNameLevel]
    assert ranks == [0, 1, 2]
    assert RealNameLevel.REGISTERED.rank < RealNameLevel.VERIFIED_IN_PERSON.rank


# -- contact --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "address"),
    [
        (None, None),
        (PHONE, None),
        ("+86 138 0013 8000", None),  # the same number, written differently
        (None, "1 Main Street"),
        (PHONE, " 1  Main   Street "),  # the same address, spaced differently
    ],
)
def test_no_event_when_nothing_changes(phone: str | None, address: str | None) -> None:
    citizen = given(
        Citizen, REGISTERED, fact(Citizen.ContactChanged, phone=PHONE, address="1 Main Street")
    )
    citizen.change_contact(phone=phone, address=address)
    assert then(citizen) == []


def test_a_new_phone_keeps_the_address() -> None:
    citizen = given(
        Citizen, REGISTERED, fact(Citizen.ContactChanged, phone=PHONE, address="1 Main Street")
    )
    citizen.change_contact(phone="+86 139 0000 0000", address=None)
    assert then(citizen) == [
        ("ContactChanged", {"phone": "13900000000", "address": "1 Main Street"}),
    ]
    assert citizen.phone == "13900000000"


def test_a_new_address_keeps_the_phone() -> None:
    citizen = given(Citizen, REGISTERED)
    citizen.change_contact(phone=None, address="  2  Side   Road ")
    assert then(citizen) == [("ContactChanged", {"phone": PHONE, "address": "2 Side Road"})]
    assert citizen.address == "2 Side Road"


@pytest.mark.parametrize(
    ("phone", "address", "code", "field"),
    [
        ("12345", None, ErrorCode.INVALID_PHONE, "phone"),
        ("", "1 Main Street", ErrorCode.INVALID_PHONE, "phone"),
        (None, "x" * 201, ErrorCode.INVALID_ADDRESS, "address"),
    ],
)
def test_contact_changes_are_validated(
    phone: str | None, address: str | None, code: ErrorCode, field: str
) -> None:
    citizen = given(Citizen, REGISTERED)
    with refused(code, field):
        citizen.change_contact(phone=phone, address=address)
    assert then(citizen) == []
    assert (citizen.phone, citizen.address) == (PHONE, "")


# -- the phone claim ------------------------------------------------------------------------------


def test_a_new_number_is_claimed() -> None:
    citizen_id = uuid4()
    claim = PhoneClaim(id=uuid4(), citizen_id=citizen_id)
    assert then(claim) == [("Claimed", {"citizen_id": citizen_id})]
    assert claim.citizen_id == citizen_id


def test_claiming_ones_own_number_again_records_nothing() -> None:
    owner = uuid4()
    claim = given(PhoneClaim, fact(PhoneClaim.Claimed, citizen_id=owner))
    claim.claim(owner)
    assert then(claim) == []
    assert claim.citizen_id == owner


def test_another_persons_number_is_in_use() -> None:
    owner = uuid4()
    claim = given(PhoneClaim, fact(PhoneClaim.Claimed, citizen_id=owner))
    with refused(ErrorCode.PHONE_IN_USE, "phone"):
        claim.claim(uuid4())
    assert then(claim) == []
    assert claim.citizen_id == owner


def test_a_released_number_is_free() -> None:
    claim = given(PhoneClaim, fact(PhoneClaim.Claimed, citizen_id=uuid4()))
    claim.release()
    assert then(claim) == [("Released", {})]
    assert claim.citizen_id is None


def test_releasing_a_free_number_records_nothing() -> None:
    claim = given(
        PhoneClaim, fact(PhoneClaim.Claimed, citizen_id=uuid4()), fact(PhoneClaim.Released)
    )
    claim.release()
    assert then(claim) == []


@pytest.mark.parametrize("same_person", [True, False])
def test_a_released_number_may_be_reclaimed(same_person: bool) -> None:
    first = uuid4()
    second = first if same_person else uuid4()
    claim = given(PhoneClaim, fact(PhoneClaim.Claimed, citizen_id=first), fact(PhoneClaim.Released))
    claim.claim(second)
    assert then(claim) == [("Reclaimed", {"citizen_id": second})]
    assert claim.citizen_id == second


def test_a_reclaimed_number_is_in_use_for_its_former_holder() -> None:
    first, second = uuid4(), uuid4()
    claim = given(
        PhoneClaim,
        fact(PhoneClaim.Claimed, citizen_id=first),
        fact(PhoneClaim.Released),
        fact(PhoneClaim.Reclaimed, citizen_id=second),
    )
    with refused(ErrorCode.PHONE_IN_USE, "phone"):
        claim.claim(first)
    assert claim.citizen_id == second
