"""P2: a stored policy that no longer validates (saved before a rule tightened) does not silence
its portfolio: the debtor gets the safe reply and a person the conversation, never the bot
negotiating on terms the creditor did not set; the log names the portfolio and the field."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from backend.api.app import create_app
from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import (
    Account,
    AuditEvent,
    ContactPoint,
    Conversation,
    Handoff,
    Message,
    Portfolio,
)
from backend.services import apikeys
from backend.services.policy.store import PolicyStore
from backend.settings import Settings
from bot.clock import SettableClock
from tests.conversations.conftest import Chat
from tests.conversations.test_portal_e2e import ACCOUNT

Api = tuple[httpx.AsyncClient, dict[str, str], Container]

# One factor (a ZIP alone), a fifth of a cent: both refused since P1, both stored before it.
SECRET = "25.0049"
STORED = {"name": "Cards", "verification": {"factors": ["postal_code"]},
          "plan": {"min_installment": SECRET}}


async def _store_invalid_policy(chat: Chat, account_id: int) -> int:
    """Write the policy row directly, as a database restored from before P1 holds it."""
    async with chat.container.sessions.begin() as session:
        portfolio_id = await session.scalar(
            select(Account.portfolio_id).where(Account.id == account_id))
        await session.execute(update(Portfolio).where(Portfolio.id == portfolio_id)
                              .values(policy=STORED, policy_version=7))
    assert portfolio_id is not None
    return int(portfolio_id)


async def _all(chat: Chat, model: type, *where: Any) -> list[Any]:
    async with chat.container.sessions() as session:
        return list(await session.scalars(select(model).where(*where)))


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records)


async def test_the_debtor_gets_the_safe_reply_and_a_person_the_conversation(
    chat: Chat, account_id: int, caplog: pytest.LogCaptureFixture,
) -> None:
    portfolio_id = await _store_invalid_policy(chat, account_id)
    with caplog.at_level(logging.ERROR):
        result = await chat.says("can I get a payment plan")
    assert [r.key for r in result.replies] == ["error.safe"]
    assert result.replies[0].decision.allowed
    assert chat.outbox.messages[-1].text.startswith("Sorry, something went wrong on our side.")
    handoffs = await _all(chat, Handoff)
    assert [(h.reason, h.error_id) for h in handoffs] == [("error", result.error_id)]
    assert result.error_id
    [conversation] = await _all(chat, Conversation)
    assert conversation.ownership == "queued"
    # Named by portfolio and field, with the version; no stored value reaches the log.
    logged = _logged(caplog)
    assert f"portfolio {portfolio_id}: its stored policy (version 7) is invalid" in logged
    assert "verification.factors (too_short)" in logged
    assert "plan.min_installment (decimal_max_places)" in logged
    assert SECRET not in logged and "postal_code" not in logged
    # The next message waits for the person, as after any failed turn.
    assert (await chat.says("hello?")).replies == []
    assert len(await _all(chat, Handoff)) == 1


async def test_an_identity_answer_is_not_kept_as_an_example(chat: Chat, account_id: int) -> None:
    asked = await chat.says("hi")
    assert [r.key for r in asked.replies] == ["identity.ask.date_of_birth"]
    await _store_invalid_policy(chat, account_id)  # broken between the question and the answer
    result = await chat.says("03/14/1985")
    assert [r.key for r in result.replies] == ["error.safe"]
    [inbound] = await _all(chat, Message, Message.text == "03/14/1985")
    assert inbound.processed_at is not None and inbound.intent is None


async def test_what_binds_on_receipt_is_still_recorded(chat: Chat, account_id: int) -> None:
    await _store_invalid_policy(chat, account_id)
    stop = await chat.says("STOP")
    assert [r.key for r in stop.replies] == ["optout.confirm"]
    [contact] = await _all(chat, ContactPoint)
    assert contact.opted_out_at is not None


async def test_a_turn_that_fails_recovers_with_the_policy_unreadable(
    chat: Chat, account_id: int,
) -> None:
    """The recovery opens the turn again: reading the policy must not fail it a second time."""
    await _store_invalid_policy(chat, account_id)
    result = await chat.says("please explode")
    assert result.error_id and [r.key for r in result.replies] == ["error.safe"]
    [handoff] = await _all(chat, Handoff)
    assert handoff.error_id == result.error_id
    turns = await _all(chat, AuditEvent, AuditEvent.action == "turn")
    assert any(t.data.get("error_id") == result.error_id for t in turns)


async def test_the_store_falls_back_without_caching_the_failure(
    chat: Chat, account_id: int,
) -> None:
    portfolio_id = await _store_invalid_policy(chat, account_id)
    store: PolicyStore = chat.container.services["policies"]
    async with chat.container.sessions() as session:
        portfolio = await session.get(Portfolio, portfolio_id)
        assert portfolio is not None
        assert store.for_turn(portfolio) == (store.default, True)
        portfolio.policy = {**STORED, "verification": {"factors": ["date_of_birth",
                                                                   "postal_code"]},
                            "plan": {"min_installment": "25.00"}}
        policy, unreadable = store.for_turn(portfolio)  # fixed in place, same version
    assert not unreadable and policy.verification.factors == ["date_of_birth", "postal_code"]


@pytest.fixture
async def api(settings: Settings, clock: SettableClock) -> AsyncIterator[Api]:
    app = create_app(settings, clock=clock, migrate=False, extensions=(install_conversations,))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "test", clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, {"Authorization": f"Bearer {raw}"}, container


async def test_the_api_shows_an_invalid_stored_policy_to_be_fixed(api: Api) -> None:
    client, auth, container = api
    created = (await client.post("/api/accounts", json=ACCOUNT, headers=auth)).json()
    url = f"/api/portfolios/{created['portfolio_id']}/policy"
    default = (await client.get(url, headers=auth)).json()["policy"]
    async with container.sessions.begin() as session:
        await session.execute(update(Portfolio).where(Portfolio.id == created["portfolio_id"])
                              .values(policy={**default, "verification": {
                                  **default["verification"], "factors": ["postal_code"],
                                  "min_factors": None}}, policy_version=3))
    shown = (await client.get(url, headers=auth)).json()
    assert shown["version"] == 3 and shown["policy"]["verification"]["factors"] == [
        "postal_code"]
    assert [p.split(":")[0] for p in shown["problems"]] == ["verification.factors"]
    shown["policy"]["verification"]["factors"] = ["date_of_birth", "postal_code"]
    fixed = await client.put(url, json=shown, headers=auth)  # the envelope, edited, goes back
    assert fixed.status_code == 200 and fixed.json()["version"] == 4
    assert "problems" not in (await client.get(url, headers=auth)).json()
