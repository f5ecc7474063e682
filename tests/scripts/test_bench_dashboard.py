from __future__ import annotations

import asyncio
import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import asyncpg
import orjson
import pytest

from scripts.bench_dashboard import (
    DEFAULT_URL,
    URL_ENV,
    Ids,
    Row,
    api_templates,
    fill,
    judge,
    main,
    parse_options,
    render,
    shape_for,
)
from scripts.bench_dashboard_http import Timings
from scripts.bench_dashboard_seed import (
    Shape,
    hourly_counts,
    plain_url,
    team_counts,
    tenant_sizes,
)
from tests.conftest import run_sync

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
IDS = Ids(
    tenant_id=6,
    team_id=21,
    user_id=40,
    key_id=41,
    model_id=1,
    model="C1",
    plan_id=5,
    limit_id=9,
    admin_id=17,
    admin_email="user00001@bench01.demo",
    now=NOW,
)


def test_people_spread_over_tenants_with_a_long_tail():
    sizes = tenant_sizes(2_000, 20)

    assert sum(sizes) == 2_000
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[0] > 5 * sizes[-1]
    assert min(sizes) >= 2
    assert tenant_sizes(30, 3) == sorted(tenant_sizes(30, 3), reverse=True)
    with pytest.raises(ValueError, match="two users per tenant"):
        tenant_sizes(5, 3)


def test_teams_follow_the_people_and_never_outnumber_them():
    sizes = tenant_sizes(2_000, 20)
    counts = team_counts(200, sizes)

    assert sum(counts) == 200
    assert counts == sorted(counts, reverse=True)
    assert all(1 <= c <= s for c, s in zip(counts, sizes, strict=True))
    assert team_counts(3, [2, 2, 2, 2]) == [1, 1, 1, 1]  # one each, even beyond the total


def test_events_fill_office_hours_on_weekdays_and_grow_over_time():
    start = datetime(2026, 8, 24, 0, tzinfo=UTC)
    hours = hourly_counts(events=1_000_000, start=start, end=NOW, tz=SEOUL)
    by_hour = {at: n for at, _, n in hours}

    assert sum(by_hour.values()) == 1_000_000
    assert len(hours) == (NOW - start) // timedelta(hours=1) + 1
    assert hours[-1][1] == pytest.approx(0.5)  # the hour now is in, half gone
    # Wednesday 2026-11-18: 14:00 in Seoul (05:00 UTC) against 03:00 (18:00 UTC the day before)
    afternoon = by_hour[datetime(2026, 11, 18, 5, tzinfo=UTC)]
    assert afternoon > 10 * by_hour[datetime(2026, 11, 17, 18, tzinfo=UTC)]
    # Saturday 2026-11-21 at the same hour is quieter; the same Wednesday hour earlier too
    assert by_hour[datetime(2026, 11, 21, 5, tzinfo=UTC)] < afternoon / 3
    assert by_hour[datetime(2026, 8, 26, 5, tzinfo=UTC)] < afternoon


def test_urls_are_filled_with_real_ids_and_encoded_times():
    assert fill("/users/{user_id}", IDS) == "/users/40"
    url = fill("/api/v1/usage?tenant_id={tenant_id}&model={model}&since={since_7d}", IDS)
    query = parse_qs(urlsplit(url).query)

    assert urlsplit(url).path == "/api/v1/usage"
    assert query == {"tenant_id": ["6"], "model": ["C1"], "since": ["2026-11-15T10:30:00+00:00"]}
    assert "+" not in urlsplit(url).query.replace("%2B", "")


def test_api_reads_come_from_the_schema_without_exports():
    schema = {
        "paths": {
            "/api/v1/tenants": {"get": {"parameters": []}, "post": {}},
            "/api/v1/tenants/{tenant_id}": {"get": {}, "delete": {}},
            "/api/v1/usage/current": {
                "get": {
                    "parameters": [
                        {"name": "scope", "in": "query", "required": True},
                        {"name": "id", "in": "query", "required": True},
                        {"name": "cursor", "in": "query"},
                    ]
                }
            },
            "/api/v1/audit/export": {"get": {}},
            "/api/v1/keys": {"post": {}},
            "/v1/models": {"get": {}},
        }
    }

    found = api_templates(schema)

    assert found[:3] == [
        "/api/v1/tenants",
        "/api/v1/tenants/{tenant_id}",
        "/api/v1/usage/current?scope=tenant&id={tenant_id}",
    ]
    assert not any("export" in t or t.startswith("/v1/") for t in found)
    assert "/api/v1/usage?user_id={user_id}" in found  # the filter variants follow
    assert fill(found[2], IDS) == "/api/v1/usage/current?scope=tenant&id=6"


