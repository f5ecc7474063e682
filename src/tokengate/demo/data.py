"""The demo scenario: newspapers writing columns with AI engines, on four plans."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

DemoRole = Literal["tenant_admin", "member"]

DEMO_TIMEZONE = "Asia/Seoul"
DEMO_LOCALE: Literal["ko"] = "ko"
DEMO_CURRENCY = "USD"
DEMO_KEY_NAME = "데모 키"


@dataclass(frozen=True)
class PlanSpec:
    """A plan of the seed's table: monthly tokens per user, engines, maximum users."""

    name: str
    monthly_token_limit: int
    allowed_models: tuple[str, ...]
    max_users: int


@dataclass(frozen=True)
class ModelSpec:
    """A column-writing engine, its prices per million tokens and its typical request."""

    name: str
    upstream_model: str
    input_price_per_mtok: Decimal
    output_price_per_mtok: Decimal
    cached_input_price_per_mtok: Decimal
    input_tokens: tuple[int, int]
    output_tokens: tuple[int, int]
    tokens_per_second: int
    popularity: float


@dataclass(frozen=True)
class TeamSpec:
    """A desk of a newspaper."""

    name: str
    description: str


@dataclass(frozen=True)
class TenantSpec:
    """A newspaper, its plan, its e-mail domain and its desks."""

    name: str
    plan: str
    domain: str
    teams: tuple[TeamSpec, ...]


@dataclass(frozen=True)
class UserSpec:
    """A journalist, their desk and how much of the monthly limit they have used so far."""

    tenant: str
    name: str
    email: str
    role: DemoRole
    team: str
    usage_percent: int


PLANS: tuple[PlanSpec, ...] = (
    PlanSpec("Enterprise", 10_000_000, ("C1", "C2", "C7"), 100),
    PlanSpec("Pro", 5_000_000, ("C1", "C7"), 50),
    PlanSpec("Basic", 1_000_000, ("C1",), 20),
    PlanSpec("Free", 100_000, ("C1",), 5),
)

# C1 drafts short pieces; C7 writes long columns from attached reference articles.
MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="C1",
        upstream_model="column-c1",
        input_price_per_mtok=Decimal("0.15"),
        output_price_per_mtok=Decimal("0.60"),
        cached_input_price_per_mtok=Decimal("0.075"),
        input_tokens=(300, 2_000),
        output_tokens=(500, 2_500),
        tokens_per_second=90,
        popularity=1.0,
    ),
    ModelSpec(
        name="C2",
        upstream_model="column-c2",
        input_price_per_mtok=Decimal("1.00"),
        output_price_per_mtok=Decimal("4.00"),
        cached_input_price_per_mtok=Decimal("0.25"),
        input_tokens=(1_500, 6_000),
        output_tokens=(800, 3_000),
        tokens_per_second=60,
        popularity=0.8,
    ),
    ModelSpec(
        name="C7",
        upstream_model="column-c7",
        input_price_per_mtok=Decimal("3.00"),
        output_price_per_mtok=Decimal("15.00"),
        cached_input_price_per_mtok=Decimal("0.30"),
        input_tokens=(3_000, 12_000),
        output_tokens=(1_500, 4_000),
        tokens_per_second=40,
        popularity=0.9,
    ),
)

_ECONOMY = TeamSpec("경제부", "거시경제·금융·부동산 취재")
_POLITICS = TeamSpec("정치부", "국회·정당·외교 취재")
_SOCIETY = TeamSpec("사회부", "사건·사고·법조·교육 취재")
_DIGITAL = TeamSpec("디지털뉴스부", "온라인 속보와 뉴스레터")
_MARKETS = TeamSpec("증권부", "증시·자본시장 취재")
_INDUSTRY = TeamSpec("산업부", "기업·산업 동향 취재")
_CULTURE = TeamSpec("문화부", "문화·예술·출판 취재")

TENANTS: tuple[TenantSpec, ...] = (
    TenantSpec(
        "서울경제신문", "Enterprise", "sedaily.demo", (_ECONOMY, _POLITICS, _SOCIETY, _DIGITAL)
    ),
    TenantSpec("조선일보", "Pro", "chosun.demo", (_ECONOMY, _POLITICS, _SOCIETY)),
    TenantSpec("한국경제신문", "Pro", "hankyung.demo", (_MARKETS, _INDUSTRY)),
    TenantSpec("중앙일보", "Basic", "joongang.demo", (_SOCIETY, _CULTURE)),
    TenantSpec("데모신문사", "Free", "demonews.demo", (_DIGITAL,)),
)

USERS: tuple[UserSpec, ...] = (
    UserSpec(
        "서울경제신문", "김현우", "hyunwoo.kim@sedaily.demo", "tenant_admin", "디지털뉴스부", 28
    ),
    UserSpec("서울경제신문", "이기자", "lee.reporter@sedaily.demo", "member", "경제부", 45),
    UserSpec("서울경제신문", "박기자", "park.reporter@sedaily.demo", "member", "정치부", 80),
    UserSpec("서울경제신문", "정인턴", "jung.intern@sedaily.demo", "member", "디지털뉴스부", 95),
    UserSpec("서울경제신문", "최수진", "sujin.choi@sedaily.demo", "member", "사회부", 61),
    UserSpec("조선일보", "강지훈", "jihoon.kang@chosun.demo", "tenant_admin", "정치부", 22),
    UserSpec("조선일보", "윤서연", "seoyeon.yoon@chosun.demo", "member", "경제부", 57),
    UserSpec("조선일보", "장민호", "minho.jang@chosun.demo", "member", "사회부", 34),
    UserSpec("한국경제신문", "임재현", "jaehyun.lim@hankyung.demo", "tenant_admin", "증권부", 26),
    UserSpec("한국경제신문", "한지민", "jimin.han@hankyung.demo", "member", "산업부", 68),
    UserSpec("한국경제신문", "오승민", "seungmin.oh@hankyung.demo", "member", "증권부", 9),
    UserSpec("중앙일보", "서준호", "junho.seo@joongang.demo", "tenant_admin", "사회부", 41),
    UserSpec("중앙일보", "신예린", "yerin.shin@joongang.demo", "member", "문화부", 66),
    UserSpec("데모신문사", "데모관리자", "admin@demonews.demo", "tenant_admin", "디지털뉴스부", 95),
    UserSpec("데모신문사", "데모기자", "reporter@demonews.demo", "member", "디지털뉴스부", 14),
)


def plan_named(name: str) -> PlanSpec:
    """Return the demo plan with this name."""
    return next(plan for plan in PLANS if plan.name == name)


def tenant_named(name: str) -> TenantSpec:
    """Return the demo tenant with this name."""
    return next(tenant for tenant in TENANTS if tenant.name == name)


def model_named(name: str) -> ModelSpec:
    """Return the demo model with this name."""
    return next(model for model in MODELS if model.name == name)
