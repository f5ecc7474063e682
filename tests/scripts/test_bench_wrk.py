from __future__ import annotations

import asyncio
import io
import shutil
from pathlib import Path

import orjson
import pytest

from scripts.bench_wrk import main, parse_options
from scripts.bench_wrk_measure import request_body
from scripts.bench_wrk_report import Row, added_latency, failed, render_wrk_report
from scripts.bench_wrk_tool import WrkLoad, WrkRun, parse_wrk_output, run_wrk
from tokengate.mockprovider import MockConfig, RunningMock

WRK = shutil.which("wrk")
needs_wrk = pytest.mark.skipif(WRK is None, reason="wrk is not installed (make loadtools)")
META: dict[str, object] = {
    "date": "2026-11-22",
    "source": "abc1234",
    "wrk": "wrk 4.1.0",
    "litellm": "LiteLLM not measured",
    "ledger": "redis",
    "workers": 2,
    "threads": 1,
    "connections": 64,
    "duration_s": 10,
    "warmup_s": 2,
    "request": "gpt-4o-mini",
}


def _run(requests: int, p50: float, **errors: int) -> WrkRun:
    counts = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0, **errors}
    latency = {"p50": p50, "p90": p50 * 2, "p99": p50 * 4, "max": p50 * 8}
    return WrkRun(
        requests=requests, seconds=2.0, errors=counts, latency_ms=latency, cpu_seconds=0.1
    )


def _row(target: str, run: WrkRun, *, server_cpu: float = 1.0) -> Row:
    cpu = {"server": server_cpu, "mock": 0.2, "wrk": 0.1, "other processes": 0.0}
    return Row(
        mode="json", target=target, run=run, cpu_seconds=cpu, wall=2.0, rss_bytes=2**27, served=9
    )


def test_wrk_output_is_read_from_the_scripts_json_line():
    output = "\n".join(
        [
            "Running 1s test @ http://127.0.0.1:1/v1/chat/completions",
            "Requests/sec:   4841.12",
            'WRK_JSON {"requests": 4843, "duration_us": 1000388, "bytes": 4014847, "errors":'
            ' {"connect": 0, "read": 1, "write": 0, "status": 3, "timeout": 2}, "latency_us":'
            ' {"p50": 1238, "p90": 4154, "p99": 12211, "max": 23785, "mean": 2028.0}}',
        ]
    )

    run = parse_wrk_output(output, cpu_seconds=0.25)

    assert run.requests == 4843
    assert run.rate == pytest.approx(4843 / 1.000388)
    assert run.error_count == 6
    assert run.latency_ms == pytest.approx(
        {"p50": 1.238, "p90": 4.154, "p99": 12.211, "max": 23.785}
    )
    assert run.cpu_seconds == 0.25


def test_report_shows_added_latency_and_cpu_per_request():
    rows = [_row("mock", _run(20_000, 1.0)), _row("tokengate", _run(4_000, 3.5))]

    text = render_wrk_report(rows, META, markdown=True)

    assert added_latency(rows[1], rows) == pytest.approx({"p50": 2.5, "p90": 5.0, "p99": 10.0})
    assert "| json, 64 connections → tokengate | 4000 | 2000 | 0 | 3.50 |" in text
    assert "+2.50 | +10.00 |" in text
    # 1 s of CPU over 4,000 requests
    assert "| json, 64 connections → tokengate | 0.250 | 0.050 | 0.025 |" in text
    assert "Issue 4, tokengate json: 2,000 req/s (target ≥ 2,000: met); 0.250 ms" in text
    assert "ERRORS" not in text
    assert not any(failed(r) for r in rows)


def test_report_makes_errors_and_silent_runs_fail():
    rows = [_row("mock", _run(20_000, 1.0)), _row("LiteLLM", _run(0, 0.0))]
    rows.append(_row("tokengate", _run(100, 5.0, status=7, timeout=1)))

    text = render_wrk_report(rows, META, markdown=False)

    assert "ERRORS in json, 64 connections → tokengate: status ×7, timeout ×1" in text
    assert "NO ANSWER in json, 64 connections → LiteLLM" in text
    assert added_latency(rows[1], rows) == {}
    assert [failed(r) for r in rows] == [False, True, True]


def test_options_refuse_what_wrk_cannot_run():
    options = parse_options(["--workers", "2", "--connections", "32", "--no-litellm"])
    assert (options.workers, options.plan.load.connections, options.litellm_venv) == (2, 32, None)
    assert parse_options([]).plan.duration == 10
    for bad in (["--duration", "0"], ["--threads", "8", "--connections", "4"], ["--warmup", "-1"]):
        with pytest.raises(SystemExit):
            parse_options(bad)


@needs_wrk
async def test_wrk_counts_failed_answers_as_errors(upstream: RunningMock, tmp_path: Path):
    assert WRK is not None
    body = tmp_path / "body.json"
    body.write_bytes(request_body(stream=False))
    load = WrkLoad(threads=1, connections=2, timeout=5)
    url = f"{upstream.base_url}/chat/completions"
    upstream.set_config(MockConfig(record_requests=False))

    good = await asyncio.to_thread(
        run_wrk, wrk=WRK, url=url, body=body, authorization="", load=load, seconds=1
    )
    upstream.set_config(MockConfig(record_requests=False, fail_status=502))
    bad = await asyncio.to_thread(
        run_wrk, wrk=WRK, url=url, body=body, authorization="", load=load, seconds=1
    )

    assert good.requests > 0
    assert good.error_count == 0
    assert good.latency_ms["p50"] > 0
    assert bad.requests > 0
    assert bad.errors["status"] == bad.requests


@needs_wrk
@pytest.mark.slow
def test_short_run_measures_mock_and_gateway_without_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    out = io.StringIO()
    report = tmp_path / "wrk.json"
    absent = tmp_path / "no-litellm-venv"

    status = main(
        [
            *("--duration", "1", "--warmup", "0", "--connections", "4"),
            *("--litellm-venv", str(absent), "--json", str(report)),
        ],
        out=out,
    )

    text = out.getvalue()
    rows = {(r["mode"], r["target"]): r for r in orjson.loads(report.read_bytes())["rows"]}
    assert status == 0, text
    assert set(rows) == {(m, t) for m in ("json", "stream") for t in ("mock", "tokengate")}
    for (mode, target), row in rows.items():
        assert row["run"]["requests"] > 0
        assert row["errors"] == 0
        assert row["chunks"] == (20 if mode == "stream" else None)
        assert row["cpu_ms_per_request"]["server"] > 0
        assert row["cpu_ms_per_request"]["wrk"] > 0
        assert row["rss_bytes"] > 0
        assert f"{mode}, 4 connections → {'mock alone' if target == 'mock' else target}" in text
    assert rows["json", "tokengate"]["cpu_ms_per_request"]["mock"] > 0
    assert rows["stream", "tokengate"]["added_latency_ms"].keys() == {"p50", "p90", "p99"}
    assert f"LiteLLM is not installed in {absent}" in capsys.readouterr().err
