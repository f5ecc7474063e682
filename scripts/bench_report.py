"""The benchmark's report: a plain or Markdown table per concern, and the same figures as JSON."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import orjson

from scripts.bench_stats import Summary

Load = Literal["latency", "rate", "saturation"]
Target = Literal["mock", "gateway"]
PERCENTILE_KEYS = ("p50", "p90", "p99")
OTHERS = "other processes"
KEPT_UP = 0.95
DISTURBED_PERCENT = 10


@dataclass(frozen=True)
class Scenario:
    """One row: a load shape, a response mode and the server the load is sent to."""

    load: Load
    stream: bool
    target: Target

    def label(self, rate: float, concurrency: int) -> str:
        """Name the scenario the way the tables do, e.g. ``stream, 200 req/s open loop``."""
        mode = "stream" if self.stream else "json"
        shape = {
            "latency": "1 client",
            "rate": f"{rate:g} req/s open loop",
            "saturation": f"{concurrency} clients",
        }[self.load]
        return f"{mode}, {shape} → {self.target}"


@dataclass(frozen=True)
class Result:
    """A scenario's measurements; CPU seconds per process (tree) over the measured phase."""

    scenario: Scenario
    summary: Summary
    cpu_seconds: dict[str, float]
    wall: float

    def cpu_ms_per_request(self, process: str) -> float:
        """Milliseconds of CPU the process spent per request of this scenario."""
        return self.cpu_seconds[process] * 1000 / max(1, self.summary.requests)

    def core_percent(self, process: str) -> float:
        """How busy the process kept one core during the phase, in percent."""
        return self.cpu_seconds[process] * 100 / self.wall if self.wall else 0.0


def render_report(results: Sequence[Result], meta: dict[str, object], *, markdown: bool) -> str:
    """Return the whole report: context, latency table, CPU table, then errors if any."""
    rate, concurrency = float(str(meta["rate"])), int(str(meta["concurrency"]))
    lines = [
        f"tokengate benchmark, {meta['date']}, code: {meta['source']}",
        f"{os.cpu_count()} CPUs shared by the load generator, the mock provider and the gateway,"
        " all on this machine: every figure includes their contention.",
        f"Python {platform.python_version()}, gateway workers: {meta['workers']},"
        f" {meta['duration_s']:g} s measured per scenario after {meta['warmup_s']:g} s of warm-up.",
        "Latency in ms; '+' columns: the gateway's added latency (gateway − mock alone).",
        "",
        render_table(_latency_rows(results, rate, concurrency), markdown=markdown),
        "",
        "CPU per request (ms) and busy share of one core (%) per process; 'other processes' is"
        " the rest of the machine's CPU use during the phase, which competed with the run:",
        "",
        render_table(_cpu_rows(results, rate, concurrency), markdown=markdown),
        "",
        f"Gateway resident memory (VmRSS): {_mib(meta['gateway_rss_start_bytes'])} after start-up,"
        f" {_mib(meta['gateway_rss_end_bytes'])} at the end.",
    ]
    lines += _open_loop_notes(results, rate, concurrency)
    lines += _disturbance_notes(results)
    lines += _error_notes(results, rate, concurrency)
    return "\n".join(lines) + "\n"


