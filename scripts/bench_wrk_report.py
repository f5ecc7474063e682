"""The wrk benchmark's report: a throughput and latency table, a CPU and memory table, as text,
Markdown or JSON."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import orjson

from scripts.bench_report import render_table
from scripts.bench_wrk_tool import WrkRun

Mode = Literal["json", "stream"]
MODES: tuple[Mode, ...] = ("json", "stream")
BASELINE = "mock"
SERVER, MOCK, WRK, OTHERS = "server", "mock", "wrk", "other processes"
DISTURBED_PERCENT = 10
# issue 4: tokengate, 2 workers, Redis ledger, at saturation
TARGET_RATE = 2000
TARGET_CPU_MS: dict[Mode, float] = {"json": 0.7, "stream": 2.0}


@dataclass(frozen=True)
class Row:
    """One wrk run at saturation: a response mode sent to one target, and what it cost."""

    mode: Mode
    target: str
    run: WrkRun
    cpu_seconds: dict[str, float]
    """Per process (tree) over the measured run: server, mock (behind it), wrk, other processes."""
    wall: float
    rss_bytes: int
    """The target's resident memory (summed over its process tree) after the run."""
    served: int
    """Requests the target had answered when its memory was read (warm-ups included)."""
    chunks: int | None = None
    """Streams: content chunks in one answer, counted before the run."""

    def cpu_ms_per_request(self, process: str) -> float:
        """Milliseconds of CPU the process spent per answered request."""
        return self.cpu_seconds.get(process, 0.0) * 1000 / max(1, self.run.requests)

    def core_percent(self, process: str) -> float:
        """How busy the process kept one core during the run, in percent."""
        return self.cpu_seconds.get(process, 0.0) * 100 / self.wall if self.wall else 0.0

    def label(self, connections: int) -> str:
        """Name the row the way the tables do, e.g. ``stream, 64 connections → tokengate``."""
        target = "mock alone" if self.target == BASELINE else self.target
        return f"{self.mode}, {connections} connections → {target}"


def failed(row: Row) -> bool:
    """Whether the row's run had errors, or no answer at all to measure."""
    return row.run.error_count > 0 or row.run.requests == 0


def added_latency(row: Row, rows: Sequence[Row]) -> dict[str, float]:
    """The row's latency percentiles minus the mock alone's, same mode; {} for the mock."""
    if row.target == BASELINE or not row.run.requests:
        return {}
    for base in rows:
        if (base.mode, base.target) == (row.mode, BASELINE) and base.run.requests:
            mine, theirs = row.run.latency_ms, base.run.latency_ms
            return {k: mine[k] - theirs[k] for k in ("p50", "p90", "p99")}
    return {}


def render_wrk_report(rows: Sequence[Row], meta: dict[str, object], *, markdown: bool) -> str:
    """Return the report: context lines, the two tables, then notes, target checks and errors."""
    connections = int(str(meta["connections"]))
    ordered = sorted(rows, key=lambda r: (MODES.index(r.mode), _target_rank(r, rows)))
    lines = [
        f"tokengate saturation benchmark (wrk), {meta['date']}, code: {meta['source']}",
        f"{os.cpu_count()} CPUs shared by wrk, the mock provider and the server measured."
        f" {meta['wrk']}: {meta['threads']} thread(s), {connections} keep-alive connections,"
        f" closed loop, {meta['duration_s']} s measured per row after {meta['warmup_s']} s of"
        " warm-up (discarded).",
        f"tokengate: {meta['workers']} worker(s), ledger {meta['ledger']};"
        f" {meta['litellm']}. Requests: {meta['request']}.",
        "Latency in ms, from a request's send to its last byte; '+' columns: minus the mock alone"
        " (at saturation that is mostly queueing: connections ÷ throughput).",
        "",
        render_table(_latency_rows(ordered, connections), markdown=markdown),
        "",
        "CPU per answered request (ms) and busy share of one core (%); 'server' is the target's"
        " process tree (every worker), 'mock' the mock behind it; RSS of the server after the run:",
        "",
        render_table(_cpu_rows(ordered, connections), markdown=markdown),
    ]
    lines += _target_notes(ordered)
    lines += _disturbance_notes(ordered)
    lines += _error_notes(ordered, connections)
    return "\n".join(lines) + "\n"


