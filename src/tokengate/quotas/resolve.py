"""Turning limit rows into the checks one request must pass (pure: no I/O).

A request made with key K of user U (tenant T, charged to team M) must pass every limit whose
scope is T, M, U or K (and whose model filter, if any, is the requested model), plus U's monthly
plan allowance. For each limit:

- amount = the limit's amount + its grants that have not expired;
- during a relaxation rule's local hours [start, end) (wrapping midnight when start > end) the
  amount is multiplied by the rule's percentage (the largest rule wins if several match); the
  hour is read when the request is admitted, so a request admitted at 06:59 under a ×2 night
  rule keeps its reservation, and from 07:00 the plain amount applies to the same counter;
- a normal request may fill the counter up to amount × (100 − priority_share) %, a high-priority
  key up to the whole amount;
- a user or key exempt from a metric is never stopped by that metric's block limits: they become
  alert-only for the request, so its usage is still counted on every counter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from tokengate.ledger.types import LimitCheck, Metric, Mode, Window
from tokengate.quotas.models import Grant, Limit, Relaxation

PLAN_THRESHOLDS = (80, 90, 100)


@dataclass(frozen=True)
class Subject:
    """Who a request is charged to and what it asks for."""

    tenant_id: int
    team_id: int | None
    user_id: int
    key_id: int
    timezone: str
    plan: str
    monthly_token_limit: int
    model: str | None
    high_priority: bool = False


@dataclass(frozen=True)
class RuleSet:
    """The rows a subject's checks are built from (cacheable: resolving them needs ``now``)."""

    limits: tuple[Limit, ...]
    grants: tuple[Grant, ...]
    relaxations: tuple[Relaxation, ...]
    exempt_metrics: frozenset[str]


@dataclass(frozen=True)
class ResolvedCheck:
    """A ledger check with what the gateway needs to explain it."""

    check: LimitCheck
    scope: str
    scope_id: int
    model: str | None
    source: str
    auto_block: bool


def plan_limit_id(user_id: int) -> int:
    """The ledger id of a user's monthly plan allowance (negative: it is not a limit row)."""
    return -user_id


def scopes_of(subject: Subject) -> list[tuple[str, int]]:
    """The (scope, id) pairs whose limits apply to the subject."""
    pairs = [("tenant", subject.tenant_id), ("user", subject.user_id), ("key", subject.key_id)]
    if subject.team_id is not None:
        pairs.append(("team", subject.team_id))
    return pairs


def resolve_checks(
    *,
    subject: Subject,
    limits: Sequence[Limit],
    grants: Sequence[Grant],
    relaxations: Sequence[Relaxation],
    exempt_metrics: set[str],
    now: datetime,
    include_plan: bool = True,
) -> list[ResolvedCheck]:
    """Build the checks for one request, the plan allowance first (a None model: any)."""
    local_hour = now.astimezone(ZoneInfo(subject.timezone)).hour
    extra: dict[int, int] = {}
    for grant in grants:
        if grant.expires_at > now:
            extra[grant.limit_id] = extra.get(grant.limit_id, 0) + grant.amount
    plan_id = plan_limit_id(subject.user_id)
    checks = []
    if include_plan:
        checks.append(
            _check(
                subject,
                limit_id=plan_id,
                metric="tokens",
                window="month",
                amount=subject.monthly_token_limit + extra.get(plan_id, 0),
                mode=_mode("block", "tokens", exempt_metrics),
                thresholds=PLAN_THRESHOLDS,
                share=0,
                meta=("user", subject.user_id, None, "plan", False),
            )
        )
    for limit in limits:
        other_model = subject.model is not None and limit.model not in (None, subject.model)
        if limit.archived or other_model:
            continue
        multiplier = max(
            (
                r.multiplier_percent
                for r in relaxations
                if r.limit_id == limit.id and _in_hours(r, local_hour)
            ),
            default=100,
        )
        amount = (limit.amount + extra.get(limit.id, 0)) * multiplier // 100
        checks.append(
            _check(
                subject,
                limit_id=limit.id,
                metric=limit.metric,  # type: ignore[arg-type]
                window=limit.window,  # type: ignore[arg-type]
                amount=amount,
                mode=_mode(limit.mode, limit.metric, exempt_metrics),
                thresholds=tuple(limit.thresholds),
                share=limit.priority_share,
                meta=(limit.scope, limit.scope_id, limit.model, "limit", limit.auto_block),
            )
        )
    return checks


def _check(
    subject: Subject,
    *,
    limit_id: int,
    metric: Metric,
    window: Window,
    amount: int,
    mode: Mode,
    thresholds: tuple[int, ...],
    share: int,
    meta: tuple[str, int, str | None, str, bool],
) -> ResolvedCheck:
    ceiling = amount if subject.high_priority else amount - amount * share // 100
    check = LimitCheck(
        limit_id=limit_id,
        tenant_id=subject.tenant_id,
        metric=metric,
        window=window,
        timezone=subject.timezone,
        amount=amount,
        ceiling=ceiling,
        mode=mode,
        thresholds=thresholds,
    )
    scope, scope_id, model, source, auto_block = meta
    return ResolvedCheck(check, scope, scope_id, model, source, auto_block)


def _mode(mode: str, metric: str, exempt_metrics: set[str]) -> Mode:
    if mode == "block" and metric in exempt_metrics:
        return "alert_only"
    return mode  # type: ignore[return-value]


def _in_hours(rule: Relaxation, hour: int) -> bool:
    if rule.start_hour < rule.end_hour:
        return rule.start_hour <= hour < rule.end_hour
    return hour >= rule.start_hour or hour < rule.end_hour
