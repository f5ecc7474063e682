"""Dashboard pages, chart data and admin API reads on millions of usage events (US-26):
``python -m scripts.bench_dashboard --help``.

Seeds a PostgreSQL database once (10 million events by default: see
scripts/bench_dashboard_seed.py), serves it with ``tokengate serve``, signs in as a system
administrator and as the administrator of the largest tenant, and times every page, every
chart's data call and every ``/api/v1`` read, one client at a time and with a few concurrent
clients. Pages score against 500 ms at p95, API reads against 200 ms. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TextIO
from urllib.parse import urlencode

import asyncpg
import orjson
import uvloop

from scripts.bench_dashboard_http import (
    Server,
    Timings,
    Viewer,
    log_tail,
    measure,
    served,
    sign_in,
    timed_get,
    wait_until_ready,
)
from scripts.bench_dashboard_seed import (
    Shape,
    ensure_database,
    plain_url,
    say,
    seed,
    seeded_events,
)
from scripts.bench_run import source_state, stop_on_sigterm
from scripts.bench_stats import percentile
from tokengate.db import create_engine, create_session_factory, transaction, utcnow
from tokengate.demo.run import DEMO_ADMIN, DEMO_SECRET_KEY
from tokengate.migrate import upgrade_database
from tokengate.tenancy import service as tenancy

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/tokengate_bench"
URL_ENV = "TOKENGATE_BENCH_POSTGRES_URL"
Kind = Literal["page", "chart", "api"]
TARGET_MS: dict[Kind, float] = {"page": 500.0, "chart": 500.0, "api": 200.0}

# every dashboard page, as a person opens it; {names} are filled from the data (see Ids)
PAGES = (
    "/",
    "/tenants",
    "/teams",
    "/teams/{team_id}",
    "/users",
    "/users?tenant_id={tenant_id}",
    "/users/{user_id}",
    "/models",
    "/models/{model_id}",
    "/limits",
    "/monitoring",
    "/me/usage",
    "/me/keys",
    "/chat",
)
# the data calls the monitoring charts make
CHARTS = (
    "/monitoring/series.json?bucket=hour&preset=7d",
    "/monitoring/series.json?bucket=day&preset=90d",
    "/monitoring/series.json?bucket=week&preset=90d",
    "/monitoring/series.json?bucket=month&preset=90d",
    "/monitoring/series.json?bucket=day&preset=30d&compare=true",
    "/monitoring/series.json?bucket=hour&preset=7d&metric=cost&compare=true",
    "/monitoring/series.json?bucket=day&preset=90d&tenant_id={tenant_id}",
    "/monitoring/series.json?bucket=day&preset=30d&team_id={team_id}",
    "/monitoring/series.json?bucket=hour&preset=7d&user_id={user_id}",
    "/monitoring/compare.json?by=team",
    "/monitoring/compare.json?by=user",
    "/monitoring/compare.json?by=user&period=week&team_id={team_id}",
)
# besides every GET of /openapi.json (path parameters filled): the filters people use
API_VARIANTS = (
    "/api/v1/usage?tenant_id={tenant_id}",
    "/api/v1/usage?user_id={user_id}",
    "/api/v1/usage?team_id={team_id}",
    "/api/v1/usage?model={model}",
    "/api/v1/usage?tenant_id={tenant_id}&model={model}&since={since_7d}",
    "/api/v1/usage?since={since_1d}&limit=100",
    "/api/v1/models/{model_id}/stats?since={since_30d}",
    "/api/v1/models/{model_id}/stats?tenant_id={tenant_id}",
    "/api/v1/usage/current?scope=user&id={user_id}",
    "/api/v1/users?tenant_id={tenant_id}",
    "/api/v1/keys?tenant_id={tenant_id}",
    "/api/v1/audit?tenant_id={tenant_id}",
)
# query parameters some reads require
API_REQUIRED = {"scope": "tenant", "id": "{tenant_id}"}
API_SKIPPED = ("export",)


@dataclass(frozen=True)
class Options:
    database_url: str
    events: int
    reseed: bool
    requests: int
    warmup: int
    clients: int
    workers: int
    strict: bool
    only: str | None
    json_path: Path | None


def parse_options(argv: list[str] | None = None) -> Options:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_dashboard", description=__doc__)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(URL_ENV, DEFAULT_URL),
        help=f"PostgreSQL database to seed and serve (${URL_ENV}, else {DEFAULT_URL})",
    )
    parser.add_argument("--events", type=int, default=10_000_000, help="usage events (10M)")
    parser.add_argument("--reseed", action="store_true", help="drop the database and seed again")
    parser.add_argument("--requests", type=int, default=50, help="measured GETs per URL (50)")
    parser.add_argument("--warmup", type=int, default=5, help="discarded GETs per URL first (5)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (4)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (1)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any URL fails")
    parser.add_argument("--only", help="measure only the URLs containing this text")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL URL (postgresql+asyncpg://…)")
    if args.events < 1 or args.requests < 1 or args.warmup < 0 or args.clients < 1:
        parser.error("--events, --requests and --clients must be positive")
    return Options(
        database_url=args.database_url,
        events=args.events,
        reseed=args.reseed,
        requests=args.requests,
        warmup=args.warmup,
        clients=args.clients,
        workers=args.workers,
        strict=args.strict,
        only=args.only,
        json_path=args.json,
    )


def shape_for(events: int) -> Shape:
    """The data set for so many events: 20 tenants and 2,000 people for millions of events,
    proportionally fewer (at least 3 tenants, 30 people) for a small run."""
    scale = min(1.0, events / 10_000_000)
    users = max(30, round(2_000 * scale))
    tenants = max(3, min(20, users // 100))
    return Shape(events=events, tenants=tenants, teams=max(tenants, users // 10), users=users)


@dataclass(frozen=True)
class Ids:
    """Real ids of the largest tenant, its busiest team and person, and what they use."""

    tenant_id: int
    team_id: int
    user_id: int
    key_id: int
    model_id: int
    model: str
    plan_id: int
    limit_id: int
    admin_id: int
    admin_email: str
    now: datetime

    def values(self) -> dict[str, str]:
        since = {f"since_{d}d": self.now - timedelta(days=d) for d in (1, 7, 30)}
        fields = {
            k: str(v) for k, v in vars(self).items() if k not in ("now", "admin_email", "admin_id")
        }
        return fields | {k: v.isoformat(timespec="seconds") for k, v in since.items()}


def fill(template: str, ids: Ids) -> str:
    """A URL template with its {names} replaced (query values URL-encoded)."""
    path, _, query = template.partition("?")
    values = ids.values()
    path = path.format(**values)
    if not query:
        return path
    pairs = [pair.split("=", 1) for pair in query.split("&")]
    return f"{path}?{urlencode([(k, v.format(**values)) for k, v in pairs])}"


def api_templates(openapi: dict[str, Any]) -> list[str]:
    """Every GET under /api/v1 in the schema (exports left out), path parameters as {names}
    and required query parameters filled; then the filter variants."""
    found: list[str] = []
    for path, operations in openapi.get("paths", {}).items():
        get = operations.get("get")
        if not path.startswith("/api/v1/") or get is None:
            continue
        if any(word in path for word in API_SKIPPED):
            continue
        required = [
            p["name"]
            for p in get.get("parameters", [])
            if p.get("in") == "query" and p.get("required")
        ]
        query = "&".join(f"{name}={API_REQUIRED.get(name, '')}" for name in required)
        found.append(f"{path}?{query}" if query else path)
    return found + [t for t in API_VARIANTS if t not in found]


@dataclass(frozen=True)
class Row:
    """One URL measured for one viewer at one load."""

    kind: Kind
    url: str
    viewer: str
    clients: int
    status: str  # PASS, FAIL, missing (404), forbidden (403 for this viewer)
    p50: float | None = None
    p95: float | None = None
    max: float | None = None
    errors: str = ""
    first: float | None = None  # the first request's ms: caches still cold


def judge(
    kind: Kind,
    url: str,
    viewer: str,
    clients: int,
    timings: Timings,
    first: float | None = None,
) -> Row:
    """The row of a measured URL: PASS when every request answered 200 and p95 is within
    its target (the first, cold request is shown apart, not judged)."""
    errors = ", ".join(f"{k} ×{n}" for k, n in sorted(timings.failures.items()))
    if not timings.ms:
        return Row(kind, url, viewer, clients, "FAIL", errors=errors, first=first)
    p95 = percentile(timings.ms, 95)
    ok = not timings.failures and p95 <= TARGET_MS[kind]
    return Row(
        kind,
        url,
        viewer,
        clients,
        "PASS" if ok else "FAIL",
        percentile(timings.ms, 50),
        p95,
        max(timings.ms),
        errors,
        first,
    )


def render(rows: list[Row], meta: dict[str, object]) -> str:
    """The report: what ran where, then one Markdown table per kind."""
    lines = [f"{k}: {v}" for k, v in meta.items()]
    titles: dict[Kind, str] = {
        "page": "Dashboard pages",
        "chart": "Chart data",
        "api": "/api/v1 reads",
    }
    kind: Kind
    for kind, title in titles.items():
        mine = [r for r in rows if r.kind == kind]
        if not mine:
            continue
        lines += [
            "",
            f"### {title} (target: p95 under {TARGET_MS[kind]:.0f} ms)",
            "",
            "| URL | viewer | clients | first ms | p50 ms | p95 ms | max ms | result |",
            "|---|---|--:|--:|--:|--:|--:|---|",
        ]
        for r in mine:
            values = (r.first, r.p50, r.p95, r.max)
            figures = " | ".join("" if v is None else f"{v:,.0f}" for v in values)
            note = f"{r.status} ({r.errors})" if r.errors else r.status
            lines.append(f"| `{r.url}` | {r.viewer} | {r.clients} | {figures} | {note} |")
    passed = sum(r.status == "PASS" for r in rows)
    failed = [r for r in rows if r.status == "FAIL"]
    missing = sorted({r.url for r in rows if r.status == "missing"})
    lines += ["", f"{passed} passed, {len(failed)} failed, {len(missing)} missing (HTTP 404)"]
    lines += [f"missing: {url}" for url in missing]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Seed when needed, measure, print the report; 1 with --strict when anything failed."""
    options = parse_options(argv)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        meta = runner.run(_prepare(options))
        with (
            tempfile.TemporaryDirectory(prefix="tokengate-bench-dashboard-") as tmp,
            served(
                database_url=options.database_url,
                secret_key=DEMO_SECRET_KEY,
                workers=options.workers,
                log=Path(tmp) / "server.log",
            ) as server,
        ):
            rows = runner.run(_measure_all(server, options))
    meta["source"] = source_state()
    meta["load average"] = f"{meta.pop('load_before')} before, {_load()} after"
    out.write(render(rows, meta))
    if options.json_path is not None:
        document = {"meta": meta, "rows": [vars(r) for r in rows]}
        options.json_path.write_bytes(orjson.dumps(document, default=str))
    return 1 if options.strict and any(r.status == "FAIL" for r in rows) else 0


