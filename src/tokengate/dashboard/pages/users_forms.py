"""Reading the users pages' forms: typed values, or a readable refusal in both languages.

The dashboard checks what a person typed before a service sees it, so a mistake is explained in
the viewer's language and nothing changes; the services then apply their own rules as for the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from tokengate.errors import InvalidRequest
from tokengate.quotas.schemas import GrantCreate
from tokengate.tenancy.schemas import BlockRequest, PlanPublic

REASON_MAX = 500
# a token count fits a 64-bit column
TOKENS_MAX = 2**63 - 1


def blank_is_none(value: object) -> object:
    """A filter left on "all" arrives as an empty value: the same as not given."""
    return None if value == "" else value


def _refuse(param: str, en: str, ko: str) -> InvalidRequest:
    return InvalidRequest(param=param, localized={"en": en, "ko": ko})


def block_reason(raw: str) -> str:
    """The reason for a block, within the API's length."""
    try:
        return BlockRequest(reason=raw.strip()).reason
    except ValidationError:
        raise _refuse(
            "reason",
            f"The reason is too long: write at most {REASON_MAX} characters.",
            f"사유가 너무 깁니다. {REASON_MAX}자 이하로 입력하세요.",
        ) from None


def plan_choice(raw: str, plans: Sequence[PlanPublic]) -> str | None:
    """The individual plan chosen (None: the tenant's plan), which must be an active plan."""
    name = raw.strip()
    if not name:
        return None
    if name not in {p.name for p in plans}:
        raise _refuse(
            "plan",
            f"There is no plan named {name!r}: choose one from the list.",
            f"{name!r} 플랜은 없습니다. 목록에서 선택하세요.",
        )
    return name


def _amount(raw: str) -> int:
    text = raw.strip().replace(",", "")
    digits = text.isascii() and text.isdigit() and len(text) <= len(str(TOKENS_MAX))
    if not digits or not 0 < int(text) <= TOKENS_MAX:
        raise _refuse(
            "amount",
            "Enter the extra tokens as a whole number greater than zero.",
            "추가 토큰은 0보다 큰 정수로 입력하세요.",
        )
    return int(text)


def _expiry(raw: str, timezone: str, now: datetime) -> datetime:
    """The end of the chosen day in the viewer's timezone (the grant lasts through that day)."""
    zone = ZoneInfo(timezone)
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise _refuse(
            "expires",
            "Choose the expiry date (year-month-day).",
            "만료일을 선택하세요(연-월-일).",
        ) from None
    if day < now.astimezone(zone).date():
        raise _refuse(
            "expires",
            "The expiry date has passed: choose today or a later day.",
            "만료일이 이미 지났습니다. 오늘 이후의 날짜를 선택하세요.",
        )
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def grant(
    *, user_id: int, amount: str, expires: str, reason: str, timezone: str, now: datetime
) -> GrantCreate:
    """Extra tokens on a person's monthly plan allowance, as POST /api/v1/grants takes them."""
    tokens = _amount(amount)
    until = _expiry(expires, timezone, now)
    if len(reason.strip()) > REASON_MAX:
        raise _refuse(
            "reason",
            f"The reason is too long: write at most {REASON_MAX} characters.",
            f"사유가 너무 깁니다. {REASON_MAX}자 이하로 입력하세요.",
        )
    return GrantCreate(user_id=user_id, amount=tokens, expires_at=until, reason=reason.strip())
