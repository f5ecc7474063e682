"""사용량 모니터링: the seed's step 6 (warnings, plan averages, top 5) and the charts' data
(usage over time, teams and users compared, CSV), scoped by role, on the demo data."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import httpx

from tests.dashboard.conftest import Browser, Site, sign_in
from tokengate.dashboard.pages.monitoring_cache import RollupCache
from tokengate.dashboard.reads.monitoring import Group

SEOUL = ZoneInfo("Asia/Seoul")


@dataclass(frozen=True)
class Row:
    hour: datetime
    tenant_id: int
    team_id: int
    user_id: int
    requests: int
    tokens: int
    cost: int


def rollups(site: Site) -> list[Row]:
    """Every usage_hourly row of the site's database, read directly (the expected sums)."""
    path = site.settings.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT hour, tenant_id, team_id, user_id, requests,"
            " input_tokens + output_tokens, cost_micros FROM usage_hourly"
        ).fetchall()
    return [
        Row(datetime.fromisoformat(r[0]).replace(tzinfo=UTC), *(int(v) for v in r[1:]))
        for r in rows
    ]


def total(rows: list[Row], start: datetime, end: datetime, field: str = "tokens") -> int:
    return sum(getattr(r, field) for r in rows if start <= r.hour < end)


def section(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index("</section>", start)]


def rows_of(html: str, attribute: str) -> list[str]:
    return re.findall(rf'<tr {attribute}="([^"]+)"', html)


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_warnings_show_the_people_at_their_thresholds_highest_first(
    site: Site, admin: Browser
) -> None:
    page = await admin.http.get("/monitoring")
    assert page.status_code == 200, page.text
    assert '<html lang="ko">' in page.text and "사용량 모니터링" in page.text
    warnings = section(page.text, "warnings")
    assert "경고 알림" in warnings
    names = rows_of(warnings, "data-user")
    assert set(names[:2]) == {"정인턴", "데모관리자"} and names[2] == "박기자"
    assert "이기자" not in names and "최수진" not in names
    for name, percent in (("정인턴", "95%"), ("데모관리자", "95%"), ("박기자", "80%")):
        row = re.search(rf'<tr data-user="{name}".*?</tr>', warnings, re.S)
        assert row is not None and percent in row[0]
    assert 'data-threshold="90"' in warnings and 'data-threshold="80"' in warnings
    # the warnings alone, for the page's one-minute refresh
    fragment = await admin.htmx("GET", "/monitoring/warnings")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert rows_of(fragment.text, "data-user") == names


async def test_plan_averages_are_the_means_of_the_ledger_percentages(
    site: Site, admin: Browser
) -> None:
    plan_of = {t.name: t.plan for t in site.summary.tenants}
    shares: dict[str, list[float]] = defaultdict(list)
    async with httpx.AsyncClient(base_url=site.base, headers=site.master) as api:
        for user in site.summary.users:
            answer = await api.get("/api/v1/usage/current", params={"scope": "user", "id": user.id})
            assert answer.status_code == 200, answer.text
            [plan] = [i for i in answer.json()["items"] if i["source"] == "plan"]
            shares[plan_of[user.tenant]].append(plan["used"] * 100 / plan["amount"])
    html = section((await admin.http.get("/monitoring")).text, "plan-averages")
    assert "플랜별 평균 사용률" in html
    shown = re.findall(r'<tr data-plan="([^"]+)" data-percent="([^"]+)" data-users="(\d+)"', html)
    assert [plan for plan, _, _ in shown] == ["Enterprise", "Pro", "Basic", "Free"]
    for plan, percent, users in shown:
        expected = sum(shares[plan]) / len(shares[plan])
        assert abs(float(percent) - expected) < 0.01, plan
        assert int(users) == len(shares[plan])
        row = re.search(rf'<tr data-plan="{plan}".*?</tr>', html, re.S)
        assert row is not None and f"{round(expected, 1):g}%" in row[0]
    # 데모신문사 (Free): 데모관리자 95 %, 데모기자 14 %
    assert abs(sum(shares["Free"]) / 2 - 54.5) < 1


