"""What the gateway knows about one request as it moves through the pipeline."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from starlette.requests import Request

from tokengate.catalog.schemas import Route
from tokengate.db import utcnow
from tokengate.errors import BodyTooLarge, InvalidJSON, InvalidRequest
from tokengate.keys.schemas import KeyIdentity
from tokengate.proxy.access import Caller
from tokengate.quotas.enforcement import Admission
from tokengate.quotas.resolve import Subject


@dataclass
class RequestContext:
    """One request's identity, timing and what has been resolved so far."""

    endpoint: str
    request_id: str = field(default_factory=lambda: "req_" + uuid.uuid4().hex)
    started: float = field(default_factory=time.perf_counter)
    created_at: datetime = field(default_factory=utcnow)
    identity: KeyIdentity | None = None
    caller: Caller | None = None
    route: Route | None = None
    model: str = ""
    stream: bool = False
    # counts the prompt's tokens locally; called at most once, and only when an estimate is needed
    count_prompt: Callable[[], int] = field(default=lambda: 0, repr=False)
    _prompt_estimate: int | None = field(default=None, repr=False)
    subject: Subject | None = None
    upstream_started: float | None = None
    upstream_ended: float | None = None
    admission: Admission | None = None

    @property
    def prompt_estimate(self) -> int:
        """The prompt's tokens counted locally: what is charged when the provider reports none.

        Counted on first use: most requests are charged the provider's own usage and never
        need it.
        """
        if self._prompt_estimate is None:
            self._prompt_estimate = self.count_prompt()
        return self._prompt_estimate

    def upstream_seconds(self) -> float:
        """Seconds spent waiting on the provider."""
        if self.upstream_started is None:
            return 0.0
        return (self.upstream_ended or time.perf_counter()) - self.upstream_started

    def elapsed_ms(self) -> int:
        """Milliseconds since the request arrived."""
        return int((time.perf_counter() - self.started) * 1000)


async def read_json_body(request: Request, *, limit: int) -> dict[str, Any]:
    """Read the body (at most ``limit`` bytes) and parse it as a JSON object."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit=limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit=limit)
        chunks.append(chunk)
    try:
        body = orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as exc:
        raise InvalidJSON() from exc
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return body


def require_string(body: dict[str, Any], name: str) -> str:
    """Return a required non-empty string field."""
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"'{name}' is required and must be a non-empty string.", param=name)
    return value


def require_list(body: dict[str, Any], name: str) -> list[Any]:
    """Return a required non-empty list field."""
    value = body.get(name)
    if not isinstance(value, list) or not value:
        raise InvalidRequest(f"'{name}' is required and must be a non-empty array.", param=name)
    return value
