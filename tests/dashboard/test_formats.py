"""Numbers, money, percentages and times as each language writes them."""

from __future__ import annotations

from datetime import UTC, datetime

from tokengate.dashboard import formats

MOMENT = datetime(2026, 11, 22, 8, 36, 46, tzinfo=UTC)  # 17:36:46 in Seoul


def test_numbers_and_percentages() -> None:
    assert formats.number(9_500_000, "ko") == formats.number(9_500_000, "en") == "9,500,000"
    assert formats.percent(95, "ko") == "95%"
    assert formats.percent(45.25, "en") == "45.2%"
    assert formats.compact(12_345_678, "en") == "12.3M"
    assert formats.compact(12_345_678, "ko").endswith("만")


def test_money_from_micro_units() -> None:
    assert formats.money(34_750_000, "USD", "en") == "$34.75"
    assert formats.money(34_750_000, "USD", "ko") == "US$34.75"
    # one request costs a fraction of a cent: never shown as zero
    assert formats.money(25, "USD", "en") == "$0.000025"
    assert formats.money(12_000_000_000, "KRW", "ko") == "₩12,000"


def test_times_in_the_tenant_timezone() -> None:
    assert formats.when(MOMENT, "Asia/Seoul", "ko") == "2026. 11. 22. 오후 5:36:46"
    assert formats.when(MOMENT, "Asia/Seoul", "en") == "Nov 22, 2026, 5:36:46\u202fPM"
    assert formats.when(MOMENT, "Europe/Berlin", "en").endswith("9:36:46\u202fAM")
    assert formats.day(MOMENT, "Asia/Seoul", "ko") == "2026. 11. 22."
    assert formats.clock(MOMENT, "Asia/Seoul", "ko") == "17:36:46"
