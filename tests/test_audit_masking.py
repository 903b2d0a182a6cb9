"""Auditors see what the policy shows (issue: `auditHistory` showed full ID numbers and
every salt): ID numbers, phones and card numbers masked wherever they sit in an event or a
file, inside a licence's fields and a form's answers too, and a licence's salts never."""

from __future__ import annotations

import json

import pytest

from mycity.bootstrap import City
from mycity.domain.code_holder import code_holder_id
from mycity.domain.identifiers import mask_id_number
from mycity.domain.licence import Licence
from mycity.domain.personal import Kind, kind_named, masked
from mycity.projections.subject_history import HistoryPage
from tests.helpers import AUDITOR, WHY, CitizenFactory, Person, access_records
from tests.services import HEALTH_FEED, residence_permit, settle


@pytest.fixture
def licensed(city: City, people: CitizenFactory) -> tuple[Person, Licence]:
    """A citizen holding a residence permit, its issuance folded."""
    holder = people.register("持证人", verified=True)
    permit = residence_permit(city, holder)
    settle(city)
    return holder, permit


def test_a_licences_identifiers_are_masked_and_its_salts_never_shown(
    city: City, licensed: tuple[Person, Licence]
) -> None:
    holder, permit = licensed
    history = city.reads.audit.history(AUDITOR, holder.id, HistoryPage(first=100), WHY)
    [issued] = [e for e in history if e.type == "Licence.Issued"]
    assert issued.data["fields"]["holder_id_number"] == mask_id_number(holder.id_number)
    assert issued.data["fields"]["holder_name"] == holder.name  # names as recorded
    assert issued.data["salts"] is None
    text = json.dumps([e.data for e in history], ensure_ascii=False)
    assert holder.id_number not in text and holder.phone not in text
    assert not any(salt in text for salt in (permit.salts or {}).values())

    state = city.reads.audit.state(AUDITOR, permit.id, None, None, WHY).state
    assert state["fields"]["holder_id_number"] == mask_id_number(holder.id_number)
    assert state["salts"] is None


def test_a_card_number_is_masked_in_the_file_that_holds_it(
    city: City, people: CitizenFactory
) -> None:
    person = people.register("持卡人")
    city.health.link_card(HEALTH_FEED, person.id_number, "E_HEALTH", "EH12345678")
    state = city.reads.audit.state(AUDITOR, code_holder_id(person.id), None, None, WHY).state
    assert state["cards"] == {"E_HEALTH": "******5678"}


def test_what_a_text_fields_name_says_it_holds_is_masked_as_such() -> None:
    form = {"spouse_id_number": "430702199001011234", "contact_phone": "13800001111", "x": "y"}
    assert masked(Kind.TEXT, form) == {
        "spouse_id_number": mask_id_number("430702199001011234"),
        "contact_phone": "138****1111",
        "x": "y",
    }
    assert [kind_named(n) for n in ("id_number", "phone", "card_number", "phones")] == [
        Kind.ID_NUMBER,
        Kind.PHONE,
        Kind.CARD_NUMBER,
        Kind.TEXT,
    ]
    assert masked(Kind.SECRET, {"a": "00ff"}) is None


def test_unmasked_with_a_purpose_shows_all_and_the_access_record_says_so(
    city: City, licensed: tuple[Person, Licence]
) -> None:
    holder, permit = licensed
    why = "court order 2026-118: the full record"
    history = city.reads.audit.history(AUDITOR, holder.id, HistoryPage(100), why, unmask=True)
    [issued] = [e for e in history if e.type == "Licence.Issued"]
    assert issued.data["fields"]["holder_id_number"] == holder.id_number
    assert issued.data["salts"] == permit.salts
    state = city.reads.audit.state(AUDITOR, permit.id, None, None, why, unmask=True).state
    assert state["salts"] == permit.salts
    history_record, state_record = access_records(city)[-2:]
    assert (history_record.read, history_record.unmasked, history_record.purpose) == (
        "audit.history",
        ["events"],
        why,
    )
    assert (state_record.read, state_record.unmasked) == ("audit.state", ["state"])
    # the licence's file is read, and so is its holder, who sees it among their records
    assert [str(s) for s in state_record.subjects] == [str(permit.id), str(holder.id)]
    city.reads.audit.history(AUDITOR, holder.id, HistoryPage(100), why)
    assert access_records(city)[-1].unmasked == []
