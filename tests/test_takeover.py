"""Squatting: someone registers another person's ID number with their own phone; the person
takes the file back by proving who they are, and the squatter is left with nothing."""

from __future__ import annotations

import time

import pytest

from mycity.bootstrap import City
from mycity.domain.citizen import Citizen, RealNameLevel
from mycity.domain.enterprise import Enterprise
from mycity.domain.errors import ErrorCode, UserError
from mycity.identity.principal import Principal
from tests.domain_helpers import fact, given, refused, then
from tests.helpers import OFFICER, Api, CitizenFactory, citizen_id_by_phone, phone, resident_id

REGISTERED = fact(
    Citizen.Registered, id_number="11010519491231002X", name="冒", phone="13900000001"
)


def proved(level: RealNameLevel) -> tuple[type, dict[str, str]]:
    return fact(Citizen.RealNameVerified, level=level.value, check_reference="", officer_id="")


# -- the file ---------------------------------------------------------------------------------


def test_a_stronger_proof_takes_the_file_over() -> None:
    citizen = given(
        Citizen, REGISTERED, fact(Citizen.ContactChanged, phone="13900000001", address="冒充路")
    )
    citizen.take_over(
        name="真",
        phone="13900000002",
        proof=RealNameLevel.VERIFIED,
        check_reference="c",
        officer_id="",
    )
    assert then(citizen) == [
        (
            "TakenOver",
            {
                "name": "真",
                "phone": "13900000002",
                "level": "VERIFIED",
                "check_reference": "c",
                "officer_id": "",
            },
        )
    ]
    assert (citizen.name, citizen.phone, citizen.address) == ("真", "13900000002", "")
    assert citizen.level is RealNameLevel.VERIFIED


@pytest.mark.parametrize(
    ("history", "proof"),
    [
        ([proved(RealNameLevel.VERIFIED)], RealNameLevel.VERIFIED),
        ([proved(RealNameLevel.VERIFIED_IN_PERSON)], RealNameLevel.VERIFIED_IN_PERSON),
    ],
)
def test_a_proof_no_stronger_than_the_files_is_refused(history: list, proof: RealNameLevel) -> None:
    citizen = given(Citizen, REGISTERED, *history)
    with refused(ErrorCode.ALREADY_VERIFIED):
        citizen.take_over(
            name="真", phone="13900000002", proof=proof, check_reference="", officer_id="o"
        )
    assert then(citizen) == []


def test_only_verified_files_act_for_enterprises() -> None:
    citizen = given(Citizen, REGISTERED)
    with refused(ErrorCode.REAL_NAME_REQUIRED, "agentIdNumber"):
        citizen.require_verified("agentIdNumber")
    given(Citizen, REGISTERED, proved(RealNameLevel.VERIFIED)).require_verified()


# -- the use cases ----------------------------------------------------------------------------


@pytest.fixture
def squatted(city: City, people: CitizenFactory) -> tuple[str, str, str]:
    """Someone else's ID number, registered by a squatter with the squatter's phone; the
    owner's real name and phone are in the population register."""
    number, owner_phone, squatter_phone = resident_id(931), phone(931), phone(932)
    city.citizens.open_file(number, "冒名", squatter_phone)
    city.real_names.add(number, "真名", owner_phone)  # type: ignore[attr-defined]
    return number, owner_phone, squatter_phone


def test_the_owner_takes_the_file_back_and_the_squatter_is_signed_out(
    city: City, people: CitizenFactory, squatted: tuple[str, str, str]
) -> None:
    number, owner_phone, squatter_phone = squatted
    citizen_id = city.ids.citizen(number)
    squatter = city.sessions.log_in_with_phone_code(squatter_phone, people.code_for(squatter_phone))
    time.sleep(1.01)  # the squatter's tokens are from an earlier second than the take-over
    with refused(ErrorCode.ALREADY_REGISTERED):
        city.citizens.sign_up(number, "真名", owner_phone, people.code_for(owner_phone))
    back = city.citizens.reclaim(number, "真名", owner_phone, people.code_for(owner_phone))

    citizen = city.files.read(Citizen, citizen_id)
    assert (citizen.name, citizen.phone, citizen.level) == (
        "真名",
        owner_phone,
        RealNameLevel.VERIFIED,
    )
    assert citizen_id_by_phone(city, owner_phone) == citizen_id
    assert citizen_id_by_phone(city, squatter_phone) is None  # the squatter's phone is free
    with refused(ErrorCode.INVALID_TOKEN):
        city.tokens.verify(squatter.access_token)
    with refused(ErrorCode.INVALID_TOKEN):
        city.sessions.refresh(squatter.refresh_token)
    assert city.tokens.verify(back.tokens.access_token).citizen_id == citizen_id
    with refused(ErrorCode.ALREADY_VERIFIED):  # and the squatter cannot take it back again
        city.citizens.reclaim(number, "真名", squatter_phone, people.code_for(squatter_phone))


