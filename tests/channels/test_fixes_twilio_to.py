"""Twilio inbound: another account's delivery is refused; a number we don't send from, ignored."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from backend.api.app import create_app
from backend.channels_wiring import close_channels
from backend.container import Container
from backend.settings import Settings
from bot.clock import SettableClock
from tests.channels.conftest import _install
from tests.channels.helpers import messages, payload, twilio_post
from tests.fakes.server import FakeServer

SMS = "/webhooks/twilio/sms"
WHATSAPP = "/webhooks/twilio/whatsapp"
STATUS = "/webhooks/twilio/status"
OTHER_ACCOUNT = "AC" + "9" * 32
SERVICE = "MG" + "1" * 32
STRANGER = "+19998887777"


def sms(**changes: str) -> dict[str, str]:
    form: dict[str, str] = payload("twilio_sms_inbound.json")
    return {**form, **changes}


async def test_an_inbound_to_a_number_we_do_not_send_from_is_acknowledged_and_ignored(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    form = sms(To=STRANGER, Body="my balance please")
    with caplog.at_level(logging.INFO):
        response = await channel_client.post(**twilio_post(SMS, form))
    assert response.status_code == 200 and response.text.endswith("<Response />")
    await wired.services["dispatcher"].idle()
    assert await messages(wired) == []
    assert twilio_api.calls("/Messages.json") == []  # never answered from +12125550100
    logged = caplog.text
    assert "not a configured sender" in logged and "7777" in logged
    assert STRANGER not in logged and form["From"] not in logged and "balance" not in logged


async def test_an_inbound_for_another_account_is_refused(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeServer,
) -> None:
    response = await channel_client.post(**twilio_post(SMS, sms(AccountSid=OTHER_ACCOUNT)))
    assert response.status_code == 403
    missing = sms()
    del missing["AccountSid"]
    assert (await channel_client.post(**twilio_post(SMS, missing))).status_code == 403
    await wired.services["dispatcher"].idle()
    assert await messages(wired) == []
    assert twilio_api.calls("/Messages.json") == []


async def test_a_status_callback_for_another_account_is_refused(
    channel_client: httpx.AsyncClient, wired: Container,
) -> None:
    form = {**payload("twilio_status_delivered.json"), "AccountSid": OTHER_ACCOUNT}
    assert (await channel_client.post(**twilio_post(STATUS, form))).status_code == 403


async def test_our_own_number_is_still_answered(
    channel_client: httpx.AsyncClient, wired: Container,
) -> None:
    assert (await channel_client.post(**twilio_post(SMS, sms()))).status_code == 200
    assert len(await messages(wired, "inbound")) == 1


async def test_whatsapp_to_another_number_is_ignored_and_to_ours_is_kept(
    twilio_whatsapp: tuple[httpx.AsyncClient, Container],
) -> None:
    client, container = twilio_whatsapp
    form: dict[str, str] = payload("twilio_whatsapp_inbound.json")
    stranger = {**form, "To": f"whatsapp:{STRANGER}", "MessageSid": "SM" + "7" * 32}
    assert (await client.post(**twilio_post(WHATSAPP, stranger))).status_code == 200
    assert await messages(container) == []
    other = {**form, "AccountSid": OTHER_ACCOUNT}
    assert (await client.post(**twilio_post(WHATSAPP, other))).status_code == 403
    assert (await client.post(**twilio_post(WHATSAPP, form))).status_code == 200
    [kept] = await messages(container)
    assert kept.channel == "whatsapp"


@pytest.fixture
async def messaging_service(
    channel_settings: Settings, clock: SettableClock,
) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    """SMS through a Messaging Service, without a single From number."""
    settings = channel_settings.model_copy(update={
        "twilio_sms_from": None, "twilio_messaging_service_sid": SERVICE})
    app = create_app(settings, clock=clock, migrate=False, extensions=(_install,))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, container
            await container.services["dispatcher"].idle()
            await close_channels(container)


async def test_a_messaging_services_numbers_are_ours_and_another_services_are_not(
    messaging_service: tuple[httpx.AsyncClient, Container],
) -> None:
    client, container = messaging_service
    ours = sms(To="+12125550177", MessagingServiceSid=SERVICE)
    assert (await client.post(**twilio_post(SMS, ours))).status_code == 200
    theirs = sms(To=STRANGER, MessagingServiceSid="MG" + "2" * 32, MessageSid="SM" + "8" * 32)
    assert (await client.post(**twilio_post(SMS, theirs))).status_code == 200
    assert [m.provider_message_id for m in await messages(container)] == [ours["MessageSid"]]
