"""Twilio webhooks: inbound SMS, inbound WhatsApp, and delivery status callbacks."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request, Response

from backend.api.routes.webhooks.common import adapter_for, receive
from bot.channels.twilio_common import EMPTY_TWIML

router = APIRouter()


def _twiml() -> Response:
    return Response(EMPTY_TWIML, media_type="application/xml")


@router.post("/twilio/sms")
async def twilio_sms(request: Request, background: BackgroundTasks) -> Response:
    """An inbound SMS/MMS: stored, then acknowledged with empty TwiML (replies go via REST)."""
    return await receive(request, background, adapter_for(request, "sms", "twilio"), _twiml())


@router.post("/twilio/whatsapp")
async def twilio_whatsapp(request: Request, background: BackgroundTasks) -> Response:
    """An inbound WhatsApp message through Twilio."""
    adapter = adapter_for(request, "whatsapp", "twilio")
    return await receive(request, background, adapter, _twiml())


@router.post("/twilio/status")
async def twilio_status(request: Request, background: BackgroundTasks) -> Response:
    """A delivery status callback (SMS or WhatsApp); applied monotonically."""
    for channel in ("sms", "whatsapp"):
        try:
            adapter = adapter_for(request, channel, "twilio")
        except HTTPException:
            continue
        return await receive(request, background, adapter, Response(status_code=204))
    raise HTTPException(404, "channel not configured")