def test_a_url_passes_only_without_errors_and_within_its_target():
    quick = Timings(ms=[float(v) for v in range(1, 101)])
    assert judge("api", "/api/v1/tenants", "system admin", 1, quick).status == "PASS"
    slow = Timings(ms=[float(v) for v in range(100, 300)])
    row = judge("api", "/api/v1/usage", "system admin", 1, slow)
    assert (row.status, row.p50, row.p95, row.max) == ("FAIL", 199.0, 289.0, 299.0)
    assert judge("page", "/", "tenant admin", 4, slow).status == "PASS"  # 500 ms for pages
    failing = Timings(ms=[1.0], failures={"HTTP 500": 2})
    row = judge("page", "/", "tenant admin", 4, failing)
    assert (row.status, row.errors) == ("FAIL", "HTTP 500 ×2")
    assert judge("chart", "/x", "a", 1, Timings(failures={"HTTP 0": 3})).p95 is None
    assert judge("page", "/", "a", 1, quick, first=2_000.0).status == "PASS"  # cold: not judged


def test_report_has_a_table_per_kind_and_lists_missing_pages():
    rows = [
        Row("page", "/", "system admin", 1, "PASS", 120.4, 210.0, 260.2, first=900.0),
        Row("page", "/limits", "system admin", 1, "missing"),
        Row("api", "/api/v1/usage", "tenant admin", 4, "FAIL", 150.0, 250.0, 400.0),
    ]

    text = render(rows, {"machine": "2 CPUs"})

    assert text.startswith("machine: 2 CPUs\n")
    assert "### Dashboard pages (target: p95 under 500 ms)" in text
    assert "### /api/v1 reads (target: p95 under 200 ms)" in text
    assert "### Chart data" not in text
    assert "| `/` | system admin | 1 | 900 | 120 | 210 | 260 | PASS |" in text
    assert "| `/api/v1/usage` | tenant admin | 4 |  | 150 | 250 | 400 | FAIL |" in text
    assert "1 passed, 1 failed, 1 missing (HTTP 404)\nmissing: /limits\n" in text


def test_options(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(URL_ENV, raising=False)
    options = parse_options([])
    assert (options.database_url, options.events, options.requests) == (DEFAULT_URL, 10**7, 50)
    assert (options.warmup, options.clients, options.strict) == (5, 4, False)
    monkeypatch.setenv(URL_ENV, "postgresql+asyncpg://elsewhere/db")
    assert parse_options(["--events", "2000"]).database_url == "postgresql+asyncpg://elsewhere/db"
    for bad in (["--database-url", "sqlite+aiosqlite:///x.db"], ["--requests", "0"]):
        with pytest.raises(SystemExit):
            parse_options(bad)


def test_a_small_run_gets_a_small_data_set():
    assert shape_for(10_000_000) == Shape()
    small = shape_for(2_000)
    assert (small.tenants, small.users, small.events) == (3, 30, 2_000)
    assert small.teams >= small.tenants


async def _drop(server: str, name: str) -> None:
    connection = await asyncpg.connect(plain_url(f"{server}/postgres"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.mark.postgres
@pytest.mark.slow
def test_a_tiny_run_seeds_once_and_measures_every_url(
    postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    server = postgres_url.rsplit("/", 1)[0]
    url = f"{server}/tokengate_bench_{uuid.uuid4().hex[:8]}"
    report = tmp_path / "bench.json"
    tiny = ["--database-url", url, "--events", "2000", "--warmup", "0", "--clients", "2"]
    try:
        out = io.StringIO()
        status = run_sync(lambda: main([*tiny, "--requests", "2", "--json", str(report)], out=out))
        rows = orjson.loads(report.read_bytes())["rows"]
        again = run_sync(lambda: main([*tiny, "--requests", "1", "--only", "/api/v1/me"]))
    finally:
        run_sync(lambda: asyncio.run(_drop(server, url.rsplit("/", 1)[1])))

    text = out.getvalue()
    assert status == 0, text
    assert "data: 2,000 events over 90 days" in text
    measured = {(r["kind"], r["url"], r["viewer"]) for r in rows if r["status"] == "PASS"}
    assert ("page", "/", "system admin") in measured
    assert ("page", "/", "tenant admin") in measured
    assert ("api", "/api/v1/tenants", "system admin") in measured
    assert any(kind == "api" and "/stats" in u for kind, u, _ in measured)
    assert {r["clients"] for r in rows if r["status"] == "PASS"} == {1, 2}
    # on a loaded machine two requests may be slow, but none may fail
    assert not [r for r in rows if r["errors"]], text
    assert again == 0
    assert "already holds the seeded events" in capsys.readouterr().err
