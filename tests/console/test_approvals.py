"""Agreements beyond the approval limits: a supervisor or admin records them, an agent is told
to ask one, and nothing outside the policy's hard bounds is recorded by anyone."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from backend.container import Container
from backend.db.models import Account, AuditEvent, Conversation, PaymentPlan
from backend.db.models.enums import Role
from backend.services.policy.loader import load_default
from backend.services.policy.store import PolicyStore
from tests.console.conftest import NOW, LoggedIn, Seeder

SOON = (NOW + timedelta(days=7)).date().isoformat()
ASK = "ask a supervisor to record it"
IN_AGENTS_QUEUE = "offer_out_of_policy"  # the negotiation queue, which agents work


@pytest.fixture
def agreeable(console: Container) -> Container:
    """The console with the conversations' policy store installed (the shipped policy)."""
    console.services["policies"] = PolicyStore(load_default(console.settings.policy_dir))
    return console


async def _waiting_for_approval(container: Container, seed: Seeder, owner: int,
                                balance: str = "3748.80", days_past_due: int = 40,
                                hardship: bool = False, reason: str = "needs_approval") -> int:
    """A conversation the bot handed off for approval, claimed by `owner`, on an account
    with this balance and age. The approvals queue is closed to agents: an agent's is a
    negotiation handoff (`reason`) where the debtor asks for more than the bot may agree."""
    cid = await seed("can i do 75 a month", intent="request_payment_plan", confidence=0.9)
    async with container.sessions.begin() as session:
        conversation = await session.get(Conversation, cid)
        assert conversation is not None
        await session.execute(update(Account).where(Account.id == conversation.account_id).values(
            current_balance=Decimal(balance), hardship=hardship,
            due_date=NOW.date() - timedelta(days=days_past_due)))
        handoffs = container.services["handoff"]
        await handoffs.open_handoff(session, cid, reason, now=NOW)
        await handoffs.claim(session, cid, agent_id=owner, now=NOW)
    return cid


async def _plan(client: httpx.AsyncClient, token: str, cid: int, count: str,
                frequency: str = "monthly") -> httpx.Response:
    return await client.post(f"/console/conversations/{cid}/plan", data={
        "csrf_token": token, "count": count, "frequency": frequency, "first": SOON})


async def _settle(client: httpx.AsyncClient, token: str, cid: int,
                  amount: str) -> httpx.Response:
    return await client.post(f"/console/conversations/{cid}/settlement", data={
        "csrf_token": token, "amount": amount, "due": SOON})


def _said(response: httpx.Response) -> str:
    """The refusal a page shows (for an assertion's message)."""
    found = re.search(r"Not recorded: [^<]*", html.unescape(response.text))
    return found[0] if found else str(response.status_code)


async def _plans(container: Container) -> list[PaymentPlan]:
    async with container.sessions() as session:
        return list(await session.scalars(
            select(PaymentPlan).options(selectinload(PaymentPlan.installments))))


