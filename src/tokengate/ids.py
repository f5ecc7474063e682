"""Ids as the API accepts them: what the 32-bit integer id columns can hold.

A larger number names nothing; refusing it at the edge (422) keeps it from reaching a
database driver that cannot bind it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