async def _prepare(options: Options) -> dict[str, object]:
    url, now = options.database_url, utcnow()
    await ensure_database(url, fresh=options.reseed)
    if await seeded_events(url) != options.events:
        if not options.reseed:
            await ensure_database(url, fresh=True)  # partial or another size: start over
        await seed(url, shape_for(options.events), now=now)
    else:
        say("the database already holds the seeded events: not seeding (--reseed to redo)")
    began = time.perf_counter()
    await asyncio.to_thread(upgrade_database, url)  # new indexes are built here
    say(f"migrated ({time.perf_counter() - began:.1f} s)")
    return await _describe(url)


async def _describe(url: str) -> dict[str, object]:
    connection = await asyncpg.connect(plain_url(url))
    try:
        counts = {
            name: await connection.fetchval(f"SELECT count(*) FROM {name}")  # noqa: S608
            for name in ("tenants", "teams", "users", "api_keys", "usage_hourly")
        }
        seed_row = await connection.fetchrow("SELECT * FROM tokengate_bench_seed")
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    if seed_row is None:
        raise RuntimeError("the database holds no seeding record: --reseed")
    return {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.cpu_count()} CPUs ({_cpu_model()}), {_memory_gib():.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}",
        "database": f"PostgreSQL {version}",
        "load_before": _load(),
        "data": f"{seed_row['events']:,} events over {seed_row['days']} days, "
        f"seeded {seed_row['seeded_at']:%Y-%m-%d %H:%M} UTC; "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
    }


