"""What every webhook does: find its adapter, verify the raw request, store, ack, dispatch."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cache
from typing import Any

from fastapi import BackgroundTasks, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from backend.container import Container
from backend.services.address_forms import remember_form
from backend.services.compliance.consent import record_opt_out
from backend.services.inbox import StoredInbound, store_inbound
from backend.services.telegram_links import StartAnswer, answer_start, link_outcome
from bot.channels.base import ADDRESS_FORM, ChannelAdapter, RawRequest, WebhookBatch
from bot.channels.errors import MalformedPayload
from bot.messages import ConversationKey, InboundMessage
from bot.responses import Renderer

log = logging.getLogger(__name__)
OPT_OUT_KEYWORD = "STOP"


def adapter_for(request: Request, channel: str, provider: str) -> ChannelAdapter:
    """The configured adapter for this endpoint; 404 when the channel is not set up."""
    adapters: dict[str, ChannelAdapter] = request.app.state.container.services.get("adapters", {})
    adapter = adapters.get(channel)
    if adapter is None or adapter.provider != provider:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "channel not configured")
    return adapter


async def raw_request(request: Request) -> RawRequest:
    """The request as bytes and lower-cased headers: what signatures are computed over."""
    return RawRequest(
        method=request.method, path=request.url.path, query=request.url.query,
        headers={k.lower(): v for k, v in request.headers.items()}, body=await request.body(),
    )


async def receive(
    request: Request, background: BackgroundTasks, adapter: ChannelAdapter, ack: Response
) -> Response:
    """Verify (403 on failure), parse (400 when malformed), store in one committed transaction,
    then acknowledge; calls that can fail or block (answerCallbackQuery) run after the ack.

    The whole delivery is parsed before anything is stored, so a delivery with one broken
    message is refused whole (the provider retries it, or shows it as failed) and none of it
    is half-stored.
    """
    raw = await raw_request(request)
    if not adapter.verify(raw):
        log.warning("rejected %s webhook: not verified (signature or account)", adapter.channel)
        return Response(status_code=status.HTTP_403_FORBIDDEN)
    try:
        batch = await adapter.parse(raw)
    except MalformedPayload as exc:
        return malformed(adapter.channel, exc)
    container: Container = request.app.state.container
    stored, answered = await store_batch(container, batch)
    dispatcher = container.services.get("dispatcher")
    for item in stored:
        if not item.duplicate and item.message_id not in answered and dispatcher is not None:
            dispatcher.dispatch(item.conversation_id, item.message_id)
    replies = [reply for reply in answered.values() if reply is not None]
    if replies:
        background.add_task(container.services["outbox"].send, replies)
    if batch.statuses:
        # Only what the gate allowed again: a refused re-send stays blocked or deferred.
        resend = await container.services["outbox"].record_statuses(batch.statuses)
        if resend:
            background.add_task(container.services["outbox"].send, resend)
    for task in batch.after_ack:
        background.add_task(task)
    return ack


def malformed(channel: str, exc: MalformedPayload) -> Response:
    """400 naming the field and the reason: the same body fails the same way on every retry."""
    # The field path and reason never quote the payload: no message text, no phone number.
    log.warning("rejected %s webhook: malformed payload at %s: %s", channel, exc.field,
                exc.reason)
    return JSONResponse({"error": "malformed_payload", "field": exc.field, "reason": exc.reason},
                        status_code=status.HTTP_400_BAD_REQUEST)


async def store_batch(container: Container, batch: WebhookBatch
                      ) -> tuple[list[StoredInbound], dict[int, int | None]]:
    """Links, opt-outs and messages of one delivery, committed before the ack is sent.

    Also the messages the channel answered itself (a Telegram `/start`), by id, with the
    reply to send once committed; the engine does not read those.
    """
    now = container.clock.now()
    secret = container.settings.secret_key
    answered: dict[int, int | None] = {}
    async with container.sessions.begin() as session:
        outcomes: dict[ConversationKey, str] = {}
        for link in batch.links:
            outcomes[link.key], _ = await link_outcome(
                session, link.key, link.token, secret, now,
                handoffs=container.services.get("handoffs"))
        for key in batch.opt_outs:
            await record_opt_out(session, key, "blocked_bot", now)
        stored = [await store_inbound(session, m, now=now) for m in batch.messages]
        for message, item in zip(batch.messages, stored, strict=True):
            if not item.duplicate and _provider_opt_out(message.metadata):
                await record_opt_out(session, message.key, "keyword:STOP", now)
            if not item.duplicate and ADDRESS_FORM in message.metadata:
                await remember_form(session, item.conversation_id, message.key,
                                    str(message.metadata[ADDRESS_FORM]), now)
            start = await _answer_start(container, session, message, item,
                                        outcomes.get(message.key), now)
            if start is not None:
                answered[item.message_id] = start.reply_id
    return stored, answered


async def _answer_start(container: Container, session: AsyncSession, message: InboundMessage,
                        item: StoredInbound, outcome: str | None, now: datetime
                        ) -> StartAnswer | None:
    if "turn_handler" not in container.services:
        return None  # no bot installed (channels alone): nothing answers any message
    renderer = container.services.get("renderer") or _renderer()
    return await answer_start(session, message, item, outcome,
                              outbox=container.services["outbox"], renderer=renderer, now=now)


@cache
def _renderer() -> Renderer:
    return Renderer()  # an app without the conversations installed (no shared renderer)


def _provider_opt_out(metadata: Any) -> bool:
    # Twilio Advanced Opt-Out names the keyword class; the engine still reads every STOP itself.
    return str(metadata.get("opt_out_type", "")).upper() == OPT_OUT_KEYWORD
