"""Channel fixtures: fake providers on 127.0.0.1 and an app wired with install_channels."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from backend.api.app import create_app
from backend.channels_wiring import close_channels, install_channels
from backend.container import Container
from backend.services.outbox import RetryPolicy
from backend.settings import Settings
from bot.clock import SettableClock
from tests.channels.helpers import PUBLIC_BASE_URL
from tests.fakes.graph import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN, fake_graph
from tests.fakes.server import FakeServer
from tests.fakes.telegram import BOT_TOKEN, fake_telegram
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, fake_twilio

TELEGRAM_SECRET = "tg-secret_0123456789"
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


@pytest.fixture
def twilio_api() -> Iterator[FakeServer]:
    """A fake Twilio REST API."""
    server = fake_twilio()
    yield server
    server.stop()


@pytest.fixture
def telegram_api() -> Iterator[FakeServer]:
    """A fake Telegram Bot API."""
    server = fake_telegram()
    yield server
    server.stop()


@pytest.fixture
def graph_api() -> Iterator[FakeServer]:
    """A fake WhatsApp Cloud (Graph) API."""
    server = fake_graph()
    yield server
    server.stop()


@pytest.fixture
def channel_settings(settings: Settings, twilio_api: FakeServer, telegram_api: FakeServer,
                     graph_api: FakeServer) -> Settings:
    """Every channel configured against the fakes; WhatsApp via the Cloud API."""
    return settings.model_copy(update={
        "public_base_url": PUBLIC_BASE_URL,
        "twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": AUTH_TOKEN,
        "twilio_api_url": twilio_api.base, "twilio_sms_from": "+12125550100",
        "telegram_bot_token": BOT_TOKEN, "telegram_api_url": telegram_api.base,
        "telegram_webhook_secret": TELEGRAM_SECRET, "telegram_bot_username": "parley_bot",
        "whatsapp_access_token": ACCESS_TOKEN, "whatsapp_app_secret": APP_SECRET,
        "whatsapp_verify_token": VERIFY_TOKEN, "whatsapp_phone_number_id": PHONE_NUMBER_ID,
        "whatsapp_api_url": graph_api.base + "/v21.0",
    })


def _install(app: FastAPI, container: Container) -> None:
    install_channels(app, container, retry=FAST_RETRY)


@pytest.fixture
def channel_app(channel_settings: Settings, clock: SettableClock) -> FastAPI:
    """The app with the channels installed."""
    return create_app(channel_settings, clock=clock, migrate=False, extensions=(_install,))


@pytest.fixture
async def channel_client(channel_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client with the lifespan running (adapters closed afterwards)."""
    async with channel_app.router.lifespan_context(channel_app):
        transport = httpx.ASGITransport(app=channel_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
            await channel_app.state.container.services["dispatcher"].idle()
            await close_channels(channel_app.state.container)


@pytest.fixture
def wired(channel_app: FastAPI, channel_client: httpx.AsyncClient) -> Container:
    """The running app's container."""
    container: Container = channel_app.state.container
    return container


# A Content SID for the reminder template on WhatsApp through Twilio.
REMINDER_SID = "HX" + "0123456789abcdef" * 2
# The same template's Spanish version (a Content template holds one language).
SPANISH_REMINDER_SID = "HX" + "fedcba9876543210" * 2


@pytest.fixture
async def twilio_whatsapp(
    channel_settings: Settings, clock: SettableClock
) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    """The app with WhatsApp through Twilio (no Cloud API) and the reminder's Content SID."""
    settings = channel_settings.model_copy(update={
        "whatsapp_access_token": None, "twilio_whatsapp_from": "+14155238886",
        "twilio_whatsapp_content_sids":
            f"parley_reminder={REMINDER_SID},parley_reminder.es={SPANISH_REMINDER_SID}",
    })
    app = create_app(settings, clock=clock, migrate=False, extensions=(_install,))
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, container
            await container.services["dispatcher"].idle()
            await close_channels(container)
