"""A till registered for an enterprise by the operator's command, in another process: a
running server that found the till unregistered asks again after exactly a minute
(operations.md: "Running servers see it within a minute")."""

from __future__ import annotations

from mycity.bootstrap import City
from mycity.domain.enterprise import Enterprise
from mycity.domain.till import enterprise_payee
from mycity.identity.principal import Role
from mycity.usecases.tills import UNREGISTERED_KEPT_S, Tills
from tests.helpers import CitizenFactory
from tests.payments_helpers import SHOP, SHOP_ACCOUNT


def test_a_server_sees_a_till_registered_elsewhere_a_minute_after_it_looked(
    city: City, people: CitizenFactory
) -> None:
    enterprise = city.files.read(Enterprise, people.enterprise(people.register("店主")))
    city.clients.add(SHOP.subject, Role.MERCHANT, SHOP.name)
    now = [1_000.0]
    server = Tills(city.files, city.clients, city.ids, monotonic=lambda: now[0])
    operator = Tills(city.files, city.clients, city.ids)  # `mycity payments till`
    assert server.payee_of(SHOP).account == SHOP_ACCOUNT  # not registered: the till's own
    operator.register(SHOP.subject, enterprise.credit_code)
    now[0] = 1_000.0 + UNREGISTERED_KEPT_S - 0.001
    assert server.payee_of(SHOP).account == SHOP_ACCOUNT  # still as it found it
    now[0] = 1_000.0 + UNREGISTERED_KEPT_S
    assert server.payee_of(SHOP).account == enterprise_payee(enterprise.credit_code)
    now[0] = 0.0  # once registered, it never changes
    assert server.payee_of(SHOP).account == enterprise_payee(enterprise.credit_code)
    assert UNREGISTERED_KEPT_S == 60.0
