"""How the teams pages say the tenancy service's refusals, and who may open them."""

from __future__ import annotations

from tokengate.dashboard.forms import N_, say
from tokengate.dashboard.pages.tenants_refusals import Refusal
from tokengate.dashboard.viewer import Viewer
from tokengate.errors import Conflict, InvalidRequest, NotFound, PermissionDenied

HINTS = {
    "name": N_("Enter a team name of up to 200 characters."),
    "description": N_("The description is too long."),
    "tenant_id": N_("Choose the tenant the team belongs to."),
    "owner_user_id": N_("Choose the person responsible for the team."),
    "user_id": N_("Choose a person to add."),
    "role": N_("Choose leader or member as the role."),
    "to_team_id": N_("Choose the team to move to."),
    "successor_user_id": N_("Choose the successor from the list."),
}
ROLE_REFUSED = N_("Your role does not allow this.")
ACCESS = (
    Refusal(NotFound, None, N_("This team does not exist, or it is not yours to see.")),
    Refusal(PermissionDenied, None, ROLE_REFUSED),
)
TENANT_ACCESS = (
    Refusal(NotFound, None, N_("This tenant does not exist, or it is not yours to see.")),
    Refusal(PermissionDenied, None, ROLE_REFUSED),
)
PERSON_ACCESS = (
    Refusal(NotFound, None, N_("This person does not exist, or is not of this tenant.")),
)
TEAM = (
    Refusal(
        Conflict,
        "name",
        N_("The archived team %(name)s keeps its name: rename it first."),
        phrase="archived team",
    ),
    Refusal(Conflict, "name", N_("This tenant already has a team named %(name)s.")),
    Refusal(Conflict, None, N_("%(name)s is already archived."), phrase="already archived"),
    Refusal(Conflict, None, N_("This tenant is archived: no team can be added to it.")),
    Refusal(
        InvalidRequest,
        "owner_user_id",
        N_("The person responsible must be an active person of the team’s tenant."),
    ),
    Refusal(NotFound, None, N_("This tenant does not exist, or it is not yours to see.")),
)
SUCCESSOR = (
    Refusal(
        Conflict,
        "successor_user_id",
        N_(
            "%(name)s is the last leader of %(team)s. Choose a successor who will lead the "
            "team instead."
        ),
        phrase="last leader",
    ),
    Refusal(
        InvalidRequest,
        "successor_user_id",
        N_("A successor is named only when a leader steps down."),
        phrase="only applies",
    ),
    Refusal(
        InvalidRequest,
        "successor_user_id",
        N_("The successor must be someone else."),
        phrase="someone else",
    ),
    Refusal(
        Conflict,
        "successor_user_id",
        N_("The successor must be an active person of the team’s tenant."),
    ),
    Refusal(
        InvalidRequest,
        "successor_user_id",
        N_("The successor must be an active person of the team’s tenant."),
    ),
)
MEMBERS = (
    *SUCCESSOR,
    Refusal(Conflict, "user_id", N_("%(name)s is already in %(team)s."), phrase="already in"),
    Refusal(Conflict, "user_id", N_("%(name)s is archived and cannot join a team.")),
    Refusal(InvalidRequest, "user_id", N_("%(name)s is not a person of this team’s tenant.")),
    Refusal(Conflict, None, N_("%(name)s already has this role."), phrase="is already a"),
    Refusal(
        InvalidRequest,
        "to_team_id",
        N_("Choose another team to move to."),
        phrase="already in this team",
    ),
    Refusal(InvalidRequest, "to_team_id", N_("A member moves only between teams of one tenant.")),
    Refusal(Conflict, "to_team_id", N_("%(name)s is already in %(target)s.")),
    Refusal(
        Conflict,
        None,
        N_("%(target)s is archived: its members and roles no longer change."),
        phrase="archived",
    ),
    Refusal(NotFound, None, N_("%(name)s is not a member of %(team)s.")),
)


def require_leader(viewer: Viewer) -> None:
    """The teams pages are for administrators and team leaders."""
    if not viewer.is_leader:
        raise PermissionDenied(
            localized=say(N_("Only administrators and team leaders can open this page."))
        )
