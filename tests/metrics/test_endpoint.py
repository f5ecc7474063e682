from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from tokengate.errors import AuthenticationFailed
from tokengate.metrics import GatewayMetrics, metrics_endpoint


def client_for(metrics: GatewayMetrics) -> httpx.AsyncClient:
    app = Starlette(routes=[Route("/metrics", metrics_endpoint(metrics), methods=["GET"])])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")


def scrape_request(authorization: str | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    return Request({"type": "http", "method": "GET", "path": "/metrics", "headers": headers})


async def test_metrics_are_served_in_the_prometheus_format() -> None:
    metrics = GatewayMetrics()
    metrics.ledger_decision(decision="admitted")
    async with client_for(metrics) as client:
        response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    admitted = [s for s in families["tokengate_ledger_decisions"].samples if s.value == 1]
    assert [s.labels for s in admitted] == [{"decision": "admitted"}]


async def test_a_scraper_asking_for_openmetrics_gets_it() -> None:
    async with client_for(GatewayMetrics()) as client:
        response = await client.get(
            "/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"}
        )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic scrape-secret"])
async def test_a_protected_endpoint_refuses_other_credentials(authorization: str | None) -> None:
    endpoint = metrics_endpoint(GatewayMetrics(), token="scrape-secret")

    with pytest.raises(AuthenticationFailed):
        await endpoint(scrape_request(authorization))


async def test_a_protected_endpoint_serves_its_bearer() -> None:
    endpoint = metrics_endpoint(GatewayMetrics(), token="scrape-secret")

    response = await endpoint(scrape_request("Bearer scrape-secret"))

    assert response.status_code == 200
    assert b"tokengate_requests_in_flight" in response.body
