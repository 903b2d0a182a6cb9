"""The feeds behind the city code: the health authority sets citizens' health statuses (健康码
colours), one by one or imported in bulk; institutions link and unlink citizens' cards.

Each citizen's status and cards are kept in their `CodeHolder`, opened on first use. An
import is judged row by row: a row that fails is reported with its line and the others are
applied, so a feed fixes its bad rows and sends the whole file again; rows already in force
record nothing, so a re-run of the same file changes nothing.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from mycity.domain.application import reason_text
from mycity.domain.citizen import Citizen
from mycity.domain.code_holder import (
    CardKind,
    CodeHolder,
    Colour,
    code_holder_id,
    parse_card_kind,
    parse_colour,
    parse_validity,
)
from mycity.domain.errors import ErrorCode, UserError, checked
from mycity.domain.identifiers import validate_resident_id
from mycity.domain.personal import Retention
from mycity.identity.principal import Principal
from mycity.identity.subjects import SubjectIds
from mycity.policy import health as policy
from mycity.store.files import CityFiles
from mycity.store.seals import key_id

Format = Literal["csv", "json"]
COLUMNS = ("id_number", "colour", "reason", "valid_until")
CHUNK = 200  # citizens whose new statuses an import commits in one transaction


@dataclass(frozen=True)
class HolderView:
    """What the city code shows of a citizen now."""

    citizen: UUID
    colour: Colour
    reason: str  # "" for the rule's default
    valid_until: datetime | None  # None: until changed
    cards: Mapping[CardKind, str]


@dataclass(frozen=True)
class RowFailure:
    line: int  # in the file, from 1
    code: ErrorCode
    message: str
    field: str | None = None


@dataclass(frozen=True)
class ImportReport:
    changed: int  # rows that set a new status
    unchanged: int  # rows already in force (or repeating an earlier line)
    failures: tuple[RowFailure, ...]
    position: int  # the log's position after the import


@dataclass(frozen=True)
class Row:
    """A row as read, before its values are checked."""

    line: int
    values: Mapping[str, str]


@dataclass(frozen=True)
class _Status:
    line: int
    citizen: UUID
    colour: Colour
    reason: str
    valid_until: datetime | None

    @property
    def value(self) -> tuple[Colour, str, datetime | None]:
        return self.colour, self.reason, self.valid_until


@dataclass(frozen=True)
class HealthFeeds:
    files: CityFiles
    ids: SubjectIds
    clock: Callable[[], float]

    def set_status(
        self,
        actor: Principal,
        id_number: str,
        colour: str,
        reason: str,
        valid_until: datetime | None,
    ) -> int:
        """Set one citizen's colour until `valid_until` (None: until changed)."""
        by = policy.health_authority(actor)
        citizen = self._citizen(id_number)
        now = self._now()
        return self._update(
            citizen,
            lambda h: h.set_health_status(
                colour=colour, reason=reason, valid_until=valid_until, now=now, by=by
            ),
        )

    def import_statuses(self, actor: Principal, text: str, fmt: Format) -> ImportReport:
        """Apply every valid row; report each other one by its line."""
        by = policy.health_authority(actor)
        rows, failures = read_csv(text) if fmt == "csv" else read_json(text)
        statuses, repeated = self._statuses(rows, failures)
        now, changed, unchanged, position = self._now(), 0, repeated, self.files.head()
        for start in range(0, len(statuses), CHUNK):
            chunk = statuses[start : start + CHUNK]
            done, refused, position = self._apply(chunk, by, now)
            changed += done
            unchanged += len(chunk) - done - len(refused)
            failures += refused
        failures.sort(key=lambda f: f.line)
        return ImportReport(changed, unchanged, tuple(failures), position)

    def link_card(self, actor: Principal, id_number: str, kind: str, number: str) -> int:
        card = parse_card_kind(kind)
        by = policy.card_issuer(actor, card)
        citizen = self._citizen(id_number)
        return self._update(citizen, lambda h: h.link_card(kind=card, number=number, by=by))

    def unlink_card(self, actor: Principal, id_number: str, kind: str, reason: str) -> int:
        card = parse_card_kind(kind)
        by = policy.card_issuer(actor, card)
        citizen = self._citizen(id_number)
        return self._update(citizen, lambda h: h.unlink_card(kind=card, by=by, reason=reason))

    def current(self, citizen_id: UUID) -> HolderView | None:
        """The citizen's colour now and their cards; None when they have no holder yet
        (the default applies), or their data was erased."""
        holder = self.holder(code_holder_id(citizen_id))
        if holder is None or holder.citizen != citizen_id:
            return None
        return self._view(holder)

    def holder(self, holder_id: UUID) -> CodeHolder | None:
        """The holder of that id, if there is one and its citizen was not erased."""
        try:
            return self.live(self.files.read(CodeHolder, holder_id))
        except UserError:
            return None

    def live(self, holder: CodeHolder | None) -> CodeHolder | None:
        """The holder, if its citizen was not erased: a holder cached in this process still
        holds what it decoded before their key was shredded, so the key is asked too."""
        if (
            holder is None
            or holder.erased
            or not self.files.vault.can_seal(key_id(holder.citizen, Retention.SERVICE_ACTIVITY))
        ):
            return None
        return holder

    def for_code(self, citizen_id: UUID) -> HolderView:
        """What the citizen's code shows, opening their holder on their first code (a scan
        finds the citizen through it); CODE_UNAVAILABLE in the one case where another
        citizen's holder has their subject number, FILE_ERASED once they were erased."""
        if not self.files.vault.can_seal(key_id(citizen_id, Retention.SERVICE_ACTIVITY)):
            raise UserError(ErrorCode.FILE_ERASED, "This person's data was erased")
        try:
            holder = self.files.read(CodeHolder, code_holder_id(citizen_id))
        except UserError:
            try:
                self.files.commit(holder := CodeHolder.open(citizen_id))
            except IntegrityError:  # opened meanwhile: by a feed, or the app asking twice
                holder = self.files.read(CodeHolder, code_holder_id(citizen_id))
        if holder.citizen != citizen_id:
            raise UserError(
                ErrorCode.CODE_UNAVAILABLE,
                "Your city code cannot be issued yet; the city's service desk can help",
            )
        holder.require_live()
        return self._view(holder)

    def _view(self, holder: CodeHolder) -> HolderView:
        status = holder.status(self._now())
        return HolderView(
            holder.citizen, status.colour, status.reason, status.valid_until, dict(holder.linked)
        )

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _citizen(self, id_number: str, field: str = "idNumber") -> UUID:
        """The file id of a live citizen (NOT_FOUND, FILE_ERASED otherwise)."""
        citizen_id = self.ids.citizen(checked(field, validate_resident_id, id_number.strip()))
        self.files.read(Citizen, citizen_id, field).require_live()
        return citizen_id

    def _status(self, row: Row) -> _Status:
        """A row's values, checked; whether it is in force yet is the holder's to say."""
        return _Status(
            row.line,
            self._citizen(row.values["id_number"], "id_number"),
            parse_colour(row.values["colour"]),
            reason_text(row.values["reason"]),
            parse_validity(row.values["valid_until"], "valid_until"),
        )

    def _statuses(self, rows: list[Row], failures: list[RowFailure]) -> tuple[list[_Status], int]:
        """The rows' checked statuses, one per citizen, and how many rows repeated an
        earlier one; a failing row, or one giving a citizen another status than an earlier
        line, is added to the failures."""
        statuses: dict[UUID, _Status] = {}
        repeated = 0
        for row in rows:
            try:
                status = self._status(row)
            except UserError as e:
                failures.append(RowFailure(row.line, e.code, e.message, e.field))
                continue
            earlier = statuses.setdefault(status.citizen, status)
            if earlier is status:
                continue
            if earlier.value == status.value:
                repeated += 1
            else:
                message = f"Line {earlier.line} gives this citizen another status"
                failures.append(
                    RowFailure(row.line, ErrorCode.INVALID_ARGUMENT, message, "id_number")
                )
        return list(statuses.values()), repeated

    def _holder(self, citizen: UUID) -> CodeHolder:
        """The citizen's holder, to command; a new one on first use (two feeds opening it
        at once collide in the store, and the loser's retry finds the winner's)."""
        try:
            return self.files.get(CodeHolder, code_holder_id(citizen))
        except UserError:
            return CodeHolder.open(citizen)

    def _update(self, citizen: UUID, command: Callable[[CodeHolder], object]) -> int:
        def attempt() -> int:
            holder = self._holder(citizen)
            command(holder)
            return self.files.commit(holder)

        return self.files.retrying(attempt)

    def _apply(
        self, statuses: list[_Status], by: str, now: datetime
    ) -> tuple[int, list[RowFailure], int]:
        """Set each status on its holder and commit the changed holders together: how
        many changed, the rows their holders refused, the log's position."""

        def attempt() -> tuple[int, list[RowFailure], int]:
            changed: list[CodeHolder] = []
            refused: list[RowFailure] = []
            for status in statuses:
                holder = self._holder(status.citizen)
                before = holder.version
                try:
                    holder.set_health_status(
                        colour=status.colour,
                        reason=status.reason,
                        valid_until=status.valid_until,
                        now=now,
                        by=by,
                        source_ref=f"line {status.line}",
                    )
                except UserError as e:
                    refused.append(RowFailure(status.line, e.code, e.message, e.field))
                    continue
                if holder.version > before:
                    changed.append(holder)
            return len(changed), refused, self.files.commit(*changed)

        return self.files.retrying(attempt)


