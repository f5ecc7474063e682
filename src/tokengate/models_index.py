"""Every table of tokengate, gathered so migrations and tests see one metadata."""

from tokengate.audit.models import AuditEvent
from tokengate.auth.models import (
    AuthSession,
    ExternalIdentity,
    Invitation,
    LoginFlow,
    MfaSecret,
    RecoveryCode,
    RefreshToken,
    TenantDomain,
    Throttle,
)
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
    "AuditEvent",
    "AuthSession",
    "ConfigEpoch",
    "Deployment",
    "Exemption",
    "ExternalIdentity",
    "Grant",
    "Invitation",
    "LedgerBucket",
    "LedgerCounter",
    "LedgerReservation",
    "LedgerSettlement",
    "Limit",
    "LoginFlow",
    "MfaSecret",
    "Model",
    "Plan",
    "RecoveryCode",
    "RefreshToken",
    "Relaxation",
    "Team",
    "TeamMembership",
    "Tenant",
    "TenantDomain",
    "Throttle",
    "UsageEvent",
    "UsageHourly",
    "User",
    "metadata",
]
