"""An application's materials: documents uploaded by the applicant, or licences they hold.

The "no-certificate city" (无证明城市): a material a held, valid licence satisfies is taken
from the applicant's wallet without being asked for. A key material (关键材料) cannot be
left out; a non-key one may, for an officer to accept without it (容缺受理) or to ask for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol
from uuid import UUID

from mycity.domain.application import Materials as Given
from mycity.domain.catalogue import Material, ServiceItem
from mycity.domain.errors import ErrorCode, UserError
from mycity.usecases.uploads import Uploads

DOCUMENT = "document:"
LICENCE = "licence:"


class HeldLicence(Protocol):
    @property
    def identifier(self) -> str: ...


HeldLicences = Callable[[UUID, str, date], Sequence[HeldLicence]]  # holder, type, today


@dataclass(frozen=True)
class Materials:
    uploads: Uploads
    held: HeldLicences  # the holder's valid licences of a type (the wallet)

    def resolve(
        self,
        applicant: UUID,
        uploader: UUID,
        items: Iterable[ServiceItem],
        given: Mapping[str, str],
        today: date,
        recorded: Given | None = None,
    ) -> Given:
        """Each material given, checked, or found in the wallet; a key one left out is
        refused (MATERIAL_MISSING), naming it, unless one of these items issues the licence
        that satisfies it (a bundle's later items need what its first one issues: they
        find it in the wallet when they are accepted). A document the application
        `recorded` already stands as it is: whoever of an enterprise's people uploaded it,
        another may supply the rest."""
        recorded = recorded or {}
        items = list(items)
        needed: dict[str, Material] = {}
        coming: dict[str, set[str]] = {}  # material -> licence types other items issue
        for item in items:
            others = {i.licence.type_code for i in items if i.licence and i is not item}
            for material in item.materials:
                needed.setdefault(material.code, material)
                coming.setdefault(material.code, set()).update(others)
        if unknown := sorted(set(given) - set(needed)):
            raise UserError(
                ErrorCode.INVALID_ARGUMENT, f"Not materials of this item: {unknown}", "materials"
            )
        resolved: Given = {}
        for code, material in needed.items():
            if (
                code in given
                and given[code].startswith(DOCUMENT)
                and recorded.get(code) == given[code]
            ):
                resolved[code] = given[code]
            elif code in given:
                resolved[code] = self._checked(applicant, uploader, material, given[code], today)
            elif material.satisfied_by_licence and (
                held := self.held(applicant, material.satisfied_by_licence, today)
            ):
                resolved[code] = LICENCE + held[0].identifier
            elif material.key and material.satisfied_by_licence not in coming[code]:
                raise UserError(
                    ErrorCode.MATERIAL_MISSING, f"{code} ({material.name}) is required", "materials"
                )
        return resolved

    def found_in_wallet(
        self, applicant: UUID, item: ServiceItem, given: Given, today: date
    ) -> Given:
        """The item's materials not given that a licence held now satisfies."""
        found: Given = {}
        for material in item.materials:
            if material.code in given or not material.satisfied_by_licence:
                continue
            if held := self.held(applicant, material.satisfied_by_licence, today):
                found[material.code] = LICENCE + held[0].identifier
        return found

    def _checked(
        self, applicant: UUID, uploader: UUID, material: Material, reference: str, today: date
    ) -> str:
        field = f"materials.{material.code}"
        if reference.startswith(DOCUMENT) and not material.satisfied_by_licence:
            if not self.uploads.exists(uploader, reference.removeprefix(DOCUMENT)):
                raise UserError(ErrorCode.UPLOAD_NOT_FOUND, "Upload the document first", field)
            return reference
        if reference.startswith(LICENCE) and material.satisfied_by_licence:
            identifier = reference.removeprefix(LICENCE)
            held = self.held(applicant, material.satisfied_by_licence, today)
            if not any(h.identifier == identifier for h in held):
                raise UserError(
                    ErrorCode.LICENCE_NOT_HELD,
                    f"No valid {material.satisfied_by_licence} licence {identifier} is held",
                    field,
                )
            return reference
        accepted = (
            f"licence:<identifier> of a held {material.satisfied_by_licence}"
            if material.satisfied_by_licence
            else "document:<sha256> of an upload"
        )
        raise UserError(ErrorCode.INVALID_ARGUMENT, f"Give {accepted}", field)
