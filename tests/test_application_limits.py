"""The sizes applications, licences and scans take, at each edge and one past it: reasons and
notes 2 to 500 characters, a rating's comment up to 500, each form answer 1 to 500
(applications.md §2, §9; events.md), a scan's place 1 to 64 printable characters
(city-code.md). Given events, when the command, then the events it records or its error."""

from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

import pytest

from mycity.bootstrap import City
from mycity.domain.application import Application
from mycity.domain.application_status import Grade
from mycity.domain.errors import ErrorCode
from mycity.domain.licence import Licence
from mycity.domain.scan import parse_place
from tests.domain_helpers import Fact, fact, given, refused, then
from tests.helpers import CitizenFactory
from tests.services import AMR, ESTABLISHMENT, documents

APPLICANT = uuid4()
SUBMITTED = fact(
    Application.Submitted,
    item="AMR-001",
    department="AMR",
    applicant=APPLICANT,
    applicant_kind="CITIZEN",
    co_applicant=None,
    by=APPLICANT,
    form=dict(ESTABLISHMENT),
    materials={},
    fee_fen=0,
    bundle=None,
    parts=[],
)
ACCEPTED = fact(
    Application.Accepted, officer="o", found={}, due="2026-03-18", missing="", missing_due=""
)
COMPLETED = (
    fact(Application.Approved, officer="o"),
    fact(Application.LicencesIssued, licences=[], enterprise=None),
    fact(Application.Completed, by="o"),
)
RATED_BADLY = fact(
    Application.Rated, applicant=APPLICANT, grade="DISSATISFIED", comment="", follow_up=True
)

# command, the events it needs, the event it records, the field its text is in
REASONED: list[tuple[str, Callable[[Application, str], None], tuple[Fact, ...], str, str]] = [
    ("reject", lambda a, t: a.reject(officer="o", reason=t), (ACCEPTED,), "Rejected", "reason"),
    ("withdraw", lambda a, t: a.withdraw(by=APPLICANT, reason=t), (), "Withdrawn", "reason"),
    (
        "request a correction",
        lambda a, t: a.request_correction(officer="o", reason=t, materials=[]),
        (),
        "CorrectionRequested",
        "reason",
    ),
    (
        "close a follow-up",
        lambda a, t: a.close_follow_up(officer="o", note=t),
        (ACCEPTED, *COMPLETED, RATED_BADLY),
        "FollowUpClosed",
        "note",
    ),
]


@pytest.mark.parametrize(("_", "command", "before", "recorded", "field"), REASONED)
@pytest.mark.parametrize("length", [2, 500])
def test_a_reason_of_2_to_500_characters_is_recorded_trimmed(
    _: str,
    command: Callable[[Application, str], None],
    before: tuple[Fact, ...],
    recorded: str,
    field: str,
    length: int,
) -> None:
    application = given(Application, SUBMITTED, *before)
    command(application, "  " + "理" * length + "\n")
    [(name, attributes)] = then(application, field)
    assert (name, attributes) == (recorded, {field: "理" * length})


@pytest.mark.parametrize(("_", "command", "before", "recorded", "field"), REASONED)
@pytest.mark.parametrize("text", ["理", " 理 ", "理" * 501, " " * 10])
def test_a_reason_shorter_than_2_or_longer_than_500_is_refused(
    _: str,
    command: Callable[[Application, str], None],
    before: tuple[Fact, ...],
    recorded: str,
    field: str,
    text: str,
) -> None:
    application = given(Application, SUBMITTED, *before)
    with refused(ErrorCode.INVALID_REASON, field):
        command(application, text)
    assert then(application) == []


@pytest.mark.parametrize(("comment", "kept"), [("", ""), (" 好 ", "好"), ("评" * 500, "评" * 500)])
def test_a_rating_takes_a_comment_of_up_to_500_characters(comment: str, kept: str) -> None:
    application = given(Application, SUBMITTED, ACCEPTED, *COMPLETED)
    application.rate(grade=Grade.SATISFIED, comment=comment)
    assert then(application, "comment") == [("Rated", {"comment": kept})]


def test_a_rating_comment_of_501_characters_is_refused() -> None:
    application = given(Application, SUBMITTED, ACCEPTED, *COMPLETED)
    with refused(ErrorCode.INVALID_REASON):
        application.rate(grade=Grade.SATISFIED, comment="评" * 501)
    assert then(application) == []


def test_a_licence_status_change_needs_a_reason_of_2_to_500_characters() -> None:
    holder = uuid4()
    licence = given(
        Licence,
        fact(
            Licence.Issued,
            identifier="X",
            type_code="RESIDENCE_PERMIT",
            type_name="居住证",
            issuer="PSB",
            holder=holder,
            holder_kind="CITIZEN",
            application=uuid4(),
            fields={},
            salts={},
            valid_from="2026-03-10",
            valid_until="2027-03-10",
            status_index=0,
            credential="{}",
        ),
    )
    for text in ("理", "理" * 501):
        with refused(ErrorCode.INVALID_REASON, "reason"):
            licence.suspend(officer="o", reason=text)
    licence.suspend(officer="o", reason="理" * 500)
    licence.reinstate(officer="o", reason="理" * 2)
    assert [(n, len(a["reason"])) for n, a in then(licence, "reason")] == [
        ("Suspended", 500),
        ("Reinstated", 2),
    ]


@pytest.mark.parametrize(
    ("answer", "taken"), [("一", True), ("一" * 500, True), ("一" * 501, False)]
)
def test_each_form_answer_is_1_to_500_characters(
    city: City, people: CitizenFactory, answer: str, taken: bool
) -> None:
    founder = people.register("表单", verified=True)
    form = ESTABLISHMENT | {"business_scope": answer}
    given_materials = documents(city, founder, "AMR-001")
    if not taken:
        with refused(ErrorCode.INVALID_FORM, "form"):
            city.applications.submit(founder.principal, "AMR-001", form, given_materials)
        return
    application = city.applications.submit(
        founder.principal, "AMR-001", form, given_materials
    ).application
    assert (city.files.get(Application, application.id).form or {})["business_scope"] == answer
    city.applications.accept(AMR, application.id)


@pytest.mark.parametrize("answer", ["", "   ", "\n"])
def test_an_empty_form_answer_is_missing(city: City, people: CitizenFactory, answer: str) -> None:
    founder = people.register("空白", verified=True)
    with refused(ErrorCode.INVALID_FORM, "form"):
        city.applications.submit(
            founder.principal,
            "AMR-001",
            ESTABLISHMENT | {"business_scope": answer},
            documents(city, founder, "AMR-001"),
        )


@pytest.mark.parametrize(
    ("raw", "place"),
    [("站", "站"), ("站" * 64, "站" * 64), ("  3号  闸机 ", "3号 闸机"), ("a" * 64, "a" * 64)],
)
def test_a_place_is_1_to_64_printable_characters_its_spaces_collapsed(raw: str, place: str) -> None:
    assert parse_place(raw) == place


@pytest.mark.parametrize("raw", ["", "   ", "站" * 65, "3号\x00闸机", "门\x7f诊", "a" * 65])
def test_a_place_out_of_bounds_is_refused(raw: str) -> None:
    with refused(ErrorCode.INVALID_PLACE, "place"):
        parse_place(raw)
