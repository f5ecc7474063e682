"""Query parameters the tenancy lists share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from tokengate.ids import MAX_ID

Search = Annotated[
    str | None, Query(max_length=200, description="a fragment of the name (or of the e-mail)")
]
SortParam = Annotated[
    str | None,
    Query(
        max_length=32,
        description="the field to sort by (e.g. name, created_at); a leading '-' reverses it; "
        "ties are broken by id",
    ),
]
IncludeArchived = Annotated[bool, Query(description="list archived ones as well")]
TenantFilter = Annotated[int | None, Query(ge=1, le=MAX_ID, description="only this tenant's")]
# an id in the path; a number no id can have is refused before it reaches the database
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
