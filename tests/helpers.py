"""Test data: valid identifiers, and citizens registered through the application."""

from __future__ import annotations

import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport

from mycity.bootstrap import City
from mycity.domain.access import AccessRecord
from mycity.domain.citizen import Citizen, RealNameLevel
from mycity.domain.identifiers import (
    credit_code_check_character,
    organisation_code_check_character,
    resident_id_check_character,
)
from mycity.identity.principal import Principal, Role
from mycity.integrations.sms import OutboxSms

_sequence = itertools.count(1)


def resident_id(n: int | None = None, birth: str = "19900101", area: str = "430702") -> str:
    n = next(_sequence) if n is None else n
    body = f"{area}{birth}{n % 1000:03d}"
    return body + resident_id_check_character(body)


def credit_code(n: int | None = None) -> str:
    n = next(_sequence) if n is None else n
    organisation = f"MA{n:06d}"
    organisation += organisation_code_check_character(organisation)
    body = "91430702" + organisation
    return body + credit_code_check_character(body)


def phone(n: int | None = None) -> str:
    return f"139{(next(_sequence) if n is None else n):08d}"


@dataclass(frozen=True)
class Person:
    id: UUID
    id_number: str
    name: str
    phone: str

    @property
    def principal(self) -> Principal:
        return Principal.of_citizen(self.id, self.name)


class CitizenFactory:
    """Registers citizens with fresh, valid identifiers."""

    def __init__(self, city: City) -> None:
        self.city = city
        self._n = itertools.count(1)

    def register(
        self, name: str = "测试", *, verified: bool = False, id_number: str | None = None
    ) -> Person:
        n = next(self._n)
        number = id_number or resident_id(n, birth=f"19{50 + n // 365 % 50:02d}0101")
        mobile = phone(n)
        citizen, _ = self.city.citizens.open_file(number, name, mobile)
        person = Person(citizen.id, number, name, mobile)
        if verified:
            self.verify(person)
        return person

    def verify(self, person: Person) -> None:
        """The real-name check confirms the person's name (and phone)."""
        self.city.real_names.add(person.id_number, person.name, person.phone)  # type: ignore[attr-defined]
        self.city.citizens.verify_real_name(person.principal)

    def enterprise(self, representative: Person, name: str = "测试企业") -> UUID:
        """An enterprise with this representative, whose real name is verified first."""
        if self.city.files.read(Citizen, representative.id).level is RealNameLevel.REGISTERED:
            self.verify(representative)
        enterprise, _ = self.city.enterprises.register(
            representative.principal, credit_code(next(self._n) + 5000), name
        )
        return enterprise.id

    def agent(
        self, enterprise: UUID, representative: Person, person: Person, scopes: list[str]
    ) -> None:
        """The representative invites the person, who accepts (verified first, if need be)."""
        if self.city.files.read(Citizen, person.id).level is RealNameLevel.REGISTERED:
            self.verify(person)
        invitations = self.city.enterprises
        invitations.authorise_agent(representative.principal, enterprise, person.id_number, scopes)
        invitations.accept_invitation(person.principal, enterprise)

    def code_for(self, mobile: str) -> str:
        """A fresh one-time code sent to this phone, as its holder reads it."""
        self.city.phone_codes.send(mobile)
        return last_code(self.city.sms, mobile)


def last_code(sms: Any, mobile: str) -> str:
    """The code in the last text message the local outbox sent to this phone."""
    text = sms.messages(mobile)[-1]["text"]
    return re.search(r"(\d{6})", text).group(1)  # type: ignore[no-any-return,union-attr]


