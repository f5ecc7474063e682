"""Benchmark the gateway against the mock provider alone: ``python -m scripts.bench --help``.

Both servers run as subprocesses on loopback ports; see docs/benchmarks.md for what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import orjson
import uvloop
from yarl import URL

from scripts.bench_load import (
    RequestSpec,
    SendFn,
    http_sender,
    open_session,
    run_closed_loop,
    run_closed_loop_count,
    run_open_loop,
)
from scripts.bench_report import Load, Result, Scenario, Target, render_json, render_report
from scripts.bench_run import source_state, stop_on_sigterm
from scripts.bench_servers import (
    MODEL,
    Stack,
    cpu_seconds,
    log_tail,
    machine_busy_seconds,
    process_tree,
    provision,
    rss_bytes,
    started_stack,
    wait_until_ready,
)
from scripts.bench_stats import Sample, summarize

LOADS: tuple[Load, ...] = ("latency", "rate", "saturation")
TARGETS: tuple[Target, ...] = ("mock", "gateway")
PROMPT = [
    {"role": "system", "content": "You are a concise assistant."},
    {"role": "user", "content": "Explain in two sentences what an API gateway does."},
]


@dataclass(frozen=True)
class Options:
    """What to run: phase lengths in seconds, the open-loop rate and the saturation concurrency."""

    duration: float
    warmup: float
    rate: float
    concurrency: int
    workers: int
    json_path: Path | None
    markdown: bool
    soak: int = 0
    """Non-streamed requests of the memory soak (0: run the scenarios instead)."""


def parse_options(argv: list[str] | None = None) -> Options:
    """Read the command line; ``--quick`` shortens every phase unless a length is given."""
    parser = argparse.ArgumentParser(prog="python -m scripts.bench", description=__doc__)
    parser.add_argument("--duration", type=float, help="seconds measured per scenario (10)")
    parser.add_argument("--warmup", type=float, help="seconds of discarded warm-up (2)")
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop requests/s (200)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=32,
        help="saturation clients; also the open loop's connection pool (32)",
    )
    parser.add_argument("--workers", type=int, default=1, help="gateway worker processes (1)")
    parser.add_argument("--quick", action="store_true", help="2 s scenarios, 0.5 s warm-up")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument(
        "--soak",
        type=int,
        default=0,
        metavar="N",
        help="run only a memory soak: N non-streamed requests through the gateway at --rate "
        "(closed loop with --concurrency clients if --rate 0), sampling its RSS at 0, N/2 and N",
    )
    args = parser.parse_args(argv)
    duration = args.duration if args.duration is not None else 2.0 if args.quick else 10.0
    warmup = args.warmup if args.warmup is not None else 0.5 if args.quick else 2.0
    if args.soak < 0 or args.soak == 1:
        parser.error("--soak needs at least 2 requests")
    # a soak may run closed loop (--rate 0); the scenarios always need a rate
    low_rate = args.rate < 0 if args.soak else args.rate <= 0
    if duration <= 0 or warmup < 0 or low_rate or args.concurrency < 1 or args.workers < 1:
        parser.error("durations, rate, concurrency and workers must be positive")
    return Options(
        duration=duration,
        warmup=warmup,
        rate=args.rate,
        concurrency=args.concurrency,
        workers=args.workers,
        json_path=args.json,
        markdown=args.markdown,
        soak=args.soak,
    )


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Run every scenario and print the report; return 1 when any request failed."""
    options = parse_options(argv)
    if options.soak:
        return _soak_main(options, out)
    source = source_state()
    with (
        tempfile.TemporaryDirectory(prefix="tokengate-bench-") as tmp,
        started_stack(workdir=Path(tmp), workers=options.workers) as stack,
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
    ):
        results, memory = runner.run(_run_all(stack, options))
    meta = {
        "date": time.strftime("%Y-%m-%d"),
        "source": source,
        "duration_s": options.duration,
        "warmup_s": options.warmup,
        "rate": options.rate,
        "concurrency": options.concurrency,
        "workers": options.workers,
        **memory,
    }
    out.write(render_report(results, meta, markdown=options.markdown))
    if options.json_path is not None:
        options.json_path.write_bytes(render_json(results, meta))
    return 1 if any(r.summary.errors for r in results) else 0