def render_wrk_json(rows: Sequence[Row], meta: dict[str, object]) -> bytes:
    """Return the report's figures as indented JSON."""
    document = {
        **meta,
        "cpus": os.cpu_count(),
        "rows": [
            {
                **asdict(r),
                "rate": r.run.rate,
                "errors": r.run.error_count,
                "cpu_ms_per_request": {p: r.cpu_ms_per_request(p) for p in r.cpu_seconds},
                "added_latency_ms": added_latency(r, rows),
            }
            for r in rows
        ],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


def _target_rank(row: Row, rows: Sequence[Row]) -> int:
    names = list(dict.fromkeys(r.target for r in rows))
    return names.index(row.target)


def _latency_rows(rows: Sequence[Row], connections: int) -> list[list[str]]:
    header = ["Scenario", "Requests", "Req/s", "Errors", "p50", "p90", "p99", "max"]
    table = [[*header, "+p50", "+p99", "Chunks"]]
    for r in rows:
        latency, added = r.run.latency_ms, added_latency(r, rows)
        table.append(
            [
                r.label(connections),
                str(r.run.requests),
                f"{r.run.rate:.0f}",
                str(r.run.error_count),
                *(_ms(latency[k]) if r.run.requests else "" for k in ("p50", "p90", "p99", "max")),
                *(_ms(added[k], signed=True) if added else "" for k in ("p50", "p99")),
                "" if r.chunks is None else str(r.chunks),
            ]
        )
    return table


def _cpu_rows(rows: Sequence[Row], connections: int) -> list[list[str]]:
    header = ["Scenario", "server ms/req", "mock ms/req", "wrk ms/req", "server %", "mock %"]
    table = [[*header, "wrk %", "other %", "server RSS MiB", "after requests"]]
    for r in rows:
        behind = r.target != BASELINE
        table.append(
            [
                r.label(connections),
                f"{r.cpu_ms_per_request(SERVER):.3f}",
                f"{r.cpu_ms_per_request(MOCK):.3f}" if behind else "",
                f"{r.cpu_ms_per_request(WRK):.3f}",
                f"{r.core_percent(SERVER):.0f}",
                f"{r.core_percent(MOCK):.0f}" if behind else "",
                f"{r.core_percent(WRK):.0f}",
                f"{r.core_percent(OTHERS):.0f}",
                f"{r.rss_bytes / 2**20:.1f}",
                f"{r.served:,}",
            ]
        )
    return table


def _target_notes(rows: Sequence[Row]) -> list[str]:
    notes = []
    for r in rows:
        if r.target != "tokengate":
            continue
        cpu, limit = r.cpu_ms_per_request(SERVER), TARGET_CPU_MS[r.mode]
        rate_met = "met" if r.run.rate >= TARGET_RATE else "not met"
        cpu_met = "met" if cpu <= limit else "not met"
        notes.append(
            f"Issue 4, tokengate {r.mode}: {r.run.rate:,.0f} req/s (target ≥ {TARGET_RATE:,}:"
            f" {rate_met}); {cpu:.3f} ms CPU/request (target ≤ {limit:g}: {cpu_met})."
        )
    return ["", *notes] if notes else []


def _disturbance_notes(rows: Sequence[Row]) -> list[str]:
    busiest = max((r.core_percent(OTHERS) for r in rows), default=0.0)
    if busiest < DISTURBED_PERCENT:
        return []
    return [
        "",
        f"WARNING: other processes kept up to {busiest:.0f} % of a core busy during a run;"
        " the figures are disturbed. Rerun on a quiet machine.",
    ]


def _error_notes(rows: Sequence[Row], connections: int) -> list[str]:
    notes = [
        f"ERRORS in {r.label(connections)}: "
        + ", ".join(f"{kind} ×{n}" for kind, n in r.run.errors.items() if n)
        for r in rows
        if r.run.error_count
    ]
    notes += [
        f"NO ANSWER in {r.label(connections)}: no request completed within the run"
        " (the server is slower than connections ÷ duration); lengthen --duration"
        " or lower --connections."
        for r in rows
        if not r.run.requests
    ]
    return ["", *notes] if notes else []


def _ms(value: float, *, signed: bool = False) -> str:
    text = f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return "+" + text if signed and value >= 0 else text