def citizen_id_by_phone(city: City, mobile: str) -> UUID | None:
    """The file that holds this phone, as logging in with it would find it."""
    principal = city.sessions.principal_for_phone(mobile)
    return principal and principal.citizen_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def join_all(threads: list[threading.Thread], timeout: float = 30) -> bool:
    """Join every thread within one deadline; False if any is still running."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0))
    return not any(t.is_alive() for t in threads)


OFFICER = Principal("officer-test", Role.OFFICER, "SAMR", "测试官员")
AUDITOR = Principal("auditor-test", Role.AUDITOR, None, "测试审计")
ADMIN = Principal("admin-test", Role.ADMIN, None, "测试管理")
WHY = "tests: checking the file"  # a purpose, for staff reads


def access_records(city: City) -> list[AccessRecord.Recorded]:
    """Every read recorded in the log, oldest first."""
    found = city.files.recorder.select_notifications(
        start=None, limit=10_000, topics=[get_topic(AccessRecord.Recorded)]
    )
    return [city.files.mapper.to_domain_event(n) for n in found]  # type: ignore[misc]


class Api:
    """A real GraphQL client (gql over httpx) against a served app."""

    def __init__(self, base_url: str, sms_outbox: Path) -> None:
        self.base_url = base_url
        self.outbox = OutboxSms(sms_outbox)

    def run(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport = HTTPXTransport(url=f"{self.base_url}/graphql", headers=headers, timeout=30)
        with Client(transport=transport) as session:
            request = gql(query)
            request.variable_values = variables
            result: dict[str, Any] = session.execute(request)
        return result

    def errors(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> list[dict[str, Any]]:
        """The GraphQL errors of a query expected to fail."""
        try:
            self.run(query, variables, token)
        except TransportQueryError as e:
            return list(e.errors or [])
        raise AssertionError("expected GraphQL errors")

    def last_code(self, phone: str) -> str:
        return last_code(self.outbox, phone)

    def log_in_citizen(self, phone: str) -> dict[str, Any]:
        sent = self.run(
            "mutation($p: String!) { requestPhoneCode(input: {phone: $p}) "
            "{ userErrors { code } } }",
            {"p": phone},
        )
        assert sent["requestPhoneCode"]["userErrors"] == []
        result = self.run(
            "mutation($p: String!, $c: String!) { logInWithPhoneCode(input: {phone: $p, code: $c})"
            " { tokens { accessToken refreshToken } userErrors { code field message } } }",
            {"p": phone, "c": self.last_code(phone)},
        )["logInWithPhoneCode"]
        assert result["userErrors"] == [], result
        return dict(result["tokens"])

    def register_citizen(self, id_number: str, name: str, phone: str) -> str:
        """Sign up through the API; the new citizen's access token."""
        self.run(
            "mutation($p: String!) { requestPhoneCode(input: {phone: $p}) { retryAfterSeconds } }",
            {"p": phone},
        )
        answer = self.run(
            "mutation($i: RegisterCitizenInput!) { registerCitizen(input: $i) "
            "{ tokens { accessToken } userErrors { code } } }",
            {
                "i": {
                    "idNumber": id_number,
                    "name": name,
                    "phone": phone,
                    "code": self.last_code(phone),
                }
            },
        )["registerCitizen"]
        assert answer["userErrors"] == [], answer
        return str(answer["tokens"]["accessToken"])

    def log_in_client(self, client_id: str, secret: str) -> str:
        result = self.run(
            "mutation($i: String!, $s: String!) { logInWithClientCredentials("
            "input: {clientId: $i, clientSecret: $s}) { tokens { accessToken } "
            "userErrors { code } } }",
            {"i": client_id, "s": secret},
        )["logInWithClientCredentials"]
        assert result["userErrors"] == [], result
        return str(result["tokens"]["accessToken"])


def killed_after(script: str, env: dict[str, str], pages: int) -> None:
    """Run the Python script (which prints "page" after each page it commits) as another
    process on the test's store, and kill -9 it once it has said so `pages` times: a crash
    at a moment nobody chose. The process is gone when this returns, whatever happened."""
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, env=os.environ | env, text=True
    )
    try:
        assert process.stdout is not None
        for _ in range(pages):
            assert process.stdout.readline().strip() == "page"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
