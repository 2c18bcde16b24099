"""GET/PUT /api/portfolios/{id}/policy: versioned, validated with clear errors, used by turns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from backend.api.app import create_app
from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.services import apikeys
from backend.services.policy import PolicyError, load_policy_file
from backend.settings import Settings
from bot.clock import SettableClock
from tests.conversations.test_portal_e2e import ACCOUNT


@pytest.fixture
async def api(
    settings: Settings, clock: SettableClock
) -> AsyncIterator[tuple[httpx.AsyncClient, dict]]:
    app: FastAPI = create_app(settings, clock=clock, migrate=False,
                              extensions=(install_conversations,))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "test", clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, {"Authorization": f"Bearer {raw}"}


async def test_policy_is_read_replaced_versioned_and_validated(api) -> None:  # type: ignore[no-untyped-def]
    client, auth = api
    created = (await client.post("/api/accounts", json=ACCOUNT, headers=auth)).json()
    url = f"/api/portfolios/{created['portfolio_id']}/policy"
    first = (await client.get(url, headers=auth)).json()
    assert first["own"] is False and first["policy"]["plan"]["max_months"] == 12
    policy = first["policy"]
    policy["plan"]["max_months"] = 6
    saved = await client.put(url, json=policy, headers=auth)
    assert saved.status_code == 200 and saved.json()["version"] == first["version"] + 1
    assert (await client.get(url, headers=auth)).json()["policy"]["plan"]["max_months"] == 6
    policy["plan"]["max_months"] = 0
    policy["plan"]["frequencies"] = ["daily"]
    bad = await client.put(url, json=policy, headers=auth)
    assert bad.status_code == 422
    problems = bad.json()["detail"]["problems"]
    assert any(p.startswith("plan.max_months:") for p in problems)
    assert any(p.startswith("plan.frequencies.0:") for p in problems)
    assert (await client.get(url)).status_code == 401


async def test_what_get_returned_can_be_put_back_unless_someone_changed_it(api) -> None:  # type: ignore[no-untyped-def]
    client, auth = api
    created = (await client.post("/api/accounts", json=ACCOUNT, headers=auth)).json()
    url = f"/api/portfolios/{created['portfolio_id']}/policy"
    read = (await client.get(url, headers=auth)).json()
    read["policy"]["promise"]["max_days_out"] = 10
    saved = await client.put(url, json=read, headers=auth)
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == read["version"] + 1
    assert saved.json()["policy"]["promise"]["max_days_out"] == 10
    read["policy"]["promise"]["max_days_out"] = 20  # edited from the stale copy
    stale = await client.put(url, json=read, headers=auth)
    assert stale.status_code == 409 and "GET it again" in stale.json()["detail"]
    after = (await client.get(url, headers=auth)).json()
    assert after["policy"]["promise"]["max_days_out"] == 10
    assert after["version"] == read["version"] + 1
    other = {**after, "portfolio_id": after["portfolio_id"] + 1}
    assert (await client.put(url, json=other, headers=auth)).status_code == 422


def test_a_bad_policy_file_names_the_file_and_the_field(tmp_path: Path) -> None:
    path = tmp_path / "p.yml"
    path.write_text("promise:\n  max_days_out: -1\n  surprise: 1\n")
    with pytest.raises(PolicyError) as caught:
        load_policy_file(path)
    message = str(caught.value)
    assert str(path) in message and "promise.max_days_out" in message
    assert "promise.surprise" in message


def test_the_shipped_default_policy_loads() -> None:
    root = Path(__file__).parents[2]
    assert load_policy_file(root / "backend/policies/default.yml").settlement.allowed


async def test_a_put_that_leaves_fields_out_is_refused_naming_them(api) -> None:  # type: ignore[no-untyped-def]
    client, auth = api
    created = (await client.post("/api/accounts", json=ACCOUNT, headers=auth)).json()
    url = f"/api/portfolios/{created['portfolio_id']}/policy"
    before = (await client.get(url, headers=auth)).json()
    partial = await client.put(url, json={"plan": {"max_months": 6}}, headers=auth)
    assert partial.status_code == 422
    problems = partial.json()["detail"]["problems"]
    # Left out, each would have taken the code's default: settlements off, limits loosened.
    assert any(p.startswith("settlement: missing") for p in problems)
    assert any(p.startswith("plan.min_installment_pct: missing") for p in problems)
    assert not any(p.startswith("plan.max_months") for p in problems)
    assert (await client.get(url, headers=auth)).json() == before  # nothing stored
    empty = await client.put(url, json={}, headers=auth)
    assert empty.status_code == 422
    whole = {**before["policy"], "plan": {**before["policy"]["plan"], "max_months": 6}}
    saved = await client.put(url, json=whole, headers=auth)
    assert saved.status_code == 200 and saved.json()["policy"]["plan"]["max_months"] == 6
