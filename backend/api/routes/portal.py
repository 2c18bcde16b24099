"""The debtor portal: a signed personal page with the balance, payment and the bot's chat."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backend.api.deps import ContainerDep
from backend.api.security_headers import PortalRoute
from backend.console.cookies import secure_cookies
from backend.container import Container
from backend.db.models import Account, Conversation, Message
from backend.db.models.enums import Direction
from backend.services import portal as visits
from backend.services.delivery import envelope
from backend.services.geo import debtor_today
from backend.services.inbox import store_inbound
from backend.services.policy import dialog_policy
from backend.services.portal import PortalLinks
from bot.dialogs import identity
from bot.dialogs.base import DialogState, Turn
from bot.engine import Engine, TurnResult, state_key
from bot.facts import Facts, Identity
from bot.messages import ConversationKey, InboundMessage
from bot.responses.catalog import LOCALES
from bot.responses.render import locale_for, money

router = APIRouter(prefix="/p", tags=["portal"], include_in_schema=False, route_class=PortalRoute)
PAGES = Path(__file__).parents[2] / "pages" / "portal"
templates = Jinja2Templates(directory=PAGES)
HISTORY = 50
# As long as the dialog would remember a conversation's lock (its state's time to live).
INVALID_LINK = "this link is invalid or has expired"
# Each page's own title, by language: what a tab, a window list or a screen reader names.
TITLES = {
    "en": {"portal": "Your account · Parley", "invalid": "Link invalid or expired · Parley"},
    "es": {"portal": "Su cuenta · Parley", "invalid": "Enlace no válido o caducado · Parley"},
}


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
    lang = accepted_language(request.headers.get("accept-language", ""))
    return templates.TemplateResponse(
        request, "invalid_link.html", {"lang": lang, "title": TITLES[lang]["invalid"]},
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


@dataclass(frozen=True)
class Visitor:
    """The browser asking: its secret, and whether this response must set the cookie."""

    secret: str
    new: bool


def visitor_of(request: Request) -> Visitor:
    """The browser's visitor secret from its cookie, or a fresh one for a new browser."""
    known = visits.read_visitor(request.cookies.get(visits.VISITOR_COOKIE))
    return Visitor(known, False) if known else Visitor(visits.new_visitor(), True)


def remember(response: Response, visitor: Visitor, container: Container) -> Response:
    """Set the visitor cookie on `response` when it is new: HttpOnly, SameSite=Lax, Secure as
    the console's is.

    Lax, not Strict: the link arrives in webmail, WhatsApp Web or Telegram Web, and a Strict
    cookie is not sent on that cross-site navigation, so the page took the browser for a new
    one and replaced its cookie, losing its chat and verification. Lax still keeps the cookie
    off every cross-site POST, so no other site's page can post into the chat as this browser.
    """
    if visitor.new:
        response.set_cookie(
            visits.VISITOR_COOKIE, visitor.secret, path=visits.VISITOR_PATH,
            max_age=int(visits.VISITOR_LIFETIME.total_seconds()), httponly=True,
            samesite="lax", secure=secure_cookies(container.settings))
    return response


def web_key(account_id: int, visitor: str) -> ConversationKey:
    """The portal chat's conversation key for one visitor on an account."""
    return ConversationKey("web", visits.visitor_address(account_id, visitor))


async def chat(container: ContainerDep, account_id: int, visitor: str, text: str) -> TurnResult:
    """Store the message like any channel would, then run the turn synchronously.

    One portal turn of an account at a time: browsers guessing at once must not each find
    the account's identity attempts unused.
    """
    states = container.services["state_store"]
    async with states.lock(f"portal:account:{account_id}"):
        conversation_id = await _ready(container, account_id, visitor)
        now = container.clock.now()
        inbound = InboundMessage(web_key(account_id, visitor), text,
                                 f"web-{uuid.uuid4().hex}", now)
        async with container.sessions.begin() as session:
            stored = await store_inbound(session, inbound, now=now)
        engine: Engine = container.services["engine"]
        return await engine.handle(stored.message_id, conversation_id)


async def _ready(container: Container, account_id: int, visitor: str) -> int:
    """The visitor's conversation id, opened when new (the engine's facts carry the account's
    wrong identity answers, so a fresh browser draws on the attempts already used)."""
    now = container.clock.now()
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        if account is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such account")
        return (await visits.open_conversation(session, account, visitor, now)).id


@router.get("/static/portal.css")
async def stylesheet() -> Response:
    """The pages' styles, from our origin (the pages' CSP allows no inline style)."""
    return FileResponse(PAGES / "static" / "portal.css", media_type="text/css")


@router.post("/{token}/messages")
async def post_message(token: str, body: ChatIn, request: Request, response: Response,
                       container: ContainerDep) -> dict[str, Any]:
    """The portal chat API: the bot's replies to `text` (text and choices)."""
    account_id = _account_id(container, token)
    visitor = visitor_of(request)
    result = await chat(container, account_id, visitor.secret, body.text)
    remember(response, visitor, container)
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
    """The same chat for browsers without JavaScript (post, then redirect back).

    Back to the new replies (or the note on when they come), which take the focus, so a
    screen reader reads them out; the page as loaded is never announced by its live region.
    """
    account_id = _opened(container, token)
    if account_id is None:
        return invalid_link(request)
    visitor = visitor_of(request)
    result = await chat(container, account_id, visitor.secret, text)
    answered = any(r.decision.status != "blocked" for r in result.replies)
    return remember(RedirectResponse(f"/p/{token}#{'new' if answered else 'text'}",
                                     status.HTTP_303_SEE_OTHER), visitor, container)