async def test_the_top_5_users_are_this_months_biggest_token_users(
    site: Site, admin: Browser
) -> None:
    html = section((await admin.http.get("/monitoring")).text, "top-users")
    shown = re.findall(r'<tr data-user="([^"]+)" data-tokens="(\d+)"', html)
    now = datetime.now(UTC).astimezone(SEOUL)
    month = datetime(now.year, now.month, 1, tzinfo=SEOUL).astimezone(UTC)
    by_user: dict[int, int] = defaultdict(int)
    for row in rollups(site):
        if row.hour >= month:
            by_user[row.user_id] += row.tokens
    names = {u.id: u.name for u in site.summary.users}
    expected = sorted(by_user.items(), key=lambda item: (-item[1], item[0]))[:5]
    assert [(n, int(t)) for n, t in shown] == [(names[i], t) for i, t in expected]
    assert "이번 달 사용량 상위 5명" in html


async def test_the_series_adds_up_to_the_rollups_in_contiguous_local_buckets(
    site: Site, admin: Browser
) -> None:
    rows = rollups(site)
    answer = await admin.http.get("/monitoring/series.json", params={"preset": "30d"})
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert (data["bucket"], data["metric"], data["timezone"]) == ("day", "tokens", "Asia/Seoul")
    points = data["points"]
    assert len(points) == 30
    starts = [moment(p["start"]) for p in points]
    assert all(s.utcoffset() == timedelta(hours=9) and s.hour == 0 for s in starts)
    assert all(b - a == timedelta(days=1) for a, b in pairwise(starts))
    assert starts[0] == moment(data["start"]) and moment(data["end"]) == starts[-1] + timedelta(1)
    assert moment(data["end"]) > datetime.now(UTC) >= starts[-1]
    for point, start in zip(points, starts, strict=True):
        assert point["value"] == total(rows, start, start + timedelta(days=1))
    assert data["total"] == sum(p["value"] for p in points)
    assert data["total"] == total(rows, moment(data["start"]), moment(data["end"]))
    for metric, field in (("requests", "requests"), ("cost", "cost")):
        other = (await admin.http.get("/monitoring/series.json", params={"metric": metric})).json()
        assert other["total"] == total(rows, moment(other["start"]), moment(other["end"]), field)
    assert data["texts"]["x_axis"] == "날짜" and data["texts"]["y_axis"] == "토큰"


async def test_hours_without_usage_are_zero_not_left_out(site: Site, admin: Browser) -> None:
    reporter = site.user("데모기자")
    async with httpx.AsyncClient(base_url=site.base) as client:
        answer = await client.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {reporter.key}"},
            json={"model": "C1", "messages": [{"role": "user", "content": "안녕"}]},
        )
        assert answer.status_code == 200, answer.text
    data = (
        await admin.http.get(
            "/monitoring/series.json",
            params={"preset": "7d", "bucket": "hour", "user_id": reporter.id},
        )
    ).json()
    points = data["points"]
    assert len(points) == 7 * 24 and points[-1]["value"] > 0
    starts = [moment(p["start"]) for p in points]
    assert all(b - a == timedelta(hours=1) for a, b in pairwise(starts))
    assert any(p["value"] == 0 for p in points) and any(p["value"] > 0 for p in points)
    mine = [r for r in rollups(site) if r.user_id == reporter.id]
    assert data["total"] == total(mine, starts[0], starts[-1] + timedelta(hours=1))
    assert data["filter"]["label"] == "데모기자"


async def test_compare_adds_the_previous_period_of_the_same_length(
    site: Site, admin: Browser
) -> None:
    rows = rollups(site)
    data = (
        await admin.http.get(
            "/monitoring/series.json",
            params={"start": "2000-01-01", "end": "2000-01-01", "compare": "true"},
        )
    ).json()
    assert data["total"] == 0 and len(data["points"]) == 24  # one day, by hour
    data = (
        await admin.http.get(
            "/monitoring/series.json", params={"preset": "7d", "bucket": "day", "compare": "true"}
        )
    ).json()
    before = data["previous"]
    assert before is not None and len(before["points"]) == len(data["points"]) == 7
    assert moment(before["end"]) == moment(data["start"])
    assert moment(before["start"]) == moment(data["start"]) - timedelta(days=7)
    assert before["total"] == total(rows, moment(before["start"]), moment(before["end"]))
    assert before["total"] > 0 and data["texts"]["previous"] == "이전 기간"
    plain = (await admin.http.get("/monitoring/series.json", params={"preset": "7d"})).json()
    assert plain["previous"] is None


