"""The API documentation works without the internet: nothing is loaded from a CDN."""

from __future__ import annotations

import re

import httpx


async def test_docs_page_loads_its_assets_from_this_server(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200, source
    assert "https://" not in page.text.split("<script>")[-1].replace("https://swagger.io", "")
    spec = await client.get("/openapi.json")
    assert spec.status_code == 200 and "/api/v1/auth/token" in spec.json()["paths"]
