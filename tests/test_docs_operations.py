"""Every GraphQL operation in README.md and docs/ is valid against the schema the code
serves, so a doc cannot drift from the API unnoticed.

What counts as GraphQL in the docs, and how each kind is checked:

1. A ```graphql fence is a whole document (its variables declared): valid as it stands.
2. A code span that begins with `query`, `mutation` or `subscription`, or with a root field
   (of Query, Mutation or Subscription) followed by arguments with values or by a selection,
   is an operation. A root field's span is checked as the one field of an operation of its
   type (`mutation { <span> }` for a mutation), so it must be whole: every required
   argument, literal values (a placeholder goes inside a string: `"<the licence's id>"`), a
   selection under every field of an object type. `…` is not GraphQL: an operation is
   written whole, or as a signature.
3. A code span that names a root field's arguments without values is a signature:
   `venueScans(purpose)`, `placeCode(place:)`, `reclaimFile(input: {idNumber, name})`.
   Each name is an argument of that field, and each name inside `input: {…}` a field of
   that argument's input type; `version | at` names alternatives; `…` (or `...`) stands for
   what is left out.
4. A lone lowerCamelCase name in a code span (`scannedAt`) is a name the schema has: a
   field, an argument or an input field (or one of `NOT_SCHEMA_NAMES`, with its reason).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from graphql import (
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLObjectType,
    get_named_type,
    parse,
    specified_rules,
    validate,
)

from mycity.graphql.limits import RULES
from mycity.graphql.schema import schema
from tests.docs_markdown import DOCS, Code, code

SCHEMA = schema._schema
ROOT_TYPES: dict[str, GraphQLObjectType] = {
    kind: type_
    for kind, type_ in (
        ("query", SCHEMA.query_type),
        ("mutation", SCHEMA.mutation_type),
        ("subscription", SCHEMA.subscription_type),
    )
    if type_ is not None
}
ROOT_FIELDS = {name: kind for kind, type_ in ROOT_TYPES.items() for name in type_.fields}
SCHEMA_NAMES = {
    name
    for type_ in SCHEMA.type_map.values()
    if not type_.name.startswith("__")
    and isinstance(type_, GraphQLObjectType | GraphQLInputObjectType)
    for field_name, field in type_.fields.items()
    for name in (field_name, *getattr(field, "args", {}))
}
NOT_SCHEMA_NAMES = {
    "readModelsLag": "a key of a response's extensions (graphql/context.py), not of its data",
}

NAME = r"[_A-Za-z][_0-9A-Za-z]*"
ELLIPSIS = ("…", "...")
OPERATION = re.compile(
    rf"(?:query|mutation|subscription)(?:\s*[({{]|\s+{NAME})|\{{\s*({NAME})|({NAME})\s*[({{]"
)
SIGNATURE = re.compile(rf"({NAME})\(([^()]*)\)")
INPUT_NAMES = re.compile(rf"({NAME})\s*:\s*\{{([^{{}}]*)\}}")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
LOWER_CAMEL = re.compile(r"[a-z][a-z0-9]*[A-Z][0-9A-Za-z]*")


def graphql_in_docs() -> Iterator[Code]:
    """Every fence and code span the convention above checks."""
    for doc in DOCS:
        for found in code(doc):
            if found.info == "graphql" or (found.info is None and kind(found.text)):
                yield found


def kind(span: str) -> str | None:
    """Which rule a code span falls under: operation, signature, name, or None (not GraphQL)."""
    if LOWER_CAMEL.fullmatch(span):
        return "name"
    start = OPERATION.match(span)
    if start is None:
        return None
    in_braces, field = start.groups()
    if in_braces is not None:  # `{ field …`: an anonymous query, or JSON
        return "operation" if ROOT_FIELDS.get(in_braces) == "query" else None
    if field is None:  # it begins with its kind
        return "operation"
    if field not in ROOT_FIELDS:
        return None
    return "signature" if signature(span) is not None else "operation"


def signature(span: str) -> list[tuple[str, list[str]]] | None:
    """A signature's argument names, each with the input fields it names, or None if the
    span is not a signature (something in it has a value)."""
    whole = SIGNATURE.fullmatch(span.strip())
    if whole is None:
        return None
    named: list[tuple[str, list[str]]] = []
    inputs = {m.group(1): m.group(2) for m in INPUT_NAMES.finditer(whole.group(2))}
    rest = INPUT_NAMES.sub(lambda m: m.group(1), whole.group(2))
    for item in (part.strip() for part in re.split(r"[,|]", rest)):
        if item in ELLIPSIS:
            continue
        name = item.removesuffix(":").strip()
        if not re.fullmatch(NAME, name):
            return None
        fields = [f.strip() for f in inputs.get(name, "").split(",") if f.strip()]
        if not all(f in ELLIPSIS or re.fullmatch(NAME, f) for f in fields):
            return None
        named.append((name, [f for f in fields if f not in ELLIPSIS]))
    return named


def problems(found: Code) -> list[str]:
    """What is wrong with a piece of GraphQL in the docs, by the rules above; [] if nothing."""
    if found.info == "graphql":
        return _invalid(found.text)
    rule = kind(found.text)
    if rule == "name":
        if found.text in SCHEMA_NAMES or found.text in NOT_SCHEMA_NAMES:
            return []
        return [f"the schema has no field or argument {found.text}"]
    if rule == "signature":
        return _wrong_names(found.text)
    if rule == "operation":
        outside_strings = STRING.sub('""', found.text)
        if any(e in outside_strings for e in ELLIPSIS):
            return ["`…` is not GraphQL: write the operation whole, or as a signature (names only)"]
        first = re.match(NAME, found.text)
        operation_kind = ROOT_FIELDS.get(first.group(0)) if first else None
        if operation_kind is None:  # it begins with its kind, or is `{ … }`
            return _invalid(found.text)
        return _invalid(f"{operation_kind} {{ {found.text} }}")
    return []


def _invalid(document: str) -> list[str]:
    try:
        parsed = parse(document)
    except GraphQLError as e:
        return [e.message]
    return [e.message for e in validate(SCHEMA, parsed, [*specified_rules, *RULES])]


def _wrong_names(span: str) -> list[str]:
    named = signature(span)
    assert named is not None
    field_name = re.match(NAME, span.strip()).group(0)  # type: ignore[union-attr]
    field = ROOT_TYPES[ROOT_FIELDS[field_name]].fields[field_name]
    wrong: list[str] = []
    for argument, names in named:
        if argument not in field.args:
            wrong.append(f"{field_name} has no argument {argument}")
            continue
        input_type = get_named_type(field.args[argument].type)
        if names and not isinstance(input_type, GraphQLInputObjectType):
            wrong.append(f"{field_name}'s {argument} is not an input object")
            continue
        for name in names:
            if name not in input_type.fields:  # type: ignore[union-attr]
                wrong.append(f"{input_type.name} has no field {name}")
    return wrong


DOCUMENTED = list(graphql_in_docs())


def test_the_docs_show_graphql_of_every_kind() -> None:
    """The extraction finds what the docs hold (a change that found nothing would pass)."""
    kinds = {("fence" if c.info else kind(c.text)) for c in DOCUMENTED}
    assert kinds == {"fence", "operation", "signature", "name"}
    assert len(DOCUMENTED) > 100


@pytest.mark.parametrize("found", DOCUMENTED, ids=lambda c: c.where)
def test_each_operation_in_the_docs_is_valid(found: Code) -> None:
    wrong = problems(found)
    assert not wrong, f"{found}\n  {'; '.join(wrong)}\n(the rules: tests/test_docs_operations.py)"


CHECKED = [
    # (code span, valid?): what the rules admit and refuse, and the drift they catch
    ("me { citizen { enterprises … } }", False),  # a connection, and `…` is not GraphQL
    ("me { citizen { enterprises { edges { node { enterprise { id name } } } } } }", True),
    ("me { citizen { dataAccesses } }", False),  # a connection needs a selection
    ("myScans { edges { node { place scanTime } } }", False),
    ("myScans { edges { node { place scannedAt } } }", True),
    ("scannedAt", True),
    ("scanTime", False),
    ("readModelsLag", True),
    ('presentLicence(input: {licenceId: "<id>", fields: ["credit_code"]}) { payload }', True),
    ("presentLicence(input: {licenceId: <id>, fields: []}) { payload }", False),
    ('presentLicence(input: {licenceId: "<id>", fields: []})', False),  # no selection
    ('scanCityCode(input: {payload: "<code>", place: "1号口"}) { valid }', False),  # purpose
    ('verifyPresentation(input: {payload: "LC1:…", purpose: "入住登记"}) { valid }', True),
    ("cityCode(png: true) { payload expiresAt refreshSeconds png }", True),
    ("subscription { cityCodeRefreshes { payload } }", True),
    ("{ me { role } }", True),
    ("{ me { rank } }", False),
    ("venueScans(purpose)", True),
    ("venueScans(reason)", False),
    ("placeCode(place:)", True),
    ("auditState(subject, purpose, version | at)", True),
    ("reclaimFile(input: {idNumber, name, phone, code})", True),
    ("reclaimFile(input: {idNumber, birthday})", False),
    ("checkIn(placeCode)", False),  # its one argument is `input`
    ("checkIn(input: {placeCode})", True),
    ("reclaimFileInPerson(...)", True),
    ("myLicences(enterpriseId: …)", False),
]


@pytest.mark.parametrize(("span", "valid"), CHECKED)
def test_the_rules_refuse_what_would_not_run(span: str, valid: bool) -> None:
    found = Code(DOCS[0], 0, span)
    assert kind(span) is not None
    assert (problems(found) == []) is valid, problems(found)


@pytest.mark.parametrize(
    "span",
    ['{"status": "ok"}', "{payload, expiresAt}", "files.commit(…)", "Door.enter()", "me", "query"],
)
def test_what_is_not_graphql_is_left_alone(span: str) -> None:
    assert kind(span) is None