async def test_a_new_limit_is_marked_on_the_chart_for_those_who_see_it(
    site: Site, admin: Browser
) -> None:
    intern = site.user("정인턴")
    async with httpx.AsyncClient(base_url=site.base, headers=site.master) as api:
        created = await api.post(
            "/api/v1/limits",
            json={
                "scope": "user",
                "scope_id": intern.id,
                "metric": "tokens",
                "window": "day",
                "amount": 50_000,
            },
        )
        assert created.status_code == 201, created.text
    data = (await admin.http.get("/monitoring/series.json", params={"preset": "24h"})).json()
    [marker] = [m for m in data["markers"] if m["action"] == "limit.create"]
    assert marker["index"] == len(data["points"]) - 1
    assert marker["text"] == "한도 설정" and "50,000" in marker["detail"]
    # on the intern's own chart too, but not on another tenant's nor on a colleague's
    mine = await admin.http.get(
        "/monitoring/series.json", params={"preset": "24h", "user_id": intern.id}
    )
    assert [m["action"] for m in mine.json()["markers"]] == ["limit.create"]
    colleague = await admin.http.get(
        "/monitoring/series.json", params={"preset": "24h", "user_id": site.user("이기자").id}
    )
    assert colleague.json()["markers"] == []
    other = await sign_in(site, site.user("데모관리자").email)
    theirs = (await other.http.get("/monitoring/series.json", params={"preset": "24h"})).json()
    assert theirs["markers"] == []
    await other.http.aclose()


async def test_teams_and_users_compared_as_json_and_csv(site: Site, admin: Browser) -> None:
    rows = rollups(site)
    for by in ("team", "user"):
        answer = await admin.http.get("/monitoring/compare.json", params={"by": by})
        assert answer.status_code == 200, answer.text
        data = answer.json()
        assert (data["by"], data["period"], data["others"]) == (by, "month", None)
        tokens = [r["tokens"] for r in data["rows"]]
        assert tokens == sorted(tokens, reverse=True) and tokens[0] > 0
        month = total(rows, moment(data["start"]), moment(data["end"]))
        assert sum(tokens) == data["total"]["tokens"] == month
        download = await admin.http.get("/monitoring/compare.csv", params={"by": by})
        assert download.status_code == 200
        assert download.headers["content-type"].startswith("text/csv")
        disposition = download.headers["content-disposition"]
        assert disposition.startswith("attachment;") and f"tokengate-{by}s-month-" in disposition
        assert download.content.startswith("\ufeff".encode())
        table = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
        assert table[0][:3] == ["#", "팀" if by == "team" else "사용자", "테넌트"]
        assert table[0][6] == "비용 (USD)"
        assert len(table) - 1 == len(data["rows"])
        for line, row in zip(table[1:], data["rows"], strict=True):
            assert (line[1], int(line[4]), int(line[5])) == (
                row["name"],
                row["requests"],
                row["tokens"],
            )
            assert Decimal(line[6]) * 1_000_000 == row["cost_micros"]
            assert float(line[7]) == row["share"]
    users = (await admin.http.get("/monitoring/compare.json", params={"by": "user"})).json()
    assert {r["name"] for r in users["rows"]} <= {u.name for u in site.summary.users}
    assert any(" · 서울경제신문" in r["label"] for r in users["rows"])
    today = (
        await admin.http.get("/monitoring/compare.json", params={"by": "team", "period": "day"})
    ).json()
    assert today["period_label"] == "오늘"
    assert today["total"]["tokens"] == total(rows, moment(today["start"]), moment(today["end"]))


async def test_a_bar_opens_the_details_of_its_team_or_user(site: Site, admin: Browser) -> None:
    teams = (await admin.http.get("/monitoring/compare.json", params={"by": "team"})).json()
    top = teams["rows"][0]
    fragment = await admin.htmx("GET", f"/monitoring/detail?by=team&id={top['id']}")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert 'data-testid="detail-panel"' in fragment.text and top["name"] in fragment.text
    assert f">{top['display']['tokens']}<" in fragment.text
    assert re.search(r'<tr data-user="[^"]+">', fragment.text)
    intern = site.user("정인턴")
    person = await admin.htmx("GET", f"/monitoring/detail?by=user&id={intern.id}&period=week")
    assert "정인턴" in person.text and "95%" in person.text and "이번 주" in person.text


