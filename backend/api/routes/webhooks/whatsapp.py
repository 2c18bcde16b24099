"""WhatsApp Cloud API webhooks: the GET subscription handshake and signed POST deliveries."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import PlainTextResponse

from backend.api.routes.webhooks.common import adapter_for, receive

router = APIRouter()


@router.get("/whatsapp")
async def whatsapp_verify(request: Request) -> Response:
    """Echo `hub.challenge` when the verify token matches; 403 otherwise."""
    adapter = adapter_for(request, "whatsapp", "meta")
    q = request.query_params
    echo = adapter.challenge(  # type: ignore[attr-defined]
        q.get("hub.mode", ""), q.get("hub.verify_token", ""), q.get("hub.challenge", ""))
    if echo is None:
        return Response(status_code=403)
    return PlainTextResponse(echo)


@router.post("/whatsapp")
async def whatsapp_receive(request: Request, background: BackgroundTasks) -> Response:
    """Messages and statuses, checked against X-Hub-Signature-256 over the raw body."""
    adapter = adapter_for(request, "whatsapp", "meta")
    return await receive(request, background, adapter, Response(status_code=200))