async def _run_all(stack: Stack, options: Options) -> tuple[list[Result], dict[str, int]]:
    await wait_until_ready(stack)
    key = await provision(stack)
    memory = {"gateway_rss_start_bytes": rss_bytes(process_tree(stack.gateway.pid))}
    urls = {"mock": stack.mock_url, "gateway": f"{stack.gateway_url}/v1"}
    results = []
    for load in LOADS:
        for stream in (False, True):
            for target in TARGETS:
                scenario = Scenario(load=load, stream=stream, target=target)
                sys.stderr.write(f"bench: {scenario.label(options.rate, options.concurrency)}\n")
                spec = _request(urls[target], key, stream=stream)
                results.append(await _run_scenario(scenario, spec, stack, options))
    memory["gateway_rss_end_bytes"] = rss_bytes(process_tree(stack.gateway.pid))
    if any(r.summary.errors for r in results):
        # the logs vanish with the temporary directory: show why requests failed while we can
        for name in ("gateway", "mock"):
            sys.stderr.write(f"bench: the end of the {name}'s log:\n{log_tail(stack, name)}\n")
    return results, memory


async def _run_scenario(
    scenario: Scenario, spec: RequestSpec, stack: Stack, options: Options
) -> Result:
    connections = 1 if scenario.load == "latency" else options.concurrency
    meters = _cpu_meters(stack)
    async with open_session(connections) as session:
        send = http_sender(session, spec)
        if options.warmup:
            await _phase(scenario.load, send, options, options.warmup)
        before = {name: meter() for name, meter in meters.items()}
        started = time.perf_counter()
        samples = await _phase(scenario.load, send, options, options.duration)
        wall = time.perf_counter() - started
        spent = {name: meter() - before[name] for name, meter in meters.items()}
    # whatever else ran on the machine meanwhile: it competed for the same cores
    machine = spent.pop("machine")
    spent["other processes"] = max(0.0, machine - sum(spent.values()))
    return Result(scenario=scenario, summary=summarize(samples), cpu_seconds=spent, wall=wall)


async def _phase(load: Load, send: SendFn, options: Options, duration: float) -> list[Sample]:
    if load == "latency":
        return await run_closed_loop(send, concurrency=1, duration=duration)
    if load == "rate":
        return await run_open_loop(send, rate=options.rate, duration=duration)
    return await run_closed_loop(send, concurrency=options.concurrency, duration=duration)


@dataclass(frozen=True)
class SoakPoint:
    """The gateway's resident memory after so many soak requests, and how they went."""

    requests: int
    rss_bytes: int
    errors: int = 0
    rate: float = 0.0
    gateway_cpu_seconds: float = 0.0


def growth_percent(before: int, after: int) -> float:
    """Return how much ``after`` exceeds ``before``, in percent of ``before``."""
    if before <= 0:
        raise ValueError("the first reading must be positive")
    return (after - before) * 100 / before


def render_soak(points: list[SoakPoint], options: Options) -> str:
    """Tabulate the soak's memory readings and the growth over its second half."""
    load = f"{options.rate:g} req/s open loop" if options.rate else f"{options.concurrency} clients"
    lines = [
        f"Memory soak: {options.soak:,} non-streamed requests through the gateway "
        f"({options.workers} worker(s), {load}); RSS summed over its process tree",
        "",
        "| after requests | gateway RSS MiB | errors | req/s | gateway CPU ms/request |",
        "|---:|---:|---:|---:|---:|",
    ]
    for previous, point in zip([None, *points], points, strict=False):
        done = point.requests - (previous.requests if previous else 0)
        cpu = f"{point.gateway_cpu_seconds * 1000 / done:.3f}" if done else "–"
        rate = f"{point.rate:,.0f}" if point.rate else "–"
        lines.append(
            f"| {point.requests:,} | {point.rss_bytes / 2**20:,.1f} | {point.errors:,} "
            f"| {rate} | {cpu} |"
        )
    middle, end = points[-2], points[-1]
    lines += [
        "",
        f"Growth from {middle.requests:,} to {end.requests:,} requests: "
        f"{growth_percent(middle.rss_bytes, end.rss_bytes):+.2f} % "
        f"(from the start: {growth_percent(points[0].rss_bytes, end.rss_bytes):+.2f} %)",
        "",
    ]
    return "\n".join(lines)


