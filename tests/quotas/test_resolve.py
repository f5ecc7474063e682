from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tokengate.quotas.models import Grant, Limit, Relaxation
from tokengate.quotas.resolve import Subject, plan_limit_id, resolve_checks

NOW = datetime(2026, 11, 22, 13, 30, tzinfo=UTC)  # 22:30 in Seoul


def subject(**overrides: object) -> Subject:
    values: dict[str, object] = {
        "tenant_id": 1,
        "team_id": 7,
        "user_id": 5,
        "key_id": 9,
        "timezone": "Asia/Seoul",
        "plan": "Pro",
        "monthly_token_limit": 5_000_000,
        "model": "C1",
    }
    values.update(overrides)
    return Subject(**values)  # type: ignore[arg-type]


def limit(**overrides: object) -> Limit:
    values: dict[str, object] = {
        "id": 3,
        "tenant_id": 1,
        "scope": "user",
        "scope_id": 5,
        "model": None,
        "metric": "tokens",
        "window": "day",
        "amount": 1_000,
        "mode": "block",
        "thresholds": [80, 90, 100],
        "auto_block": False,
        "priority_share": 0,
        "archived": False,
    }
    values.update(overrides)
    return Limit(**values)


def resolve(limits: list[Limit], **kw: object):
    options: dict[str, object] = {
        "grants": [],
        "relaxations": [],
        "exempt_metrics": set(),
        "now": NOW,
    }
    options.update(kw)
    subj = options.pop("subject", subject())
    return resolve_checks(subject=subj, limits=limits, **options)  # type: ignore[arg-type]


def test_the_plan_allowance_comes_first_and_grants_add_until_they_expire() -> None:
    grants = [
        Grant(limit_id=plan_limit_id(5), amount=1_000, expires_at=NOW + timedelta(hours=1)),
        Grant(limit_id=plan_limit_id(5), amount=9_999, expires_at=NOW),  # expired this instant
        Grant(limit_id=3, amount=500, expires_at=NOW + timedelta(days=1)),
    ]
    plan, own = resolve([limit()], grants=grants)
    assert (plan.source, plan.check.limit_id, plan.check.window) == ("plan", -5, "month")
    assert plan.check.amount == 5_001_000
    assert own.check.amount == 1_500


@pytest.mark.parametrize(
    ("start", "end", "hour_utc", "applies"),
    [
        (22, 7, 13, True),  # 22:xx in Seoul: inside a rule that wraps midnight
        (22, 7, 21, True),  # 06:xx
        (22, 7, 22, False),  # 07:xx: the end hour is excluded
        (9, 18, 0, True),  # 09:xx: the start hour is included
        (9, 18, 9, False),  # 18:xx
    ],
)
def test_relaxation_hours_are_local_start_inclusive_end_exclusive(
    start: int, end: int, hour_utc: int, applies: bool
) -> None:
    rule = Relaxation(limit_id=3, multiplier_percent=200, start_hour=start, end_hour=end)
    now = NOW.replace(hour=hour_utc, minute=0)
    _, own = resolve([limit()], relaxations=[rule], now=now)
    assert own.check.amount == (2_000 if applies else 1_000)


def test_priority_share_is_kept_for_high_priority_keys() -> None:
    _, normal = resolve([limit(priority_share=10)])
    _, high = resolve([limit(priority_share=10)], subject=subject(high_priority=True))
    assert (normal.check.amount, normal.check.ceiling) == (1_000, 900)
    assert (high.check.amount, high.check.ceiling) == (1_000, 1_000)


def test_exemption_turns_block_limits_of_that_metric_into_alert_only() -> None:
    plan, tokens, cost = resolve(
        [limit(), limit(id=4, metric="cost", amount=10)], exempt_metrics={"tokens"}
    )
    assert (plan.check.mode, tokens.check.mode, cost.check.mode) == (
        "alert_only",
        "alert_only",
        "block",
    )


def test_model_filtered_limits_apply_to_their_model_only() -> None:
    checks = resolve([limit(model="C7"), limit(id=4, model="C1"), limit(id=5, archived=True)])
    assert [c.check.limit_id for c in checks] == [-5, 4]
    everything = resolve([limit(model="C7"), limit(id=4, model="C1")], subject=subject(model=None))
    assert [c.check.limit_id for c in everything] == [-5, 3, 4]
