"""The conversation page's audit trail: the gate decisions of the conversation's messages and
the consent events of its contact points, each with its reason or rule, and a word when the
trail is cut."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from backend.console.conversation_view import AUDIT_LIMIT
from backend.container import Container
from backend.db.models import Account, Conversation
from backend.db.models.enums import Role
from backend.services import audit, ledger
from backend.services.compliance.consent import record_opt_in, record_opt_out
from backend.services.compliance.rules import DEFAULT_RULES_PATH, load_rules
from backend.services.compliance.service import ComplianceGate
from backend.services.outbox import SqlOutbox
from backend.services.reminders import send_reminder
from bot.messages import ConversationKey
from tests.console.conftest import LoggedIn, Seeder

DISPUTE_RULE = "compliance.md A.5 item 25 (12 CFR 1006.38(d)(2))"


async def _stop_start_and_blocked_reminder(console: Container, conversation_id: int) -> None:
    """The debtor texts STOP then START; a dispute opens; the reminder is blocked by the gate."""
    clock = console.clock
    async with console.sessions() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None and conversation.account_id is not None
        key = ConversationKey(conversation.channel, conversation.address)
        account_id = conversation.account_id
    async with console.sessions.begin() as session:
        await record_opt_out(session, key, "STOP", clock.now())
    async with console.sessions.begin() as session:
        await record_opt_in(session, key, "START", clock.now() + timedelta(minutes=1))
    async with console.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        await ledger.record_dispute(session, account, "not mine", ledger.Origin(clock.now()))
    gate = ComplianceGate(load_rules(DEFAULT_RULES_PATH))
    outbox = SqlOutbox(console.sessions, clock, gate, {})
    async with console.sessions.begin() as session:
        result = await send_reminder(
            session, outbox, gate, account_id, clock.now(), {key.channel: None}
        )
    assert result.decision is not None
    assert (result.decision.status, result.decision.reason) == ("blocked", "dispute_pause")


def _trail(page: str) -> list[str]:
    """The audit trail's items as text."""
    section = page.split("<h2>Audit trail</h2>", 1)[1].split("</section>", 1)[0]
    items = re.findall(r"<li[^>]*>(.*?)</li>", section, flags=re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", item)) for item in items]


async def test_the_trail_shows_the_stop_the_start_and_the_block_reason(
    seed: Seeder, console: Container, logged_in: LoggedIn
) -> None:
    conversation_id = await seed("hello")
    await _stop_start_and_blocked_reminder(console, conversation_id)
    client, _, _ = await logged_in(Role.SUPERVISOR)
    page = await client.get(f"/console/conversations/{conversation_id}")
    assert page.status_code == 200
    trail = _trail(page.text)
    assert "Nothing recorded yet." not in trail
    [blocked] = [line for line in trail if "compliance.blocked" in line]
    assert "dispute_pause" in blocked and DISPUTE_RULE in blocked
    [opted_out] = [line for line in trail if "contact.opted_out" in line]
    [opted_in] = [line for line in trail if "contact.opted_in" in line]
    assert "STOP" in opted_out and "START" in opted_in
    assert "Showing the latest" not in page.text


async def test_a_long_trail_says_how_much_it_leaves_out(
    seed: Seeder, console: Container, logged_in: LoggedIn
) -> None:
    conversation_id = await seed("hello")
    async with console.sessions.begin() as session:
        for n in range(AUDIT_LIMIT + 5):
            await audit.record(
                session,
                occurred_at=console.clock.now(),
                actor="bot",
                action="conversation.noted",
                subject_type="conversation",
                subject_id=conversation_id,
                data={"detail": f"note {n}"},
            )
    client, _, _ = await logged_in(Role.SUPERVISOR)
    page = (await client.get(f"/console/conversations/{conversation_id}")).text
    assert len(_trail(page)) == AUDIT_LIMIT
    assert f"Showing the latest {AUDIT_LIMIT} of {AUDIT_LIMIT + 5} events." in page
    assert f"note {AUDIT_LIMIT + 4}" in _trail(page)[0]  # the newest first
