"""Liveness and readiness, with and without Redis."""

from __future__ import annotations

import httpx
import pytest

from backend.api.app import create_app
from backend.settings import Settings
from tests.services import require


async def test_health_is_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_checks_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert "redis" not in response.json()


@pytest.mark.redis
async def test_ready_checks_redis_when_configured(settings: Settings) -> None:
    redis_url = require("TEST_REDIS_URL")
    app = create_app(settings.model_copy(update={"redis_url": redis_url}), migrate=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
            body = (await c.get("/ready")).json()
    assert body == {"status": "ok", "database": "ok", "redis": "ok"}


async def test_ready_reports_unreachable_redis(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}),
                     migrate=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
            response = await c.get("/ready")
    assert response.status_code == 503
    assert response.json()["redis"].startswith("error")


async def test_api_docs_load_no_external_assets(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "http://" not in page.text and "https://" not in page.text
    bundle = page.text.split('src="')[1].split('"')[0]
    assert (await client.get(bundle)).status_code == 200