def test_the_real_name_check_must_confirm_number_name_and_phone(
    city: City, people: CitizenFactory, squatted: tuple[str, str, str]
) -> None:
    number, owner_phone, squatter_phone = squatted
    for name, mobile in (("真名", squatter_phone), ("冒名", owner_phone), ("真名", phone(933))):
        with refused(ErrorCode.REAL_NAME_MISMATCH):
            city.citizens.reclaim(number, name, mobile, people.code_for(mobile))
    assert city.files.read(Citizen, city.ids.citizen(number)).name == "冒名"


def test_in_person_an_officer_gives_back_even_a_verified_file(
    city: City, people: CitizenFactory, squatted: tuple[str, str, str]
) -> None:
    number, owner_phone, _ = squatted
    citizen_id = city.ids.citizen(number)
    city.real_names.add(number, "冒名")  # type: ignore[attr-defined]
    city.citizens.verify_real_name(
        Principal.of_citizen(citizen_id, "冒名")
    )  # the squatter verified
    with refused(ErrorCode.FORBIDDEN):
        city.citizens.reclaim_in_person(
            Principal.of_citizen(citizen_id, "冒名"), number, "真名", owner_phone, "000000"
        )
    city.citizens.reclaim_in_person(
        OFFICER, number, "真名", owner_phone, people.code_for(owner_phone)
    )
    citizen = city.files.read(Citizen, citizen_id)
    assert (citizen.name, citizen.level) == ("真名", RealNameLevel.VERIFIED_IN_PERSON)


def test_representing_or_acting_for_an_enterprise_needs_a_verified_name(
    city: City, people: CitizenFactory
) -> None:
    unverified, verified = people.register("未"), people.register("已", verified=True)
    with pytest.raises(UserError) as caught:
        city.enterprises.register(unverified.principal, "91350100M000100Y43", "未公司")
    assert caught.value.code is ErrorCode.REAL_NAME_REQUIRED
    enterprise = people.enterprise(verified)
    city.enterprises.authorise_agent(  # the invitation says nothing of who the number is
        verified.principal, enterprise, unverified.id_number, ["PROFILE"]
    )
    with refused(ErrorCode.REAL_NAME_REQUIRED, None):
        city.enterprises.accept_invitation(unverified.principal, enterprise)
    people.verify(unverified)
    city.enterprises.accept_invitation(unverified.principal, enterprise)
    assert city.files.read(Enterprise, enterprise).agents == {unverified.id: ["PROFILE"]}


def test_over_the_api_an_expired_token_asks_for_a_refresh(
    api: Api, city: City, people: CitizenFactory
) -> None:
    person = people.register("过")
    expired = city.tokens.access_token(person.principal, now=time.time() - 3600)
    errors = api.errors("{ me { role } }", token=expired)
    assert errors[0]["extensions"]["code"] == "TOKEN_EXPIRED"
    forged = expired[:-4] + ("AAAA" if not expired.endswith("AAAA") else "BBBB")
    assert api.errors("{ me { role } }", token=forged)[0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_over_the_api_the_owner_reclaims_the_file(
    api: Api, city: City, squatted: tuple[str, str, str]
) -> None:
    number, owner_phone, _ = squatted
    api.run(
        "mutation($p: String!) { requestPhoneCode(input: {phone: $p}) { retryAfterSeconds } }",
        {"p": owner_phone},
    )
    answer = api.run(
        """mutation($i: ReclaimFileInput!) { reclaimFile(input: $i) {
        citizen { name phone realNameLevel } tokens { accessToken } userErrors { code } } }""",
        {
            "i": {
                "idNumber": number,
                "name": "真名",
                "phone": owner_phone,
                "code": api.last_code(owner_phone),
            }
        },
    )["reclaimFile"]
    assert answer["userErrors"] == []
    assert answer["citizen"] == {"name": "真名", "phone": owner_phone, "realNameLevel": "VERIFIED"}
