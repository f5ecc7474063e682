"""Every table of tokengate, gathered so migrations and tests see one metadata."""

from tokengate.catalog.models import Deployment, Model
from tokengate.config_epoch import ConfigEpoch
from tokengate.db import Base
from tokengate.keys.models import ApiKey
from tokengate.ledger.models import LedgerBucket, LedgerCounter, LedgerReservation, LedgerSettlement
from tokengate.quotas.models import Exemption, Grant, Limit, Relaxation
from tokengate.tenancy.models import Plan, Team, TeamMembership, Tenant, User
from tokengate.usage.models import UsageEvent, UsageHourly

metadata = Base.metadata

__all__ = [
    "ApiKey",
    "ConfigEpoch",
    "Deployment",
    "Exemption",
    "Grant",
    "LedgerBucket",
    "LedgerCounter",
    "LedgerReservation",
    "LedgerSettlement",
    "Limit",
    "Model",
    "Plan",
    "Relaxation",
    "Team",
    "TeamMembership",
    "Tenant",
    "UsageEvent",
    "UsageHourly",
    "User",
    "metadata",
]
