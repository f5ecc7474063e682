from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from tokengate.errors import InvalidRequest
from tokengate.pagination import BY_ID, PageRequest, Position, Sort, SortedPage, next_cursor


def test_id_cursors_keep_working() -> None:
    page = PageRequest.parse("41", 2)
    assert (page.after, page.limit, page.token) == (41, 2, None)
    assert next_cursor([42, 43], page) == "43"
    assert next_cursor([42], page) is None
    assert SortedPage.of(page).position == Position(41, 41)


def test_sort_parses_a_field_and_a_direction() -> None:
    fields = {"name": str, "created_at": datetime}
    assert Sort.parse(None, fields) == BY_ID
    assert Sort.parse("-name", fields) == Sort("name", descending=True, kind=str)
    assert str(Sort.parse("-id", {})) == "-id"
    with pytest.raises(InvalidRequest, match="use one of created_at, id, name"):
        Sort.parse("email", fields)


@pytest.mark.parametrize("value", ["경제부", 7, datetime(2026, 1, 8, 9, 30, 0, 123456, tzinfo=UTC)])
def test_a_keyset_cursor_comes_back_as_it_went(value: str | int | datetime) -> None:
    sort = Sort("created_at", descending=True, kind=type(value))
    cursor = SortedPage(sort, None, 2).next_cursor(Position(value, 12), 2)
    assert cursor is not None
    again = SortedPage.of(PageRequest.parse(cursor, 2), sort)
    assert again.position == Position(value, 12)


def test_the_last_page_has_no_cursor() -> None:
    assert SortedPage(BY_ID, None, 3).next_cursor(Position(1, 1), 2) is None
    assert SortedPage(BY_ID, None, 3).next_cursor(None, 0) is None


@pytest.mark.parametrize("cursor", ["abc", "W10", "WyJuYW1lIiwgMSwgInR3byJd", "e30", "-1"])
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidRequest, match="cursor"):
        PageRequest.parse(cursor, 10)


def test_a_cursor_of_another_sort_is_refused() -> None:
    cursor = SortedPage(Sort("name"), None, 1).next_cursor(Position("kim", 3), 1)
    page = PageRequest.parse(cursor, 1)
    with pytest.raises(InvalidRequest, match="keep the same sort"):
        SortedPage.of(page, Sort("name", descending=True))
    with pytest.raises(InvalidRequest, match="cursor"):
        SortedPage.of(PageRequest.parse("3", 1), Sort("name"))


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("kim", int),
        (7, str),
        (None, str),
        (True, int),
        (2**64, int),
        ({"at": "2026-01-08T09:30:00"}, datetime),
        ({"at": "yesterday"}, datetime),
        ("2026-01-08T09:30:00+00:00", datetime),
    ],
)
def test_a_cursor_value_of_the_wrong_type_is_refused(value: object, kind: type) -> None:
    raw = json.dumps(["name", value, 3]).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    with pytest.raises(InvalidRequest, match="cursor"):
        SortedPage.of(PageRequest.parse(cursor, 1), Sort("name", kind=kind))


def test_ids_beyond_64_bits_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="cursor"):
        PageRequest.parse(str(2**63), 10)
