"""The enterprise's file: given events, when a command, then events."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from eventsourcing.utils import get_topic

from mycity.domain.enterprise import MAX_INVITATIONS, AgentScope, Enterprise, parse_scopes
from mycity.domain.errors import ErrorCode
from tests.domain_helpers import fact, given, refused, then

CREDIT_CODE = "91350100M000100Y43"
NAME = "Fuzhou Harbour Trading Co., Ltd."
REPRESENTATIVE = UUID("00000000-0000-8000-8000-000000000001")
AGENT = UUID("00000000-0000-8000-8000-000000000002")
STRANGER = UUID("00000000-0000-8000-8000-000000000003")

REGISTERED = fact(
    Enterprise.Registered,
    credit_code=CREDIT_CODE,
    name=NAME,
    legal_representative_id=REPRESENTATIVE,
)


def authorised(agent_id: UUID, *scopes: AgentScope):
    return fact(
        Enterprise.AgentAuthorised,
        agent_id=agent_id,
        scopes=sorted(s.value for s in scopes),
        by=REPRESENTATIVE,
    )


AGENT_FOR_PROFILE_AND_PAYMENTS = authorised(AGENT, AgentScope.PROFILE, AgentScope.PAYMENTS)
INVITED = fact(
    Enterprise.AgentInvited, agent_id=AGENT, scopes=["PAYMENTS", "PROFILE"], by=REPRESENTATIVE
)
AGENT_ACCEPTED = fact(Enterprise.AgentAccepted, agent_id=AGENT, scopes=["PAYMENTS", "PROFILE"])


# -- registration -----------------------------------------------------------------------------


def test_the_helpers_rebuild_what_registration_records() -> None:
    registered = Enterprise.register(
        id=uuid4(), credit_code=CREDIT_CODE, name=NAME, legal_representative_id=REPRESENTATIVE
    )
    rebuilt = given(Enterprise, REGISTERED, id=registered.id)
    for attribute in ("id", "credit_code", "name", "legal_representative_id", "phone", "agents"):
        assert getattr(rebuilt, attribute) == getattr(registered, attribute)


def test_registration_records_the_enterprise() -> None:
    enterprise_id = uuid4()
    enterprise = Enterprise.register(
        id=enterprise_id,
        credit_code=" 91350100m000100y43 ",
        name=f"  {NAME}  ",
        legal_representative_id=REPRESENTATIVE,
    )
    assert enterprise.id == enterprise_id
    assert then(enterprise) == [
        (
            "Registered",
            {
                "credit_code": CREDIT_CODE,
                "name": NAME,
                "legal_representative_id": REPRESENTATIVE,
            },
        )
    ]
    assert enterprise.agents == {}
    assert (enterprise.phone, enterprise.address) == ("", "")


def test_an_enterprise_name_may_have_120_characters() -> None:
    enterprise = Enterprise.register(
        id=uuid4(), credit_code=CREDIT_CODE, name="x" * 120, legal_representative_id=REPRESENTATIVE
    )
    assert then(enterprise, "name") == [("Registered", {"name": "x" * 120})]


@pytest.mark.parametrize(
    ("credit_code", "name", "code", "field"),
    [
        ("91350100M000100Y4", NAME, ErrorCode.INVALID_CREDIT_CODE, "creditCode"),
        ("91350100M000100Y4O", NAME, ErrorCode.INVALID_CREDIT_CODE, "creditCode"),
        ("91350100M000100Y44", NAME, ErrorCode.CHECK_CHARACTER_MISMATCH, "creditCode"),
        (CREDIT_CODE, "", ErrorCode.INVALID_NAME, "name"),
        (CREDIT_CODE, "x" * 121, ErrorCode.INVALID_NAME, "name"),
    ],
)
def test_registration_names_the_field_in_error(
    credit_code: str, name: str, code: ErrorCode, field: str
) -> None:
    with refused(code, field):
        Enterprise.register(
            id=uuid4(), credit_code=credit_code, name=name, legal_representative_id=REPRESENTATIVE
        )


# -- agents -----------------------------------------------------------------------------------


def test_the_legal_representative_invites_and_the_person_accepts() -> None:
    enterprise = given(Enterprise, REGISTERED)
    enterprise.authorise_agent(
        agent_id=AGENT, scopes=["PAYMENTS", "PROFILE", "PAYMENTS"], by=REPRESENTATIVE
    )
    assert then(enterprise) == [
        (
            "AgentInvited",
            {"agent_id": AGENT, "scopes": ["PAYMENTS", "PROFILE"], "by": REPRESENTATIVE},
        )
    ]
    assert enterprise.agents == {} and not enterprise.is_member(AGENT)  # not before accepting
    enterprise = given(Enterprise, REGISTERED, INVITED)
    enterprise.accept_invitation(agent_id=AGENT)
    assert then(enterprise) == [
        ("AgentAccepted", {"agent_id": AGENT, "scopes": ["PAYMENTS", "PROFILE"]})
    ]
    assert enterprise.agents == {AGENT: ["PAYMENTS", "PROFILE"]}
    assert enterprise.invitations == {}
    assert enterprise.is_member(AGENT)


def test_an_invitation_declined_or_withdrawn_leaves_nobody_an_agent() -> None:
    enterprise = given(Enterprise, REGISTERED, INVITED)
    enterprise.decline_invitation(agent_id=AGENT)
    assert then(enterprise) == [("AgentDeclined", {"agent_id": AGENT})]
    assert (enterprise.agents, enterprise.invitations) == ({}, {})
    enterprise = given(Enterprise, REGISTERED, INVITED)
    enterprise.revoke_agent(agent_id=AGENT, by=REPRESENTATIVE)
    assert then(enterprise) == [
        ("AgentInvitationWithdrawn", {"agent_id": AGENT, "by": REPRESENTATIVE})
    ]
    assert (enterprise.agents, enterprise.invitations) == ({}, {})
    for answered in (fact(Enterprise.AgentDeclined, agent_id=AGENT), AGENT_ACCEPTED):
        enterprise = given(Enterprise, REGISTERED, INVITED, answered)
        for answer in (enterprise.accept_invitation, enterprise.decline_invitation):
            with refused(ErrorCode.NOT_INVITED, None):
                answer(agent_id=AGENT)


def test_only_the_invited_person_answers() -> None:
    enterprise = given(Enterprise, REGISTERED, INVITED)
    for someone in (STRANGER, REPRESENTATIVE):
        for answer in (enterprise.accept_invitation, enterprise.decline_invitation):
            with refused(ErrorCode.NOT_INVITED, None):
                answer(agent_id=someone)
    assert then(enterprise) == []


def test_inviting_again_replaces_the_scopes_offered() -> None:
    enterprise = given(Enterprise, REGISTERED, INVITED)
    enterprise.authorise_agent(agent_id=AGENT, scopes=["PROFILE", "PAYMENTS"], by=REPRESENTATIVE)
    assert then(enterprise) == []  # the same offer again
    enterprise.authorise_agent(agent_id=AGENT, scopes=["LICENCES"], by=REPRESENTATIVE)
    assert then(enterprise, "scopes") == [("AgentInvited", {"scopes": ["LICENCES"]})]
    enterprise.accept_invitation(agent_id=AGENT)
    assert enterprise.agents == {AGENT: ["LICENCES"]}


def test_at_most_a_hundred_invitations_wait_at_once() -> None:
    waiting = [
        fact(Enterprise.AgentInvited, agent_id=uuid4(), scopes=["PROFILE"], by=REPRESENTATIVE)
        for _ in range(MAX_INVITATIONS - 1)
    ]
    enterprise = given(Enterprise, REGISTERED, *waiting)
    enterprise.authorise_agent(agent_id=AGENT, scopes=["PROFILE"], by=REPRESENTATIVE)  # the 100th
    assert len(enterprise.invitations) == MAX_INVITATIONS == 100
    with refused(ErrorCode.TOO_MANY_INVITATIONS, "agentIdNumber"):
        enterprise.authorise_agent(agent_id=STRANGER, scopes=["PROFILE"], by=REPRESENTATIVE)
    enterprise.authorise_agent(agent_id=AGENT, scopes=["LICENCES"], by=REPRESENTATIVE)  # re-offer
    enterprise.accept_invitation(agent_id=AGENT)  # one answered: room for another
    enterprise.authorise_agent(agent_id=STRANGER, scopes=["PROFILE"], by=REPRESENTATIVE)
    assert len(enterprise.invitations) == MAX_INVITATIONS


def test_a_snapshot_from_before_invitations_loads_with_none_waiting() -> None:
    enterprise = given(Enterprise, REGISTERED, AGENT_FOR_PROFILE_AND_PAYMENTS)
    state = Enterprise.Snapshot.take(enterprise).state
    old = {k: v for k, v in state.items() if k not in ("invitations", "class_version")}
    snapshot = Enterprise.Snapshot(
        originator_id=enterprise.id,
        originator_version=enterprise.version,
        timestamp=Enterprise.Snapshot.create_timestamp(),
        topic=get_topic(Enterprise),
        state=old,
    )
    loaded = snapshot.mutate(None)
    assert loaded.invitations == {} and loaded.agents == {AGENT: ["PAYMENTS", "PROFILE"]}
    loaded.authorise_agent(agent_id=STRANGER, scopes=["PROFILE"], by=REPRESENTATIVE)
    assert loaded.invitations == {STRANGER: ["PROFILE"]}


@pytest.mark.parametrize("by", [AGENT, STRANGER], ids=["an agent", "a stranger"])
@pytest.mark.parametrize("agent_id", [STRANGER, AGENT, REPRESENTATIVE])
def test_only_the_legal_representative_authorises(by: UUID, agent_id: UUID) -> None:
    enterprise = given(Enterprise, REGISTERED, AGENT_FOR_PROFILE_AND_PAYMENTS)
    with refused(ErrorCode.FORBIDDEN, None):
        enterprise.authorise_agent(agent_id=agent_id, scopes=["PROFILE"], by=by)
    assert then(enterprise) == []
    assert enterprise.agents == {AGENT: ["PAYMENTS", "PROFILE"]}


@pytest.mark.parametrize(
    "scopes",
    [[], ["EVERYTHING"], ["PROFILE", "EVERYTHING"], ["profile"], [""]],
    ids=["empty", "unknown", "one unknown", "lower case", "blank"],
)
def test_scopes_are_validated(scopes: list[str]) -> None:
    enterprise = given(Enterprise, REGISTERED)
    with refused(ErrorCode.INVALID_SCOPES, "scopes"):
        enterprise.authorise_agent(agent_id=AGENT, scopes=scopes, by=REPRESENTATIVE)
    assert then(enterprise) == []
    assert enterprise.agents == {}


@pytest.mark.parametrize(
    "scopes",
    [["PROFILE", "PAYMENTS"], ["PAYMENTS", "PROFILE"], ["PROFILE", "PAYMENTS", "PROFILE"]],
)
def test_reauthorising_with_the_same_scopes_records_nothing(scopes: list[str]) -> None:
    enterprise = given(Enterprise, REGISTERED, AGENT_FOR_PROFILE_AND_PAYMENTS)
    enterprise.authorise_agent(agent_id=AGENT, scopes=scopes, by=REPRESENTATIVE)
    assert then(enterprise) == []


def test_reauthorising_with_other_scopes_replaces_them() -> None:
    enterprise = given(Enterprise, REGISTERED, AGENT_FOR_PROFILE_AND_PAYMENTS)
    enterprise.authorise_agent(agent_id=AGENT, scopes=["LICENCES"], by=REPRESENTATIVE)
    assert then(enterprise, "agent_id", "scopes") == [
        ("AgentAuthorised", {"agent_id": AGENT, "scopes": ["LICENCES"]})
    ]
    assert enterprise.agents == {AGENT: ["LICENCES"]}
    assert not enterprise.may(AGENT, AgentScope.PROFILE)


def test_the_legal_representative_cannot_be_made_an_agent() -> None:
    enterprise = given(Enterprise, REGISTERED)
    with refused(ErrorCode.AGENT_IS_LEGAL_REPRESENTATIVE, "agentIdNumber"):
        enterprise.authorise_agent(agent_id=REPRESENTATIVE, scopes=["PROFILE"], by=REPRESENTATIVE)
    assert then(enterprise) == []
    assert enterprise.agents == {}


def test_the_legal_representative_revokes_an_agent() -> None:
    enterprise = given(Enterprise, REGISTERED, AGENT_FOR_PROFILE_AND_PAYMENTS)
    enterprise.revoke_agent(agent_id=AGENT, by=REPRESENTATIVE)
    assert then(enterprise) == [("AgentRevoked", {"agent_id": AGENT, "by": REPRESENTATIVE})]
    assert enterprise.agents == {}
    assert not enterprise.is_member(AGENT)
    assert not any(enterprise.may(AGENT, scope) for scope in AgentScope)


@pytest.mark.parametrize("agent_id", [STRANGER, REPRESENTATIVE])
def test_revoking_someone_who_is_not_an_agent_is_refused(agent_id: UUID) -> None:
    enterprise = given(Enterprise, REGISTERED, AGENT_FOR_PROFILE_AND_PAYMENTS)
    with refused(ErrorCode.AGENT_NOT_AUTHORISED, "agentId"):
        enterprise.revoke_agent(agent_id=agent_id, by=REPRESENTATIVE)
    assert then(enterprise) == []


def test_a_revoked_agent_cannot_be_revoked_again() -> None:
    enterprise = given(
        Enterprise,
        REGISTERED,
        AGENT_FOR_PROFILE_AND_PAYMENTS,
        fact(Enterprise.AgentRevoked, agent_id=AGENT, by=REPRESENTATIVE),
    )
    with refused(ErrorCode.AGENT_NOT_AUTHORISED, "agentId"):
        enterprise.revoke_agent(agent_id=AGENT, by=REPRESENTATIVE)


@pytest.mark.parametrize("by", [AGENT, STRANGER])
def test_only_the_legal_representative_revokes(by: UUID) -> None:
    enterprise = given(Enterprise, REGISTERED, AGENT_FOR_PROFILE_AND_PAYMENTS)
    with refused(ErrorCode.FORBIDDEN, None):
        enterprise.revoke_agent(agent_id=AGENT, by=by)
    assert then(enterprise) == []
    assert AGENT in enterprise.agents


@pytest.mark.parametrize("scope", list(AgentScope))
def test_may(scope: AgentScope) -> None:
    enterprise = given(Enterprise, REGISTERED, AGENT_FOR_PROFILE_AND_PAYMENTS)
    assert enterprise.may(REPRESENTATIVE, scope)
    assert enterprise.may(AGENT, scope) is (scope in {AgentScope.PROFILE, AgentScope.PAYMENTS})
    assert not enterprise.may(STRANGER, scope)


def test_membership() -> None:
    enterprise = given(Enterprise, REGISTERED, AGENT_FOR_PROFILE_AND_PAYMENTS)
    assert enterprise.is_member(REPRESENTATIVE)
    assert enterprise.is_member(AGENT)
    assert not enterprise.is_member(STRANGER)


def test_parse_scopes_sorts_and_deduplicates() -> None:
    assert parse_scopes(["PROFILE", "APPLICATIONS", "PROFILE"]) == ["APPLICATIONS", "PROFILE"]
    assert parse_scopes([s.value for s in AgentScope]) == sorted(s.value for s in AgentScope)


# -- contact ----------------------------------------------------------------------------------


def test_a_contact_change_records_who_made_it() -> None:
    enterprise = given(Enterprise, REGISTERED, AGENT_FOR_PROFILE_AND_PAYMENTS)
    enterprise.change_contact(phone="+86 139 0000 0000", address=" 1  Quay ", by=AGENT)
    assert then(enterprise) == [
        ("ContactChanged", {"phone": "13900000000", "address": "1 Quay", "by": AGENT})
    ]
    assert (enterprise.phone, enterprise.address) == ("13900000000", "1 Quay")


def test_no_event_when_the_contact_does_not_change() -> None:
    enterprise = given(
        Enterprise,
        REGISTERED,
        fact(Enterprise.ContactChanged, phone="13900000000", address="1 Quay", by=REPRESENTATIVE),
    )
    enterprise.change_contact(phone="139 0000 0000", address=None, by=REPRESENTATIVE)
    enterprise.change_contact(phone=None, address=None, by=REPRESENTATIVE)
    assert then(enterprise) == []


def test_an_enterprise_phone_is_validated() -> None:
    enterprise = given(Enterprise, REGISTERED)
    with refused(ErrorCode.INVALID_PHONE, "phone"):
        enterprise.change_contact(phone="0591-1234567", address=None, by=REPRESENTATIVE)
    assert then(enterprise) == []
