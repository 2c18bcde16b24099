"""The debtor portal: a signed personal page with the balance, payment and the bot's chat."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backend.api.deps import ContainerDep
from backend.db.models import Account, Conversation, Message
from backend.db.models.enums import Direction
from backend.services.delivery import envelope
from backend.services.inbox import store_inbound
from backend.services.portal import PortalLinks
from bot.dialogs.base import DialogState
from bot.engine import Engine, TurnResult, state_key
from bot.messages import ConversationKey, InboundMessage
from bot.responses.catalog import LOCALES
from bot.responses.render import money

router = APIRouter(prefix="/p", tags=["portal"], include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parents[2] / "pages" / "portal")
HISTORY = 50
INVALID_LINK = "this link is invalid or has expired"


class ChatIn(BaseModel):
    """A debtor's message in the portal chat."""

    text: str = Field(min_length=1, max_length=1000)


# The gate's verdict holds in the portal too: a blocked reply never shows, a deferred one
# (quiet hours allow one reply to a debtor who writes at night) shows once it is released.
NOT_SHOWN = ("blocked", "deferred")


def _opened(container: ContainerDep, token: str) -> int | None:
    """The account `token` opens, None when it is forged or expired."""
    links: PortalLinks = container.services["portal_links"]
    return links.account_id(token)


def _account_id(container: ContainerDep, token: str) -> int:
    account_id = _opened(container, token)
    if account_id is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, INVALID_LINK)
    return account_id


def invalid_link(request: Request) -> Response:
    """A forged or expired link: a page in the reader's language saying what to do (404).

    Only a client that asks for JSON and not HTML gets the API's JSON error.
    """
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return JSONResponse({"detail": INVALID_LINK}, status.HTTP_404_NOT_FOUND)
    return templates.TemplateResponse(
        request, "invalid_link.html",
        {"lang": accepted_language(request.headers.get("accept-language", "")),
         "title": "Parley"},
        status_code=status.HTTP_404_NOT_FOUND)


def accepted_language(header: str) -> str:
    """The one of our locales an Accept-Language header prefers most, else English."""
    ranked: list[tuple[float, str]] = []
    for item in header.split(","):
        tag, _, params = item.partition(";")
        try:
            weight = float(params.strip().removeprefix("q=") or 1)
        except ValueError:
            continue
        language = tag.strip().split("-")[0].lower()
        if language in LOCALES and weight > 0:
            ranked.append((weight, language))
    # max() keeps the first of equal weights: the header's own order.
    return max(ranked, key=lambda r: r[0])[1] if ranked else "en"


def web_key(account_id: int) -> ConversationKey:
    """The portal chat's conversation key for an account."""
    return ConversationKey("web", f"account:{account_id}")


async def chat(container: ContainerDep, account_id: int, text: str) -> TurnResult:
    """Store the message like any channel would, then run the turn synchronously."""
    now = container.clock.now()
    inbound = InboundMessage(web_key(account_id), text, f"web-{uuid.uuid4().hex}", now)
    async with container.sessions.begin() as session:
        stored = await store_inbound(session, inbound, now=now)
    engine: Engine = container.services["engine"]
    return await engine.handle(stored.message_id, stored.conversation_id)


@router.post("/{token}/messages")
async def post_message(token: str, body: ChatIn, container: ContainerDep) -> dict[str, Any]:
    """The portal chat API: the bot's replies to `text` (text and choices)."""
    result = await chat(container, _account_id(container, token), body.text)
    return {"replies": [
        {"text": r.text, "choices": [{"label": c.label, "value": c.value} for c in r.choices],
         "status": r.decision.status}
        for r in result.replies if r.decision.status not in NOT_SHOWN
    ], "deferred": [  # held for the debtor's messaging hours: say when, not nothing
        {"not_before": r.decision.not_before}
        for r in result.replies if r.decision.status == "deferred"
    ]}


