"""The wrong-number apology goes once; every other message to a wrong-party address is blocked."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import AuditEvent, Message
from backend.services.compliance.facts import ContactState, GateFacts, SentRecord
from backend.services.compliance.gate import decide
from backend.services.compliance.rules import load_rules
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.channels.helpers import PHONE, contact, messages, payload, seed_debtor, twilio_post
from tests.conversations.fakes import RuleInterpreter
from tests.fakes.server import FakeServer

RULES = load_rules()
NOON_NY = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
WRONG = ContactState(opted_out_at=None, consent=True, wrong_party=True)
SMS = "/webhooks/twilio/sms"


def wrong_party(**kw: object) -> GateFacts:
    base = GateFacts(zones=("America/New_York",), regions=("NY",), contact=WRONG,
                     conversation_id=1, latest_inbound_id=7,
                     latest_inbound_at=NOON_NY - timedelta(seconds=5))
    return replace(base, **kw)  # type: ignore[arg-type]


def ack(**kw: object) -> OutboundMessage:
    fields: dict[str, object] = dict(
        key=ConversationKey("sms", PHONE), text="Sorry for the trouble.",
        purpose=Purpose.STOP_ACKNOWLEDGEMENT, conversation_id=1, account_id=1, in_reply_to=7)
    fields.update(kw)
    return OutboundMessage(**fields)  # type: ignore[arg-type]


def test_the_apology_answering_the_wrong_number_message_is_allowed() -> None:
    decision = decide(ack(), wrong_party(), RULES, NOON_NY)
    assert decision.allowed
    assert decision.details.get("wrong_party_acknowledgement") is True


def test_only_that_one_apology_passes_a_wrong_party_address() -> None:
    facts = wrong_party()
    refused = [
        ack(purpose=Purpose.REPLY), ack(purpose=Purpose.AGENT), ack(purpose=Purpose.REMINDER),
        ack(purpose=Purpose.OPT_OUT_CONFIRMATION),
        ack(discusses_debt=True, recipient_verified=True),  # never about the debt
        ack(in_reply_to=None), ack(in_reply_to=6),  # not an answer to the latest message
    ]
    for outbound in refused:
        assert decide(outbound, facts, RULES, NOON_NY).reason == "wrong_party", outbound
    already = replace(facts, acknowledgements=(
        SentRecord(NOON_NY - timedelta(days=30), Purpose.STOP_ACKNOWLEDGEMENT.value, 1),))
    assert decide(ack(), already, RULES, NOON_NY).reason == "wrong_party"


def test_the_apology_still_passes_the_later_checks() -> None:
    opted_out = replace(WRONG, opted_out_at=NOON_NY - timedelta(days=1))
    assert decide(ack(), wrong_party(contact=opted_out), RULES, NOON_NY).reason == "opted_out"


async def test_a_wrong_number_gets_its_apology_by_sms_and_nothing_after(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer
) -> None:
    await seed_debtor(wired, now=wired.clock.now())
    wired.interpreter = RuleInterpreter()
    install_conversations(None, wired)

    said = inbound(1, "wrong number, I don't know this person")
    await channel_client.post(**twilio_post(SMS, said))
    await wired.services["dispatcher"].idle()

    point = await contact(wired, "sms", PHONE)
    assert point is not None and point.wrong_party
    [apology] = await messages(wired, "outbound")
    assert apology.intent == Purpose.STOP_ACKNOWLEDGEMENT.value
    assert (apology.delivery_status, apology.error_code) == ("queued", None)
    [sent] = twilio_api.calls("/Messages.json")
    assert sent.form["To"] == PHONE and sent.form["Body"].startswith("Sorry for the trouble.")

    await channel_client.post(**twilio_post(SMS, inbound(2, "wrong number!! who is this")))
    await wired.services["dispatcher"].idle()
    assert len(twilio_api.calls("/Messages.json")) == 1  # the bot stays silent
    async with wired.sessions.begin() as session:
        later = await wired.services["outbox"].submit(session, OutboundMessage(
            key=ConversationKey("sms", PHONE), text="Sorry again.",
            purpose=Purpose.STOP_ACKNOWLEDGEMENT, conversation_id=apology.conversation_id,
            in_reply_to=max(m.id for m in await messages(wired, "inbound"))))
    assert (later.status, later.reason) == ("blocked", "wrong_party")
    async with wired.sessions() as session:
        actions = (await session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_id == str(apology.id),
                                            AuditEvent.subject_type == "message"))).all()
        stored = await session.get(Message, later.message_id)
    assert "compliance.pending" in actions
    assert stored is not None and stored.delivery_status == "blocked"


def inbound(n: int, text: str) -> dict[str, str]:
    form = payload("twilio_sms_inbound.json")
    sid = f"SMwp{n:030d}"
    form.update({"Body": text, "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid,
                 "From": PHONE})
    return form
