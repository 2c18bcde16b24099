"""The conversation page: transcript, account panel, and the live message fragment."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request, Response

from backend.api.deps import ContainerDep
from backend.console.canned import load_canned
from backend.console.conversation_view import conversation_page, related_conversations, transcript
from backend.console.deps import ConsoleRoute, Viewer, conversation_dep, render
from backend.console.notices import WINDOW_REFUSALS, Notice, notice_for
from backend.console.permissions import Perm
from backend.console.replies import reply_language
from backend.console.whatsapp_window import window_view
from backend.container import Container
from backend.db.models import Conversation
from backend.db.models.enums import StopState
from backend.services.accounts import AccountRecords
from backend.services.geo import debtor_today
from backend.services.identity_attempts import failed_identity_answers
from bot.dialogs.base import DialogState
from bot.engine import state_key
from nlu.types import INTENTS

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
Viewing = Annotated[Viewer, conversation_dep(Perm.VIEW_CONVERSATION)]


@router.get("/conversations/{conversation_id}")
async def conversation(
    request: Request, conversation_id: int, container: ContainerDep, viewer: Viewing,
    notice: str | None = None, reason: str | None = None, canned: int | None = None,
) -> Response:
    """Everything about one conversation, with the actions the viewer's role allows; with
    `canned`, the reply box starts with that canned reply and its "Mentions the debt" tick."""
    return await render_conversation(request, container, viewer, conversation_id,
                                     notice_for(notice, reason), chosen=canned)


async def render_conversation(
    request: Request, container: Container, viewer: Viewer, conversation_id: int,
    notice: Notice | None, status_code: int = 200, chosen: int | None = None,
) -> Response:
    """The conversation page with `notice` above it (and canned reply `chosen` drafted)."""
    async with container.sessions() as db:
        page = await conversation_page(db, conversation_id, container.clock.now(),
                                       viewer.scope)
        language = await reply_language(db, container, page.conversation) if page else "en"
        window = await window_view(db, container, page.conversation) if page else None
    if page is None:
        return render(request, "error.html", {"title": "Not found",
                                              "message": "No such conversation."}, 404)
    policies = container.services.get("policies")
    return render(request, "conversation.html", {
        "page": page, "notice": notice, "intents": INTENTS,
        "stop_states": [s.value for s in StopState],
        **canned_replies(language, viewer.agent.name, chosen),
        "reply_language": language, "window": window, "window_refusals": WINDOW_REFUSALS,
        "owned": page.conversation.ownership == "agent"
        and page.conversation.agent_id == viewer.id,
        "payment_links": container.services.get("payment_links") is not None,
        "frequencies": policies.default.frequencies if policies else [],
        "agreements": policies is not None,
        "nonce": secrets.token_hex(8), **agreement_days(container, page.records),
        "identity": await identity_status(container, conversation_id,
                                          page.conversation.account_id),
    }, status_code=status_code)


def canned_replies(language: str, agent: str, chosen: int | None) -> dict[str, object]:
    """The reply box's canned replies (title, text, whether about the debt), the draft of the
    `chosen` one (an index into them) and the tick it sets; unchosen, the tick stays on."""
    offered = [(c.title, c.text(language, agent), c.mentions_debt) for c in load_canned()]
    picked = offered[chosen] if chosen is not None and 0 <= chosen < len(offered) else None
    return {"canned": offered, "draft": picked[1] if picked else "",
            "debt_default": picked[2] if picked else True}


def agreement_days(container: Container, records: AccountRecords | None
                   ) -> dict[str, date | None]:
    """The form's earliest and latest dates, on the debtor's calendar as the policy judges."""
    now = container.clock.now()
    if records is None:
        return {"today": now.date(), "promise_until": None, "plan_until": None}
    today = debtor_today(now, records.account.debtor.timezone)
    policies = container.services.get("policies")
    if policies is None:
        return {"today": today, "promise_until": None, "plan_until": None}
    policy, unreadable = policies.for_turn(records.account.portfolio)
    if unreadable:  # the default's bounds are not the creditor's: recording refuses anyway
        return {"today": today, "promise_until": None, "plan_until": None}
    return {"today": today,
            "promise_until": today + timedelta(days=policy.promise.max_days_out),
            "plan_until": today + timedelta(days=policy.plan.first_payment_within_days)}


async def identity_status(container: Container, conversation_id: int,
                          account_id: int | None = None) -> str:
    """What the bot knows of who is writing, so the agent knows what may be said."""
    states = container.services.get("state_store")
    if states is None:
        return "unknown (the bot is not running here)"
    state = DialogState.from_dict(await states.get(state_key(conversation_id)))
    now = container.clock.now()
    if state.is_verified(now):
        until = datetime.fromisoformat(state.verified_until or "").astimezone(UTC)
        return f"verified by the bot until {until:%H:%M} UTC"
    if state.locked:
        return (f"not verified: locked after {state.attempts or 'too many'} failed attempts;"
                " confirm the right party another way before discussing the debt")
    if state.attempts:
        return f"not verified ({state.attempts} failed attempt(s))"
    if account_id is not None:
        # A fresh state (a restart, an expired one) still has the account's audited answers.
        async with container.sessions() as db:
            failed = await failed_identity_answers(db, account_id, now)
        if failed:
            return (f"not verified ({failed} wrong identity answer(s) on this account in the "
                    "last 7 days)")
    return "not verified in this conversation"


@router.get("/conversations/{conversation_id}/messages")
async def messages_fragment(
    request: Request, conversation_id: int, container: ContainerDep, viewer: Viewing,
    after: int = 0,
) -> Response:
    """Transcript lines newer than `after` (live updates append them)."""
    async with container.sessions() as db:
        found = await db.get(Conversation, conversation_id)
        related = await related_conversations(db, found, viewer.scope) if found else []
        lines = await transcript(db, related, after)
    return render(request, "_lines.html", {"lines": lines, "intents": INTENTS})
