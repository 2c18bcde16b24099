"""Promises, plans and payment links from the console: inside the policy, or refused with why."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from backend.container import Container
from backend.db.models import Account, AuditEvent, Conversation, PaymentPlan, Promise
from backend.db.models.enums import Role
from backend.services.payments.links import PaymentLinks
from backend.services.policy.loader import load_default
from backend.services.policy.store import PolicyStore
from tests.console.conftest import NOW, LoggedIn, Seeder


@pytest.fixture
def agreeable(console: Container) -> Container:
    """The console with the conversations' policy store and payment links installed."""
    console.services["policies"] = PolicyStore(load_default(console.settings.policy_dir))
    console.services["payment_links"] = PaymentLinks(
        console.settings.secret_key, "http://127.0.0.1:8000", console.clock)
    return console


async def _owned(container: Container, seed: Seeder, agent_id: int) -> int:
    cid = await seed("can I pay later?", intent="promise_to_pay", confidence=0.8)
    async with container.sessions.begin() as session:
        await container.services["handoff"].open_handoff(session, cid, "requested_agent", now=NOW)
        await container.services["handoff"].claim(session, cid, agent_id=agent_id, now=NOW)
    return cid


async def test_a_promise_inside_the_policy_is_recorded_by_the_agent(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(agreeable, seed, agent_id)
    due = (NOW + timedelta(days=7)).date().isoformat()
    posted = await client.post(f"/console/conversations/{cid}/promise",
                               data={"csrf_token": token, "amount": "25.00", "due": due})
    assert posted.status_code == 303  # a reload of the page does not post the promise again
    page = await client.get(posted.headers["location"])
    assert "Promise recorded." in page.text
    async with agreeable.sessions() as session:
        promise = await session.scalar(select(Promise))
        actor = await session.scalar(select(AuditEvent.actor).where(
            AuditEvent.action == "promise.recorded"))
    assert promise is not None and str(promise.amount) == "25.00"
    assert promise.conversation_id == cid and actor == f"agent:{agent_id}"


async def test_a_promise_outside_the_policy_is_refused_with_the_reason(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(agreeable, seed, agent_id)
    far = (NOW + timedelta(days=200)).date().isoformat()
    page = await client.post(f"/console/conversations/{cid}/promise",
                             data={"csrf_token": token, "amount": "25.00", "due": far})
    assert page.status_code == 422 and "Not recorded: promise too far out." in page.text
    async with agreeable.sessions() as session:
        assert await session.scalar(select(Promise)) is None


async def test_a_plan_inside_the_policy_is_recorded(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(agreeable, seed, agent_id)
    first = (NOW + timedelta(days=5)).date().isoformat()
    posted = await client.post(f"/console/conversations/{cid}/plan", data={
        "csrf_token": token, "count": "3", "frequency": "monthly", "first": first})
    assert "notice=plan_recorded" in posted.headers["location"], posted.text[:500]
    odd = await client.post(f"/console/conversations/{cid}/plan", data={
        "csrf_token": token, "count": "3", "frequency": "daily", "first": first})
    assert odd.status_code == 422 and "the policy allows" in odd.text
    async with agreeable.sessions() as session:
        plans = list(await session.scalars(select(PaymentPlan)))
    assert len(plans) == 1 and plans[0].frequency == "monthly"


async def _account_of(container: Container, cid: int) -> Account:
    async with container.sessions() as session:
        conversation = await session.get(Conversation, cid)
        assert conversation is not None and conversation.account_id is not None
        account = await session.get(Account, conversation.account_id)
        assert account is not None
        return account


@pytest.mark.parametrize("state", ["bankruptcy", "deceased", "cease", "attorney", "dispute"])
async def test_nothing_is_agreed_while_collection_is_stopped(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn, state: str
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(agreeable, seed, agent_id)
    account = await _account_of(agreeable, cid)
    async with agreeable.sessions.begin() as session:
        await session.execute(update(Account).where(Account.id == account.id)
                              .values({state: True}))
    due = (NOW + timedelta(days=7)).date().isoformat()
    promise = await client.post(f"/console/conversations/{cid}/promise",
                                data={"csrf_token": token, "amount": "25.00", "due": due})
    plan = await client.post(f"/console/conversations/{cid}/plan", data={
        "csrf_token": token, "count": "3", "frequency": "monthly", "first": due})
    assert promise.status_code == plan.status_code == 422
    assert "Not recorded: collection has stopped" in promise.text or "in dispute" in promise.text
    async with agreeable.sessions() as session:
        assert await session.scalar(select(Promise)) is None
        assert await session.scalar(select(PaymentPlan)) is None


async def test_the_same_promise_posted_twice_is_recorded_once(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(agreeable, seed, agent_id)
    form = {"csrf_token": token, "amount": "25.00",
            "due": (NOW + timedelta(days=7)).date().isoformat()}
    answers = await asyncio.gather(*(
        client.post(f"/console/conversations/{cid}/promise", data=form) for _ in range(3)))
    assert [a.status_code for a in answers] == [303, 303, 303]
    async with agreeable.sessions() as session:
        assert len((await session.scalars(select(Promise))).all()) == 1


async def test_promises_never_pile_up_past_the_balance_or_beside_a_plan(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(agreeable, seed, agent_id)
    balance = (await _account_of(agreeable, cid)).current_balance
    due = (NOW + timedelta(days=7)).date().isoformat()
    url = f"/console/conversations/{cid}/promise"
    first = await client.post(url, data={"csrf_token": token, "amount": str(balance - 1),
                                         "due": due})
    assert first.status_code == 303
    over = await client.post(url, data={"csrf_token": token, "amount": "2.00", "due": due})
    assert over.status_code == 422 and "pending promises already cover" in over.text
    plan = await client.post(f"/console/conversations/{cid}/plan", data={
        "csrf_token": token, "count": "3", "frequency": "monthly", "first": due})
    assert plan.status_code == 303  # the plan supersedes the pending promise
    beside = await client.post(url, data={"csrf_token": token, "amount": "1.00", "due": due})
    assert beside.status_code == 422 and "active payment plan" in beside.text
    async with agreeable.sessions() as session:
        statuses = sorted((await session.scalars(select(Promise.status))).all())
    assert statuses == ["cancelled"]


async def test_only_the_owner_agrees(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    _, _, owner = await logged_in(Role.AGENT, "owner@example.com")
    other, token, _ = await logged_in(Role.AGENT, "other@example.com")
    cid = await _owned(agreeable, seed, owner)
    due = (NOW + timedelta(days=7)).date().isoformat()
    response = await other.post(f"/console/conversations/{cid}/promise",
                                data={"csrf_token": token, "amount": "25.00", "due": due})
    assert "notice=not_yours" in response.headers["location"]


async def test_a_payment_link_goes_out_as_an_agent_reply(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(agreeable, seed, agent_id)
    response = await client.post(f"/console/conversations/{cid}/payment-link", data={
        "csrf_token": token, "amount": "30.00", "recipient_verified": "true"})
    assert "notice=link_queued" in response.headers["location"]  # the fake outbox sends nothing
    [outbound] = agreeable.services["outbox"].submitted
    assert "http://127.0.0.1:8000/pay/" in outbound.text and outbound.discusses_debt


async def test_without_the_policy_service_the_agent_is_told(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(console, seed, agent_id)
    page = await client.get(f"/console/conversations/{cid}")
    assert "Promises and plans need the policy service" in page.text
    async with console.sessions() as session:
        assert (await session.get(Conversation, cid)) is not None


@pytest.mark.parametrize(("path", "form"), [
    ("promise", {"amount": "abc", "due": "2026-12-01"}),
    ("promise", {"amount": "25.001", "due": "2026-12-01"}),
    ("promise", {"amount": "25", "due": "next week"}),
    ("plan", {"count": "0", "frequency": "monthly", "first": "2026-12-01"}),
    ("plan", {"count": "121", "frequency": "monthly", "first": "2026-12-01"}),
    ("payment-link", {"amount": "NaN"}),
])
async def test_a_malformed_form_gets_the_page_with_the_reason(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn, path: str, form: dict[str, str]
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(agreeable, seed, agent_id)
    page = await client.post(f"/console/conversations/{cid}/{path}",
                             data={"csrf_token": token, **form})
    assert page.status_code == 422 and "Not recorded: give" in page.text
    assert page.headers["content-type"].startswith("text/html")
