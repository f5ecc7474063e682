"""Who is calling and what they may reach: roles, levels and the one permission rule.

Pure: no database, no HTTP. ``auth/access.py`` finds the owner of an object and asks here.

Roles (a user with several gets the union):
    system_admin   everything, every tenant
    tenant_admin   everything inside their own tenant
    team_leader    the teams they lead: their members, memberships and personal limits
    member         themself: their usage, keys and settings

Being named leader of a team makes a user a team leader of that team, whatever their roles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal

from tokengate.errors import NotFound, PermissionDenied

Role = Literal["system_admin", "tenant_admin", "team_leader", "member"]
ROLES: tuple[Role, ...] = ("system_admin", "tenant_admin", "team_leader", "member")
MASTER_KEY_ACTOR = "master-key"
Shared = Literal["none", "team", "tenant", "all"]


class Level(IntEnum):
    """What an action needs, from least to most."""

    READ = 0  # see the object
    SELF = 1  # act on one's own things (keys, MFA, settings)
    LEAD = 2  # act on the members of a team one leads
    ADMIN = 3  # act anywhere inside one's tenant
    SYSTEM = 4  # act on system-wide things (plans, models, tenants)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of an admin request, read afresh on every request (role changes apply at
    once)."""

    user_id: int | None
    label: str
    tenant_id: int | None
    roles: frozenset[str]
    led_team_ids: frozenset[int] = field(default_factory=frozenset)
    member_team_ids: frozenset[int] = field(default_factory=frozenset)
    # the members of the teams they lead, themself excluded: nobody leads themself
    led_user_ids: frozenset[int] = field(default_factory=frozenset)
    ip: str | None = None

    @classmethod
    def master(cls, ip: str | None = None) -> Principal:
        """The bootstrap credential (``TOKENGATE_MASTER_KEY``): a system administrator."""
        return cls(
            user_id=None,
            label=MASTER_KEY_ACTOR,
            tenant_id=None,
            roles=frozenset({"system_admin"}),
            ip=ip,
        )

    @property
    def is_system(self) -> bool:
        return "system_admin" in self.roles

    def admin_of(self, tenant_id: int | None) -> bool:
        """Whether they administer this tenant."""
        if self.is_system:
            return True
        return (
            tenant_id is not None and tenant_id == self.tenant_id and "tenant_admin" in self.roles
        )

    def reach(self) -> Reach:
        """What their lists show."""
        if self.is_system:
            return Reach(tenant_id=None, team_ids=None, user_ids=None)
        if "tenant_admin" in self.roles:
            return Reach(tenant_id=self.tenant_id, team_ids=None, user_ids=None)
        own = frozenset({self.user_id}) if self.user_id is not None else frozenset()
        return Reach(
            tenant_id=self.tenant_id,
            team_ids=self.led_team_ids | self.member_team_ids,
            user_ids=self.led_user_ids | own,
        )


@dataclass(frozen=True, slots=True)
class Reach:
    """The rows a caller's lists may show; ``None`` means unrestricted."""

    tenant_id: int | None
    team_ids: frozenset[int] | None
    user_ids: frozenset[int] | None

    @property
    def everything(self) -> bool:
        return self.tenant_id is None and self.team_ids is None and self.user_ids is None


@dataclass(frozen=True, slots=True)
class Owner:
    """Whom an object belongs to: its tenant (None: system-wide), teams and person."""

    tenant_id: int | None
    team_ids: frozenset[int] = field(default_factory=frozenset)
    user_id: int | None = None
    # who else may read it: members of its teams, everyone of its tenant, or everyone
    shared: Shared = "none"


def can_see(actor: Principal, owner: Owner) -> bool:
    """Whether the object exists as far as this caller can tell."""
    if actor.is_system:
        return True
    if owner.tenant_id is None:
        return owner.shared == "all"
    if owner.tenant_id != actor.tenant_id:
        return False
    if "tenant_admin" in actor.roles or owner.shared in ("tenant", "all"):
        return True
    if owner.user_id is not None and (
        owner.user_id == actor.user_id or owner.user_id in actor.led_user_ids
    ):
        return True
    if owner.team_ids & actor.led_team_ids:
        return True
    return owner.shared == "team" and bool(owner.team_ids & actor.member_team_ids)


def allows(actor: Principal, owner: Owner, level: Level) -> bool:
    """Whether the caller may act on the object at this level."""
    if level is Level.READ:
        return can_see(actor, owner)
    if level is Level.SYSTEM or owner.tenant_id is None:
        return actor.is_system
    if actor.admin_of(owner.tenant_id):
        return True
    if level is Level.ADMIN or owner.tenant_id != actor.tenant_id:
        return False
    leads = bool(owner.team_ids & actor.led_team_ids) or owner.user_id in actor.led_user_ids
    if leads:
        return True
    return level is Level.SELF and owner.user_id is not None and owner.user_id == actor.user_id


def require(actor: Principal, owner: Owner | None, level: Level, what: str) -> None:
    """Raise NotFound when the caller cannot see the object (or it does not exist), and
    PermissionDenied when they see it but their roles do not allow the action."""
    if owner is None or not can_see(actor, owner):
        raise NotFound(f"{what} does not exist")
    if not allows(actor, owner, level):
        raise PermissionDenied(
            localized={
                "en": f"your roles do not allow this on {what}",
                "ko": f"{what}에 대한 이 작업 권한이 없습니다.",
            }
        )


def tenant_filter(actor: Principal, requested: int | None) -> int | None:
    """The tenant a list is restricted to: the one asked for, within the caller's reach."""
    reach = actor.reach()
    if reach.tenant_id is None:
        return requested
    if requested is not None and requested != reach.tenant_id:
        raise NotFound(f"tenant {requested} does not exist")
    return reach.tenant_id


def admin_tenant_filter(actor: Principal, requested: int | None, what: str) -> int | None:
    """The tenant an admin-only list is restricted to; PermissionDenied for everyone else."""
    tenant = tenant_filter(actor, requested)
    require(actor, Owner(tenant_id=tenant, shared="all"), Level.ADMIN, what)
    return tenant
