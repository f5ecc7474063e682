"""LiteLLM's proxy, run from its own venv (``make litellm``) in front of the benchmark's mock."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson

from scripts.bench_servers import (
    LOG_TAIL_BYTES,
    LOOPBACK,
    MODEL,
    free_port,
    started_process,
    wait_for_url,
)

DEFAULT_VENV = Path(__file__).resolve().parents[1] / ".cache" / "litellm-venv"
READY_TIMEOUT_SECONDS = 180.0
STARTED_LINE = b"Application startup complete."
# what the benchmark's own processes get and LiteLLM must not: it has its own venv and settings
WITHHELD_PREFIXES = ("TOKENGATE_", "PYTHONPATH", "VIRTUAL_ENV")


@dataclass(frozen=True)
class LiteLLM:
    """A running LiteLLM proxy: its process, address, master key and log."""

    process: subprocess.Popen[bytes]
    url: str
    master_key: str
    log: Path


def litellm_executable(venv: Path) -> Path | None:
    """Return the venv's ``litellm`` command, or None when LiteLLM is not installed there."""
    executable = venv / "bin" / "litellm"
    return executable if os.access(executable, os.X_OK) else None


def litellm_version(executable: Path) -> str:
    """Return the version of LiteLLM installed beside ``executable``."""
    python = executable.with_name("python")
    command = [str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"]
    done = subprocess.run(command, capture_output=True, check=False)  # noqa: S603
    return done.stdout.decode().strip() or "unknown"


@contextmanager
def started_litellm(
    *, executable: Path, mock_url: str, workers: int, workdir: Path
) -> Iterator[LiteLLM]:
    """Start LiteLLM without a database, serving ``MODEL`` from the mock; stop it on the way out."""
    port = free_port()
    master_key = "sk-" + secrets.token_hex(16)
    model = {"model": f"openai/{MODEL}", "api_base": mock_url, "api_key": secrets.token_hex(16)}
    config = workdir / "litellm-config.yaml"
    # JSON is YAML: no YAML writer needed
    config.write_bytes(
        orjson.dumps({"model_list": [{"model_name": MODEL, "litellm_params": model}]})
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(WITHHELD_PREFIXES)}
    # the cost map bundled with the package: the remote one is unreachable here
    env |= {"LITELLM_MASTER_KEY": master_key, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    command = [str(executable), "--config", str(config), "--host", LOOPBACK, "--port", str(port)]
    command += ["--num_workers", str(workers)]
    log = workdir / "litellm.log"
    with started_process(command, log=log, env=env) as process:
        yield LiteLLM(
            process=process, url=f"http://{LOOPBACK}:{port}", master_key=master_key, log=log
        )


async def wait_for_litellm(litellm: LiteLLM, *, workers: int) -> None:
    """Wait until LiteLLM answers its liveness check and every worker has started."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    url = f"{litellm.url}/health/liveliness"
    await wait_for_url(litellm.process, url, log=litellm.log, deadline=deadline)
    # one worker answering is not all of them: each logs its start-up
    while litellm.log.read_bytes().count(STARTED_LINE) < workers:
        if litellm.process.poll() is not None or time.monotonic() > deadline:
            tail = litellm.log.read_bytes()[-LOG_TAIL_BYTES:].decode(errors="replace")
            raise RuntimeError(f"LiteLLM's {workers} workers never all started:\n{tail}")
        await asyncio.sleep(0.2)