@router.get("/{token}", response_class=HTMLResponse)
async def page(token: str, request: Request, container: ContainerDep) -> Response:
    """The portal page: this browser's chat, and the account once this browser verified."""
    account_id = _opened(container, token)
    if account_id is None:
        return invalid_link(request)
    visitor = visitor_of(request)
    async with container.sessions() as session:
        account = await session.get(Account, account_id, options=[
            joinedload(Account.debtor), joinedload(Account.portfolio)])
        if account is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such account")
        conversation = None if visitor.new else await visits.visitor_conversation(
            session, account_id, visitor.secret)
        messages = [] if conversation is None else list(reversed(list(await session.scalars(
            select(Message).where(Message.conversation_id == conversation.id)
            .order_by(Message.id.desc()).limit(HISTORY)))))
    state = DialogState()
    if conversation is not None:
        state = DialogState.from_dict(
            await container.services["state_store"].get(state_key(conversation.id)))
    now = container.clock.now()
    verified = state.is_verified(now)
    lang = _language(state.language, conversation, account.debtor.preferred_language)
    on_file = identity_on_file(account, container, debtor_today(now, account.debtor.timezone))
    readable = messages if verified else unverified_part(messages)
    shown = [{"text": m.text, "who": speaker(m), "hidden": identity_answer(m, on_file, now)}
             for m in readable if m.delivery_status not in NOT_SHOWN]
    earlier, latest = latest_replies(shown)
    return remember(templates.TemplateResponse(request, "portal.html", {
        "lang": lang, "title": TITLES[lang]["portal"], "token": token, "verified": verified,
        "waiting": any(m.delivery_status == "deferred" for m in messages),
        "opens": _opening_hour(container),
        "messages": earlier, "latest": latest,
        "choices": [{"label": label} for label, _ in state.choices],
        "balance": money(account.current_balance, account.currency,
                         locale_for(lang, account.currency)),
        # Nothing due, nothing to pay: a link for zero would only record a $0 payment.
        "pay_url": container.services["payment_links"].url_for(account.id,
                                                               account.current_balance)
        if verified and account.current_balance > 0 else None,
    }), visitor, container)


def latest_replies(shown: list[dict[str, Any]]
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The chat split before the replies to the debtor's last message, and those replies."""
    last = max((i for i, m in enumerate(shown) if m["who"] == "you"), default=-1)
    return shown[:last + 1], shown[last + 1:]


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
    """What this browser may read while not verified: what came after the last message that
    discussed the debt or went to a verified debtor (held or blocked ones too, which
    the page never shows: a reply waiting for the morning still ends what may be read).

    Everything before it holds the debt (compliance.md A.2 item 9); a verification that ran
    out is no proof of who reads the page now.
    """
    cut = max((i for i, m in enumerate(messages) if m.direction == Direction.OUTBOUND
               and (envelope(m).get("recipient_verified") or envelope(m).get("discusses_debt"))),
              default=-1)
    return messages[cut + 1:]


def identity_answer(message: Message, on_file: Facts, now: datetime) -> bool:
    """True when `message` is the debtor's answer to an identity question, never shown back.

    The turn records no reading (intent) of an identity answer, right or wrong ("a date of
    birth or a ZIP is nobody's example", bot/engine.py), and every answer holds a digit; a
    message the identity dialog's own matcher finds right is one too, however the turn read
    it (a verified debtor's answer sent again), in either of the languages dates are read in.
    """
    if message.direction != Direction.INBOUND or not any(ch.isdigit() for ch in message.text):
        return False
    if message.intent is None:
        return True
    turn = Turn(message.text, message.intent, now)
    return any(identity.answer_matches(factor, turn, on_file, language)
               for factor in identity.factors(on_file) for language in LOCALES)


def identity_on_file(account: Account, container: Container, today: date) -> Facts:
    """What the identity dialog compares answers with, for `identity_answer`."""
    # Only which answers to keep private is read: a policy that no longer validates is
    # logged and read as the default (the shipped one lists every factor), never a failed page.
    policy, _ = container.services["policies"].for_turn(account.portfolio)
    debtor = account.debtor
    return Facts(account_id=account.id, creditor="", reference=account.external_ref,
                 currency=account.currency, balance=account.current_balance, days_past_due=0,
                 today=today, policy=dialog_policy(policy),
                 identity=Identity(debtor.date_of_birth, debtor.postal_code, account.external_ref))


def _language(said: str | None, conversation: Conversation | None, preferred: str | None) -> str:
    """The chat's language, else the conversation's last detected one, else the preferred."""
    for language in (said, conversation.language if conversation else None, preferred):
        if language in LOCALES:
            return language
    return "en"
