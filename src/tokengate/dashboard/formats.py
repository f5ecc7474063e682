"""Numbers, money, percentages and times shown the way each language writes them (Babel)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import dates, numbers

from tokengate.errors import Locale

_BABEL = {"ko": "ko_KR", "en": "en_US"}
# Korean writes 오전/오후 (the CLDR's wide day period), not the abbreviated AM/PM
_MOMENT = {"ko": "y. M. d. aaaa h:mm:ss", "en": "medium"}
MICROS = Decimal(1_000_000)


def number(value: int | float | Decimal, locale: Locale) -> str:
    """1,234,567 in both languages."""
    return numbers.format_decimal(value, locale=_BABEL[locale])


def compact(value: int, locale: Locale) -> str:
    """A short count for a card: 1.2M / 120만."""
    if abs(value) < 10_000:
        return number(value, locale)
    return numbers.format_compact_decimal(value, locale=_BABEL[locale], fraction_digits=1)


def percent(value: float, locale: Locale) -> str:
    """A percentage given in percent (95 → 95%), with at most one decimal."""
    return numbers.format_percent(value / 100, locale=_BABEL[locale], format="#,##0.#%")


def money(micros: int, currency: str, locale: Locale) -> str:
    """Micro-units of a currency as money: $1,234.56, US$1,234.56 in Korean, ₩1,235."""
    amount = Decimal(micros) / MICROS
    digits = min(numbers.get_currency_precision(currency), 6)
    # small amounts (one LLM call costs a fraction of a cent) keep up to 6 decimals
    if 0 < abs(amount) < 1:
        pattern = "¤#,##0." + "0" * digits + "#" * (6 - digits)
        return numbers.format_currency(
            amount, currency, format=pattern, locale=_BABEL[locale], currency_digits=False
        )
    return numbers.format_currency(amount, currency, locale=_BABEL[locale])


def when(moment: datetime, timezone: str, locale: Locale) -> str:
    """A moment in the viewer's timezone: 2026. 11. 22. 오후 3:04:05 / Nov 22, 2026, 3:04:05 PM."""
    return dates.format_datetime(
        moment, format=_MOMENT[locale], tzinfo=ZoneInfo(timezone), locale=_BABEL[locale]
    )


def day(moment: datetime, timezone: str, locale: Locale) -> str:
    """A calendar day in the viewer's timezone."""
    local = moment.astimezone(ZoneInfo(timezone))
    return dates.format_date(local.date(), format="medium", locale=_BABEL[locale])


def clock(moment: datetime, timezone: str, locale: Locale) -> str:
    """A time of day (for a live stream): 15:04:05."""
    return dates.format_time(
        moment, format="HH:mm:ss", tzinfo=ZoneInfo(timezone), locale=_BABEL[locale]
    )
