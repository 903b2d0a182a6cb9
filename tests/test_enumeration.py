"""Nothing answers differently for someone else's registration before the caller has proved
they may know it: no probing of ID numbers, phones or enterprises."""

from __future__ import annotations

from uuid import uuid4

import pytest

from mycity.bootstrap import City
from mycity.domain.application_status import Status
from mycity.domain.enterprise import AgentScope, Enterprise
from mycity.domain.errors import ErrorCode, UserError
from mycity.identity.principal import Principal, Role
from tests.domain_helpers import refused
from tests.helpers import CitizenFactory, phone, resident_id
from tests.services import documents, settle

MERCHANT = Principal("merchant-test", Role.MERCHANT, None, "商户")


def test_sign_up_with_a_wrong_code_says_only_that_the_code_is_wrong(
    city: City, people: CitizenFactory
) -> None:
    taken = people.register("甲")
    prober = phone(801)
    city.phone_codes.send(prober)
    probes = [
        (taken.id_number, prober),  # someone's ID number
        (resident_id(802), taken.phone),  # someone's phone (the code was sent elsewhere)
        (resident_id(803), prober),  # nobody's
    ]
    for number, mobile in probes:
        with refused(ErrorCode.CODE_INVALID, "code"):
            city.citizens.sign_up(number, "乙", mobile, "000000")


def test_probes_count_as_code_attempts(city: City, people: CitizenFactory) -> None:
    taken = people.register("丙")
    prober = phone(804)
    city.phone_codes.send(prober)
    for _ in range(city.settings.phone_codes.attempts):
        with refused(ErrorCode.CODE_INVALID):
            city.citizens.sign_up(taken.id_number, "丁", prober, "000000")
    with refused(ErrorCode.TOO_MANY_ATTEMPTS):
        city.citizens.sign_up(taken.id_number, "丁", prober, "000000")


def test_only_a_proven_phone_learns_that_the_person_is_registered(
    city: City, people: CitizenFactory
) -> None:
    taken = people.register("戊")
    mobile = phone(805)
    with refused(ErrorCode.ALREADY_REGISTERED, "idNumber"):
        city.citizens.sign_up(taken.id_number, "戊", mobile, people.code_for(mobile))


def test_authorising_an_agent_checks_the_caller_before_the_agent(
    city: City, people: CitizenFactory
) -> None:
    representative, stranger = people.register("己", verified=True), people.register("庚")
    enterprise = people.enterprise(representative)
    registered, unregistered = people.register("辛").id_number, resident_id(806)
    for enterprise_id in (enterprise, uuid4()):
        answers = set()
        for number in (registered, unregistered):
            for caller in (stranger.principal, MERCHANT):
                with pytest.raises(UserError) as caught:
                    city.enterprises.authorise_agent(caller, enterprise_id, number, ["PROFILE"])
                answers.add((caller.role, caught.value.code, caught.value.field))
        # the same answer whether the agent's number is registered or not
        assert answers == {
            (Role.CITIZEN, ErrorCode.FORBIDDEN, None),
            (Role.MERCHANT, ErrorCode.FORBIDDEN, None),
        }, answers


def test_an_enterprise_one_may_not_read_is_refused_whether_or_not_it_exists(
    city: City, people: CitizenFactory
) -> None:
    representative, stranger = people.register("壬", verified=True), people.register("癸")
    enterprise = people.enterprise(representative)
    city.read_models.catch_up()
    for enterprise_id in (enterprise, uuid4()):
        with refused(ErrorCode.FORBIDDEN):
            city.reads.enterprises.profile(stranger.principal, enterprise_id)


