from __future__ import annotations

from pydantic import BaseModel


class DemoTenant(BaseModel):
    """A demo newspaper and its plan."""

    id: int
    name: str
    plan: str
    timezone: str


class DemoUser(BaseModel):
    """A demo user with the virtual key just issued to them (shown only here)."""

    id: int
    tenant: str
    email: str
    name: str
    role: str
    team: str
    usage_percent: int
    key: str


class DemoCounts(BaseModel):
    """How many objects this run of the loader created."""

    plans: int = 0
    models: int = 0
    tenants: int = 0
    teams: int = 0
    users: int = 0
    keys: int = 0
    events: int = 0
    hourly_rows: int = 0


class DemoSummary(BaseModel):
    """What load_demo did: whether it created the demo, its tenants and users with keys."""

    created: bool
    tenants: list[DemoTenant]
    users: list[DemoUser]
    counts: DemoCounts
