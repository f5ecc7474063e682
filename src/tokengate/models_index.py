"""Every table of tokengate, gathered so migrations and tests see one metadata."""

from tokengate.catalog.models import Model
from tokengate.db import Base
from tokengate.keys.models import ApiKey
from tokengate.tenancy.models import Plan, Team, TeamMembership, Tenant, User
from tokengate.usage.models import UsageEvent, UsageHourly

metadata = Base.metadata

__all__ = [
    "ApiKey",
    "Model",
    "Plan",
    "Team",
    "TeamMembership",
    "Tenant",
    "UsageEvent",
    "UsageHourly",
    "User",
    "metadata",
]
