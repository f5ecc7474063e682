"""Tenancy's business rules: plans, tenants, teams, their members and users.

The one surface the admin API, the dashboard, jobs and other domains call.
"""

from tokengate.tenancy.service.members import (
    add_team_member,
    get_team_member,
    is_team_member,
    list_member_ids,
    list_team_ids_of_user,
    list_team_members,
    move_team_member,
    remove_team_member,
    update_team_member,
)
from tokengate.tenancy.service.plans import (
    archive_plan,
    create_plan,
    get_plan,
    list_plans,
    update_plan,
)
from tokengate.tenancy.service.profiles import get_member_profile, list_tenant_user_ids
from tokengate.tenancy.service.teams import (
    archive_team,
    create_team,
    get_team,
    list_teams,
    update_team,
)
from tokengate.tenancy.service.tenants import (
    archive_tenant,
    create_tenant,
    get_tenant,
    list_tenants,
    update_tenant,
)
from tokengate.tenancy.service.users import (
    archive_user,
    block_user,
    create_user,
    ensure_system_admin,
    get_user,
    list_users,
    set_password,
    set_user_blocked,
    unblock_user,
    update_user,
)

__all__ = [
    "add_team_member",
    "archive_plan",
    "archive_team",
    "archive_tenant",
    "archive_user",
    "block_user",
    "create_plan",
    "create_team",
    "create_tenant",
    "create_user",
    "ensure_system_admin",
    "get_member_profile",
    "get_plan",
    "get_team",
    "get_team_member",
    "get_tenant",
    "get_user",
    "is_team_member",
    "list_member_ids",
    "list_plans",
    "list_team_ids_of_user",
    "list_team_members",
    "list_teams",
    "list_tenant_user_ids",
    "list_tenants",
    "list_users",
    "move_team_member",
    "remove_team_member",
    "set_password",
    "set_user_blocked",
    "unblock_user",
    "update_plan",
    "update_team",
    "update_team_member",
    "update_tenant",
    "update_user",
]
