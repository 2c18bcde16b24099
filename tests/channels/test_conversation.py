"""A debtor's whole SMS conversation through the webhook, with a stub engine replying."""

from __future__ import annotations

import httpx

from backend.container import Container
from tests.channels.helpers import (
    PHONE,
    StubTurnHandler,
    messages,
    payload,
    seed_debtor,
    twilio_post,
)
from tests.fakes.server import FakeServer

SMS, STATUS = "/webhooks/twilio/sms", "/webhooks/twilio/status"


def inbound(n: int, text: str) -> dict[str, str]:
    form = payload("twilio_sms_inbound.json")
    sid = f"SMin{n:030d}"
    form.update({"Body": text, "MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid})
    return form


async def test_a_debtor_converses_by_sms_end_to_end(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer
) -> None:
    await seed_debtor(wired, now=wired.clock.now())
    engine = StubTurnHandler(wired)
    wired.services["turn_handler"] = engine
    texts = ["Hi, who is this?", "Ana Lopez, born 1985-04-02", "I can pay 100 on Friday"]
    for n, text in enumerate(texts, start=1):
        response = await channel_client.post(**twilio_post(SMS, inbound(n, text)))
        assert response.status_code == 200
    await channel_client.post(**twilio_post(SMS, inbound(2, texts[1])))  # a provider retry
    await wired.services["dispatcher"].idle()

    sent = twilio_api.calls("/Messages.json")
    assert [c.form["Body"] for c in sent] == ["Reply 1", "Reply 2", "Reply 3"]
    assert all(c.form["To"] == PHONE for c in sent)
    rows = await messages(wired)
    assert [r.direction for r in rows].count("inbound") == 3
    assert all(r.processed_at is not None for r in rows if r.direction == "inbound")
    assert len({r.conversation_id for r in rows}) == 1

    for row in (r for r in rows if r.direction == "outbound"):
        form = payload("twilio_status_delivered.json", sid=row.provider_message_id or "")
        assert (await channel_client.post(**twilio_post(STATUS, form))).status_code == 204
    assert {r.delivery_status for r in await messages(wired, "outbound")} == {"delivered"}
