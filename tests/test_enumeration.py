"""Nothing answers differently for someone else's registration before the caller has proved
they may know it: no probing of ID numbers, phones or enterprises."""

from __future__ import annotations

from uuid import uuid4

import pytest

from mycity.bootstrap import City
from mycity.domain.errors import ErrorCode, UserError
from mycity.identity.principal import Principal, Role
from tests.domain_helpers import refused
from tests.helpers import CitizenFactory, phone, resident_id

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