async def test_bad_parameters_are_refused_with_a_readable_message(
    site: Site, admin: Browser
) -> None:
    cases = {
        "bucket=minute": "bucket",
        "metric=watts": "metric",
        "preset=1y": "preset",
        "compare=maybe": "compare",
        "user_id=abc": "user_id",
        "start=2026-03-10&end=2026-03-01": "start",
        "start=yesterday": "start",
        "start=2020-01-01&end=2025-12-31": "end",
    }
    for query, param in cases.items():
        answer = await admin.http.get(f"/monitoring/series.json?{query}")
        assert answer.status_code == 400, query
        error = answer.json()["error"]
        assert error["param"] == param and error["code"] == "invalid_request"
        assert re.search("[가-힣]", error["message"]), error["message"]
    refused = await admin.http.get("/monitoring/compare.json?by=model")
    assert refused.status_code == 400 and "team, user" in refused.json()["error"]["message"]
    english = await sign_in(site, lang="en")
    answer = await english.http.get("/monitoring/series.json?bucket=minute")
    assert answer.json()["error"]["message"] == (
        "Unknown bucket 'minute': use one of hour, day, week, month, auto."
    )
    # hourly over two years is too many points: shown by day instead, and said so
    coarse = await english.http.get(
        "/monitoring/series.json?bucket=hour&start=2024-01-01&end=2025-12-31"
    )
    data = coarse.json()
    assert (data["bucket"], data["requested_bucket"], len(data["points"])) == ("day", "hour", 731)
    assert data["note"] == "This period has too many hours to show: shown by day."
    await english.http.aclose()


async def test_a_tenant_admin_sees_only_their_tenant(site: Site) -> None:
    boss = await sign_in(site, site.user("김현우").email)
    page = await boss.http.get("/monitoring")
    names = rows_of(section(page.text, "warnings"), "data-user")
    assert names == ["정인턴", "박기자"]
    assert 'data-testid="tenant-filter"' not in page.text
    assert rows_of(section(page.text, "plan-averages"), "data-plan") == ["Enterprise"]
    colleagues = {u.name for u in site.summary.users if u.tenant == "서울경제신문"}
    users = (await boss.http.get("/monitoring/compare.json?by=user")).json()
    assert {r["name"] for r in users["rows"]} <= colleagues
    assert all(" · " not in r["label"] for r in users["rows"])
    download = await boss.http.get("/monitoring/compare.csv?by=user")
    assert "데모관리자" not in download.content.decode("utf-8-sig")
    tenant = site.tenant_id("서울경제신문")
    rows = [r for r in rollups(site) if r.tenant_id == tenant]
    data = (await boss.http.get("/monitoring/series.json?preset=90d")).json()
    assert data["total"] == total(rows, moment(data["start"]), moment(data["end"]))
    outsider = site.user("데모관리자")
    other_team = (await sign_in(site)).http
    demo_teams = (
        await other_team.get(
            "/monitoring/compare.json",
            params={"by": "team", "tenant_id": site.tenant_id("데모신문사")},
        )
    ).json()
    await other_team.aclose()
    for query in (
        f"tenant_id={site.tenant_id('데모신문사')}",
        f"user_id={outsider.id}",
        f"team_id={demo_teams['rows'][0]['id']}",
    ):
        answer = await boss.http.get(f"/monitoring/series.json?{query}")
        assert answer.status_code == 404, query
        assert answer.json()["error"]["code"] == "not_found"
    assert (await boss.http.get(f"/monitoring/detail?by=user&id={outsider.id}")).status_code == 404
    await boss.http.aclose()