@router.post("/{token}/chat")
async def post_form(token: str, text: Annotated[str, Form(min_length=1, max_length=1000)],
                    request: Request, container: ContainerDep) -> Response:
    """The same chat for browsers without JavaScript (post, then redirect back)."""
    account_id = _opened(container, token)
    if account_id is None:
        return invalid_link(request)
    await chat(container, account_id, text)
    return RedirectResponse(f"/p/{token}#text", status.HTTP_303_SEE_OTHER)


@router.get("/{token}", response_class=HTMLResponse)
async def page(token: str, request: Request, container: ContainerDep) -> Response:
    """The portal page."""
    account_id = _opened(container, token)
    if account_id is None:
        return invalid_link(request)
    async with container.sessions() as session:
        account = await session.get(Account, account_id, options=[joinedload(Account.debtor)])
        if account is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such account")
        conversation = await session.scalar(
            select(Conversation).where(Conversation.channel == "web",
                                       Conversation.address == web_key(account_id).address)
            .order_by(Conversation.id.desc()).limit(1))
        messages = [] if conversation is None else list(await session.scalars(
            select(Message).where(Message.conversation_id == conversation.id,
                                  Message.delivery_status.not_in(NOT_SHOWN))
            .order_by(Message.id.desc()).limit(HISTORY)))
        waiting = conversation is not None and await session.scalar(
            select(Message.id).where(Message.conversation_id == conversation.id,
                                     Message.delivery_status == "deferred").limit(1)) is not None
    state = DialogState()
    if conversation is not None:
        state = DialogState.from_dict(
            await container.services["state_store"].get(state_key(conversation.id)))
    verified = state.is_verified(container.clock.now())
    lang = _language(state.language, conversation, account.debtor.preferred_language)
    shown = list(reversed(messages))
    return templates.TemplateResponse(request, "portal.html", {
        "lang": lang, "title": "Parley", "token": token, "verified": verified, "waiting": waiting,
        "opens": _opening_hour(container),
        "messages": [{"text": m.text, "who": speaker(m)}
                     for m in (shown if verified else unverified_part(shown))],
        "choices": [{"label": label} for label, _ in state.choices],
        "balance": money(account.current_balance, account.currency,
                         "es_US" if lang == "es" else "en_US"),
        # Nothing due, nothing to pay: a link for zero would only record a $0 payment.
        "pay_url": container.services["payment_links"].url_for(account.id,
                                                               account.current_balance)
        if verified and account.current_balance > 0 else None,
    })


def speaker(message: Message) -> str:
    """Who wrote a message as the debtor sees it: `you`, an `agent` (a person) or the `bot`."""
    if message.direction == Direction.INBOUND:
        return "you"
    # Outbound senders are bot | agent:<id> | campaign:<id> | workflow (bot/messages.py).
    return "agent" if message.sender.startswith("agent:") else "bot"


def _opening_hour(container: ContainerDep) -> str:
    """When the debtor's messaging hours begin (the compliance rules' quiet_hours start)."""
    gate = container.services.get("gate")
    rules = getattr(gate, "rules", None)
    return rules.quiet_start.strftime("%H:%M") if rules is not None else "08:00"


def unverified_part(messages: list[Message]) -> list[Message]:
    """What whoever holds the link may read before verifying: what came after the last
    message that discussed the debt or went to a verified debtor.

    Everything before it holds the debt and the identity answers that unlocked it
    (compliance.md A.2 item 9); a link is not proof of who reads it.
    """
    cut = max((i for i, m in enumerate(messages) if m.direction == Direction.OUTBOUND
               and (envelope(m).get("recipient_verified") or envelope(m).get("discusses_debt"))),
              default=-1)
    return messages[cut + 1:]


def _language(said: str | None, conversation: Conversation | None, preferred: str | None) -> str:
    """The chat's language, else the conversation's last detected one, else the preferred."""
    for language in (said, conversation.language if conversation else None, preferred):
        if language in LOCALES:
            return language
    return "en"
