"""The service catalogue as the API shows it: items, their materials and licences."""

from __future__ import annotations

import strawberry

from mycity.domain.catalogue import Applicants, Catalogue, LicenceSpec, Material, ServiceItem
from mycity.graphql.shapes import shaped

strawberry.enum(Applicants)


@strawberry.type(name="Material")
class MaterialType:
    code: str
    name: str
    key: bool = strawberry.field(description="A key material must be there to accept.")
    satisfied_by_licence: str | None = strawberry.field(
        description="The licence type that stands in for it: held, it is used unasked."
    )

    @classmethod
    def of(cls, material: Material) -> MaterialType:
        return shaped(cls, material)


@strawberry.type
class LicenceType:
    type_code: str
    name: str
    validity_years: int | None
    fields: list[str]

    @classmethod
    def of(cls, spec: LicenceSpec) -> LicenceType:
        return shaped(cls, spec, fields=list(spec.fields))


@strawberry.type(name="ServiceItem")
class ServiceItemType:
    """One item of the catalogue (办事指南), or a one-thing bundle (一件事一次办)."""

    code: str
    department: str
    department_name: str
    name: str
    applicants: Applicants
    materials: list[MaterialType]
    fee_fen: int
    time_limit_days: int = strawberry.field(description="Working days from acceptance.")
    licence: LicenceType | None
    registers_enterprise: bool
    form: list[str] = strawberry.field(description="The form's field names.")
    bundle: list[str] = strawberry.field(description="The items a bundle opens.")

    @classmethod
    def of(cls, item: ServiceItem, catalogue: Catalogue) -> ServiceItemType:
        return shaped(
            cls,
            item,
            department_name=catalogue.departments[item.department].name,
            materials=[MaterialType.of(m) for m in item.materials],
            licence=LicenceType.of(item.licence) if item.licence else None,
            form=list(item.form),
            bundle=list(item.bundle),
        )
