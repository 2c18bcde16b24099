"""A policy's `wording` names a folder under bot/responses/overrides/ and never reaches outside."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from backend.api.app import create_app
from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.services import apikeys
from backend.services.policy import PolicyError, load_policy_file
from backend.services.policy.loader import parse_policy
from backend.settings import Settings
from bot.clock import SettableClock
from bot.responses.catalog import ROOT, Catalog, wordings
from tests.conversations.test_portal_e2e import ACCOUNT

TRAVERSALS = [
    "../../../../tmp/evilw",
    "..",
    "../overrides/example",
    "/tmp/evilw",
    "example/..",
    "Example",
    "example ",
    " ",
    "nosuch",
]


def test_the_shipped_wordings_are_known() -> None:
    assert "example" in wordings()
    assert parse_policy({"wording": "example"}).wording == "example"
    assert parse_policy({"wording": None}).wording is None
    assert parse_policy({"wording": ""}).wording is None  # no wording, as before


@pytest.mark.parametrize("wording", TRAVERSALS)
def test_a_wording_that_is_not_a_known_folder_is_refused(wording: str) -> None:
    with pytest.raises(PolicyError) as refused:
        parse_policy({"wording": wording}, "portfolio 7")
    message = str(refused.value)
    assert message.startswith(
        "portfolio 7: invalid policy: wording: must name a folder under bot/responses/overrides/"
    )
    assert "known wordings: example" in message


def test_a_policy_file_with_a_bad_wording_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.yml"
    path.write_text("wording: ../../../../tmp/evilw\n")
    with pytest.raises(PolicyError, match="wording: must name a folder") as refused:
        load_policy_file(path)
    assert str(path) in str(refused.value)


@pytest.fixture
async def api(
    settings: Settings, clock: SettableClock
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    app = create_app(settings, clock=clock, migrate=False, extensions=(install_conversations,))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "test", clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, {"Authorization": f"Bearer {raw}"}


async def test_the_api_refuses_a_traversing_wording_and_keeps_the_policy(api) -> None:  # type: ignore[no-untyped-def]
    client, auth = api
    created = (await client.post("/api/accounts", json=ACCOUNT, headers=auth)).json()
    url = f"/api/portfolios/{created['portfolio_id']}/policy"
    before = (await client.get(url, headers=auth)).json()
    policy = {**before["policy"], "wording": "../../../../tmp/evilw"}
    refused = await client.put(url, json=policy, headers=auth)
    assert refused.status_code == 422
    problems = refused.json()["detail"]["problems"]
    assert any(p.startswith("wording:") and "known wordings: example" in p for p in problems)
    assert (await client.get(url, headers=auth)).json() == before  # nothing stored
    accepted = await client.put(url, json={**before["policy"], "wording": "example"}, headers=auth)
    assert accepted.status_code == 200 and accepted.json()["policy"]["wording"] == "example"


@pytest.fixture
def responses(tmp_path: Path) -> Path:
    """A copy of the response files, an override, and an `evilw` folder outside overrides/."""
    root = tmp_path / "responses"
    (root / "overrides" / "example").mkdir(parents=True)
    for locale in ("en", "es"):
        shutil.copy(ROOT / f"{locale}.yml", root / f"{locale}.yml")
    key = "disclosure.mini_miranda"
    (root / "overrides" / "example" / "en.yml").write_text(f'{key}: "Example wording."\n')
    for evil in (tmp_path / "evilw", root / "evilw"):
        evil.mkdir()
        (evil / "en.yml").write_text(f'{key}: "Text from outside the overrides."\n')
    return root


@pytest.mark.parametrize("wording", ["../../evilw", "../evilw", "example/../../evilw"])
def test_the_catalog_never_reads_outside_overrides(responses: Path, wording: str) -> None:
    catalog = Catalog(responses)
    base = catalog.text("disclosure.mini_miranda", "en")
    assert catalog.text("disclosure.mini_miranda", "en", wording) == base
    absolute = str(responses.parent / "evilw")
    assert catalog.text("disclosure.mini_miranda", "en", absolute) == base
    assert catalog.text("disclosure.mini_miranda", "en", "example") == "Example wording."