def read_csv(text: str) -> tuple[list[Row], list[RowFailure]]:
    """Rows under a header naming the columns (in any order); blank lines are skipped."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    rows: list[Row] = []
    failures: list[RowFailure] = []
    header: list[str] | None = None
    line = 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in cells]
                if missing := [c for c in COLUMNS if c not in header]:
                    return [], [_unreadable(start, f"The header lacks {', '.join(missing)}")]
            elif len(cells) != len(header):
                failures.append(_unreadable(start, f"{len(cells)} fields, not {len(header)}"))
            else:
                rows.append(Row(start, dict(zip(header, cells, strict=True))))
    except csv.Error as e:  # nothing after it can be read reliably
        failures.append(_unreadable(line, f"Unreadable CSV: {e}"))
    return rows, failures


_SPACE = re.compile(r"[ \t\n\r]*")


def read_json(text: str) -> tuple[list[Row], list[RowFailure]]:
    """An array of objects with the columns as keys (`valid_until` may be left out)."""
    newlines = [m.start() for m in re.finditer("\n", text)]

    def line_at(offset: int) -> int:
        return bisect.bisect_left(newlines, offset) + 1

    def skip(offset: int) -> int:
        return _SPACE.match(text, offset).end()  # type: ignore[union-attr]  # matches ""

    at = skip(0)
    if not text.startswith("[", at):
        return [], [_unreadable(line_at(at), "Give a JSON array of objects")]
    rows: list[Row] = []
    failures: list[RowFailure] = []
    decoder = json.JSONDecoder()
    at = skip(at + 1)
    while not text.startswith("]", at):
        line = line_at(at)
        try:
            item, at = decoder.raw_decode(text, at)
        except (ValueError, RecursionError) as e:  # a decode error, a number too long, nesting
            failures.append(_unreadable(line, f"Unreadable JSON: {e}"))
            return rows, failures
        row = _json_row(line, item)
        if isinstance(row, Row):
            rows.append(row)
        else:
            failures.append(row)
        at = skip(at)
        if text.startswith(",", at):
            at = skip(at + 1)
        elif not text.startswith("]", at):
            failures.append(_unreadable(line_at(at), "Expected , or ] after the object"))
            return rows, failures
    if skip(at + 1) != len(text):
        failures.append(_unreadable(line_at(skip(at + 1)), "Nothing may follow the array"))
    return rows, failures


def _json_row(line: int, item: Any) -> Row | RowFailure:
    if not isinstance(item, dict):
        return _unreadable(line, "Each row is an object")
    values = {"valid_until": ""} | {k: v for k, v in item.items() if v is not None}
    if missing := [c for c in COLUMNS if c not in values]:
        return _unreadable(line, f"The row lacks {', '.join(missing)}")
    if not all(isinstance(values[c], str) for c in COLUMNS):
        return _unreadable(line, f"Give {', '.join(COLUMNS)} as strings")
    return Row(line, {c: values[c] for c in COLUMNS})


def _unreadable(line: int, message: str) -> RowFailure:
    return RowFailure(line, ErrorCode.INVALID_ARGUMENT, message)
