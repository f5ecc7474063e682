"""Running wrk with ``scripts/wrk/post.lua``, and reading what it measured."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import orjson

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "post.lua"
MARKER = "WRK_JSON "
ERROR_KINDS = ("connect", "read", "write", "status", "timeout")
EXIT_GRACE_SECONDS = 30


@dataclass(frozen=True)
class WrkLoad:
    """How wrk loads a target: its threads, its keep-alive connections, a request's timeout."""

    threads: int
    connections: int
    timeout: int


@dataclass(frozen=True)
class WrkRun:
    """What one wrk run measured; latency in ms, from a request's send to its last byte."""

    requests: int
    seconds: float
    errors: dict[str, int]
    latency_ms: dict[str, float]
    cpu_seconds: float
    """wrk's own user + system CPU time."""

    @property
    def rate(self) -> float:
        """Answered requests per second (failed answers included; see ``error_count``)."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        """Socket errors, timeouts and answers with an HTTP status above 399."""
        return sum(self.errors.values())


def find_wrk() -> str | None:
    """Return the path of the wrk executable, or None when it is not installed."""
    return shutil.which("wrk")


def run_wrk(
    *, wrk: str, url: str, body: Path, authorization: str, load: WrkLoad, seconds: int
) -> WrkRun:
    """POST ``body`` to ``url`` for ``seconds`` with wrk, over ``load.connections`` connections."""
    env = {**os.environ, "WRK_BODY_FILE": str(body), "WRK_AUTHORIZATION": authorization}
    command = [
        wrk,
        f"--threads={load.threads}",
        f"--connections={load.connections}",
        f"--duration={seconds}s",
        f"--timeout={load.timeout}s",
        f"--script={WRK_SCRIPT}",
        url,
    ]
    # wrk is the only child this process waits for meanwhile: the difference is its CPU
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(  # noqa: S603
        command,
        capture_output=True,
        env=env,
        check=False,
        timeout=seconds + load.timeout + EXIT_GRACE_SECONDS,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    output = done.stdout.decode(errors="replace")
    if done.returncode != 0 or MARKER not in output:
        detail = (done.stderr.decode(errors="replace") + output).strip()
        raise RuntimeError(f"wrk exited with status {done.returncode}: {detail}")
    return parse_wrk_output(output, cpu_seconds=cpu)


def parse_wrk_output(output: str, *, cpu_seconds: float) -> WrkRun:
    """Read the JSON line that post.lua's ``done()`` prints after wrk's own summary."""
    line = next(line for line in output.splitlines() if line.startswith(MARKER))
    figures = orjson.loads(line.removeprefix(MARKER))
    return WrkRun(
        requests=int(figures["requests"]),
        seconds=figures["duration_us"] / 1e6,
        errors={kind: int(figures["errors"][kind]) for kind in ERROR_KINDS},
        latency_ms={k: v / 1000 for k, v in figures["latency_us"].items() if k != "mean"},
        cpu_seconds=cpu_seconds,
    )
