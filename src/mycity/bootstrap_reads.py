"""The composition root's part for reads (`bootstrap.build` calls it): every read of
personal data, by capability, each through the one door, over its read models' readers."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from mycity.projections.agent_invitations import Invitations
from mycity.projections.citizen_profile import CitizenProfiles
from mycity.projections.data_access import DataAccesses
from mycity.projections.directory import DirectoryEntries
from mycity.projections.enterprise_profile import EnterpriseProfiles
from mycity.projections.read_models import ReadModels
from mycity.projections.scan_log import ScanLogs
from mycity.projections.subject_history import SubjectHistories
from mycity.reads.access import AccessReads
from mycity.reads.applications import ApplicationReads
from mycity.reads.audit import AuditReads
from mycity.reads.citizens import CitizenReads
from mycity.reads.credit import CreditReads
from mycity.reads.directory import DirectoryReads
from mycity.reads.door import Door
from mycity.reads.enterprises import EnterpriseReads
from mycity.reads.licences import LicenceReads
from mycity.reads.payments import PaymentReads
from mycity.reads.scans import ScanReads
from mycity.store.files import CityFiles


@dataclass(frozen=True)
class Reads:
    """Every read of personal data, by capability, through `door`."""

    door: Door
    citizens: CitizenReads
    enterprises: EnterpriseReads
    directory: DirectoryReads
    access: AccessReads
    audit: AuditReads
    applications: ApplicationReads
    licences: LicenceReads
    scans: ScanReads
    payments: PaymentReads
    credit: CreditReads

    def parties(self, file_id: UUID) -> list[UUID]:
        """Whose behalf a file is kept on, for their live changes: an application's
        applicants, a payee's book's payee (the file looked up once for both)."""
        found = self.door.files.find(file_id)
        return [*self.applications.parties(found), *self.payments.parties(found)]


def build_reads(
    door: Door,
    files: CityFiles,
    read_models: ReadModels,
    applications: ApplicationReads,
    licences: LicenceReads,
    payments: PaymentReads,
    credit: CreditReads,
) -> Reads:
    rows = read_models.rows
    citizen_profiles = CitizenProfiles(rows("citizen_profile"))
    return Reads(
        door=door,
        citizens=CitizenReads(door, files, citizen_profiles),
        enterprises=EnterpriseReads(
            door,
            EnterpriseProfiles(rows("enterprise_profile")),
            citizen_profiles,
            Invitations(rows("agent_invitations")),
        ),
        directory=DirectoryReads(door, DirectoryEntries(rows("directory"))),
        access=AccessReads(door, DataAccesses(rows("data_access"))),
        audit=AuditReads(door, files, SubjectHistories(rows("subject_history")), read_models),
        applications=applications,
        licences=licences,
        scans=ScanReads(door, files, ScanLogs(rows("scan_log"))),
        payments=payments,
        credit=credit,
    )
