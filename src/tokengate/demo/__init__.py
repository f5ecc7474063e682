"""The demo scenario of the seed: five newspapers, fifteen journalists, 90 days of usage."""

from tokengate.demo.data import (
    MODELS,
    PLANS,
    TENANTS,
    USERS,
    ModelSpec,
    PlanSpec,
    TenantSpec,
    UserSpec,
)
from tokengate.demo.loader import load_demo
from tokengate.demo.schemas import DemoCounts, DemoSummary, DemoTenant, DemoUser

__all__ = [
    "MODELS",
    "PLANS",
    "TENANTS",
    "USERS",
    "DemoCounts",
    "DemoSummary",
    "DemoTenant",
    "DemoUser",
    "ModelSpec",
    "PlanSpec",
    "TenantSpec",
    "UserSpec",
    "load_demo",
]
