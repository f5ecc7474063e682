from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tokengate.ledger.backends.redis_codec import (
    from_micros,
    micros,
    parse_reservation,
    parse_settle,
    text,
)
from tokengate.ledger.types import Charge, ReservedAmount


def test_times_round_trip_through_microseconds() -> None:
    at = datetime(2031, 1, 15, 3, 0, 0, 123456, tzinfo=UTC)
    assert from_micros(micros(at)) == at
    assert micros(timedelta(seconds=2)) == 2_000_000


def test_replies_read_as_text_whether_decoded_or_not() -> None:
    assert [text(b"ok"), text("ok"), text(7)] == ["ok", "ok", "7"]
    with pytest.raises(TypeError):
        text([b"ok"])


def test_a_stored_record_becomes_a_reservation() -> None:
    record = "5|1924959600000000|105|7|1|1,c,1924959600,1927638000,t,b,105,1000,80:100"
    got = parse_reservation("r1", record)
    assert (got.output_tokens, got.charge) == (5, Charge(105, 7, 1))
    start = datetime.fromtimestamp(1924959600, UTC)
    assert got.reserved == (ReservedAmount(1, start, 105),)
    assert got.deadline == start


def test_settle_replies_become_results() -> None:
    assert parse_settle([b"already_settled"]).status == "already_settled"
    assert parse_settle([b"unknown"]).status == "unknown"
    result = parse_settle([b"settled", [[b"1", b"0", b"80", 800, 1000]], [[b"2", b"0", 5]]])
    assert [(c.limit_id, c.threshold, c.used) for c in result.crossed] == [(1, 80, 800)]
    assert [(o.limit_id, o.amount) for o in result.overage] == [(2, 5)]
    with pytest.raises(TypeError):
        parse_settle([b"settled", b"oops", []])
