from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

import orjson
import pytest

from scripts.bench import SoakPoint, growth_percent, main, parse_options, render_soak
from scripts.bench_load import run_closed_loop, run_closed_loop_count, run_open_loop, schedule
from scripts.bench_report import Result, Scenario, render_json, render_report
from scripts.bench_stats import Sample, percentile, summarize

META: dict[str, object] = {
    "date": "2026-11-22",
    "source": "abc1234",
    "duration_s": 1.0,
    "warmup_s": 0.0,
    "rate": 200.0,
    "concurrency": 32,
    "workers": 1,
    "gateway_rss_start_bytes": 100 * 2**20,
    "gateway_rss_end_bytes": 110 * 2**20,
}


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(100, 0, -1)]  # 1..100, unsorted on purpose
    assert percentile(values, 50) == 50
    assert percentile(values, 90) == 90
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2
    assert percentile([1.0, 2.0, 3.0, 4.0], 99) == 4
    assert percentile([7.0], 1) == 7


def test_percentile_refuses_nonsense():
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 0)


def test_latency_counts_from_the_due_time_not_the_send_time():
    sample = Sample(due=10.0, sent=10.5, first_byte=10.6, done=11.0)
    assert sample.latency == pytest.approx(1.0)
    assert sample.ttfb == pytest.approx(0.6)


def test_summary_keeps_errors_out_of_the_percentiles():
    good = [Sample(due=i, sent=i, first_byte=i + 0.001, done=i + 0.002) for i in range(10)]
    bad = [Sample(due=3.0, sent=3.2, first_byte=3.9, done=4.0, error="HTTP 502")] * 2
    summary = summarize(good + bad)
    assert summary.requests == 12
    assert summary.errors == 2
    assert summary.error_kinds == {"HTTP 502": 2}
    assert summary.latency_ms["p99"] == pytest.approx(2.0)
    assert summary.rate == pytest.approx(10 / 9.002)
    assert summary.max_send_lag_ms == pytest.approx(200.0)


def test_schedule_spaces_sends_by_the_rate():
    offsets = schedule(rate=100, duration=0.5)
    assert len(offsets) == 50
    assert offsets[0] == 0
    assert offsets[1] - offsets[0] == pytest.approx(0.01)
    with pytest.raises(ValueError, match="positive"):
        schedule(rate=0, duration=1)


async def test_open_loop_charges_a_stall_to_every_request_queued_behind_it():
    # one connection: the first request stalls 200 ms, the others queue behind it
    connection = asyncio.Lock()
    served: dict[float, float] = {}

    async def send(due: float) -> Sample:
        sent = time.perf_counter()
        async with connection:
            served[due] = time.perf_counter()
            await asyncio.sleep(0.2 if len(served) == 1 else 0)
        done = time.perf_counter()
        return Sample(due=due, sent=sent, first_byte=done, done=done)

    samples = await run_open_loop(send, rate=100, duration=0.3)

    assert len(samples) == 30
    # sends kept to the clock even though answers stalled
    assert all(s.sent - s.due < 0.1 for s in samples)
    start = samples[0].due
    queued = [s for s in samples[1:] if s.due - start < 0.15]
    assert len(queued) >= 10
    for s in queued:
        # charged the whole wait for the stall to end, ~200 ms after the first was due
        assert s.latency > 0.2 - (s.due - start) - 0.02
        # though once it had the connection, its answer was immediate
        assert s.done - served[s.due] < s.latency / 2


async def test_closed_loop_waits_for_each_answer():
    in_flight = 0
    most = 0

    async def send(due: float) -> Sample:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        done = time.perf_counter()
        return Sample(due=due, sent=due, first_byte=done, done=done)

    samples = await run_closed_loop(send, concurrency=3, duration=0.1)

    assert most == 3
    assert 3 <= len(samples) <= 3 * 12


def _result(load: str, stream: bool, target: str, latency: float, *, rate: float = 100) -> Result:
    samples = [
        Sample(due=i / rate, sent=i / rate, first_byte=i / rate + latency, done=i / rate + latency)
        for i in range(100)
    ]
    return Result(
        scenario=Scenario(load=load, stream=stream, target=target),  # type: ignore[arg-type]
        summary=summarize(samples),
        cpu_seconds={"gateway": 0.5, "mock": 0.1, "load generator": 0.1, "other processes": 0.0},
        wall=1.0,
    )


