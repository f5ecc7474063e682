"""Cursor pagination shared by every list endpoint: ``{"items": [...], "next": cursor|null}``.

Lists ordered by id pass the last item's id as the cursor. Sorted lists (``?sort=name``,
``?sort=-created_at``) pass an opaque keyset cursor instead: the sort, the last item's sort value
and its id (the tie-breaker), so the next page starts right after that item however many rows
were added or removed in between. A store applies the order with ``apply_keyset``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

import orjson
from pydantic import BaseModel
from sqlalchemy import Select, SQLColumnExpression, and_, or_

from tokengate.errors import InvalidRequest
from tokengate.ids import MAX_ID

T = TypeVar("T")
Q = TypeVar("Q", bound=Select[*tuple[object, ...]])
MAX_PAGE_SIZE = 500
# the largest integer a sort value may be: what a 64-bit column holds
MAX_INTEGER = 2**63 - 1
# what a sort value may be; a cursor carries it as JSON (a datetime as tagged ISO 8601 text)
Scalar = str | int | float | bool | None
SortValue = Scalar | datetime


@dataclass(frozen=True)
class PageRequest:
    """Which page to read: at most ``limit`` items after the cursor.

    ``after`` is an id cursor (lists ordered by id); ``token`` an opaque keyset cursor (sorted
    lists), read with ``read_position``.
    """

    after: int | None = None
    limit: int = 50
    token: str | None = None

    @classmethod
    def parse(cls, cursor: str | None, limit: int) -> PageRequest:
        """Build a page request from query parameters, rejecting a bad cursor or size."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE_SIZE}", param="limit")
        if cursor is None or cursor == "":
            return cls(None, limit)
        if cursor.isdigit():
            if not _fits_id(int(cursor)):
                raise _bad_cursor()
            return cls(int(cursor), limit)
        _decode(cursor)
        return cls(None, limit, cursor)


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    next: str | None


def next_cursor(ids: list[int], page: PageRequest) -> str | None:
    """Return the cursor of the page after these ids, or None on the last page."""
    return str(ids[-1]) if len(ids) == page.limit and ids else None


@dataclass(frozen=True)
class Sort:
    """A list's order: one field, ascending or descending, with the id as tie-breaker."""

    field: str = "id"
    descending: bool = False
    # the type of the field's values, which a cursor's value must have
    kind: type = int

    @classmethod
    def parse(cls, raw: str | None, allowed: Mapping[str, type]) -> Sort:
        """Read ``?sort=name`` or ``?sort=-name`` among the allowed fields (name: value type);
        ``id`` is always allowed and the default."""
        if raw is None or raw == "":
            return cls()
        field = raw.removeprefix("-")
        if field != "id" and field not in allowed:
            choices = ", ".join(sorted({"id", *allowed}))
            raise InvalidRequest(
                f"cannot sort by {field!r}: use one of {choices}, with a leading '-' to reverse",
                param="sort",
            )
        return cls(field, raw.startswith("-"), allowed.get(field, int))

    def __str__(self) -> str:
        return f"-{self.field}" if self.descending else self.field


# the order of a list that was not asked for another one
BY_ID = Sort()


@dataclass(frozen=True)
class Position:
    """Where a sorted page starts: right after the item with this sort value and id."""

    value: SortValue
    id: int


@dataclass(frozen=True)
class SortedPage:
    """One page of a sorted list: its order, the position it starts after, its size."""

    sort: Sort
    position: Position | None
    limit: int

    @classmethod
    def of(cls, page: PageRequest, sort: Sort = BY_ID) -> SortedPage:
        """Read the page request's cursor, which must belong to this sort."""
        return cls(sort, _read_position(page, sort), page.limit)

    def next_cursor(self, last: Position | None, count: int) -> str | None:
        """The cursor of the page after ``count`` items ending at ``last`` (None: no more)."""
        if last is None or count < self.limit:
            return None
        # a datetime travels tagged, to come back as a datetime rather than text
        value = {"at": last.value.isoformat()} if isinstance(last.value, datetime) else last.value
        raw = orjson.dumps([str(self.sort), value, last.id])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_position(page: PageRequest, sort: Sort) -> Position | None:
    if page.token is not None:
        order, value, last_id = _decode(page.token)
        if order != str(sort):
            raise InvalidRequest(
                f"this cursor belongs to the order {order!r}, not {str(sort)!r}: "
                "keep the same sort while paging",
                param="cursor",
            )
        if not _fits(value, sort.kind):
            raise _bad_cursor()
        return Position(value, last_id)
    if page.after is None:
        return None
    if sort != BY_ID:
        raise _bad_cursor()
    return Position(page.after, page.after)


def apply_keyset(
    query: Q,
    *,
    key: SQLColumnExpression[SortValue],
    id_column: SQLColumnExpression[int],
    page: SortedPage,
) -> Q:
    """Order the query by ``key`` then id, start after the page's position, take its size.

    ``key`` must not be NULL in any row (a NULL never compares, so the page would skip it).
    """
    if page.position is not None:
        value, last = page.position.value, page.position.id
        if page.sort.descending:
            query = query.where(or_(key < value, and_(key == value, id_column < last)))
        else:
            query = query.where(or_(key > value, and_(key == value, id_column > last)))
    if page.sort.descending:
        return query.order_by(key.desc(), id_column.desc()).limit(page.limit)
    return query.order_by(key, id_column).limit(page.limit)


def _decode(token: str) -> tuple[str, SortValue, int]:
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        order, value, last_id = raw
        if isinstance(value, dict):
            value = datetime.fromisoformat(value["at"])
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise _bad_cursor() from None
    if (
        not isinstance(order, str)
        or isinstance(value, list)
        or type(last_id) is not int
        or not _fits_id(last_id)
    ):
        raise _bad_cursor()
    return order, value, last_id


def _fits(value: SortValue, kind: type) -> bool:
    # a value of another type would reach the database as a comparison it cannot make
    if isinstance(value, bool) or value is None:
        return kind is type(value)
    if isinstance(value, datetime):
        return kind is datetime and value.tzinfo is not None
    if isinstance(value, int):
        return kind is int and 0 <= value <= MAX_INTEGER
    return isinstance(value, kind)


def _fits_id(value: int) -> bool:
    # an id cursor is compared with 32-bit id columns, which cannot bind a larger number
    return 0 <= value <= MAX_ID


def _bad_cursor() -> InvalidRequest:
    return InvalidRequest("cursor is not one this API returned", param="cursor")
