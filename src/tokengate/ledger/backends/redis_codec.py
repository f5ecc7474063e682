"""Key names, script arguments and replies of the Redis ledger backend (see ``lua/``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from tokengate.ledger.rules import Slot
from tokengate.ledger.types import (
    Charge,
    CounterReading,
    Demand,
    OverageAmount,
    Reservation,
    ReservedAmount,
    SettleResult,
    SettleStatus,
    ThresholdCrossing,
)
from tokengate.ledger.windows import LIFETIME_START, bucket_second

METRIC_CODES = {"tokens": "t", "cost": "c", "requests": "r"}
MODE_CODES = {"block": "b", "overage": "o", "alert_only": "a"}
Reply = bytes | str | int | list["Reply"]


def micros(value: datetime | timedelta) -> int:
    """Return a UTC instant as epoch microseconds, or a duration in microseconds."""
    if isinstance(value, datetime):
        value = value - LIFETIME_START
    return value // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    """Return the UTC instant of epoch microseconds ``value``."""
    return LIFETIME_START + timedelta(microseconds=value)


def text(value: Reply) -> str:
    """Return a reply item as text, whether the client decodes responses or not."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list):
        raise TypeError("expected a single value, got an array")
    return str(value)


def kind(slot: Slot) -> str:
    """Return the script's code for a slot's window: m(inute), l(ifetime) or c(alendar)."""
    if slot.rolling:
        return "m"
    return "l" if slot.lifetime else "c"


def counter_key(base: str, slot: Slot) -> str:
    """Return the key of the hash holding a slot's counter."""
    limit_id = slot.check.limit_id
    if slot.rolling:
        return f"{base}:m:{limit_id}"
    return f"{base}:c:{limit_id}:{bucket_second(slot.window_start)}"


def demand_args(demand: Demand) -> list[str | int]:
    """Return the reserve script's arguments describing the demand."""
    fixed = demand.fixed
    return [
        fixed.tokens,
        fixed.cost_micros,
        fixed.requests,
        demand.output_micros_per_mtok,
        demand.max_output_tokens,
        demand.min_output_tokens,
    ]


def slot_args(slot: Slot) -> list[str | int]:
    """Return the reserve script's nine arguments describing one check."""
    check = slot.check
    return [
        check.limit_id,
        kind(slot),
        bucket_second(slot.window_start),
        bucket_second(slot.window_end),
        METRIC_CODES[check.metric],
        MODE_CODES[check.mode],
        check.ceiling,
        check.amount,
        ":".join(str(t) for t in check.thresholds) or "-",
    ]


def parse_counters(slots: Sequence[Slot], flat: Sequence[Reply]) -> list[CounterReading]:
    """Return the counters the reserve script reports: used and reserved per slot, in order."""
    return [
        CounterReading(
            slot.check.limit_id,
            int(text(flat[2 * i])),
            int(text(flat[2 * i + 1])),
            slot.window_end,
        )
        for i, slot in enumerate(slots)
    ]


def parse_reservation(
    request_id: str, record: str, counters: Sequence[CounterReading] = ()
) -> Reservation:
    """Return the reservation a stored record describes."""
    output, deadline, tokens, cost, requests, holds = record.split("|")
    reserved = []
    for hold in holds.split(";"):
        fields = hold.split(",")
        start = datetime.fromtimestamp(int(fields[2]), UTC)
        reserved.append(ReservedAmount(int(fields[0]), start, int(fields[6])))
    return Reservation(
        request_id=request_id,
        output_tokens=int(output),
        charge=Charge(int(tokens), int(cost), int(requests)),
        reserved=tuple(reserved),
        deadline=from_micros(int(deadline)),
        counters=tuple(counters),
    )


def parse_settle(reply: Sequence[Reply]) -> SettleResult:
    """Return the result the settle script replied."""
    status = text(reply[0])
    if status != "settled":
        return SettleResult(_status(status))
    crossed = [
        ThresholdCrossing(int(text(lid)), _second(start), int(text(t)), int(text(u)), int(text(a)))
        for lid, start, t, u, a in _rows(reply[1])
    ]
    overage = [
        OverageAmount(int(text(lid)), _second(start), int(text(amount)))
        for lid, start, amount in _rows(reply[2])
    ]
    return SettleResult("settled", tuple(crossed), tuple(overage))


def _status(value: str) -> SettleStatus:
    if value == "already_settled":
        return "already_settled"
    return "unknown"


def _rows(value: Reply) -> list[list[Reply]]:
    if not isinstance(value, list):
        raise TypeError("expected an array of arrays")
    return [row for row in value if isinstance(row, list)]


def _second(value: Reply) -> datetime:
    return datetime.fromtimestamp(int(text(value)), UTC)
