"""The schema, merged from one module per capability, with the limits of `limits.py`.

A capability adds its `…Queries`, `…Mutations` and `…Subscriptions` types to the tuples
below; its types, inputs, payloads and resolvers stay in its own module.
"""

from __future__ import annotations

from strawberry.tools import merge_types

from mycity.graphql.agent_invitations import AgentInvitationMutations, AgentInvitationQueries
from mycity.graphql.applications import (
    ApplicationMutations,
    ApplicationQueries,
    ApplicationSubscriptions,
)
from mycity.graphql.audit import AuditMutations, AuditQueries
from mycity.graphql.citizens import CitizenMutations, CitizenQueries, CitizenSubscriptions
from mycity.graphql.city_code import CityCodeQueries, CityCodeSubscriptions
from mycity.graphql.credit import CreditMutations, CreditQueries
from mycity.graphql.directory import DirectoryQueries
from mycity.graphql.enterprises import EnterpriseMutations, EnterpriseQueries
from mycity.graphql.health import HealthMutations
from mycity.graphql.licences import LicenceMutations, LicenceQueries
from mycity.graphql.limits import CityRequest, CitySchema
from mycity.graphql.payments import PaymentMutations, PaymentQueries, PaymentSubscriptions
from mycity.graphql.privacy import PrivacyMutations
from mycity.graphql.scans import ScanMutations, ScanQueries
from mycity.graphql.sessions import SessionMutations
from mycity.graphql.viewer import ViewerQueries

Query = merge_types(
    "Query",
    (
        ViewerQueries,
        CitizenQueries,
        EnterpriseQueries,
        AgentInvitationQueries,
        DirectoryQueries,
        AuditQueries,
        ApplicationQueries,
        LicenceQueries,
        CityCodeQueries,
        ScanQueries,
        PaymentQueries,
        CreditQueries,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        SessionMutations,
        CitizenMutations,
        EnterpriseMutations,
        AgentInvitationMutations,
        PrivacyMutations,
        AuditMutations,
        ApplicationMutations,
        LicenceMutations,
        HealthMutations,
        ScanMutations,
        PaymentMutations,
        CreditMutations,
    ),
)
Subscription = merge_types(
    "Subscription",
    (CitizenSubscriptions, ApplicationSubscriptions, CityCodeSubscriptions, PaymentSubscriptions),
)

schema = CitySchema(
    query=Query, mutation=Mutation, subscription=Subscription, extensions=[CityRequest]
)
