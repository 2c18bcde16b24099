"""An agent's text about the debt is treated as such even with "Mentions the debt" unticked."""

from __future__ import annotations

from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, Conversation, Creditor, Message
from backend.db.models.enums import Role
from backend.services.compliance.rules import load_rules
from backend.services.compliance.service import ComplianceGate
from backend.services.outbox import SqlOutbox
from bot.responses import Renderer
from bot.state import MemoryStateStore
from tests.console.conftest import NOW, LoggedIn, Seeder

MINI_MIRANDA = "This is a communication from a debt collector. This is an attempt"
REVIEWED = "You still owe $500.00 to RevBank on account RC-9. Please pay today."


class _GatedNotSent(SqlOutbox):
    """The real gate and storage; sending (no provider here) is left out."""

    async def send(self, message_ids: list[int]) -> None:
        return None


def _real_gate(console: Container) -> None:
    """The console's replies through the real outbox and compliance gate (nothing is sent)."""
    console.services["renderer"], console.services["state_store"] = Renderer(), MemoryStateStore()
    console.services["outbox"] = _GatedNotSent(console.sessions, console.clock,
                                               ComplianceGate(load_rules()), adapters={})


async def _claimed(console: Container, seed: Seeder, agent_id: int, *,
                   disputed: bool = False) -> int:
    cid = await seed("I want to talk to a person")
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(session, cid, "request_agent", now=NOW)
        await console.services["handoff"].claim(session, cid, agent_id=agent_id, now=NOW)
        conversation = await session.get(Conversation, cid)
        assert conversation is not None and conversation.account_id is not None
        account = await session.get(Account, conversation.account_id)
        assert account is not None
        account.dispute = disputed
    return cid


async def _reply(console: Container, logged_in_client: object, token: str, cid: int, text: str,
                 nonce: str, **form: str) -> Message:
    response = await logged_in_client.post(  # type: ignore[attr-defined]
        f"/console/conversations/{cid}/reply",
        data={"csrf_token": token, "text": text, "nonce": nonce, **form})
    assert response.status_code == 303
    async with console.sessions() as session:
        message = await session.scalar(select(Message).where(
            Message.conversation_id == cid, Message.sender.like("agent:%"))
            .order_by(Message.id.desc()).limit(1))
    assert message is not None
    return message


async def test_unticked_debt_text_to_an_unverified_person_on_a_disputed_account_is_blocked(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    _real_gate(console)
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _claimed(console, seed, agent_id, disputed=True)
    message = await _reply(console, client, token, cid, REVIEWED, "a")
    assert (message.delivery_status, message.error_code) == ("blocked", "dispute_pause")


async def test_unticked_debt_text_to_an_unverified_person_is_blocked(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    _real_gate(console)
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _claimed(console, seed, agent_id)
    message = await _reply(console, client, token, cid, REVIEWED, "a")
    assert (message.delivery_status, message.error_code) == ("blocked", "identity_unverified")
    # An identity question still goes to someone not verified.
    asked = await _reply(console, client, token, cid, "Could you confirm your date of birth?",
                         "b")
    assert asked.delivery_status == "pending" and asked.error_code is None


async def test_the_creditor_or_reference_alone_counts_and_a_verified_person_gets_the_disclosure(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    _real_gate(console)
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _claimed(console, seed, agent_id)
    async with console.sessions() as session:
        creditor, reference = (await session.execute(
            select(Creditor.name, Account.external_ref)
            .join(Account, Account.creditor_id == Creditor.id)
            .join(Conversation, Conversation.account_id == Account.id)
            .where(Conversation.id == cid))).one()
    named = await _reply(console, client, token, cid,
                         f"Hello, {creditor} asked me to follow up on {reference}.", "a")
    assert (named.delivery_status, named.error_code) == ("blocked", "identity_unverified")
    verified = await _reply(console, client, token, cid, REVIEWED, "b",
                            recipient_verified="true")
    assert verified.delivery_status == "pending"
    assert verified.text.startswith(MINI_MIRANDA) and REVIEWED in verified.text
