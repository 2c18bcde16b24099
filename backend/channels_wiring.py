"""Wiring the channels into the app: adapters from settings, gate, outbox, dispatcher, routes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from backend.api.routes import reminders as reminder_routes
from backend.api.routes import webhooks
from backend.container import Container
from backend.services.compliance.rules import DEFAULT_RULES_PATH, load_rules
from backend.services.compliance.service import ComplianceGate
from backend.services.dispatch import InboundDispatcher
from backend.services.outbox import RetryPolicy, SqlOutbox
from backend.services.policy.loader import load_default
from backend.settings import WHATSAPP_CLOUD_SETTINGS, Settings
from bot.channels.base import ChannelAdapter
from bot.channels.telegram import TelegramAdapter, build_bot
from bot.channels.twilio_common import TwilioSignature, build_client
from bot.channels.twilio_sms import TwilioSmsAdapter
from bot.channels.twilio_whatsapp import TwilioWhatsAppAdapter
from bot.channels.web import WebChannelAdapter
from bot.channels.whatsapp_cloud import WhatsAppCloudAdapter
from bot.clock import Clock

log = logging.getLogger(__name__)
RELEASE_EVERY = timedelta(minutes=1)
SWEEP_EVERY = timedelta(minutes=1)


def install_channels(
    app: FastAPI | None, container: Container, *, rules_path: Path = DEFAULT_RULES_PATH,
    retry: RetryPolicy | None = None,
) -> None:
    """Register adapters, outbox, dispatcher and jobs on `container`; routes on `app` if given.

    The worker and the CLI call it with `app=None` to get the same outbox and jobs.
    """
    adapters = build_adapters(container.settings, container.clock)
    gate = ComplianceGate(load_rules(rules_path))
    # The shared handoff service is installed later (console or conversations), so it is
    # looked up when a lost reply needs a person, not captured here.
    verification = load_default(container.settings.policy_dir).verification
    outbox = SqlOutbox(container.sessions, container.clock, gate, adapters, retry,
                       handoffs=lambda: container.services.get("handoffs"),
                       verified_ttl=timedelta(minutes=verification.verified_ttl_minutes))
    dispatcher = InboundDispatcher(container.sessions, container.services, container.redis)
    container.services.update(
        {"adapters": adapters, "gate": gate, "outbox": outbox, "dispatcher": dispatcher}
    )
    container.on_close(lambda: close_channels(container))
    container.scheduler.every("outbox.release_due", RELEASE_EVERY, _job(outbox.release_due))
    container.scheduler.every("inbound.sweep", SWEEP_EVERY, _job(dispatcher.sweep),
                              stepped=False)
    if app is not None:
        app.include_router(webhooks.router)
        app.include_router(reminder_routes.router)


async def close_channels(container: Container) -> None:
    """Close every adapter's SDK client (call before the container closes)."""
    for adapter in container.services.get("adapters", {}).values():
        await adapter.close()


def build_adapters(settings: Settings, clock: Clock) -> dict[str, ChannelAdapter]:
    """Only the channels whose credentials are configured (plus the portal)."""
    adapters: dict[str, ChannelAdapter] = {"web": WebChannelAdapter()}
    adapters.update(_twilio(settings, clock))
    if all((getattr(settings, name.lower()) or "").strip() for name in WHATSAPP_CLOUD_SETTINGS):
        adapters["whatsapp"] = _whatsapp_cloud(settings)
        if settings.twilio_whatsapp_from:
            # Twilio does not retry a 4xx: a debtor still writing to the Twilio sender would
            # be dropped unseen unless the operator is told.
            log.warning("TWILIO_WHATSAPP_FROM is ignored: the WhatsApp Cloud API is configured "
                        "(all four WHATSAPP_* settings), so WhatsApp goes through Meta and "
                        "Twilio WhatsApp webhooks (/webhooks/twilio/whatsapp) are refused (404)")
    if settings.telegram_bot_token:
        adapters["telegram"] = TelegramAdapter(
            build_bot(settings.telegram_bot_token, settings.telegram_api_url),
            settings.telegram_webhook_secret, settings.telegram_bot_username,
        )
    return adapters


def _twilio(settings: Settings, clock: Clock) -> dict[str, ChannelAdapter]:
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        return {}
    client = build_client(settings.twilio_account_sid, settings.twilio_auth_token,
                          settings.twilio_api_url)
    signature = TwilioSignature(settings.twilio_auth_token, settings.public_base_url)
    callback = settings.public_base_url.rstrip("/") + "/webhooks/twilio/status"
    found: dict[str, ChannelAdapter] = {}
    if settings.twilio_sms_from or settings.twilio_messaging_service_sid:
        found["sms"] = TwilioSmsAdapter(
            client, signature, clock, sender=settings.twilio_sms_from,
            messaging_service_sid=settings.twilio_messaging_service_sid, status_callback=callback)
    if settings.twilio_whatsapp_from:
        found["whatsapp"] = TwilioWhatsAppAdapter(
            client, signature, clock, sender=settings.twilio_whatsapp_from,
            status_callback=callback, content_sids=settings.content_sids)
    return found


def _whatsapp_cloud(settings: Settings) -> WhatsAppCloudAdapter:
    return WhatsAppCloudAdapter(
        httpx.AsyncClient(timeout=10.0), api_url=settings.whatsapp_api_url,
        phone_number_id=settings.whatsapp_phone_number_id or "",
        access_token=settings.whatsapp_access_token or "",
        app_secret=settings.whatsapp_app_secret or "",
        verify_token=settings.whatsapp_verify_token or "",
        template_languages=settings.template_languages,
    )


def _job(func: Callable[[datetime], Awaitable[Any]]) -> Callable[[datetime], Awaitable[None]]:
    async def job(now: datetime) -> None:
        await func(now)

    return job
