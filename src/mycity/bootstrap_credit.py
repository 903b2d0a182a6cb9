"""The composition root's part for city credit (`bootstrap.build` calls it): the rules, the
standing other capabilities ask (容缺受理, pay-later, deposit-free), the feeds' and repairs'
use cases, the publication sweep, the reads and the two processes."""

from __future__ import annotations

from dataclasses import dataclass

from mycity.clock import Clock
from mycity.data import load_credit_rules
from mycity.identity.subjects import SubjectIds
from mycity.processes.credit import Scoring
from mycity.processes.publication import Publication
from mycity.processes.tracked import Process
from mycity.projections.public_records import PublicRecordList
from mycity.projections.read_models import ReadModels
from mycity.reads.credit import CreditReads
from mycity.reads.door import Door
from mycity.store.files import CityFiles
from mycity.usecases.credit import Credits
from mycity.usecases.credit_standing import CreditStanding
from mycity.usecases.publication_sweep import PublicationSweep
from mycity.usecases.uploads import Uploads


@dataclass(frozen=True)
class CreditParts:
    credits: Credits
    sweep: PublicationSweep
    reads: CreditReads
    processes: list[Process]


def credit_standing(files: CityFiles) -> CreditStanding:
    return CreditStanding(files, load_credit_rules())


def build_credit(
    files: CityFiles,
    ids: SubjectIds,
    uploads: Uploads,
    door: Door,
    read_models: ReadModels,
    clock: Clock,
) -> CreditParts:
    rules = load_credit_rules()
    credits = Credits(files, ids, rules, uploads, clock.today)
    records = PublicRecordList(read_models.rows("public_records"))
    return CreditParts(
        credits=credits,
        sweep=PublicationSweep(credits=credits, expiring=records.expiring, every_seconds=600.0),
        reads=CreditReads(door, files, rules, records, credits.subject_id),
        processes=[Scoring(rules, clock.timezone), Publication(rules.licensing_months)],
    )
