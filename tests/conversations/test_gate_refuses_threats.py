"""No threat of legal or physical action leaves in what a person or a campaign wrote
(compliance.md A.4 item 19(b), 12 CFR 1006.18(c)): the real gate, through its facts."""

from __future__ import annotations

import pytest

from backend.services.compliance.rules import load_rules
from backend.services.compliance.service import ComplianceGate
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.conversations.conftest import PHONE, Chat

THREATS = (
    "We will take legal action and garnish your wages if you do not call us back today.",
    "Si no paga hoy, la policía lo va a arrestar y vamos a embargar su salario.",
    "Call today or we will sue.",
)


async def _decide(chat: Chat, account_id: int, text: str, purpose: Purpose) -> tuple[str, str]:
    message = OutboundMessage(key=ConversationKey("sms", PHONE), text=text, purpose=purpose,
                              account_id=account_id, recipient_verified=True,
                              sender="agent:1" if purpose == Purpose.AGENT else "campaign:1")
    async with chat.container.sessions() as session:
        decision = await ComplianceGate(load_rules()).preview(
            session, message, None, chat.container.clock.now())
    return decision.status, decision.reason


@pytest.mark.parametrize("text", THREATS)
@pytest.mark.parametrize("purpose", [Purpose.AGENT, Purpose.REMINDER])
async def test_a_threat_written_by_a_person_or_a_campaign_is_blocked(
    chat: Chat, account_id: int, text: str, purpose: Purpose,
) -> None:
    assert await _decide(chat, account_id, text, purpose) == ("blocked", "threat_of_action")


async def test_the_same_words_without_a_threat_pass(chat: Chat, account_id: int) -> None:
    status, reason = await _decide(chat, account_id, "Hi, could you call us back today?",
                                   Purpose.AGENT)
    assert reason != "threat_of_action" and status != "blocked"