async def test_a_team_leader_sees_their_team(site: Site) -> None:
    leader, member = site.user("이기자"), site.user("박기자")
    async with httpx.AsyncClient(base_url=site.base, headers=site.master) as api:
        teams = (
            await api.get("/api/v1/teams", params={"tenant_id": site.tenant_id("서울경제신문")})
        ).json()
        [economy] = [t for t in teams["items"] if t["name"] == "경제부"]
        made = await api.patch(
            f"/api/v1/teams/{economy['id']}/members/{leader.id}", json={"role": "leader"}
        )
        assert made.status_code == 200, made.text
    browser = await sign_in(site, leader.email)
    page = await browser.http.get("/monitoring")
    assert page.status_code == 200
    users = (await browser.http.get("/monitoring/compare.json?by=user")).json()
    assert {r["name"] for r in users["rows"]} == {"이기자"}
    assert (
        await browser.http.get(f"/monitoring/series.json?user_id={member.id}")
    ).status_code == 404
    await browser.http.aclose()


async def test_members_cannot_open_monitoring(site: Site) -> None:
    intern = await sign_in(site, site.user("정인턴").email, lang="en")
    page = await intern.http.get("/monitoring")
    assert page.status_code == 403
    assert "Monitoring is for administrators and team leaders." in page.text
    data = await intern.http.get("/monitoring/series.json")
    assert data.status_code == 403 and data.json()["error"]["code"] == "forbidden"
    assert (await intern.http.get("/monitoring/compare.csv")).status_code == 403
    await intern.http.aclose()


async def test_the_page_in_english(site: Site) -> None:
    browser = await sign_in(site, lang="en")
    page = await browser.http.get("/monitoring")
    html = page.text
    assert '<html lang="en">' in html
    for words in (
        "Usage monitoring",
        "Warnings",
        "Average usage per plan",
        "Top 5 users this month",
        "Usage over time",
        "Teams and users compared",
        'aria-label="Line chart of usage over time"',
        "/static/vendor/echarts/echarts.min.js",
        "/static/vendor/echarts/langKO.js",
    ):
        assert words in html, words
    data = (await browser.http.get("/monitoring/series.json?preset=90d&bucket=month")).json()
    assert data["texts"]["x_axis"] == "Month" and data["texts"]["previous"] == "Previous period"
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{4}", data["points"][0]["label"])
    money = (await browser.http.get("/monitoring/series.json?metric=cost")).json()
    assert money["total_display"].startswith("$") and money["unit"] == "micros"
    korean = (await browser.http.get("/monitoring/series.json?preset=24h&lang=ko")).json()
    assert korean["texts"]["x_axis"] == "시간"
    await browser.http.aclose()


async def test_the_cache_reads_only_the_hours_it_does_not_hold() -> None:
    asked: list[tuple[datetime, datetime]] = []
    hour = timedelta(hours=1)

    async def hourly(start: datetime, end: datetime) -> list[tuple[datetime, int]]:
        asked.append((start, end))
        return [(start + n * hour, 1) for n in range(int((end - start) / hour + 0.99))]

    cache = RollupCache()
    now = datetime(2026, 3, 5, 14, 30, tzinfo=UTC)
    settled = datetime(2026, 3, 5, 13, tzinfo=UTC)  # hours before it ended an hour ago
    day = datetime(2026, 3, 4, 14, tzinfo=UTC)
    assert len(await cache.hours("k", day, now, now, hourly)) == 25
    assert asked == [(day, settled), (settled, now)]
    asked.clear()
    # drawn again an hour later: only the hour that settled meanwhile and the open ones
    later = now + hour
    assert len(await cache.hours("k", day, later, later, hourly)) == 26
    assert asked == [(settled, settled + hour), (settled + hour, later)]
    asked.clear()
    # a longer period reads only the hours before those held
    week = day - timedelta(days=6)
    assert len(await cache.hours("k", week, now, now, hourly)) == 7 * 24 + 1
    assert asked == [(week, day), (settled, now)]

    async def grouped(start: datetime, end: datetime) -> list[Group]:
        asked.append((start, end))
        return [Group(1, 1, 10, 100), Group(2, 1, int((end - start) / hour), 1)]

    asked.clear()
    first = await cache.groups("g", day, now, now, grouped)
    again = await cache.groups("g", day, later, later, grouped)
    assert [g.id for g in first] == [2, 1] and first[0].tokens == 23 + 1
    assert again == [Group(1, 3, 30, 300), Group(2, 3, 24 + 1, 3)]  # sums of the pieces
    assert asked == [
        (day, settled),
        (settled, now),
        (settled, settled + hour),
        (settled + hour, later),
    ]
