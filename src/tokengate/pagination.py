"""Cursor pagination shared by every list endpoint: ``{"items": [...], "next": cursor|null}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from tokengate.errors import InvalidRequest

T = TypeVar("T")
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class PageRequest:
    """Which page to read: items after the cursor (an id), at most ``limit`` of them."""

    after: int | None = None
    limit: int = 50

    @classmethod
    def parse(cls, cursor: str | None, limit: int) -> PageRequest:
        """Build a page request from query parameters, rejecting a bad cursor or size."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE_SIZE}", param="limit")
        if cursor is None or cursor == "":
            return cls(None, limit)
        if not cursor.isdigit():
            raise InvalidRequest("cursor is not one this API returned", param="cursor")
        return cls(int(cursor), limit)


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    next: str | None


def next_cursor(ids: list[int], page: PageRequest) -> str | None:
    """Return the cursor of the page after these ids, or None on the last page."""
    return str(ids[-1]) if len(ids) == page.limit and ids else None