def _soak_main(options: Options, out: TextIO) -> int:
    with (
        tempfile.TemporaryDirectory(prefix="tokengate-bench-") as tmp,
        started_stack(workdir=Path(tmp), workers=options.workers) as stack,
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
    ):
        points = runner.run(_soak(stack, options))
    out.write(f"{source_state()}, {time.strftime('%Y-%m-%d')}\n\n")
    out.write(render_soak(points, options))
    return 1 if any(p.errors for p in points) else 0


async def _soak(stack: Stack, options: Options) -> list[SoakPoint]:
    await wait_until_ready(stack)
    key = await provision(stack)
    spec = _request(f"{stack.gateway_url}/v1", key, stream=False)

    def rss() -> int:
        # walked again at each reading, in case a worker was replaced meanwhile
        return rss_bytes(process_tree(stack.gateway.pid))

    points = [SoakPoint(requests=0, rss_bytes=rss())]
    sys.stderr.write(f"bench: soak: gateway RSS {points[0].rss_bytes / 2**20:.1f} MiB at 0\n")
    half = options.soak // 2
    async with open_session(options.concurrency) as session:
        send = http_sender(session, spec)
        for count in (half, options.soak - half):
            cpu_before = cpu_seconds(process_tree(stack.gateway.pid))
            if options.rate:
                samples = await run_open_loop(
                    send, rate=options.rate, duration=count / options.rate
                )
            else:
                samples = await run_closed_loop_count(
                    send, concurrency=options.concurrency, requests=count
                )
            summary = summarize(samples)
            del samples
            point = SoakPoint(
                requests=points[-1].requests + summary.requests,
                rss_bytes=rss(),
                errors=summary.errors,
                rate=summary.rate,
                gateway_cpu_seconds=cpu_seconds(process_tree(stack.gateway.pid)) - cpu_before,
            )
            points.append(point)
            sys.stderr.write(
                f"bench: soak: gateway RSS {point.rss_bytes / 2**20:.1f} MiB at "
                f"{point.requests:,} ({summary.errors} errors, {summary.rate:,.0f} req/s)\n"
            )
            if summary.errors:
                sys.stderr.write(f"bench: soak errors: {summary.error_kinds}\n")
    if any(p.errors for p in points):
        sys.stderr.write(f"bench: the end of the gateway's log:\n{log_tail(stack, 'gateway')}\n")
    return points


def _cpu_meters(stack: Stack) -> dict[str, Callable[[], float]]:
    # the gateway's tree is read once per scenario: with --workers it includes every worker
    gateway, mock = process_tree(stack.gateway.pid), process_tree(stack.mock.pid)
    return {
        "gateway": lambda: cpu_seconds(gateway),
        "mock": lambda: cpu_seconds(mock),
        "load generator": time.process_time,
        "machine": machine_busy_seconds,
    }


def _request(base_url: str, key: str, *, stream: bool) -> RequestSpec:
    body: dict[str, object] = {"model": MODEL, "messages": PROMPT}
    if stream:
        # asked of both targets, so that each sends the client the same events
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    return RequestSpec(
        url=URL(f"{base_url}/chat/completions"),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        body=orjson.dumps(body),
        stream=stream,
    )


if __name__ == "__main__":
    stop_on_sigterm()
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.stderr.write("bench: interrupted; the mock and the gateway were stopped\n")
        sys.exit(130)
