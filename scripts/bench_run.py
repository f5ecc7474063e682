"""What every bench script does around its measurement: name the code measured, and stop its
servers on SIGTERM as on Ctrl-C."""

from __future__ import annotations

import importlib.util
import shutil
import signal
import subprocess
from pathlib import Path
from types import FrameType


def source_state() -> str:
    """Name the code under test: the commit, and whether src/ differs from it."""
    repo = Path(__file__).resolve().parents[1]
    spec = importlib.util.find_spec("tokengate")
    origin = Path(spec.origin).parent if spec is not None and spec.origin else None
    if origin != repo / "src" / "tokengate":
        # e.g. PYTHONPATH pointing at an exported snapshot: the servers inherit it
        return f"tokengate imported from {origin}"
    git = shutil.which("git")
    if git is None:
        return "unknown"

    def run(*args: str) -> str:
        command = [git, "-C", str(repo), *args]
        done = subprocess.run(command, capture_output=True, check=False)  # noqa: S603
        return done.stdout.decode().strip() if done.returncode == 0 else ""

    commit = run("rev-parse", "--short", "HEAD") or "unknown"
    changed = run("status", "--porcelain", "--", "src")
    return f"{commit} + uncommitted changes in src/" if changed else commit


def stop_on_sigterm() -> None:
    """Treat SIGTERM like Ctrl-C, so that the servers are stopped on the way out."""

    def handler(signum: int, frame: FrameType | None) -> None:
        # while the event loop runs, asyncio's own SIGINT handler cancels the run cleanly
        on_interrupt = signal.getsignal(signal.SIGINT)
        if not callable(on_interrupt):
            raise KeyboardInterrupt
        on_interrupt(signal.SIGINT, frame)

    signal.signal(signal.SIGTERM, handler)
