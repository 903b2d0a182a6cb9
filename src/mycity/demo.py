"""Realistic demo data for the embedded store, and how to log in as each user.

Loading is idempotent: what exists is kept, and the logins are kept in the data
directory so a second run prints the same ones.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from uuid import UUID

from mycity.bootstrap import City
from mycity.data import department_codes, load_fares
from mycity.domain.citizen import Citizen
from mycity.domain.enterprise import Enterprise
from mycity.domain.errors import ErrorCode, UserError
from mycity.domain.identifiers import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_character,
    organisation_code_check_character,
    resident_id_check_character,
)
from mycity.domain.till import enterprise_payee, till_id
from mycity.identity.principal import Principal, Role
from mycity.integrations.provider_process import open_accounts
from mycity.integrations.realname import PopulationRegister
from mycity.private import write_private


def resident_id(area: str, birth: str, sequence: str) -> str:
    body = area + birth + sequence
    return body + resident_id_check_character(body)


def credit_code(prefix: str, organisation_body: str) -> str:
    """A credit code from its first 8 characters and an 8-character organisation body."""
    organisation = organisation_body + organisation_code_check_character(organisation_body)
    assert all(c in CREDIT_CODE_ALPHABET for c in organisation), organisation
    body = prefix + organisation
    return body + credit_code_check_character(body)


@dataclass(frozen=True)
class DemoCitizen:
    name: str
    id_number: str
    phone: str
    level: str  # REGISTERED, VERIFIED or VERIFIED_IN_PERSON
    e_health_card: str  # 电子健康卡, linked by the health authority's feed
    library_card: str  # 读者证, linked by the library's feed


CITIZENS = [
    DemoCitizen(
        "王芳",
        resident_id("430702", "19880314", "042"),
        "13807360001",
        "VERIFIED",
        "EHC-4307-0000-1042",
        "CDLIB-20150042",
    ),
    DemoCitizen(
        "李强",
        resident_id("430702", "19790921", "113"),
        "13807360002",
        "VERIFIED_IN_PERSON",
        "EHC-4307-0000-2113",
        "CDLIB-20090113",
    ),
    DemoCitizen(
        "张伟",
        resident_id("430703", "19921102", "257"),
        "13807360003",
        "VERIFIED",
        "EHC-4307-0000-3257",
        "CDLIB-20180257",
    ),
    DemoCitizen(
        "刘洋",
        resident_id("430721", "20010605", "318"),
        "13807360004",
        "VERIFIED",
        "EHC-4307-0000-4318",
        "CDLIB-20210318",
    ),
    DemoCitizen(
        "陈静",
        resident_id("430702", "19650227", "026"),
        "13807360005",
        "VERIFIED",
        "EHC-4307-0000-5026",
        "CDLIB-20030026",
    ),
    DemoCitizen(
        "赵雷",
        resident_id("430703", "19980716", "431"),
        "13807360006",
        "REGISTERED",
        "EHC-4307-0000-6431",
        "CDLIB-20220431",
    ),
]

ENTERPRISES = [
    # (credit code, name, legal representative, [(agent, scopes)])
    (
        credit_code("91430702", "MA4L0C8P"),
        "常德市武陵区湘味餐饮有限公司",
        "李强",
        [("王芳", ["APPLICATIONS", "PAYMENTS"])],
    ),
    (
        credit_code("91430703", "MA4Q7K2D"),
        "常德智行出行科技有限公司",
        "张伟",
        [("刘洋", ["PROFILE", "LICENCES"]), ("陈静", ["APPLICATIONS"])],
    ),
]

CLIENTS = [
    ("officer-amr-01", Role.OFFICER, "赵敏 (市场监督管理局)", "AMR"),
    ("officer-psb-01", Role.OFFICER, "孙磊 (公安局户政科)", "PSB"),
    ("officer-cab-01", Role.OFFICER, "钱芳 (民政局婚姻登记处)", "CAB"),
    ("officer-hrss-01", Role.OFFICER, "吴刚 (人社局)", "HRSS"),
    ("officer-health-01", Role.OFFICER, "郑丽 (卫健委)", "HEALTH"),
    ("officer-medins-01", Role.OFFICER, "冯涛 (医保局)", "MEDINS"),
    ("auditor-01", Role.AUDITOR, "周审计 (审计局)", None),
    ("admin-01", Role.ADMIN, "平台管理员", None),
    ("merchant-wuling-01", Role.MERCHANT, "武陵阁超市", None),
    ("venue-hotel-01", Role.VENUE, "常德华天大酒店", None),
    ("gate-metro-wuling-01", Role.TRANSIT_GATE, "常德公交 武陵阁站闸机", None),
    ("gate-brt-wulingge", Role.TRANSIT_GATE, "常德快速公交 武陵阁站", None),
    ("gate-brt-liuyehu", Role.TRANSIT_GATE, "常德快速公交 柳叶湖站", None),
    ("hospital-first-01", Role.HOSPITAL, "常德市第一人民医院", None),
    ("library-city-01", Role.LIBRARY, "常德市图书馆", None),
    ("feed-health", Role.AUTHORITY_FEED, "常德市卫生健康委员会", "HEALTH"),
    ("feed-library", Role.AUTHORITY_FEED, "常德市图书馆 读者证系统", "LIBRARY"),
    ("feed-amr", Role.AUTHORITY_FEED, "常德市市场监督管理局 信用监管", "AMR"),
]

# A business established through the real flow (AMR-001), so that it holds its business
# licence (published on the public list) and has a food business application (AMR-002) waiting
# for acceptance with one non-key material missing: whether it is accepted (容缺受理) is its
# credit's to say. Named a 守合同重信用 enterprise by the market authority first, so that one
# penalty leaves it good and a second makes it normal (docs/credit.md walks through it).
TEA_HOUSE = {
    "enterprise_name": "常德桃花源茶业有限公司",
    "enterprise_type": "有限责任公司",
    "registered_capital": "50万元",
    "business_scope": "茶叶销售；茶饮服务",
    "address": "常德市武陵区朗州路88号",
}
TEA_HOUSE_FOUNDER = "陈静"
TEA_HOUSE_FOOD = {
    "business_premises": "常德市武陵区朗州路88号一楼",
    "business_type": "餐饮服务经营者",
    "business_items": "热食类食品制售；自制饮品制售",
}
CONTRACT_ABIDING = ("CONTRACT_ABIDING", "常市监守信〔2026〕8号", 40)


def load_demo(city: City, url: str = "http://127.0.0.1:8000/graphql") -> str:
    """Load the demo data; return the text that tells how to log in as each user."""
    register = PopulationRegister(city.settings.population_register)
    known = {
        c.id_number
        for c in CITIZENS
        if register.check(c.id_number, c.name).verdict.value == "MATCH"
    }
    by_name = {}
    for person in CITIZENS:
        if person.id_number not in known:
            register.add(person.id_number, person.name, person.phone)
        citizen_id = city.ids.citizen(person.id_number)
        by_name[person.name] = citizen_id
        if city.files.exists(citizen_id):
            continue
        city.citizens.open_file(person.id_number, person.name, person.phone)
        me = Principal.of_citizen(citizen_id, person.name)
        if person.level != "REGISTERED":
            city.citizens.verify_real_name(me)
        if person.level == "VERIFIED_IN_PERSON":
            officer = Principal("officer-psb-01", Role.OFFICER, "PSB", "孙磊")
            city.citizens.verify_in_person(officer, citizen_id)

    for code, name, representative, agents in ENTERPRISES:
        if city.files.exists(city.ids.enterprise(code)):
            continue
        rep = Principal.of_citizen(by_name[representative], representative)
        enterprise, _ = city.enterprises.register(rep, code, name)
        for agent, scopes in agents:
            number = next(c.id_number for c in CITIZENS if c.name == agent)
            city.enterprises.authorise_agent(rep, enterprise.id, number, scopes)
            invited = Principal.of_citizen(by_name[agent], agent)
            city.enterprises.accept_invitation(invited, enterprise.id)

    _link_cards(city)
    _establish_tea_house(city, by_name[TEA_HOUSE_FOUNDER])
    _grant_residence_permit(city, by_name[RESIDENT])

    logins_file = city.settings.data_dir / "demo-logins.json"
    logins = json.loads(logins_file.read_text()) if logins_file.exists() else {}
    for client_id, role, name, department in CLIENTS:
        try:
            logins[client_id] = {
                "secret": city.clients.add(client_id, role, name, department),
                "role": role.value,
                "name": name,
                "department": department,
            }
        except UserError as e:
            if e.code is not ErrorCode.ALREADY_REGISTERED:
                raise
    write_private(logins_file, json.dumps(logins, ensure_ascii=False, indent=2))
    city.read_models.catch_up()
    return _instructions(logins, url)


def _client(client_id: str) -> Principal:
    """A demo client, as it acts once logged in."""
    role, name, department = next((r, n, d) for c, r, n, d in CLIENTS if c == client_id)
    return Principal(client_id, role, department, name)


def _link_cards(city: City) -> None:
    """Each citizen's e-health and library cards, as their institutions' feeds link them
    (a card linked before records nothing; nothing is linked to a person erased since)."""
    health, library = _client("feed-health"), _client("feed-library")
    for person in CITIZENS:
        if city.files.read(Citizen, city.ids.citizen(person.id_number)).erased:
            continue
        city.health.link_card(health, person.id_number, "E_HEALTH", person.e_health_card)
        city.health.link_card(library, person.id_number, "LIBRARY", person.library_card)


def _establish_tea_house(city: City, founder_id: UUID) -> None:
    """The tea house registered and licensed, rewarded, and applying for its food licence;
    each step taken only if it was not (a run stopped half-way is finished by the next)."""
    city.read_models.catch_up()
    founder = Principal.of_citizen(founder_id, TEA_HOUSE_FOUNDER)
    rows = city.read_models.rows
    found = rows("enterprise_profile").select("WHERE name = ?", [TEA_HOUSE["enterprise_name"]])
    if not found:
        established = _approved(city, founder, "AMR-001", TEA_HOUSE, "officer-amr-01")
        enterprise_id = _registered(city, established)
    else:
        enterprise_id = UUID(found[0]["id"])
    enterprise = city.files.read(Enterprise, enterprise_id)
    reason, decision, points = CONTRACT_ABIDING
    city.credits.record_change(  # sent again, it changes nothing
        _client("feed-amr"), None, enterprise.credit_code, points, reason, decision, None
    )
    if rows("application_list").select(
        "WHERE applicant = ? AND item = 'AMR-002'", [str(enterprise.id)]
    ):
        return
    materials = _documents(city, founder, "AMR-002")
    del materials["food_safety_manager"]  # the non-key material, owed if accepted 容缺
    city.applications.submit(
        founder, "AMR-002", TEA_HOUSE_FOOD, materials, enterprise_id=enterprise.id
    )


def _grant_residence_permit(city: City, resident_id: UUID) -> None:
    """王芳's residence permit (PSB-002), applied for, accepted and approved: a licence a
    citizen holds, to show in the app's wallet and verify at the hotel (docs/app.md)."""
    rows = city.read_models.rows
    if rows("application_list").select(
        "WHERE applicant = ? AND item = 'PSB-002'", [str(resident_id)]
    ):
        return
    resident = Principal.of_citizen(resident_id, RESIDENT)
    _issued(city, _approved(city, resident, "PSB-002", RESIDENCE, "officer-psb-01"))


