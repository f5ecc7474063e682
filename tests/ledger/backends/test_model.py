"""Contract, property-based: any sequence of operations matches a plain in-memory model.

The model applies ``tokengate.ledger.rules`` to counters kept in a dict, so every backend (the
Redis Lua scripts above all) must decide exactly as the rules do, keep ``used`` equal to the sum
of settled usage, and never let a block limit's usage pass its ceiling.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ledger.factories import limit, request_id
from tokengate.ledger.backends import LedgerBackend
from tokengate.ledger.rules import CounterView, Slot, admit, overage_of, plan_slots
from tokengate.ledger.types import Charge, Demand, Denial, LimitCheck, Reservation
from tokengate.ledger.windows import bucket_second

START = datetime(2031, 3, 2, 14, 40, tzinfo=UTC)  # Sunday 23:40 in Seoul: day and week roll over
TTL = timedelta(seconds=120)
_limit_ids = itertools.count(1000, 10)
# Each example runs a week before the previous one, so a sweep can never reach reservations
# that an earlier (failed) example left behind.
_weeks_back = itertools.count()


@dataclass(frozen=True)
class Reserve:
    mask: int
    prompt: int
    prompt_cost: int
    price: int
    max_out: int
    min_percent: int


@dataclass(frozen=True)
class Settle:
    index: int
    percent: int


@dataclass(frozen=True)
class Release:
    index: int


@dataclass(frozen=True)
class Advance:
    seconds: int


@dataclass(frozen=True)
class Sweep:
    pass


Operation = Reserve | Settle | Release | Advance | Sweep

OPERATIONS = st.lists(
    st.one_of(
        st.builds(
            Reserve,
            mask=st.integers(1, 15),
            prompt=st.integers(0, 300),
            prompt_cost=st.integers(0, 800),
            price=st.sampled_from([0, 1500, 2_000_000, 7_000_000]),
            max_out=st.integers(0, 400),
            min_percent=st.integers(0, 100),
        ),
        st.builds(Settle, index=st.integers(0, 30), percent=st.integers(0, 100)),
        st.builds(Release, index=st.integers(0, 30)),
        st.builds(Advance, seconds=st.integers(1, 90)),
        st.just(Sweep()),
    ),
    max_size=30,
)


@dataclass
class Model:
    now: datetime
    counters: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    live: dict[str, tuple[Reservation, list[Slot]]] = field(default_factory=dict)

    def counter(self, slot: Slot) -> list[int]:
        key = (slot.check.limit_id, bucket_second(slot.window_start))
        return self.counters.setdefault(key, [0, 0, 0])

    def view(self, slot: Slot) -> CounterView:
        if not slot.rolling:
            used, reserved, overage = self.counter(slot)
            return CounterView(used, reserved, overage)
        second = bucket_second(self.now)
        rows = [
            (s, *self.counters[(slot.check.limit_id, s)])
            for s in range(second - 59, second + 1)
            if (slot.check.limit_id, s) in self.counters
        ]
        return CounterView(
            used=sum(r[1] for r in rows),
            reserved=sum(r[2] for r in rows),
            overage=sum(r[3] for r in rows),
            buckets=tuple((r[0], r[1] + r[2]) for r in rows if r[1] + r[2]),
        )


def make_limits() -> list[LimitCheck]:
    base = next(_limit_ids)
    return [
        limit(base, metric="tokens", window="month", amount=2000),
        limit(base + 1, metric="cost", window="day", amount=5000, ceiling=4000),
        limit(base + 2, metric="requests", window="minute", amount=4),
        limit(base + 3, metric="tokens", window="week", amount=500, mode="overage"),
    ]


async def do_reserve(
    backend: LedgerBackend, model: Model, limits: list[LimitCheck], op: Reserve
) -> None:
    checks = [c for i, c in enumerate(limits) if op.mask & (1 << i)]
    need = Demand(
        fixed=Charge(tokens=op.prompt, cost_micros=op.prompt_cost, requests=1),
        output_micros_per_mtok=op.price,
        max_output_tokens=op.max_out,
        min_output_tokens=op.max_out * op.min_percent // 100,
    )
    slots = plan_slots(checks, model.now)
    views = [model.view(slot) for slot in slots]
    expected = admit(slots=slots, views=views, demand=need, now=model.now)
    rid = request_id()
    got = await backend.reserve(request_id=rid, checks=checks, demand=need, now=model.now, ttl=TTL)
    if isinstance(expected, Denial):
        assert got == expected
        return
    assert isinstance(got, Reservation)
    assert got.output_tokens == expected
    for slot in slots:
        model.counter(slot)[1] += got.charge.of(slot.check.metric)
    model.live[rid] = (got, slots)
    # the counters the reservation reports are the model's, this reservation included
    assert [(c.limit_id, c.used, c.reserved, c.window_end) for c in got.counters] == [
        (s.check.limit_id, model.view(s).used, model.view(s).reserved, s.window_end) for s in slots
    ]


async def do_settle(backend: LedgerBackend, model: Model, op: Settle) -> None:
    if not model.live:
        return
    rid = list(model.live)[op.index % len(model.live)]
    held, slots = model.live.pop(rid)
    charge = held.charge
    actual = Charge(
        tokens=charge.tokens * op.percent // 100,
        cost_micros=charge.cost_micros * op.percent // 100,
        requests=charge.requests,
    )
    result = await backend.settle(request_id=rid, actual=actual, now=model.now)
    assert result.status == "settled"
    for slot in slots:
        row = model.counter(slot)
        added = actual.of(slot.check.metric)
        if not slot.rolling:
            row[2] += overage_of(hold=slot.hold(0), before=row[0], after=row[0] + added)
        row[0] += added
        row[1] -= charge.of(slot.check.metric)


async def do_release(backend: LedgerBackend, model: Model, op: Release) -> None:
    if not model.live:
        return
    rid = list(model.live)[op.index % len(model.live)]
    held, slots = model.live.pop(rid)
    assert await backend.release(request_id=rid) is True
    for slot in slots:
        model.counter(slot)[1] -= held.charge.of(slot.check.metric)


async def do_sweep(backend: LedgerBackend, model: Model) -> None:
    expired = [rid for rid, (held, _) in model.live.items() if held.deadline <= model.now]
    for rid in expired:
        held, slots = model.live.pop(rid)
        for slot in slots:
            model.counter(slot)[1] -= held.charge.of(slot.check.metric)
    assert await backend.sweep(now=model.now) == len(expired)


async def check_states(backend: LedgerBackend, model: Model, limits: list[LimitCheck]) -> None:
    states = await backend.states(checks=limits, now=model.now)
    for check, state, slot in zip(limits, states, plan_slots(limits, model.now), strict=True):
        view = model.view(slot)
        assert (state.used, state.reserved, state.overage) == (
            view.used,
            view.reserved,
            view.overage,
        )
        if check.mode == "block":
            assert state.used + state.reserved <= check.ceiling


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
async def test_every_backend_follows_the_model(
    backend: LedgerBackend, operations: list[Operation]
) -> None:
    limits = make_limits()
    model = Model(now=START - timedelta(weeks=next(_weeks_back)))
    for op in operations:
        if isinstance(op, Reserve):
            await do_reserve(backend, model, limits, op)
        elif isinstance(op, Settle):
            await do_settle(backend, model, op)
        elif isinstance(op, Release):
            await do_release(backend, model, op)
        elif isinstance(op, Advance):
            model.now += timedelta(seconds=op.seconds)
        else:
            await do_sweep(backend, model)
        await check_states(backend, model, limits)
    for rid in model.live:
        await backend.release(request_id=rid)