def test_report_shows_the_gateways_added_latency():
    results = [
        _result("latency", False, "mock", 0.001),
        _result("latency", False, "gateway", 0.004),
    ]

    document = orjson.loads(render_json(results, META))
    markdown = render_report(results, META, markdown=True)

    assert document["scenarios"][1]["added_latency_ms"]["p50"] == pytest.approx(3.0)
    assert document["scenarios"][0]["added_latency_ms"] == {}
    assert "| json, 1 client → gateway | 100 |" in markdown
    assert "+3.00" in markdown
    assert "ERRORS" not in markdown


def test_report_says_when_the_gateway_fell_behind_the_open_loop_rate():
    results = [_result("rate", True, "mock", 0.001), _result("rate", True, "gateway", 0.5, rate=50)]

    text = render_report(results, META, markdown=False)

    assert "stream, 200 req/s open loop → gateway answered only" in text


def test_report_makes_errors_and_a_busy_machine_visible():
    failing = _result("saturation", False, "gateway", 0.004)
    summary = summarize([Sample(due=0, sent=0, first_byte=1, done=1, error="HTTP 502")] * 2)
    busy = {**failing.cpu_seconds, "other processes": 0.5}
    results = [
        _result("saturation", False, "mock", 0.001),
        Result(scenario=failing.scenario, summary=summary, cpu_seconds=busy, wall=1.0),
    ]

    text = render_report(results, META, markdown=False)

    assert "ERRORS in json, 32 clients → gateway: HTTP 502 ×2" in text
    assert "WARNING: other processes kept up to 50 % of a core busy" in text


def test_quick_shortens_phases_unless_told_otherwise():
    assert parse_options(["--quick"]).duration == 2.0
    assert parse_options(["--quick", "--duration", "0.5"]).duration == 0.5
    assert parse_options([]).duration == 10.0
    with pytest.raises(SystemExit):
        parse_options(["--rate", "0"])


@pytest.mark.slow
def test_quick_run_measures_every_scenario_without_errors(tmp_path: Path):
    out = io.StringIO()
    report = tmp_path / "bench.json"

    # a low rate and few clients keep the gateway's queue (and so the test) short
    quick = [
        "--quick",
        "--duration",
        "0.2",
        "--warmup",
        "0.05",
        "--rate",
        "50",
        "--concurrency",
        "4",
    ]
    status = main([*quick, "--json", str(report)], out=out)

    document = orjson.loads(report.read_bytes())
    scenarios = {
        (s["scenario"]["load"], s["scenario"]["stream"], s["scenario"]["target"]): s["summary"]
        for s in document["scenarios"]
    }
    assert len(scenarios) == 12
    assert all(s["requests"] > 0 and s["errors"] == 0 for s in scenarios.values()), out.getvalue()
    assert status == 0
    assert "shared by the load generator" in out.getvalue()
    assert document["gateway_rss_end_bytes"] > 0


def test_soak_is_off_by_default_and_may_run_closed_loop():
    assert parse_options([]).soak == 0
    options = parse_options(["--soak", "200000", "--rate", "0", "--concurrency", "64"])
    assert (options.soak, options.rate, options.concurrency) == (200_000, 0, 64)
    assert parse_options(["--soak", "10", "--rate", "500"]).rate == 500
    for bad in (["--soak", "1"], ["--soak", "-5"], ["--soak", "10", "--rate", "-1"]):
        with pytest.raises(SystemExit):
            parse_options(bad)


def test_soak_reports_the_growth_over_its_second_half():
    assert growth_percent(100, 104) == pytest.approx(4.0)
    assert growth_percent(200, 190) == pytest.approx(-5.0)
    with pytest.raises(ValueError, match="positive"):
        growth_percent(0, 10)
    mib = 2**20
    points = [
        SoakPoint(requests=0, rss_bytes=100 * mib),
        SoakPoint(requests=1000, rss_bytes=120 * mib, rate=900.0, gateway_cpu_seconds=0.5),
        SoakPoint(requests=2000, rss_bytes=123 * mib, rate=910.0, gateway_cpu_seconds=0.6),
    ]
    options = parse_options(["--soak", "2000", "--rate", "0"])

    text = render_soak(points, options)

    assert "| 1,000 | 120.0 | 0 | 900 | 0.500 |" in text
    assert "| 2,000 | 123.0 | 0 | 910 | 0.600 |" in text
    assert "Growth from 1,000 to 2,000 requests: +2.50 %" in text
    assert "32 clients" in text


async def test_closed_loop_count_sends_exactly_that_many():
    in_flight = 0
    most = 0

    async def send(due: float) -> Sample:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1
        return Sample(due=due, sent=due, first_byte=due, done=due)

    samples = await run_closed_loop_count(send, concurrency=4, requests=21)

    assert len(samples) == 21
    assert most == 4