def _approved(
    city: City, applicant: Principal, item: str, form: dict[str, str], officer: str
) -> UUID:
    """An application with every document, accepted and approved by the demo's officer."""
    application = city.applications.submit(
        applicant, item, form, _documents(city, applicant, item)
    ).application.id
    city.applications.accept(_client(officer), application)
    city.applications.approve(_client(officer), application)
    return application


RESIDENT = "王芳"
RESIDENCE = {"address": "常德市武陵区朗州路9号", "resident_since": "2020-01-01"}


def _documents(city: City, person: Principal, item: str) -> dict[str, str]:
    """A scanned PDF for each material of the item that no licence satisfies."""
    return {
        m.code: "document:" + city.uploads.put(person, DEMO_PDF + m.code.encode()).digest
        for m in city.catalogue.item(item).materials
        if not m.satisfied_by_licence
    }


def _registered(city: City, application_id: UUID) -> UUID:
    """The enterprise an approved AMR-001 registered."""
    _issued(city, application_id)
    enterprise = city.applications.get(application_id).enterprise
    assert enterprise is not None
    return enterprise


def _issued(city: City, application_id: UUID, timeout: float = 30) -> None:
    """Wait until the issuance process has issued an approved application's licence (this
    runner's, or a server's beside it) and the read models show it."""
    deadline = time.monotonic() + timeout
    while not city.applications.get(application_id).licences:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the issuance process never issued {application_id}'s licence")
        city.runner().run_once()
        time.sleep(0.02)
    city.read_models.catch_up()
    city.read_models.wait(city.files.head(), timeout=timeout)


