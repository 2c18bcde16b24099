"""A stop-state that ends collection (attorney, bankruptcy, deceased, cease) cancels the
account's live plans and promises, audited with the state, from the bot's path and the
console's alike; clearing it revives none of them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent, Conversation, PaymentPlan, Promise
from backend.db.models.enums import PlanStatus, PromiseStatus, Role
from backend.services import ledger
from bot.facts import Offer
from tests.console.conftest import NOW, LoggedIn, Seeder

SOON = (NOW + timedelta(days=7)).date()
ORIGIN = ledger.Origin(now=NOW, actor="bot", channel="sms")


async def _arranged(console: Container, seed: Seeder) -> tuple[int, int]:
    """A conversation whose account holds an active settlement, a pending promise and a kept
    one; returns (conversation id, account id)."""
    cid = await seed("I can settle for 500")
    async with console.sessions.begin() as session:
        conversation = await session.get(Conversation, cid)
        assert conversation is not None and conversation.account_id is not None
        account = await session.get(Account, conversation.account_id)
        assert account is not None
        await ledger.record_plan(session, account, Offer("settlement", Decimal("500"), SOON),
                                 ORIGIN)
        await ledger.record_promise(session, account, Decimal("40"), SOON, ORIGIN)
        kept = await ledger.record_promise(session, account, Decimal("10"), SOON, ORIGIN)
        kept.status = PromiseStatus.KEPT
        return cid, account.id


async def _statuses(console: Container, account_id: int) -> tuple[list[str], list[str]]:
    async with console.sessions() as session:
        plans = await session.scalars(select(PaymentPlan.status).where(
            PaymentPlan.account_id == account_id).order_by(PaymentPlan.id))
        promises = await session.scalars(select(Promise.status).where(
            Promise.account_id == account_id).order_by(Promise.id))
        return list(plans), list(promises)


async def _cancellations(console: Container, account_id: int) -> list[AuditEvent]:
    async with console.sessions() as session:
        return list(await session.scalars(select(AuditEvent).where(
            AuditEvent.subject_type == "account", AuditEvent.subject_id == str(account_id),
            AuditEvent.action.in_(("settlement.cancelled", "plan.cancelled",
                                   "promise.cancelled"))).order_by(AuditEvent.id)))


@pytest.mark.parametrize("state", ["bankruptcy", "deceased", "attorney", "cease"])
async def test_the_bots_stop_state_cancels_the_live_arrangements(
    console: Container, seed: Seeder, state: str,
) -> None:
    _, account_id = await _arranged(console, seed)
    async with console.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        await ledger.set_stop_state(session, account, state, "the debtor said so", ORIGIN)
    assert await _statuses(console, account_id) == (
        [PlanStatus.CANCELLED], [PromiseStatus.CANCELLED, PromiseStatus.KEPT])
    settlement, promise = await _cancellations(console, account_id)
    assert settlement.action == "settlement.cancelled"
    assert promise.action == "promise.cancelled"
    for event in (settlement, promise):
        assert event.data["reason"] == "stop_state" and event.data["state"] == state
        assert event.actor == "bot"


@pytest.mark.parametrize("state", ["hardship", "dispute"])
async def test_a_pause_leaves_them_live(console: Container, seed: Seeder, state: str) -> None:
    _, account_id = await _arranged(console, seed)
    async with console.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        await ledger.set_stop_state(session, account, state, "lost my job", ORIGIN)
    assert await _statuses(console, account_id) == (
        [PlanStatus.ACTIVE], [PromiseStatus.PENDING, PromiseStatus.KEPT])
    assert await _cancellations(console, account_id) == []


async def _change(client: httpx.AsyncClient, token: str, account_id: int, cid: int,
                  action: str, details: str) -> httpx.Response:
    return await client.post(f"/console/accounts/{account_id}/stop-state", data={
        "csrf_token": token, "state": "bankruptcy", "action": action, "details": details,
        "conversation_id": str(cid)})


async def test_a_supervisors_bankruptcy_cancels_them_and_clearing_it_revives_none(
    console: Container, seed: Seeder, logged_in: LoggedIn,
) -> None:
    client, token, supervisor = await logged_in(Role.SUPERVISOR)
    cid, account_id = await _arranged(console, seed)
    response = await _change(client, token, account_id, cid, "set", "chapter 7 notice")
    assert response.status_code == 303
    assert await _statuses(console, account_id) == (
        [PlanStatus.CANCELLED], [PromiseStatus.CANCELLED, PromiseStatus.KEPT])
    events = await _cancellations(console, account_id)
    assert [e.actor for e in events] == [f"agent:{supervisor}"] * 2
    assert {e.data["state"] for e in events} == {"bankruptcy"}
    cleared = await _change(client, token, account_id, cid, "clear", "dismissed by the court")
    assert cleared.status_code == 303
    assert await _statuses(console, account_id) == (
        [PlanStatus.CANCELLED], [PromiseStatus.CANCELLED, PromiseStatus.KEPT])
    page = await client.get(f"/console/conversations/{cid}")
    assert "settlement.cancelled" in page.text and "promise.cancelled" in page.text
