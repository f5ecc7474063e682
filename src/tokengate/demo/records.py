"""One demo request turned into the usage event the gateway would have recorded."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from tokengate.catalog.schemas import Route, TokenUsage
from tokengate.catalog.service import price_usage
from tokengate.demo.data import ModelSpec
from tokengate.usage.schemas import UsageRecord

ENDPOINT = "chat.completions"
STREAM_RATE = 0.85
CACHED_RATE = 0.35
_CACHED_PREFIXES = (512, 1_024, 1_536, 2_048)
_UPSTREAM_ERRORS = (("upstream_unavailable", 502), ("upstream_status", 503))


@dataclass(frozen=True)
class Engine:
    """A model a demo user may call: its typical request shape and its route (prices)."""

    spec: ModelSpec
    route: Route


@dataclass(frozen=True)
class Subject:
    """A demo user as the history sees them: who they are, their plan limit and target."""

    email: str
    tenant_id: int
    team_id: int | None
    user_id: int
    key_id: int
    monthly_token_limit: int
    usage_percent: int
    engines: tuple[Engine, ...]

    @property
    def month_target(self) -> int:
        """Return the tokens this user has used in the current month so far."""
        return self.monthly_token_limit * self.usage_percent // 100


@dataclass(frozen=True)
class Draw:
    """One request: when, on which engine, with how many input and output tokens."""

    at: datetime
    engine: Engine
    tokens: tuple[int, int]


def success_record(rng: random.Random, *, subject: Subject, draw: Draw) -> UsageRecord:
    """Return the usage event of a request that was answered."""
    input_tokens, output_tokens = draw.tokens
    cached = min(input_tokens, rng.choice(_CACHED_PREFIXES)) if rng.random() < CACHED_RATE else 0
    usage = TokenUsage(input_tokens=input_tokens, output_tokens=output_tokens, cached_tokens=cached)
    stream = rng.random() < STREAM_RATE
    ttft = rng.randint(250, 1_200)
    speed = draw.engine.spec.tokens_per_second * rng.uniform(0.7, 1.3)
    return UsageRecord(
        request_id=_request_id(rng),
        created_at=draw.at,
        tenant_id=subject.tenant_id,
        team_id=subject.team_id,
        user_id=subject.user_id,
        key_id=subject.key_id,
        model_id=draw.engine.route.model_id,
        model=draw.engine.route.name,
        endpoint=ENDPOINT,
        stream=stream,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_tokens=cached,
        cost_micros=price_usage(route=draw.engine.route, usage=usage),
        latency_ms=ttft + round(output_tokens * 1_000 / speed),
        ttft_ms=ttft if stream else None,
        status="ok",
        http_status=200,
        error_code=None,
        estimated=False,
    )


def failure_record(
    rng: random.Random, *, subject: Subject, draw: Draw, at: datetime
) -> UsageRecord:
    """Return the usage event of a request the provider failed: no tokens, no cost."""
    error_code, http_status = rng.choice(_UPSTREAM_ERRORS)
    return UsageRecord(
        request_id=_request_id(rng),
        created_at=at,
        tenant_id=subject.tenant_id,
        team_id=subject.team_id,
        user_id=subject.user_id,
        key_id=subject.key_id,
        model_id=draw.engine.route.model_id,
        model=draw.engine.route.name,
        endpoint=ENDPOINT,
        stream=rng.random() < STREAM_RATE,
        input_tokens=0,
        output_tokens=0,
        cached_tokens=0,
        cost_micros=0,
        latency_ms=rng.randint(300, 8_000),
        ttft_ms=None,
        status="upstream_error",
        http_status=http_status,
        error_code=error_code,
        estimated=False,
    )


def _request_id(rng: random.Random) -> str:
    return f"req_{rng.getrandbits(128):032x}"
