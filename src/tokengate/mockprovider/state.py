import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from tokengate.mockprovider.config import MockConfig

RECORDED_REQUESTS = 100


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """A provider request as the mock received it."""

    method: str
    path: str
    body: Any
    """The parsed JSON body, or None when the body was not JSON."""
    headers: dict[str, str]
    """Header names are lower-cased."""


class MockState:
    """The mutable part of a mock app: its config, recorded requests and hanging requests."""

    def __init__(self, config: MockConfig) -> None:
        self.config = config
        self.requests: deque[RecordedRequest] = deque(maxlen=RECORDED_REQUESTS)
        self.hanging: set[asyncio.Future[None]] = set()

    def release_hanging(self) -> None:
        """Let every hanging request finish, so that a server can shut down."""
        for future in self.hanging:
            if not future.done():
                future.set_result(None)
        self.hanging.clear()


def get_state(app: Starlette) -> MockState:
    """Return the state of an app built by create_mock_app."""
    state = getattr(app.state, "mock", None)
    if not isinstance(state, MockState):
        raise TypeError("not a mock provider app")
    return state
