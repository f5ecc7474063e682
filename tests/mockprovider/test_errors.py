import httpx
import orjson
import pytest

from tokengate.mockprovider import create_mock_app
from tokengate.mockprovider.errors import ANTHROPIC_ERRORS, OPENAI_ERRORS, error_response


@pytest.mark.parametrize("status", [*OPENAI_ERRORS, 402, 418, 502, 504])
def test_openai_shape(status: int) -> None:
    response = error_response("openai", status)
    assert response.status_code == status
    error = orjson.loads(response.body)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    expected = "server_error" if status >= 500 else error["type"]
    assert error["type"] == expected


@pytest.mark.parametrize("status", [*ANTHROPIC_ERRORS, 402, 418, 502, 504])
def test_anthropic_shape(status: int) -> None:
    response = error_response("anthropic", status)
    assert response.status_code == status
    body = orjson.loads(response.body)
    assert body["type"] == "error"
    assert set(body["error"]) == {"type", "message"}
    assert body["error"]["message"]


def test_message_and_param_are_kept() -> None:
    body = orjson.loads(error_response("openai", 400, "bad tools", param="tools").body)
    assert body["error"]["message"] == "bad tools"
    assert body["error"]["param"] == "tools"


async def test_unknown_routes_answer_in_openai_shape() -> None:
    app = create_mock_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        missing = await client.post("/v1/responses", json={})
        wrong_method = await client.get("/v1/chat/completions")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Invalid URL (POST /v1/responses)"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["type"] == "invalid_request_error"
