"""The service catalogue (办事指南): what a citizen or an enterprise can apply for, and how.

Each department's file lists the licences it issues and its service items. The catalogue is
package data, checked whole when it is loaded: a typo in a file stops the city at start,
with a message naming the file, the item and the field, rather than misleading an applicant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mycity.domain.catalogue_reading import CatalogueError, Reader, Shape
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.identifiers import validate_credit_code

__all__ = ["CatalogueError", "parse_catalogue"]


class Applicants(StrEnum):
    """Who submits an application."""

    CITIZEN = "CITIZEN"
    ENTERPRISE = "ENTERPRISE"  # through its legal representative or an authorised agent
    JOINT_CITIZENS = "JOINT_CITIZENS"  # two citizens, both of whom confirm (marriage)


class Holder(StrEnum):
    """Whose licence wallet a licence type lands in."""

    CITIZEN = "CITIZEN"
    ENTERPRISE = "ENTERPRISE"


# Licence fields the issuance fills in itself when the item's form does not name them.
ISSUANCE_FIELDS = frozenset(
    {
        "holder_name",  # the citizen the licence is issued to, from their file
        "holder_id_number",
        "spouse_name",  # the other of two joint applicants
        "spouse_id_number",
        "enterprise_name",  # the enterprise the licence is issued to, from its file
        "credit_code",  # assigned when the enterprise is registered
        "legal_representative",  # the enterprise's; on registration, the applicant
        "established_on",  # the day the enterprise was registered
    }
)

MAX_FEE_FEN = 1_000_000  # 10,000 yuan: no counter fee comes near it
MAX_TIME_LIMIT_DAYS = 60  # working days; the Administrative Licensing Law's 20, extended
MAX_VALIDITY_YEARS = 30


@dataclass(frozen=True)
class Department:
    code: str  # e.g. "AMR"; its file is amr.json and its items are AMR-001, ...
    name: str
    issuer_code: str  # its own unified social credit code, named on what it issues


@dataclass(frozen=True)
class Material:
    """A document an application needs.

    A key material (关键材料) must be there to accept the application; a non-key one may
    follow later (容缺受理). One satisfied by a licence is met by a valid licence of that type
    the applicant holds, not by an upload (电子证照免提交): a key one is a prerequisite.
    """

    code: str
    name: str
    key: bool
    satisfied_by_licence: str | None


@dataclass(frozen=True)
class LicenceSpec:
    type_code: str
    number: str  # 3 digits: with its department's code, the type code in its identifiers
    name: str
    validity_years: int | None  # None: valid until revoked
    fields: tuple[str, ...]  # each fed by the item's form or else by ISSUANCE_FIELDS
    held_by: Holder


@dataclass(frozen=True)
class ServiceItem:
    """One item of the catalogue (政务服务事项), or a one-thing bundle (一件事一次办).

    A bundle's submission opens one application for each member; it has no materials, form,
    fee or licence of its own, and its time limit is the promise for the whole. The licence
    goes to the enterprise registered, to the applying enterprise, or to each applicant.
    """

    code: str
    department: str
    name: str
    applicants: Applicants
    materials: tuple[Material, ...]
    fee_fen: int
    time_limit_days: int  # working days after the day of submission
    licence: LicenceSpec | None
    registers_enterprise: bool  # a citizen applies; approval registers the enterprise
    form: tuple[str, ...]
    bundle: tuple[str, ...]

    @property
    def licence_holder(self) -> Holder:
        """Whose wallet the issued licence lands in."""
        enterprise = self.registers_enterprise or self.applicants is Applicants.ENTERPRISE
        return Holder.ENTERPRISE if enterprise else Holder.CITIZEN


@dataclass(frozen=True)
class Catalogue:
    departments: Mapping[str, Department]
    items: Mapping[str, ServiceItem]
    licences: Mapping[str, LicenceSpec]

    def item(self, code: str) -> ServiceItem:
        if code not in self.items:
            raise UserError(ErrorCode.UNKNOWN_SERVICE_ITEM, f"No service item {code}", "itemCode")
        return self.items[code]

    def licence_name(self, type_code: str, issued_as: str) -> str:
        """A licence type's name as the catalogue says it now (a licence keeps the name it
        was issued under: that one, if the type has left the catalogue)."""
        spec = self.licences.get(type_code)
        return issued_as if spec is None else spec.name

    def licence(self, type_code: str) -> LicenceSpec:
        if type_code not in self.licences:
            raise UserError(ErrorCode.UNKNOWN_LICENCE_TYPE, f"No licence type {type_code}")
        return self.licences[type_code]

    def members(self, item: ServiceItem) -> tuple[ServiceItem, ...]:
        """The items one submission of a bundle opens (none for a plain item)."""
        return tuple(self.items[code] for code in item.bundle)

    def of_department(self, code: str) -> tuple[ServiceItem, ...]:
        return tuple(item for item in self.items.values() if item.department == code)


_DEPARTMENT: Shape = (re.compile(r"^[A-Z]{2,8}$", re.ASCII), "2 to 8 capital letters")
_ITEM_CODE: Shape = (re.compile(r"^[A-Z]{2,8}-\d{3}$", re.ASCII), "an item code (AMR-001)")
_TYPE_CODE: Shape = (re.compile(r"^[A-Z][A-Z0-9_]{1,31}$", re.ASCII), "a licence type code")
_NUMBER: Shape = (re.compile(r"^\d{3}$", re.ASCII), "3 digits (001)")
# At most 32 characters: a licence credential's field names are (verifier/licence_credential).
_SNAKE: Shape = (re.compile(r"^[a-z][a-z0-9_]{0,31}$", re.ASCII), "a snake_case name")


@dataclass
class _Parsed:
    """What the files have said so far, and where, for the checks across files."""

    departments: dict[str, Department]
    licences: dict[str, tuple[LicenceSpec, str]]
    items: dict[str, tuple[ServiceItem, str]]


def parse_catalogue(documents: Mapping[str, Any]) -> Catalogue:
    """The catalogue of these department files (parsed JSON by file name), checked whole."""
    if not documents:
        raise CatalogueError("the catalogue has no department files")
    parsed = _Parsed({}, {}, {})
    for file, document in sorted(documents.items()):
        _parse_file(file, document, parsed)
    _check_across(parsed)
    return Catalogue(
        departments=parsed.departments,
        items={code: item for code, (item, _) in parsed.items.items()},
        licences={code: spec for code, (spec, _) in parsed.licences.items()},
    )


def _parse_file(file: str, document: Any, parsed: _Parsed) -> None:
    top = Reader(file)
    doc = top.entry("", document, ("department", "items"), {"licences": []})
    raw = top.entry("department", doc["department"], ("code", "name", "issuer_code"), {})
    code = top.text("department.code", raw["code"], _DEPARTMENT)
    if file != f"{code.lower()}.json":
        top.fail("department.code", f"{code} belongs in {code.lower()}.json")
    issuer = raw["issuer_code"]
    try:
        valid = isinstance(issuer, str) and validate_credit_code(issuer) == issuer
    except UserError as e:
        top.fail("department.issuer_code", e.message)
    if not valid or not issuer.startswith("11"):
        top.fail("department.issuer_code", "expected a government body's code, 11...")
    name = top.name("department.name", raw["name"])
    parsed.departments[code] = Department(code, name, issuer)
    own: dict[str, LicenceSpec] = {}
    for i, entry in enumerate(top.array("licences", doc["licences"])):
        at = _reader(file, entry, "type_code", _TYPE_CODE, "licence", f"licences[{i}]")
        spec = _licence(at, entry)
        if spec.type_code in parsed.licences:
            at.fail("type_code", f"also defined in {parsed.licences[spec.type_code][1]}")
        if any(other.number == spec.number for other in own.values()):
            at.fail("number", f"{spec.number} is another licence's")
        parsed.licences[spec.type_code] = (spec, file)
        own[spec.type_code] = spec
    for i, entry in enumerate(top.array("items", doc["items"])):
        at = _reader(file, entry, "code", _ITEM_CODE, "item", f"items[{i}]")
        item = _item(at, entry, code, own)
        if item.code in parsed.items:
            at.fail("code", f"also in {parsed.items[item.code][1]}")
        parsed.items[item.code] = (item, file)


def _reader(file: str, entry: Any, key: str, shape: Shape, kind: str, place: str) -> Reader:
    """Names an entry by its code where it has a well-formed one, else by its place."""
    code = entry.get(key) if isinstance(entry, dict) else None
    if isinstance(code, str) and shape[0].match(code):
        return Reader(f"{file}: {kind} {code}")
    return Reader(f"{file}: {place}")


def _licence(at: Reader, entry: Any) -> LicenceSpec:
    keys = ("type_code", "number", "name", "validity_years", "fields", "held_by")
    raw = at.entry("", entry, keys, {})
    code = at.text("type_code", raw["type_code"], _TYPE_CODE)
    number = at.text("number", raw["number"], _NUMBER)
    validity = raw["validity_years"]
    if validity is not None:
        validity = at.number("validity_years", validity, 1, MAX_VALIDITY_YEARS)
    fields = at.names("fields", raw["fields"], _SNAKE)
    if not fields:
        at.fail("fields", "a licence carries at least one field")
    held_by = Holder(at.choice("held_by", raw["held_by"], Holder))
    return LicenceSpec(code, number, at.name("name", raw["name"]), validity, fields, held_by)


_ITEM_OPTIONAL: dict[str, Any] = dict(
    materials=[], licence=None, registers_enterprise=False, form=[], bundle=[]
)


def _item(at: Reader, entry: Any, department: str, own: Mapping[str, LicenceSpec]) -> ServiceItem:
    required = ("code", "name", "applicants", "fee_fen", "time_limit_days")
    raw = at.entry("", entry, required, _ITEM_OPTIONAL)
    code = at.text("code", raw["code"], _ITEM_CODE)
    if not code.startswith(f"{department}-"):
        at.fail("code", f"expected {department}-NNN, an item of {department}")
    licence = None
    if raw["licence"] is not None:
        type_code = at.text("licence", raw["licence"], _TYPE_CODE)
        if type_code not in own:
            at.fail("licence", f"{type_code} is not among this department's licences")
        licence = own[type_code]
    limit = at.number("time_limit_days", raw["time_limit_days"], 1, MAX_TIME_LIMIT_DAYS)
    item = ServiceItem(
        code=code,
        department=department,
        name=at.name("name", raw["name"]),
        applicants=Applicants(at.choice("applicants", raw["applicants"], Applicants)),
        materials=_materials(at, raw["materials"]),
        fee_fen=at.number("fee_fen", raw["fee_fen"], 0, MAX_FEE_FEN),
        time_limit_days=limit,
        licence=licence,
        registers_enterprise=at.flag("registers_enterprise", raw["registers_enterprise"]),
        form=at.names("form", raw["form"], _SNAKE),
        bundle=at.names("bundle", raw["bundle"], _ITEM_CODE),
    )
    _check_item(at, item)
    return item


def _materials(at: Reader, value: Any) -> tuple[Material, ...]:
    found: list[Material] = []
    for i, entry in enumerate(at.array("materials", value)):
        field = f"materials[{i}]"
        raw = at.entry(field, entry, ("code", "name", "key"), {"satisfied_by_licence": None})
        code = at.text(f"{field}.code", raw["code"], _SNAKE)
        if any(m.code == code for m in found):
            at.fail(f"{field}.code", f"{code} is listed twice")
        by = raw["satisfied_by_licence"]
        if by is not None:
            by = at.text(f"{field}.satisfied_by_licence", by, _TYPE_CODE)
        name = at.name(f"{field}.name", raw["name"])
        found.append(Material(code, name, at.flag(f"{field}.key", raw["key"]), by))
    return tuple(found)


def _check_item(at: Reader, item: ServiceItem) -> None:
    """The rules one item must keep by itself."""
    if item.bundle:
        if len(item.bundle) < 2:
            at.fail("bundle", "a bundle opens at least two items")
        for field in ("materials", "form", "licence", "fee_fen", "registers_enterprise"):
            if getattr(item, field):
                at.fail(field, "a bundle has none: its members do")
    if item.registers_enterprise:
        if item.applicants is not Applicants.CITIZEN:
            at.fail("registers_enterprise", "the applicant is the future legal representative")
        if item.licence is None or "credit_code" not in item.licence.fields:
            at.fail("licence", "registering an enterprise issues a licence with its credit_code")
        if "enterprise_name" not in item.form:
            at.fail("form", "registering an enterprise asks for its enterprise_name")
    if item.licence is not None:
        for field in item.licence.fields:
            if field not in item.form and field not in ISSUANCE_FIELDS:
                at.fail("form", f"nothing feeds the licence's field {field}")
        if item.licence.held_by is not item.licence_holder:
            held, to = item.licence.held_by.value, item.licence_holder.value
            at.fail("licence", f"{item.licence.type_code} is held by {held}; it goes to {to}")


def _check_across(parsed: _Parsed) -> None:
    """The rules that span files: what materials and bundles refer to must exist."""
    items = {code: item for code, (item, _) in parsed.items.items()}
    issued = {item.licence.type_code for item in items.values() if item.licence is not None}
    for type_code, (_, file) in parsed.licences.items():
        if type_code not in issued:
            raise CatalogueError(f"{file}: licence {type_code}: no item issues it")
    for code, (item, file) in parsed.items.items():
        at = Reader(f"{file}: item {code}")
        presents = Holder.ENTERPRISE if item.applicants is Applicants.ENTERPRISE else Holder.CITIZEN
        for i, material in enumerate(item.materials):
            by = material.satisfied_by_licence
            field = f"materials[{i}].satisfied_by_licence"
            if by is not None and by not in issued:
                at.fail(field, f"no item issues {by}")
            if by is not None and parsed.licences[by][0].held_by is not presents:
                held = parsed.licences[by][0].held_by.value
                at.fail(field, f"{by} is held by {held}; the applicant is {presents.value}")
        for i, member_code in enumerate(item.bundle):
            member = items.get(member_code)
            if member is None:
                at.fail(f"bundle[{i}]", f"no item {member_code}")
            if member.bundle:
                at.fail(f"bundle[{i}]", f"{member_code} is itself a bundle")
            if member.applicants is not item.applicants:
                at.fail(f"bundle[{i}]", f"{member_code} has other applicants")
            if member.time_limit_days > item.time_limit_days:
                at.fail("time_limit_days", f"{member_code} alone takes longer")