DEMO_PDF = b"%PDF-1.7 a scanned document of the demo"


def _instructions(logins: dict[str, dict[str, str]], url: str) -> str:
    site = url.removesuffix("/graphql")
    lines = [
        f"Demo data loaded. GraphQL: {url}",
        f"In a browser: the citizen's app at {site}/app/ (王芳: 13807360001, then the code "
        f"from `mycity sms outbox`), the partners' scanner at {site}/scan/",
        "",
        "Citizens log in with their phone and a one-time code:",
        '  1. mutation { requestPhoneCode(input: {phone: "13807360001"}) { retryAfterSeconds } }',
        "  2. read the code:  .venv/bin/mycity sms outbox 13807360001",
        '  3. mutation { logInWithPhoneCode(input: {phone: "13807360001", code: "123456"})',
        "       { tokens { accessToken } userErrors { code message } } }",
        "  4. send  Authorization: Bearer <accessToken>",
        "     and ask  { me { citizen { name idNumber } } }",
        "",
        f"{'citizen':<8} {'phone':<12} {'real-name level':<20} enterprises",
    ]
    for person in CITIZENS:
        roles = [
            f"legal representative of {name}" if rep == person.name else f"agent of {name} {scopes}"
            for _, name, rep, agents in ENTERPRISES
            for agent, scopes in [(rep, None), *agents]
            if agent == person.name
        ]
        lines.append(f"{person.name:<8} {person.phone:<12} {person.level:<20} {'; '.join(roles)}")
    lines += [
        f"{TEA_HOUSE_FOUNDER} also founded {TEA_HOUSE['enterprise_name']} (through AMR-001): its "
        "food licence waits for acceptance with a material missing; docs/credit.md walks its "
        "credit through.",
        "",
        "Staff and partners log in with client credentials:",
        '  mutation { logInWithClientCredentials(input: {clientId: "...", clientSecret: "..."})',
        "    { tokens { accessToken } } }",
        "",
    ]
    for client_id, login in logins.items():
        dept = f" ({login['department']})" if login.get("department") else ""
        lines.append(
            f"  {login['role']:<15} {client_id:<20} {login['secret']}  {login['name']}{dept}"
        )
    lines.append("\n(These logins are kept in the data directory, demo-logins.json.)")
    return "\n".join(lines)


DEMO_BALANCE_FEN = 100_000  # each demo payer's money at the local provider: 1,000 yuan


TILLS = [("merchant-wuling-01", ENTERPRISES[0][0])]  # the shop is the restaurant's till


def open_demo_accounts(city: City) -> None:
    """The demo's accounts at the local payment provider: each citizen and enterprise a
    funded payer, each till's enterprise, each department and operator a payee (kept if
    they exist); the shop's till registered for its enterprise."""
    for client_id, code in TILLS:
        if not city.files.exists(till_id(client_id)):
            city.tills.register(client_id, code)
    files = [city.ids.citizen(c.id_number) for c in CITIZENS]
    files += [city.ids.enterprise(code) for code, *_ in ENTERPRISES]
    merchants = [enterprise_payee(code) for _, code in TILLS]
    departments = [f"dept:{code}" for code in department_codes()]
    operators = [operator.payee for operator in load_fares().operators.values()]
    settings = city.settings.payments
    open_accounts(
        settings.provider,
        settings.api_key,
        [city.ids.payer(f) for f in files],
        [*merchants, *departments, *operators],
        DEMO_BALANCE_FEN,
    )
