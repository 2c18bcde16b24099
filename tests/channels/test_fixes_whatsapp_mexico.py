"""A Mexican WhatsApp sender ("521" + ten digits) is the account's "+52" number; replies go back
to the number WhatsApp gave."""

from __future__ import annotations

import httpx
import pytest

from backend.container import Container
from backend.db.models import Conversation
from bot.channels.whatsapp_numbers import (
    AS_STORED,
    MEXICO_MOBILE_1,
    address_form,
    e164_from_whatsapp,
    whatsapp_address,
)
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.channels.helpers import (
    StubTurnHandler,
    messages,
    meta_post,
    payload,
    seed_debtor,
    twilio_post,
)
from tests.fakes.server import FakeServer

STORED = "+525512345678"  # E.164, as the account import stores it
WA_ID = "5215512345678"  # as WhatsApp names the same mobile


async def conversation_of_inbound(container: Container) -> Conversation:
    [inbound] = await messages(container, "inbound")
    async with container.sessions() as session:
        found = await session.get(Conversation, inbound.conversation_id)
        assert found is not None
        return found


async def test_a_cloud_api_message_from_521_is_the_account_stored_as_plus_52(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer
) -> None:
    debtor_id, account_id = await seed_debtor(wired, now=wired.clock.now(), phone=STORED,
                                              channels=("whatsapp",))
    wired.services["turn_handler"] = StubTurnHandler(wired)
    body = payload("whatsapp_cloud_text.json")
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = value["messages"][0]["from"] = WA_ID
    assert (await channel_client.post("/webhooks/whatsapp", **meta_post(body))).status_code == 200
    await wired.services["dispatcher"].idle()

    conversation = await conversation_of_inbound(wired)
    assert (conversation.address, conversation.debtor_id) == (STORED, debtor_id)
    assert conversation.account_id == account_id
    [sent] = graph_api.calls("/messages")
    assert sent.json["to"] == WA_ID  # the number WhatsApp gave
    [reply] = await messages(wired, "outbound")
    assert reply.delivery_status == "sent" and reply.conversation_id == conversation.id


async def test_a_twilio_whatsapp_message_from_plus_521_is_the_account_stored_as_plus_52(
    twilio_whatsapp: tuple[httpx.AsyncClient, Container], twilio_api: FakeServer
) -> None:
    client, container = twilio_whatsapp
    debtor_id, _ = await seed_debtor(container, now=container.clock.now(), phone=STORED,
                                     channels=("whatsapp",))
    container.services["turn_handler"] = StubTurnHandler(container)
    form = payload("twilio_whatsapp_inbound.json")
    form.update({"From": f"whatsapp:+{WA_ID}", "WaId": WA_ID})
    response = await client.post(**twilio_post("/webhooks/twilio/whatsapp", form))
    assert response.status_code == 200
    await container.services["dispatcher"].idle()

    conversation = await conversation_of_inbound(container)
    assert (conversation.address, conversation.debtor_id) == (STORED, debtor_id)
    [sent] = twilio_api.calls("/Messages.json")
    assert sent.form["To"] == f"whatsapp:+{WA_ID}"


async def test_a_reminder_to_a_number_whatsapp_never_named_goes_as_stored(
    channel_client: httpx.AsyncClient, wired: Container, graph_api: FakeServer
) -> None:
    _, account_id = await seed_debtor(wired, now=wired.clock.now(), phone=STORED,
                                      channels=("whatsapp",))
    outbound = OutboundMessage(key=ConversationKey("whatsapp", STORED), text="Hola",
                               purpose=Purpose.REMINDER, account_id=account_id,
                               template="parley_reminder", template_vars={"1": "https://p/x"})
    async with wired.sessions.begin() as session:
        decision = await wired.services["outbox"].submit(session, outbound)
    await wired.services["outbox"].send([decision.message_id])
    [sent] = graph_api.calls("/messages")
    assert sent.json["to"] == STORED.removeprefix("+")


@pytest.mark.parametrize(("given", "stored"), [
    ("5215512345678", "+525512345678"),  # Mexico's legacy mobile form
    ("+5215512345678", "+525512345678"),
    ("525512345678", "+525512345678"),  # already E.164
    ("12125551234", "+12125551234"),
    ("5491123456789", "+5491123456789"),  # Argentina: E.164 keeps the mobile 9 too
    ("52155123456789", "+52155123456789"),  # not ten digits after 521: left alone
])
def test_whatsapp_numbers_read_as_e164(given: str, stored: str) -> None:
    assert e164_from_whatsapp(given) == stored


@pytest.mark.parametrize(("given", "form"), [
    ("5215512345678", MEXICO_MOBILE_1),
    ("+5215512345678", MEXICO_MOBILE_1),
    ("525512345678", AS_STORED),  # a Mexican number named as stored: a change worth keeping
    ("12125551234", None),  # one form only: nothing to keep
    ("52155123456789", None),
])
def test_the_form_whatsapp_named_a_number_in(given: str, form: str | None) -> None:
    assert address_form(given) == form


def test_replies_go_in_the_form_whatsapp_last_gave() -> None:
    assert whatsapp_address(STORED, None) == STORED  # never named: as stored
    assert whatsapp_address(STORED, MEXICO_MOBILE_1) == f"+{WA_ID}"
    assert whatsapp_address(STORED, AS_STORED) == STORED
    assert whatsapp_address("+12125551234", MEXICO_MOBILE_1) == "+12125551234"
