"""Saturation benchmark with wrk: the mock alone, tokengate in front of it and, when installed,
LiteLLM's proxy in front of it. ``python -m scripts.bench_wrk --help``; see docs/benchmarks.md."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from scripts.bench_litellm import (
    DEFAULT_VENV,
    litellm_executable,
    litellm_version,
    started_litellm,
    wait_for_litellm,
)
from scripts.bench_run import source_state, stop_on_sigterm
from scripts.bench_servers import (
    LOG_TAIL_BYTES,
    MODEL,
    Stack,
    provision,
    started_stack,
    wait_until_ready,
)
from scripts.bench_wrk_measure import MAX_TOKENS, Bench, Plan, Target, request_body
from scripts.bench_wrk_report import MODES, Row, failed, render_wrk_json, render_wrk_report
from scripts.bench_wrk_tool import WrkLoad, find_wrk


@dataclass(frozen=True)
class Options:
    """What to run: seconds per row, wrk's load, the gateway's workers, and what to print."""

    plan: Plan
    workers: int
    litellm_venv: Path | None
    json_path: Path | None
    markdown: bool


def parse_options(argv: list[str] | None = None) -> Options:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_wrk", description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per row (10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of discarded warm-up (2)")
    parser.add_argument("--connections", type=int, default=64, help="wrk's connections (64)")
    parser.add_argument("--threads", type=int, default=1, help="wrk's threads (1)")
    parser.add_argument("--timeout", type=int, default=10, help="seconds before a request fails")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes of tokengate and LiteLLM (1)"
    )
    parser.add_argument(
        "--litellm",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure LiteLLM's proxy when `make litellm` installed it (default: yes)",
    )
    parser.add_argument("--litellm-venv", type=Path, default=DEFAULT_VENV, help="LiteLLM's venv")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = parser.parse_args(argv)
    if args.duration < 1 or args.warmup < 0 or args.timeout < 1 or args.workers < 1:
        parser.error("--duration, --timeout and --workers must be at least 1, --warmup at least 0")
    if not 1 <= args.threads <= args.connections:
        parser.error("wrk needs 1 <= --threads <= --connections")
    return Options(
        plan=Plan(
            load=WrkLoad(threads=args.threads, connections=args.connections, timeout=args.timeout),
            warmup=args.warmup,
            duration=args.duration,
        ),
        workers=args.workers,
        litellm_venv=args.litellm_venv if args.litellm else None,
        json_path=args.json,
        markdown=args.markdown,
    )


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Measure every row and print the report; return 1 when any request failed."""
    options = parse_options(argv)
    wrk = find_wrk()
    if wrk is None:
        sys.stderr.write("bench_wrk: wrk is not installed (`make loadtools`)\n")
        return 1
    litellm = litellm_executable(options.litellm_venv) if options.litellm_venv else None
    if options.litellm_venv and litellm is None:
        sys.stderr.write(
            f"bench_wrk: LiteLLM is not installed in {options.litellm_venv} (`make litellm`);"
            " measuring without it\n"
        )
    meta: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d"),
        "source": source_state(),
        "wrk": _wrk_version(wrk),
        "litellm": f"LiteLLM {litellm_version(litellm)}" if litellm else "LiteLLM not measured",
        "ledger": os.environ.get("TOKENGATE_LEDGER", "sql (default)"),
        "workers": options.workers,
        "threads": options.plan.load.threads,
        "connections": options.plan.load.connections,
        "duration_s": options.plan.duration,
        "warmup_s": options.plan.warmup,
        "request": f"{MODEL}, two short messages, max_tokens {MAX_TOKENS};"
        " streams ask for include_usage",
    }
    with tempfile.TemporaryDirectory(prefix="tokengate-bench-wrk-") as tmp:
        rows = _run(Path(tmp), wrk, litellm, options)
    out.write(render_wrk_report(rows, meta, markdown=options.markdown))
    if options.json_path is not None:
        options.json_path.write_bytes(render_wrk_json(rows, meta))
    return 1 if any(failed(r) for r in rows) else 0


def _run(workdir: Path, wrk: str, litellm: Path | None, options: Options) -> list[Row]:
    bodies = {mode: workdir / f"{mode}.json" for mode in MODES}
    for mode, path in bodies.items():
        path.write_bytes(request_body(stream=mode == "stream"))
    with started_stack(workdir=workdir, workers=options.workers) as stack:
        logs = {name: workdir / f"{name}.log" for name in ("gateway", "mock")}
        with _logs_shown_on_failure(logs) as rows:
            key = asyncio.run(_ready(stack))
            bench = Bench(wrk=wrk, plan=options.plan, bodies=bodies, mock_pid=stack.mock.pid)
            auth = f"Bearer {key}"
            rows += bench.measure(Target("mock", stack.mock_url, auth, stack.mock.pid))
            gateway_url = f"{stack.gateway_url}/v1"
            rows += bench.measure(Target("tokengate", gateway_url, auth, stack.gateway.pid))
        if litellm is not None:
            rows += _measure_litellm(bench, litellm, stack, workdir, options)
    return rows


def _measure_litellm(
    bench: Bench, executable: Path, stack: Stack, workdir: Path, options: Options
) -> list[Row]:
    sys.stderr.write("bench_wrk: starting LiteLLM\n")
    with (
        started_litellm(
            executable=executable, mock_url=stack.mock_url, workers=options.workers, workdir=workdir
        ) as litellm,
        _logs_shown_on_failure({"LiteLLM": litellm.log}) as rows,
    ):
        asyncio.run(wait_for_litellm(litellm, workers=options.workers))
        url, auth = f"{litellm.url}/v1", f"Bearer {litellm.master_key}"
        rows += bench.measure(Target("LiteLLM", url, auth, litellm.process.pid))
    return rows


@contextmanager
def _logs_shown_on_failure(logs: dict[str, Path]) -> Iterator[list[Row]]:
    """Collect rows; print the ends of the servers' logs if the block fails or a row failed."""
    rows: list[Row] = []
    try:
        yield rows
    except Exception:
        _show_logs(logs)
        raise
    if any(failed(r) for r in rows):
        _show_logs(logs)


def _show_logs(logs: dict[str, Path]) -> None:
    # the logs vanish with the temporary directory: show them while we can
    for name, log in logs.items():
        tail = log.read_bytes()[-LOG_TAIL_BYTES:].decode(errors="replace")
        sys.stderr.write(f"bench_wrk: the end of the {name}'s log:\n{tail}\n")


async def _ready(stack: Stack) -> str:
    await wait_until_ready(stack)
    return await provision(stack)


def _wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "-v"], capture_output=True, check=False)  # noqa: S603
    first = (done.stdout + done.stderr).decode(errors="replace").splitlines()
    return " ".join(first[0].split()[:2]) if first else "wrk"


if __name__ == "__main__":
    stop_on_sigterm()
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.stderr.write("bench_wrk: interrupted; the servers were stopped\n")
        sys.exit(130)
