"""P1: PUT /api/portfolios/{id}/policy refuses what cannot work: one-factor verification,
broken or debt-telling wording files, sub-cent amounts and coerced types (422 naming each)."""

from __future__ import annotations

import functools
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from backend.api.app import create_app
from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.services import apikeys
from backend.services.policy import PolicyError, load_policy_file, parse_policy
from backend.services.policy import model as policy_model
from backend.settings import Settings
from bot.clock import SettableClock
from bot.responses import catalog
from tests.conversations.test_portal_e2e import ACCOUNT

DEFAULT_FILE = Path("backend/policies/default.yml")
OVERRIDES = {
    "badyaml": 'identity.intro: "Hi, this is Parley, and the quote never ends\n',
    "preverif": (
        'identity.intro: "Hello from Parley. We write about your past due debt of $1,000.00 '
        'with R3 Beta."\n'
    ),
    "wrongslot": 'identity.retry.date_of_birth: "Not quite ({tries} tries to go)."\n',
    "typo": 'identity.intor: "Hello from Parley."\n',
    "fine": 'identity.intro: "Hello from Parley, an automated assistant. Who am I talking to?"\n',
}

Api = tuple[httpx.AsyncClient, dict[str, str], str]


@pytest.fixture
def wording_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped sentences with the test's override folders, read by the policy."""
    root = tmp_path / "responses"
    root.mkdir()
    for locale in catalog.LOCALES:
        shutil.copy(catalog.ROOT / f"{locale}.yml", root / f"{locale}.yml")
    for name, text in OVERRIDES.items():
        (root / catalog.OVERRIDES / name).mkdir(parents=True)
        (root / catalog.OVERRIDES / name / "en.yml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(policy_model, "wordings", functools.partial(catalog.wordings, root))
    if hasattr(policy_model, "wording_problems"):
        monkeypatch.setattr(
            policy_model, "wording_problems", functools.partial(catalog.wording_problems, root=root)
        )
    return root


@pytest.fixture
async def api(settings: Settings, clock: SettableClock) -> AsyncIterator[Api]:
    app: FastAPI = create_app(
        settings, clock=clock, migrate=False, extensions=(install_conversations,)
    )
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "test", clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            auth = {"Authorization": f"Bearer {raw}"}
            created = (await c.post("/api/accounts", json=ACCOUNT, headers=auth)).json()
            yield c, auth, f"/api/portfolios/{created['portfolio_id']}/policy"


async def _put(
    api: Api, edit: dict[str, dict[str, Any]] | None = None, **top: Any
) -> httpx.Response:
    """PUT the policy in force with `edit` applied to its sections and `top` to its fields."""
    client, auth, url = api
    policy = (await client.get(url, headers=auth)).json()["policy"]
    for section, fields in (edit or {}).items():
        policy[section].update(fields)
    policy.update(top)
    return await client.put(url, json=policy, headers=auth)


def _problems(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    problems: list[str] = response.json()["detail"]["problems"]
    return problems


async def test_a_zip_alone_is_not_enough_to_verify(api: Api) -> None:
    one = await _put(api, {"verification": {"factors": ["postal_code"], "min_factors": 1}})
    problems = _problems(one)
    assert any(p.startswith("verification.factors:") for p in problems)
    assert any(p.startswith("verification.min_factors:") for p in problems)
    listed_twice = await _put(
        api, {"verification": {"factors": ["postal_code", "postal_code"], "min_factors": None}}
    )
    assert any(p.startswith("verification.factors:") for p in _problems(listed_twice))
    two_of_three = await _put(api, {"verification": {"min_factors": 2}})
    assert two_of_three.status_code == 200, two_of_three.text


async def test_verification_attempts_are_capped_at_two(api: Api) -> None:
    """compliance.md A.2 item 9: "Failed verification twice → stop": no third answer."""
    problems = _problems(await _put(api, {"verification": {"max_attempts": 3}}))
    assert any(p.startswith("verification.max_attempts:") and "2" in p for p in problems), problems
    two = await _put(api, {"verification": {"max_attempts": 2}})
    assert two.status_code == 200, two.text


@pytest.mark.usefixtures("wording_root")
@pytest.mark.parametrize(
    ("wording", "named"),
    [
        ("badyaml", "overrides/badyaml/en.yml: not valid YAML"),
        ("preverif", "overrides/preverif/en.yml: identity.intro: tells of the debt"),
        (
            "wrongslot",
            "overrides/wrongslot/en.yml: identity.retry.date_of_birth: unknown slot {tries}",
        ),
        ("typo", "overrides/typo/en.yml: identity.intor: no such key"),
    ],
)
async def test_a_wording_that_cannot_be_said_is_refused_naming_file_and_key(
    api: Api,
    wording: str,
    named: str,
) -> None:
    problems = _problems(await _put(api, wording=wording))
    assert len(problems) == 1 and problems[0].startswith(f"wording: {named}"), problems


@pytest.mark.usefixtures("wording_root")
async def test_a_sound_wording_is_accepted(api: Api) -> None:
    saved = await _put(api, wording="fine")
    assert saved.status_code == 200, saved.text


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ("plan", "min_installment"),
        ("plan", "min_down_payment"),
        ("plan", "min_installment_pct"),
        ("promise", "min_amount"),
        ("approval", "max_balance"),
        ("hardship", "min_installment"),
    ],
)
async def test_amounts_finer_than_a_cent_are_refused(api: Api, section: str, field: str) -> None:
    problems = _problems(await _put(api, {section: {field: "25.005"}}))
    assert any(p.startswith(f"{section}.{field}:") for p in problems), problems


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        ({"plan": {"max_months": "6"}}, "plan.max_months:"),
        ({"hardship": {"handoff": "yes"}}, "hardship.handoff:"),
        ({"settlement": {"allowed": 1}}, "settlement.allowed:"),
        ({"plan": {"frequencies": ["monthly", "monthly"]}}, "plan.frequencies:"),
    ],
)
async def test_wrong_types_and_duplicates_are_refused(
    api: Api,
    edit: dict[str, dict[str, Any]],
    named: str,
) -> None:
    problems = _problems(await _put(api, edit))
    assert any(p.startswith(named) for p in problems), problems


@pytest.mark.parametrize("name", ["", "   ", "x" * 200])
async def test_an_empty_or_overlong_name_is_refused(api: Api, name: str) -> None:
    problems = _problems(await _put(api, name=name))
    assert any(p.startswith("name:") for p in problems), problems


def test_the_shipped_policy_still_loads() -> None:
    policy = load_policy_file(DEFAULT_FILE)
    assert policy.verification.required == 2 and policy.plan.max_months == 12


def test_a_policy_file_with_a_one_factor_verification_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.yml"
    path.write_text("verification:\n  factors: [postal_code]\n")
    with pytest.raises(PolicyError, match="verification.factors") as refused:
        load_policy_file(path)
    assert str(path) in str(refused.value)


def test_a_policy_with_a_broken_wording_does_not_load(wording_root: Path) -> None:
    """The start-up path (load_default) parses the same way: a broken wording stops it."""
    with pytest.raises(PolicyError, match="overrides/badyaml/en.yml"):
        parse_policy({"wording": "badyaml"}, "backend/policies/default.yml")
