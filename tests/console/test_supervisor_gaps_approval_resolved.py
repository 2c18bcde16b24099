"""Recording the approved agreement answers the approval request: its handoff is resolved
(audited, with a note), and the debtor's next message goes to the bot."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from backend.container import Container
from backend.db.models import Account, AuditEvent, Conversation, ConversationNote, Handoff
from backend.db.models.enums import Role
from backend.services.policy.loader import load_default
from backend.services.policy.store import PolicyStore
from tests.console.conftest import NOW, LoggedIn, Seeder

SOON = (NOW + timedelta(days=7)).date().isoformat()


@pytest.fixture
def agreeable(console: Container) -> Container:
    """The console with the shipped policy installed."""
    console.services["policies"] = PolicyStore(load_default(console.settings.policy_dir))
    return console


async def _handed_off(container: Container, seed: Seeder, owner: int, reason: str,
                      queue: str, balance: str = "3748.80", days_past_due: int = 40,
                      hardship: bool = True) -> int:
    """A conversation the bot handed off for `reason`, claimed by `owner`, on an account with
    this balance and age (in hardship, 24 monthly installments need approval)."""
    cid = await seed("can i do 75 a month", intent="request_payment_plan", confidence=0.9)
    async with container.sessions.begin() as session:
        conversation = await session.get(Conversation, cid)
        assert conversation is not None
        await session.execute(update(Account).where(Account.id == conversation.account_id).values(
            current_balance=Decimal(balance), hardship=hardship,
            due_date=NOW.date() - timedelta(days=days_past_due)))
        handoffs = container.services["handoff"]
        await handoffs.open_handoff(session, cid, reason, queue=queue, now=NOW)
        await handoffs.claim(session, cid, agent_id=owner, now=NOW)
    return cid


async def _state(container: Container, cid: int) -> tuple[str, list[Handoff]]:
    async with container.sessions() as session:
        conversation = await session.get(Conversation, cid)
        assert conversation is not None
        handoffs = list(await session.scalars(
            select(Handoff).where(Handoff.conversation_id == cid)))
        return conversation.ownership, handoffs


@pytest.mark.parametrize(("path", "form", "kind", "account"), [
    ("plan", {"count": "24", "frequency": "monthly", "first": SOON}, "plan",
     ("3748.80", 40, True)),
    # 200 days past due: the policy allows 30% off, the bot alone 20%.
    ("settlement", {"amount": "2,999.04", "due": SOON}, "settlement", ("4000.00", 200, False)),
])
async def test_the_recorded_approval_resolves_its_handoff(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn, path: str,
    form: dict[str, str], kind: str, account: tuple[str, int, bool],
) -> None:
    client, token, supervisor = await logged_in(Role.SUPERVISOR)
    cid = await _handed_off(agreeable, seed, supervisor, "needs_approval", "approvals",
                            *account)
    posted = await client.post(f"/console/conversations/{cid}/{path}",
                               data={"csrf_token": token, **form})
    assert posted.status_code == 303, posted.text[-500:]
    ownership, [handoff] = await _state(agreeable, cid)
    assert ownership == "resolved"
    assert handoff.status == "resolved" and handoff.closed_at == NOW
    async with agreeable.sessions() as session:
        [event] = await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "handoff.resolved"))
        [note] = await session.scalars(select(ConversationNote).where(
            ConversationNote.conversation_id == cid))
    assert event.actor == f"agent:{supervisor}" and event.data["handoff_id"] == handoff.id
    assert note.kind == "resolution" and note.text.startswith(f"approved {kind} ")
    page = await client.get(f"/console/conversations/{cid}")
    assert page.status_code == 200 and ">resolved</span>" in page.text


async def test_a_promise_recorded_on_an_approval_resolves_it_too(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn,
) -> None:
    client, token, supervisor = await logged_in(Role.SUPERVISOR)
    cid = await _handed_off(agreeable, seed, supervisor, "needs_approval", "approvals")
    posted = await client.post(f"/console/conversations/{cid}/promise", data={
        "csrf_token": token, "amount": "100.00", "due": SOON})
    assert posted.status_code == 303, posted.text[-500:]
    ownership, [handoff] = await _state(agreeable, cid)
    assert ownership == "resolved" and handoff.status == "resolved"


async def test_an_agreement_on_another_handoff_leaves_it_open(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn,
) -> None:
    client, token, agent = await logged_in(Role.AGENT)
    cid = await _handed_off(agreeable, seed, agent, "negotiation_rounds", "negotiation")
    posted = await client.post(f"/console/conversations/{cid}/plan", data={
        "csrf_token": token, "count": "6", "frequency": "monthly", "first": SOON})
    assert posted.status_code == 303, posted.text[-500:]
    ownership, [handoff] = await _state(agreeable, cid)
    assert ownership == "agent" and handoff.status == "agent" and handoff.agent_id == agent


async def test_a_refused_approval_leaves_the_request_open(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn,
) -> None:
    client, token, supervisor = await logged_in(Role.SUPERVISOR)
    cid = await _handed_off(agreeable, seed, supervisor, "needs_approval", "approvals")
    posted = await client.post(f"/console/conversations/{cid}/plan", data={
        "csrf_token": token, "count": "3", "frequency": "daily", "first": SOON})
    assert posted.status_code == 422
    ownership, [handoff] = await _state(agreeable, cid)
    assert ownership == "agent" and handoff.status == "agent"