def test_inviting_an_agent_answers_alike_whoever_the_number_is(
    city: City, people: CitizenFactory
) -> None:
    representative = people.register("子", verified=True)
    enterprise = people.enterprise(representative)
    numbers = {
        "verified": people.register("丑", verified=True).id_number,
        "unverified": people.register("寅").id_number,
        "nobody's": resident_id(807),
    }
    for scopes, said in (
        (["EVERYTHING"], ErrorCode.INVALID_SCOPES),
        ([], ErrorCode.INVALID_SCOPES),
    ):
        answers = set()
        for number in numbers.values():
            with pytest.raises(UserError) as caught:
                city.enterprises.authorise_agent(
                    representative.principal, enterprise, number, scopes
                )
            answers.add((caught.value.code, caught.value.field, caught.value.message))
        assert len(answers) == 1 and next(iter(answers))[0] is said, answers
    for number in numbers.values():  # each is invited, and nothing else happens yet
        city.enterprises.authorise_agent(representative.principal, enterprise, number, ["PROFILE"])
    file = city.files.read(Enterprise, enterprise)
    assert file.agents == {} and len(file.invitations) == 3


def test_someone_invited_before_signing_up_finds_the_invitation(
    city: City, people: CitizenFactory
) -> None:
    representative = people.register("卯", verified=True)
    enterprise = people.enterprise(representative)
    number = resident_id(808)
    city.enterprises.authorise_agent(representative.principal, enterprise, number, ["LICENCES"])
    late = people.register("辰", id_number=number, verified=True)
    settle(city)
    [(invitation, view)] = city.reads.enterprises.invitations_to_me(late.principal)
    assert (view.id, invitation.scopes) == (enterprise, (AgentScope.LICENCES,))
    assert city.reads.enterprises.invitations_to_me(representative.principal) == []
    city.enterprises.accept_invitation(late.principal, enterprise)
    settle(city)
    assert city.reads.enterprises.invitations_to_me(late.principal) == []
    assert city.files.read(Enterprise, enterprise).agents == {late.id: ["LICENCES"]}


def test_answering_an_invitation_that_is_not_there_is_refused_alike(
    city: City, people: CitizenFactory
) -> None:
    person, representative = (
        people.register("巳", verified=True),
        people.register("午", verified=True),
    )
    enterprise = people.enterprise(representative)
    for enterprise_id in (enterprise, uuid4()):  # not invited, or no such enterprise
        for answer in (city.enterprises.accept_invitation, city.enterprises.decline_invitation):
            with refused(ErrorCode.NOT_INVITED, None):
                answer(person.principal, enterprise_id)


def test_naming_a_co_applicant_answers_alike_whoever_the_number_is(
    city: City, people: CitizenFactory
) -> None:
    bride = people.register("未", verified=True)
    form = {f: "一" for f in city.catalogue.item("CAB-001").form}
    given = documents(city, bride, "CAB-001")
    numbers = [
        people.register("申", verified=True).id_number,
        people.register("酉").id_number,
        resident_id(809),
    ]
    short = dict(list(given.items())[1:])  # a material missing
    answers = set()
    for number in numbers:
        with pytest.raises(UserError) as caught:
            city.applications.submit(
                bride.principal, "CAB-001", form, short, co_applicant_id_number=number
            )
        answers.add((caught.value.code, caught.value.field, caught.value.message))
    assert len(answers) == 1 and next(iter(answers))[0] is ErrorCode.MATERIAL_MISSING, answers
    submitted = [
        city.applications.submit(
            bride.principal, "CAB-001", form, given, co_applicant_id_number=number
        ).application
        for number in numbers
    ]
    assert {a.status for a in submitted} == {Status.AWAITING_CONFIRMATION}


def test_a_co_applicant_who_signs_up_later_confirms(city: City, people: CitizenFactory) -> None:
    bride, number = people.register("戌", verified=True), resident_id(810)
    application = city.applications.submit(
        bride.principal,
        "CAB-001",
        {f: "一" for f in city.catalogue.item("CAB-001").form},
        documents(city, bride, "CAB-001"),
        co_applicant_id_number=number,
    ).application
    groom = people.register("亥", id_number=number, verified=True)
    city.applications.confirm(groom.principal, application.id)
    assert city.applications.get(application.id).status is Status.SUBMITTED
