"""What an approval issues: the licences on their holders' files and, for an establishment
registration, the enterprise itself with the credit code its department assigns.

Called by the issuance process for each approval, through its reply, so everything it
records lands in one transaction with the process's position. Serials, status-list bits
and credit codes come from the department's register, whose only writer is this process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from mycity.domain.application import Application
from mycity.domain.catalogue import Catalogue, Holder, LicenceSpec
from mycity.domain.citizen import Citizen
from mycity.domain.enterprise import Enterprise
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.identifiers import assign_credit_code
from mycity.domain.licence import Licence
from mycity.domain.register import Register, register_id
from mycity.identity.keys import SigningKeyRing
from mycity.identity.subjects import SubjectIds
from mycity.verifier.licence_codec import canonical
from mycity.verifier.licence_credential import credential_json, make_disclosures, sign_credential
from mycity.verifier.licence_id import licence_identifier

VERSION = 1  # of each licence's content; a re-issue after a change would count up


class Changes(Protocol):
    """The process's reply: the aggregates it changes, saved with its position."""

    def get(self, kind: type[Any], aggregate_id: UUID) -> Any: ...

    def find(self, aggregate_id: UUID) -> Aggregate | None: ...

    def save(self, *aggregates: Aggregate) -> None: ...


def licence_id_of(identifier: str) -> UUID:
    """A licence's file id, from its identifier (so an identifier names one file)."""
    return uuid5(NAMESPACE_URL, f"mycity:licence:{identifier}")


@dataclass(frozen=True)
class Issuer:
    catalogue: Catalogue
    ids: SubjectIds
    rings: Mapping[str, SigningKeyRing]  # each department's licence keys
    division: str  # the city's administrative division code, in the credit codes it assigns
    today: Callable[[], date]

    def issue(self, application: Application, reply: Changes) -> None:
        item = self.catalogue.item(application.item)
        spec = item.licence
        if spec is None and not item.registers_enterprise:
            return
        values = self._values(application, reply)
        if values is None:
            return  # nobody to issue it to: erased since (a stuck process would stop them all)
        register = self._register(reply, item.department)
        enterprise = None
        if item.registers_enterprise:
            enterprise = self._register_enterprise(application, register, values)
        holders = [enterprise.id] if enterprise else self._holders(application, spec)
        licences = [
            self._licence(application, spec, register, holder, values)
            for holder in holders
            if spec is not None
        ]
        application.record_issue(
            licences=[licence.id for licence in licences],
            enterprise=enterprise.id if enterprise else None,
        )
        # In the order of the facts: the numbers, the enterprise, its licences, the answer.
        reply.save(register, *([enterprise] if enterprise else []), *licences, application)

    def _register(self, reply: Changes, department: str) -> Register:
        found = reply.find(register_id(department))
        return found if isinstance(found, Register) else Register.open(department)

    def _values(self, application: Application, reply: Changes) -> dict[str, str] | None:
        """The form's answers and what the files hold; None once a person they would name
        (an applicant, the legal representative) was erased."""
        if application.form is None:
            return None
        try:
            return {**application.form, **self._people(application, reply)}
        except UserError as e:
            if e.code is ErrorCode.FILE_ERASED:
                return None
            raise

    def _people(self, application: Application, reply: Changes) -> dict[str, str]:
        """The licence fields the files hold: holder and spouse, or the enterprise."""
        if application.applicant_kind == "ENTERPRISE":
            enterprise = reply.get(Enterprise, application.applicant)
            representative = reply.get(Citizen, enterprise.legal_representative_id)
            return {
                "enterprise_name": enterprise.name,
                "credit_code": enterprise.credit_code,
                "legal_representative": representative.person.name,
            }
        person = reply.get(Citizen, application.applicant).person
        values = {
            "holder_name": person.name,
            "holder_id_number": person.id_number,
            "legal_representative": person.name,
        }
        if application.co_applicant:
            spouse = reply.get(Citizen, application.co_applicant).person
            values |= {"spouse_name": spouse.name, "spouse_id_number": spouse.id_number}
        return values

    def _register_enterprise(
        self, application: Application, register: Register, values: dict[str, str]
    ) -> Enterprise:
        code = assign_credit_code(division=self.division, serial=register.allocate("enterprise"))
        enterprise = Enterprise.register(
            id=self.ids.enterprise(code),
            credit_code=code,
            name=values["enterprise_name"],
            legal_representative_id=application.applicant,
        )
        values |= {"credit_code": code, "established_on": self.today().isoformat()}
        return enterprise

    @staticmethod
    def _holders(application: Application, spec: LicenceSpec | None) -> list[UUID]:
        """Each applicant of a joint item holds a licence of their own."""
        return (
            application.holders
            if spec and spec.held_by is Holder.CITIZEN
            else [application.applicant]
        )

    def _licence(
        self,
        application: Application,
        spec: LicenceSpec,
        register: Register,
        holder: UUID,
        values: dict[str, str],
    ) -> Licence:
        department = self.catalogue.departments[application.department]
        fields = self._fields(spec, values, holder, application)
        disclosures = make_disclosures(fields)
        identifier = licence_identifier(
            department.issuer_code + spec.number,
            department.issuer_code,
            register.allocate("licence"),
            VERSION,
        )
        today = self.today()
        until = _years_later(today, spec.validity_years) if spec.validity_years else None
        ring = self.rings[department.code]
        licence_id = licence_id_of(identifier)
        credential = sign_credential(
            ring.private_key(),
            ring.active_kid,
            licence_id=identifier,
            type_name=spec.name,
            issuer=department.code,
            holder=str(licence_id),
            valid_from=today,
            valid_until=until,
            status_index=register.allocate("status") - 1,
            digests={name: d.digest() for name, d in disclosures.items()},
        )
        return Licence(  # type: ignore[call-arg]
            id=licence_id,
            identifier=identifier,
            type_code=spec.type_code,
            type_name=spec.name,
            issuer=department.code,
            holder=holder,
            holder_kind=spec.held_by.value,
            application=application.id,
            fields=fields,
            salts={name: d.salt.hex() for name, d in disclosures.items()},
            valid_from=today.isoformat(),
            valid_until=until.isoformat() if until else "",
            status_index=credential.status_index,
            credential=canonical(credential_json(credential)).decode(),
        )

    @staticmethod
    def _fields(
        spec: LicenceSpec,
        values: dict[str, str],
        holder: UUID,
        application: Application,
    ) -> dict[str, str]:
        """The licence's fields; on a joint licence, each holder is its own `holder_…`."""
        own = dict(values)
        if application.co_applicant and holder == application.co_applicant:
            own |= {
                "holder_name": values["spouse_name"],
                "holder_id_number": values["spouse_id_number"],
                "spouse_name": values["holder_name"],
                "spouse_id_number": values["holder_id_number"],
            }
        return {name: own.get(name, "") for name in spec.fields}


def _years_later(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # the 29th of February
        return start.replace(year=start.year + years, day=28)