async def _measure_all(server: Server, options: Options) -> list[Row]:
    await wait_until_ready(server)
    ids = await _ids(options.database_url)
    password = secrets.token_urlsafe(18)
    await _set_passwords(options.database_url, user_id=ids.admin_id, password=password)
    viewers = [
        await sign_in(
            server, label="system admin", email=DEMO_ADMIN, password=password, master=True
        ),
        await sign_in(
            server, label="tenant admin", email=ids.admin_email, password=password, master=False
        ),
    ]
    openapi = (await viewers[0].api.get("/openapi.json")).json()
    targets: list[tuple[Kind, str]] = [("page", p) for p in PAGES]
    targets += [("chart", c) for c in CHARTS]
    targets += [("api", a) for a in api_templates(openapi)]
    rows: list[Row] = []
    try:
        for kind, template in targets:
            url = fill(template, ids)
            if options.only and options.only not in url:
                continue
            for viewer in viewers:
                rows += await _measure_url(kind, url, viewer, options)
    except Exception:
        sys.stderr.write(f"bench: the end of the server's log:\n{log_tail(server)}\n")
        raise
    finally:
        for viewer in viewers:
            await viewer.aclose()
    return rows


async def _measure_url(kind: Kind, url: str, viewer: Viewer, options: Options) -> list[Row]:
    http = viewer.api if kind == "api" else viewer.browser
    status, first = await timed_get(http, url)
    if status in (403, 404):
        label = "missing" if status == 404 else "forbidden"
        return [Row(kind, url, viewer.label, 1, label)]
    for _ in range(options.warmup):
        await timed_get(http, url)
    rows = []
    for clients in sorted({1, options.clients}):
        timings = await measure(http, url, requests=options.requests, clients=clients)
        cold = first if clients == 1 else None
        rows.append(judge(kind, url, viewer.label, clients, timings, cold))
        row = rows[-1]
        say(f"{row.status:<4} {kind} {url} ({viewer.label}, {clients}): p95 {row.p95 or 0:,.0f} ms")
    return rows