def render_json(results: Sequence[Result], meta: dict[str, object]) -> bytes:
    """Return the report's figures as indented JSON."""
    document = {
        **meta,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "scenarios": [
            {
                **asdict(r),
                "cpu_ms_per_request": {p: r.cpu_ms_per_request(p) for p in r.cpu_seconds},
                "added_latency_ms": _added(r, results, "latency_ms"),
                "added_ttfb_ms": _added(r, results, "ttfb_ms"),
            }
            for r in results
        ],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


def _latency_rows(results: Sequence[Result], rate: float, concurrency: int) -> list[list[str]]:
    header = ["Scenario", "Requests", "Req/s", "Errors", "p50", "p90", "p99"]
    header += ["+p50", "+p90", "+p99", "TTFB p50", "+TTFB p50", "GW CPU ms/req"]
    rows = [header]
    for r in results:
        s = r.summary
        added = _added(r, results, "latency_ms")
        added_ttfb = _added(r, results, "ttfb_ms").get("p50")
        ttfb = s.ttfb_ms.get("p50") if r.scenario.stream else None
        rows.append(
            [
                r.scenario.label(rate, concurrency),
                str(s.requests),
                f"{s.rate:.0f}",
                str(s.errors),
                *(_ms(s.latency_ms.get(k)) for k in PERCENTILE_KEYS),
                *(_ms(added.get(k), signed=True) for k in PERCENTILE_KEYS),
                _ms(ttfb),
                _ms(added_ttfb if r.scenario.stream else None, signed=True),
                _ms(r.cpu_ms_per_request("gateway")) if r.scenario.target == "gateway" else "",
            ]
        )
    return rows


def _cpu_rows(results: Sequence[Result], rate: float, concurrency: int) -> list[list[str]]:
    processes = [p for p in results[0].cpu_seconds if p != OTHERS] if results else []
    header = [f"{p} ms/req" for p in processes] + [f"{p} %" for p in [*processes, OTHERS]]
    rows = [["Scenario", *header]]
    for r in results:
        rows.append(
            [
                r.scenario.label(rate, concurrency),
                *(f"{r.cpu_ms_per_request(p):.2f}" for p in processes),
                *(f"{r.core_percent(p):.0f}" for p in [*processes, OTHERS]),
            ]
        )
    return rows


def _added(result: Result, results: Sequence[Result], field: str) -> dict[str, float]:
    """The gateway's percentiles minus the mock's, for the same load and mode; {} for the mock."""
    scenario = result.scenario
    if scenario.target != "gateway":
        return {}
    for other in results:
        o = other.scenario
        if (o.load, o.stream, o.target) == (scenario.load, scenario.stream, "mock"):
            mine, base = getattr(result.summary, field), getattr(other.summary, field)
            return {k: mine[k] - base[k] for k in mine if k in base}
    return {}


def _open_loop_notes(results: Sequence[Result], rate: float, concurrency: int) -> list[str]:
    open_loop = [r for r in results if r.scenario.load == "rate"]
    if not open_loop:
        return []
    lag = max(r.summary.max_send_lag_ms for r in open_loop)
    notes = [
        f"Open loop: requests left the generator at most {lag:.1f} ms after their due time;"
        " that delay counts in their latency (no coordinated omission)."
    ]
    notes += [
        f"{r.scenario.label(rate, concurrency)} answered only {r.summary.rate:.0f} of {rate:g}"
        " req/s: its latencies measure a growing queue; lower --rate below its saturation"
        " throughput to see the added latency."
        for r in open_loop
        if r.summary.rate < KEPT_UP * rate
    ]
    return notes


def _disturbance_notes(results: Sequence[Result]) -> list[str]:
    busiest = max((r.core_percent(OTHERS) for r in results if OTHERS in r.cpu_seconds), default=0)
    if busiest < DISTURBED_PERCENT:
        return []
    return [
        f"WARNING: other processes kept up to {busiest:.0f} % of a core busy during a phase;"
        " the figures are disturbed. Rerun on a quiet machine."
    ]


def _error_notes(results: Sequence[Result], rate: float, concurrency: int) -> list[str]:
    notes = [
        f"ERRORS in {r.scenario.label(rate, concurrency)}: "
        + ", ".join(f"{kind} ×{count}" for kind, count in r.summary.error_kinds.items())
        for r in results
        if r.summary.errors
    ]
    return ["", *notes] if notes else []


def render_table(rows: list[list[str]], *, markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in rows]
        lines.insert(
            1, "|" + "|".join("---" if i == 0 else "--:" for i in range(len(rows[0]))) + "|"
        )
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


def _ms(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return ""
    text = f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return "+" + text if signed and value >= 0 else text


def _mib(value: object) -> str:
    return f"{int(str(value)) / 2**20:.0f} MiB"
