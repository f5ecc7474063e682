import pytest
from starlette.applications import Starlette

from tokengate.mockprovider import (
    MockConfig,
    clear_recorded_requests,
    create_mock_app,
    recorded_requests,
    set_config,
)
from tokengate.mockprovider.state import RecordedRequest, get_state


def test_config_can_be_replaced_in_process() -> None:
    app = create_mock_app()
    assert get_state(app).config == MockConfig()
    set_config(app, MockConfig(hang=True))
    assert get_state(app).config.hang is True


def test_recorded_requests_are_a_copy() -> None:
    app = create_mock_app(MockConfig(completion_tokens=3))
    request = RecordedRequest(method="GET", path="/v1/models", body=None, headers={})
    get_state(app).requests.append(request)
    listed = recorded_requests(app)
    assert listed == [request]
    listed.clear()
    assert recorded_requests(app) == [request]
    clear_recorded_requests(app)
    assert recorded_requests(app) == []


def test_other_apps_are_refused() -> None:
    with pytest.raises(TypeError):
        get_state(Starlette())
