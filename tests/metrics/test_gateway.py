from __future__ import annotations

import asyncio
import os
import sys
from itertools import pairwise
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tokengate.errors import ConfigError
from tokengate.metrics import GatewayMetrics
from tokengate.metrics.gateway import FAST_BUCKETS, MULTIPROC_ENV, OTHER, SLOW_BUCKETS

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

FINISHED = {
    "tenant": "7",
    "model": "gpt-4o-mini",
    "endpoint": "chat.completions",
    "status": "ok",
    "stream": True,
    "input_tokens": 812,
    "output_tokens": 240,
    "cost_micros": 1234,
    "overhead_s": 0.0004,
    "ttft_s": 0.41,
    "total_s": 3.7,
}


def samples_of(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(metrics: GatewayMetrics) -> Samples:
    body, _ = metrics.render()
    return samples_of(body.decode())


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def buckets(samples: Samples, name: str, **labels: str) -> dict[float, float]:
    """The cumulative bucket counts of one histogram series, by upper bound."""
    found = {}
    for (sample, pairs), count in samples.items():
        got = dict(pairs)
        le = got.pop("le", None)
        if sample == f"{name}_bucket" and le is not None and got == labels:
            found[float(le)] = count
    return found


def finish(metrics: GatewayMetrics, **overrides: object) -> None:
    metrics.request_finished(**{**FINISHED, **overrides})  # type: ignore[arg-type]


def test_request_finished_moves_every_series() -> None:
    metrics = GatewayMetrics()
    finish(metrics)
    finish(metrics, input_tokens=8, output_tokens=2, cost_micros=6)
    s = scrape(metrics)

    owner = {"tenant": "7", "model": "gpt-4o-mini"}
    assert (
        value(s, "tokengate_requests_total", endpoint="chat.completions", status="ok", **owner) == 2
    )
    assert value(s, "tokengate_tokens_total", kind="input", **owner) == 820
    assert value(s, "tokengate_tokens_total", kind="output", **owner) == 242
    assert value(s, "tokengate_cost_micros_total", **owner) == 1240
    assert value(s, "tokengate_gateway_overhead_seconds_count") == 2
    assert value(s, "tokengate_time_to_first_token_seconds_count", model="gpt-4o-mini") == 2
    assert value(s, "tokengate_request_duration_seconds_count", model="gpt-4o-mini", stream="true")
    assert value(
        s, "tokengate_request_duration_seconds_sum", model="gpt-4o-mini", stream="true"
    ) == (pytest.approx(7.4))


def test_requests_are_counted_per_label_set() -> None:
    metrics = GatewayMetrics()
    finish(metrics)
    finish(metrics, status="upstream_error")
    finish(metrics, tenant="8", endpoint="embeddings")
    s = scrape(metrics)

    def requests(tenant: str, endpoint: str, status: str) -> float | None:
        return value(
            s,
            "tokengate_requests_total",
            tenant=tenant,
            model="gpt-4o-mini",
            endpoint=endpoint,
            status=status,
        )

    assert requests("7", "chat.completions", "ok") == 1
    assert requests("7", "chat.completions", "upstream_error") == 1
    assert requests("8", "embeddings", "ok") == 1
    assert requests("8", "chat.completions", "ok") is None


def test_a_plain_request_has_no_first_token_and_may_carry_nothing() -> None:
    metrics = GatewayMetrics()
    finish(
        metrics,
        stream=False,
        ttft_s=None,
        input_tokens=0,
        output_tokens=0,
        cost_micros=0,
        status="rejected",
    )
    s = scrape(metrics)

    assert value(s, "tokengate_time_to_first_token_seconds_count", model="gpt-4o-mini") == 0
    assert value(s, "tokengate_request_duration_seconds_count", model="gpt-4o-mini", stream="false")
    assert value(s, "tokengate_tokens_total", tenant="7", model="gpt-4o-mini", kind="input") == 0
    assert value(s, "tokengate_cost_micros_total", tenant="7", model="gpt-4o-mini") == 0


def test_histograms_put_values_in_their_buckets() -> None:
    metrics = GatewayMetrics()
    finish(metrics, overhead_s=0.0004, ttft_s=0.41, total_s=3.7)
    finish(metrics, overhead_s=0.001, ttft_s=None, stream=False, total_s=0.05)
    s = scrape(metrics)

    overhead = buckets(s, "tokengate_gateway_overhead_seconds")
    assert (overhead[0.0003], overhead[0.0005], overhead[0.00075]) == (0, 1, 1)
    # a bucket's bound is inclusive
    assert (overhead[0.00075], overhead[0.001], overhead[float("inf")]) == (1, 2, 2)
    ttft = buckets(s, "tokengate_time_to_first_token_seconds", model="gpt-4o-mini")
    assert (ttft[0.3], ttft[0.5]) == (0, 1)
    streamed = buckets(s, "tokengate_request_duration_seconds", model="gpt-4o-mini", stream="true")
    assert (streamed[3.0], streamed[5.0]) == (0, 1)
    plain = buckets(s, "tokengate_request_duration_seconds", model="gpt-4o-mini", stream="false")
    assert (plain[0.025], plain[0.05]) == (0, 1)


def test_a_negative_overhead_counts_as_none() -> None:
    metrics = GatewayMetrics()
    finish(metrics, overhead_s=-0.002)
    s = scrape(metrics)

    assert buckets(s, "tokengate_gateway_overhead_seconds")[FAST_BUCKETS[0]] == 1
    assert value(s, "tokengate_gateway_overhead_seconds_sum") == 0


@pytest.mark.parametrize(
    ("ladder", "low", "high"), [(FAST_BUCKETS, 0.0001, 0.1), (SLOW_BUCKETS, 0.05, 300.0)]
)
def test_bucket_ladders_read_quantiles_within_a_factor_of_five_thirds(
    ladder: tuple[float, ...], low: float, high: float
) -> None:
    fine = [upper / lower for lower, upper in pairwise(ladder) if lower >= low and upper <= high]

    assert ladder == tuple(sorted(ladder))
    assert ladder[0] < low and ladder[-1] > high
    assert max(fine) <= 5 / 3 + 1e-9


def test_in_flight_counts_requests_inside_it() -> None:
    metrics = GatewayMetrics()

    def in_flight() -> float | None:
        return value(scrape(metrics), "tokengate_requests_in_flight")

    with metrics.in_flight():
        with metrics.in_flight():
            assert in_flight() == 2
        assert in_flight() == 1
    with pytest.raises(RuntimeError), metrics.in_flight():
        raise RuntimeError
    assert in_flight() == 0


async def test_in_flight_spans_awaits() -> None:
    metrics = GatewayMetrics()
    started = asyncio.Event()
    release = asyncio.Event()

    async def request() -> None:
        with metrics.in_flight():
            started.set()
            await release.wait()

    task = asyncio.create_task(request())
    await started.wait()
    assert value(scrape(metrics), "tokengate_requests_in_flight") == 1
    release.set()
    await task
    assert value(scrape(metrics), "tokengate_requests_in_flight") == 0


def test_ledger_decisions_and_latency() -> None:
    metrics = GatewayMetrics()
    untouched = scrape(metrics)
    metrics.ledger_decision(decision="admitted")
    metrics.ledger_decision(decision="admitted")
    metrics.ledger_decision(decision="quota_exceeded")
    metrics.ledger_latency(op="reserve", seconds=0.00018)
    metrics.ledger_latency(op="settle", seconds=0.004)
    s = scrape(metrics)

    # every decision exists from the start, so rate() sees the first one
    for decision in ("admitted", "quota_exceeded", "rate_limited"):
        assert value(untouched, "tokengate_ledger_decisions_total", decision=decision) == 0
    assert value(s, "tokengate_ledger_decisions_total", decision="admitted") == 2
    assert value(s, "tokengate_ledger_decisions_total", decision="quota_exceeded") == 1
    assert value(s, "tokengate_ledger_decisions_total", decision="rate_limited") == 0
    reserve = buckets(s, "tokengate_ledger_operation_seconds", op="reserve")
    assert (reserve[0.00015], reserve[0.0002]) == (0, 1)
    settle = buckets(s, "tokengate_ledger_operation_seconds", op="settle")
    assert (settle[0.003], settle[0.005]) == (0, 1)


def test_provider_errors_are_counted_by_kind() -> None:
    metrics = GatewayMetrics()
    metrics.provider_error(provider="openai", model="gpt-4o", kind="timeout")
    metrics.provider_error(provider="openai", model="gpt-4o", kind="timeout")
    metrics.provider_error(provider="openai", model="gpt-4o", kind="status_5xx")
    s = scrape(metrics)

    errors = {"provider": "openai", "model": "gpt-4o"}
    assert value(s, "tokengate_provider_errors_total", kind="timeout", **errors) == 2
    assert value(s, "tokengate_provider_errors_total", kind="status_5xx", **errors) == 1


def test_circuit_state_is_a_number_per_deployment() -> None:
    metrics = GatewayMetrics()
    metrics.circuit_state(deployment="azure-east", state="open")
    metrics.circuit_state(deployment="openai", state="open")
    metrics.circuit_state(deployment="openai", state="half_open")
    metrics.circuit_state(deployment="bedrock", state="closed")
    s = scrape(metrics)

    assert value(s, "tokengate_circuit_state", deployment="azure-east") == 2
    assert value(s, "tokengate_circuit_state", deployment="openai") == 1
    assert value(s, "tokengate_circuit_state", deployment="bedrock") == 0


def test_two_instances_share_nothing() -> None:
    first, second = GatewayMetrics(), GatewayMetrics()
    finish(first)
    first.ledger_decision(decision="rate_limited")
    with first.in_flight():
        s = scrape(second)

    assert value(s, "tokengate_requests_in_flight") == 0
    assert value(s, "tokengate_ledger_decisions_total", decision="rate_limited") == 0
    assert not any(name.startswith("tokengate_requests_total") for name, _ in s)
    assert value(scrape(first), "tokengate_ledger_decisions_total", decision="rate_limited") == 1


def test_too_many_tenants_or_models_fold_into_other() -> None:
    metrics = GatewayMetrics(max_tenants=2, max_models=1)
    finish(metrics, tenant="1", model="m1")
    finish(metrics, tenant="2", model="m2")
    finish(metrics, tenant="3", model="m3")
    finish(metrics, tenant="3", model="m3")
    metrics.provider_error(provider="openai", model="m9", kind="timeout")
    s = scrape(metrics)

    def requests(tenant: str, model: str) -> float | None:
        return value(
            s,
            "tokengate_requests_total",
            tenant=tenant,
            model=model,
            endpoint="chat.completions",
            status="ok",
        )

    assert requests("1", "m1") == 1
    assert requests("2", OTHER) == 1
    assert requests(OTHER, OTHER) == 2
    assert value(s, "tokengate_tokens_total", tenant=OTHER, model=OTHER, kind="input") == 1624
    errors = {"provider": "openai", "model": OTHER, "kind": "timeout"}
    assert value(s, "tokengate_provider_errors_total", **errors) == 1


def test_render_speaks_the_text_format_or_openmetrics() -> None:
    metrics = GatewayMetrics()
    text, text_type = metrics.render()
    open_body, open_type = metrics.render("application/openmetrics-text; version=1.0.0")

    assert text_type == "text/plain; version=0.0.4; charset=utf-8"
    assert text.startswith(b"# HELP")
    assert open_type.startswith("application/openmetrics-text")
    assert open_body.endswith(b"# EOF\n")


def test_render_leaves_out_created_timestamps() -> None:
    metrics = GatewayMetrics()
    finish(metrics)

    assert not [name for name, _ in scrape(metrics) if name.endswith("_created")]


def test_one_process_also_reports_itself() -> None:
    names = {name for name, _ in scrape(GatewayMetrics())}

    assert "python_info" in names
    assert "python_gc_collections_total" in names


def test_from_environment_reads_the_multiprocess_directory() -> None:
    assert GatewayMetrics.from_environment({}).multiprocess_dir is None
    assert GatewayMetrics.from_environment({MULTIPROC_ENV: ""}).multiprocess_dir is None


@pytest.mark.skipif(MULTIPROC_ENV in os.environ, reason="this process shares its metrics")
def test_multiprocess_mode_needs_the_variable_before_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        GatewayMetrics(multiprocess_dir=str(tmp_path))


WORKER = """
import sys
from tokengate.metrics import GatewayMetrics

metrics = GatewayMetrics.from_environment()
metrics.request_finished(
    tenant="7", model="m", endpoint="chat.completions", status="ok", stream=False,
    input_tokens=10, output_tokens=5, cost_micros=3, overhead_s=0.001, ttft_s=None, total_s=0.2,
)
metrics.in_flight().__enter__()
if sys.argv[1] == "close":
    metrics.close()
else:
    sys.stdout.write(metrics.render()[0].decode())
"""


async def run_worker(directory: Path, mode: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WORKER,
        mode,
        env={**os.environ, MULTIPROC_ENV: str(directory)},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    return out.decode()


async def test_multiprocess_mode_sums_the_workers(tmp_path: Path) -> None:
    # the first worker shuts down cleanly; the second is still serving when it renders
    await run_worker(tmp_path, "close")
    s = samples_of(await run_worker(tmp_path, "render"))

    owner = {"tenant": "7", "model": "m"}
    assert (
        value(s, "tokengate_requests_total", endpoint="chat.completions", status="ok", **owner) == 2
    )
    assert value(s, "tokengate_tokens_total", kind="input", **owner) == 20
    assert value(s, "tokengate_request_duration_seconds_count", model="m", stream="false") == 2
    assert value(s, "tokengate_requests_in_flight") == 1
    assert "python_info" not in {name for name, _ in s}
