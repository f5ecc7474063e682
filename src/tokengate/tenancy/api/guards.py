"""Permission rules of the tenancy API beyond "may this caller act on this object"."""

from __future__ import annotations

from collections.abc import Collection

from tokengate.auth import access
from tokengate.auth.principal import Level, Principal
from tokengate.deps import SessionDep
from tokengate.errors import NotFound, PermissionDenied
from tokengate.tenancy import service
from tokengate.tenancy.schemas import UserPublic

ADMIN_ROLES = frozenset({"tenant_admin", "system_admin"})


async def require_tenant_admin(session: SessionDep, actor: Principal, tenant_id: int) -> None:
    """Adding to a tenant: its admins only (another tenant's id looks missing); for a system
    administrator the service itself says when the tenant does not exist."""
    if not actor.is_system:
        await access.require_tenant(session, actor, tenant_id, Level.ADMIN)


async def require_colleague(
    session: SessionDep, actor: Principal, user_id: int, tenant_id: int
) -> None:
    """A person named in a body must be of the tenant; to anyone but a system administrator,
    someone of another tenant does not exist."""
    if actor.is_system:
        return
    user = await service.get_user(session=session, user_id=user_id)
    if user.tenant_id != tenant_id:
        raise NotFound(f"user {user_id} does not exist")


def refuse_fields(actor: Principal, given: Collection[str], reserved: Collection[str]) -> None:
    """Refuse a change of fields only system administrators may change."""
    touched = sorted(set(given) & set(reserved))
    if touched and not actor.is_system:
        raise PermissionDenied(
            localized={
                "en": f"only system administrators may change {', '.join(touched)}",
                "ko": f"{', '.join(touched)} 항목은 시스템 관리자만 변경할 수 있습니다.",
            }
        )


def guard_target(actor: Principal, user: UserPublic) -> None:
    """System administrators are changed only by their peers, and tenant administrators by
    administrators, not by team leaders."""
    roles = set(user.roles)
    if "system_admin" in roles and not actor.is_system:
        _deny(
            "only system administrators may change a system administrator",
            "시스템 관리자는 시스템 관리자만 변경할 수 있습니다.",
        )
    if roles & ADMIN_ROLES and not actor.admin_of(user.tenant_id):
        _deny(
            "team leaders may not block or change administrators",
            "팀 리더는 관리자를 차단하거나 변경할 수 없습니다.",
        )


def guard_roles(actor: Principal, before: Collection[str], after: Collection[str]) -> None:
    """Only system administrators grant or take away system_admin."""
    if "system_admin" in set(before) ^ set(after) and not actor.is_system:
        _deny(
            "only system administrators may grant or remove the system_admin role",
            "system_admin 역할은 시스템 관리자만 부여하거나 회수할 수 있습니다.",
        )


def _deny(en: str, ko: str) -> None:
    raise PermissionDenied(localized={"en": en, "ko": ko})
