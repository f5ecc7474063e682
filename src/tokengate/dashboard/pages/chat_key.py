"""The key the chat page talks through: one per person, issued on their first message.

It is an ordinary virtual key of theirs (listed with their keys, revocable, blockable, its usage
theirs like any other); its secret is never shown, because the server names the key by id.
"""

from __future__ import annotations

from datetime import datetime

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.principal import Level
from tokengate.dashboard.viewer import Viewer
from tokengate.db import utcnow
from tokengate.keys import service as keys
from tokengate.keys.schemas import KeyCreate, KeyPublic
from tokengate.pagination import PageRequest
from tokengate.runtime import Runtime

CHAT_KEY_NAME = "dashboard chat"
_PAGE = 500


async def chat_key_id(runtime: Runtime, viewer: Viewer) -> int:
    """The id of the viewer's chat key, issued (and audited, as ``POST /api/v1/keys``) when
    they have none that still works; committed at once so the gateway sees it."""
    async with runtime.sessions() as session, session.begin():
        after: int | None = None
        while True:
            listed = await keys.list_keys(
                session=session,
                tenant_id=viewer.tenant_id,
                user_id=viewer.user_id,
                page=PageRequest(after=after, limit=_PAGE),
            )
            # a blocked one counts: the gateway then says so rather than a new key appearing
            found = next((k for k in listed.items if _usable(k, utcnow())), None)
            if found is not None:
                return found.id
            if listed.next is None:
                break
            after = listed.items[-1].id
        await access.require_user(session, viewer.actor, viewer.user_id, Level.SELF)
        issued = await keys.issue_key(
            session=session, data=KeyCreate(user_id=viewer.user_id, name=CHAT_KEY_NAME)
        )
        await audit.record(
            session,
            viewer.actor,
            "key.create",
            target_type="key",
            target_id=issued.id,
            tenant_id=issued.tenant_id,
            after=KeyPublic.model_validate(issued.model_dump(exclude={"key"})),
        )
        return issued.id


def _usable(key: KeyPublic, now: datetime) -> bool:
    return (
        key.name == CHAT_KEY_NAME
        and key.status != "revoked"
        and (key.expires_at is None or key.expires_at > now)
    )
