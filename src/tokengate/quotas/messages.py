"""The words of a refusal: the seed's quota message, in Korean and English."""

from __future__ import annotations

from tokengate.errors import QuotaExceeded, RateLimited, TokengateError
from tokengate.ledger.types import Denial
from tokengate.quotas.resolve import ResolvedCheck

_PERIOD_KO = {
    "day": "오늘",
    "week": "이번 주",
    "month": "이번 달",
    "quarter": "이번 분기",
    "year": "올해",
    "lifetime": "전체 기간",
}
_PERIOD_EN = {
    "day": "today's",
    "week": "this week's",
    "month": "this month's",
    "quarter": "this quarter's",
    "year": "this year's",
    "lifetime": "the total",
}
_UNIT_KO = {"tokens": "토큰", "cost": "마이크로 단위 비용", "requests": "요청"}
_UNIT_EN = {"tokens": "tokens", "cost": "micro-units of cost", "requests": "requests"}
_SCOPE_KO = {"tenant": "조직", "team": "팀", "user": "개인", "key": "API 키"}


def denial_error(denial: Denial, check: ResolvedCheck, *, plan: str) -> TokengateError:
    """Turn a ledger refusal into the error the client sees."""
    if denial.rolling:
        return RateLimited(retry_after=max(1, denial.retry_after or 1))
    used = denial.used
    percent = used * 100 // denial.amount if denial.amount else 100
    figures = {"amount": f"{denial.amount:,}", "used": f"{used:,}", "percent": percent}
    if check.source == "plan":
        ko = (
            "죄송합니다. 이번 달 사용 한도를 초과하셨습니다.\n"
            "추가 사용을 원하시면 관리자에게 문의해주세요.\n\n"
            f"현재 플랜: {plan}\n월 한도: {figures['amount']} 토큰\n"
            f"사용량: {figures['used']} 토큰 ({percent}%)"
        )
        en = (
            "Sorry, you have used up this month's allowance.\n"
            "Please contact your administrator if you need more.\n\n"
            f"Current plan: {plan}\nMonthly limit: {figures['amount']} tokens\n"
            f"Usage: {figures['used']} tokens ({percent}%)"
        )
    else:
        window, metric = denial.window, denial.metric
        ko = (
            f"죄송합니다. {_SCOPE_KO[check.scope]} {_PERIOD_KO[window]} "
            "사용 한도를 초과하셨습니다.\n"
            "추가 사용을 원하시면 관리자에게 문의해주세요.\n\n"
            f"한도: {figures['amount']} {_UNIT_KO[metric]}\n"
            f"사용량: {figures['used']} {_UNIT_KO[metric]} ({percent}%)"
        )
        en = (
            f"Sorry, the {check.scope} has used up {_PERIOD_EN[window]} allowance.\n"
            "Please contact your administrator if you need more.\n\n"
            f"Limit: {figures['amount']} {_UNIT_EN[metric]}\n"
            f"Usage: {figures['used']} {_UNIT_EN[metric]} ({percent}%)"
        )
    return QuotaExceeded(localized={"ko": ko, "en": en}, limit_id=denial.limit_id)