async def _ids(url: str) -> Ids:
    """The largest tenant (most people), its biggest team, its busiest person this month."""
    connection = await asyncpg.connect(plain_url(url))
    month = utcnow() - timedelta(days=30)
    try:
        tenant = await connection.fetchrow(
            "SELECT t.id, t.plan_id FROM tenants t JOIN users u ON u.tenant_id = t.id "
            "GROUP BY t.id ORDER BY count(*) DESC, t.id LIMIT 1"
        )
        if tenant is None:
            raise RuntimeError("the database holds no tenant: --reseed")
        team_id = await connection.fetchval(
            "SELECT m.team_id FROM team_memberships m JOIN teams t ON t.id = m.team_id "
            "WHERE t.tenant_id = $1 GROUP BY m.team_id ORDER BY count(*) DESC LIMIT 1",
            tenant["id"],
        )
        busiest = await connection.fetchrow(
            "SELECT user_id, key_id, model_id FROM usage_hourly WHERE tenant_id = $1 "
            "AND hour >= $2 GROUP BY 1, 2, 3 ORDER BY sum(requests) DESC LIMIT 1",
            tenant["id"],
            month,
        )
        if busiest is None:
            raise RuntimeError("the largest tenant used nothing this month: --reseed")
        model = await connection.fetchval("SELECT name FROM models WHERE id = $1", busiest[2])
        limit_id = await connection.fetchval(
            "SELECT min(id) FROM limits WHERE tenant_id = $1", tenant["id"]
        )
        admin = await connection.fetchrow(
            "SELECT id, email FROM users WHERE tenant_id = $1 "
            "AND roles::text LIKE '%tenant_admin%' ORDER BY id LIMIT 1",
            tenant["id"],
        )
    finally:
        await connection.close()
    if admin is None:
        raise RuntimeError("the largest tenant has no administrator: --reseed")
    return Ids(
        tenant_id=tenant["id"],
        team_id=team_id,
        user_id=busiest[0],
        key_id=busiest[1],
        model_id=busiest[2],
        model=model,
        plan_id=tenant["plan_id"],
        limit_id=limit_id or 1,
        admin_id=admin["id"],
        admin_email=admin["email"],
        now=datetime.now(UTC),
    )


async def _set_passwords(url: str, *, user_id: int, password: str) -> None:
    """A fresh password for this run, for the system administrator and the tenant's."""
    engine = create_engine(url)
    try:
        async with transaction(create_session_factory(engine)) as session:
            await tenancy.ensure_system_admin(
                session=session, email=DEMO_ADMIN, name="데모 시스템 관리자", password=password
            )
            await tenancy.set_password(session=session, user_id=user_id, password=password)
    finally:
        await engine.dispose()


def _load() -> str:
    """The machine's 1-minute load average: other work competing for the same cores."""
    return f"{os.getloadavg()[0]:.1f}"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return 0.0


if __name__ == "__main__":
    stop_on_sigterm()
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.stderr.write("bench: interrupted; the server was stopped\n")
        sys.exit(130)