async def _audited(container: Container, action: str) -> list[AuditEvent]:
    async with container.sessions() as session:
        return list(await session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
async def test_a_supervisor_or_admin_records_a_plan_that_needs_approval(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn, role: Role
) -> None:
    client, token, approver = await logged_in(role)
    cid = await _waiting_for_approval(agreeable, seed, approver, hardship=True)
    posted = await _plan(client, token, cid, "24")
    assert posted.status_code == 303, _said(posted)
    assert "notice=plan_recorded" in posted.headers["location"]
    [plan] = await _plans(agreeable)
    assert len(plan.installments) == 24 and plan.total == Decimal("3748.80")
    [recorded] = await _audited(agreeable, "plan.recorded")
    [approved] = await _audited(agreeable, "plan.approved")
    assert recorded.actor == approved.actor == f"agent:{approver}"
    assert approved.data["approved_by"] == f"agent:{approver}"
    assert approved.data["plan_id"] == plan.id and approved.data["conversation_id"] == cid
    assert approved.data["needed"] == "plan length needs approval"


async def test_an_agent_is_told_to_ask_a_supervisor_who_then_records_it(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    agent, agent_token, agent_id = await logged_in(Role.AGENT)
    cid = await _waiting_for_approval(agreeable, seed, agent_id, hardship=True,
                                      reason=IN_AGENTS_QUEUE)
    refused = await _plan(agent, agent_token, cid, "24")
    assert refused.status_code == 422
    assert ("Not recorded: plan length needs a supervisor's approval — ask a supervisor to "
            "record it.") in html.unescape(refused.text)
    assert await _plans(agreeable) == [] and await _audited(agreeable, "plan.recorded") == []
    # The supervisor records it on the agent's conversation, without taking it over.
    supervisor, token, supervisor_id = await logged_in(Role.SUPERVISOR)
    posted = await _plan(supervisor, token, cid, "24")
    assert posted.status_code == 303, _said(posted)
    [approved] = await _audited(agreeable, "plan.approved")
    assert approved.data["approved_by"] == f"agent:{supervisor_id}"


async def test_a_plan_outside_the_hard_bounds_is_refused_for_a_supervisor_too(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, supervisor = await logged_in(Role.SUPERVISOR)
    cid = await _waiting_for_approval(agreeable, seed, supervisor)  # no hardship: 12 at most
    too_long = await _plan(client, token, cid, "24")
    daily = await _plan(client, token, cid, "3", frequency="daily")
    assert too_long.status_code == daily.status_code == 422
    assert "Not recorded: number of installments outside the policy." in too_long.text
    assert "the policy allows monthly, biweekly, weekly plans" in daily.text
    assert ASK not in html.unescape(too_long.text)
    assert await _plans(agreeable) == [] and await _audited(agreeable, "plan.approved") == []


async def test_a_supervisor_records_a_settlement_beyond_the_discount_cap(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, supervisor = await logged_in(Role.SUPERVISOR)
    # 200 days past due: the policy allows 30% off, the bot alone 20%.
    cid = await _waiting_for_approval(agreeable, seed, supervisor, "4000.00", 200)
    page = await client.get(f"/console/conversations/{cid}")
    assert f'action="/console/conversations/{cid}/settlement"' in page.text
    posted = await _settle(client, token, cid, "2,999.04")  # 25% off
    assert posted.status_code == 303, _said(posted)
    assert "notice=settlement_recorded" in posted.headers["location"]
    assert "Settlement recorded." in (await client.get(posted.headers["location"])).text
    [plan] = await _plans(agreeable)
    assert plan.is_settlement and plan.total == Decimal("2999.04")
    assert [(i.due_date.isoformat(), i.amount) for i in plan.installments] == [
        (SOON, Decimal("2999.04"))]
    [recorded] = await _audited(agreeable, "settlement.recorded")
    [approved] = await _audited(agreeable, "settlement.approved")
    assert recorded.actor == f"agent:{supervisor}" and recorded.data["total"] == "2999.04"
    assert approved.data["approved_by"] == f"agent:{supervisor}"
    assert approved.data["plan_id"] == plan.id
    assert approved.data["needed"] == "discount needs approval"


async def test_a_settlement_beyond_the_cap_is_refused_for_an_agent(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _waiting_for_approval(agreeable, seed, agent_id, "4000.00", 200,
                                      reason=IN_AGENTS_QUEUE)
    refused = await _settle(client, token, cid, "2999.04")
    assert refused.status_code == 422
    assert ("Not recorded: discount needs a supervisor's approval — ask a supervisor to "
            "record it.") in html.unescape(refused.text)
    assert await _plans(agreeable) == []


async def test_an_agent_records_a_settlement_inside_the_cap(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _waiting_for_approval(agreeable, seed, agent_id, "4000.00", 200,
                                      reason=IN_AGENTS_QUEUE)
    posted = await _settle(client, token, cid, "3,300.00")  # 17.5% off
    assert posted.status_code == 303, _said(posted)
    [plan] = await _plans(agreeable)
    assert plan.is_settlement and plan.total == Decimal("3300.00")
    [recorded] = await _audited(agreeable, "settlement.recorded")
    assert recorded.actor == f"agent:{agent_id}"
    assert await _audited(agreeable, "settlement.approved") == []


async def test_a_settlement_outside_the_policy_is_refused_for_everyone(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, supervisor = await logged_in(Role.SUPERVISOR)
    cid = await _waiting_for_approval(agreeable, seed, supervisor, "4000.00", 200)
    beyond = await _settle(client, token, cid, "2700.00")  # 32.5% off: past the 30% band
    whole = await _settle(client, token, cid, "4000.00")
    comma = await _settle(client, token, cid, "2999,04")
    late = await client.post(f"/console/conversations/{cid}/settlement", data={
        "csrf_token": token, "amount": "3300.00",
        "due": (NOW + timedelta(days=40)).date().isoformat()})
    assert {r.status_code for r in (beyond, whole, comma, late)} == {422}
    assert "Not recorded: discount beyond the policy." in beyond.text
    assert "less than the balance" in whole.text
    assert "write the cents after a point" in comma.text
    assert "Not recorded: settlement paid too late." in late.text
    assert await _plans(agreeable) == []


async def test_a_young_debt_settles_for_no_less_than_its_balance(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, supervisor = await logged_in(Role.SUPERVISOR)
    cid = await _waiting_for_approval(agreeable, seed, supervisor, "4000.00", 30)  # 0% band
    refused = await _settle(client, token, cid, "3900.00")
    assert refused.status_code == 422 and "discount beyond the policy" in refused.text
    assert await _plans(agreeable) == []


async def test_a_settlement_says_what_it_replaces(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _waiting_for_approval(agreeable, seed, agent_id, "4000.00", 200,
                                      reason=IN_AGENTS_QUEUE)
    assert (await _plan(client, token, cid, "3")).status_code == 303
    posted = await _settle(client, token, cid, "3300.00")
    assert "notice=settlement_replaced" in posted.headers["location"], _said(posted)
    page = await client.get(posted.headers["location"])
    assert "Settlement recorded. It replaces the active plan." in page.text
    assert sorted((p.is_settlement, p.status) for p in await _plans(agreeable)) == [
        (False, "cancelled"), (True, "active")]
