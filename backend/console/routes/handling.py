"""What an agent does in a conversation: reply, note, correct an intent, hand back, resolve."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Form, Response
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.deps import ContainerDep
from backend.console import actions, whatsapp_window
from backend.console.deps import (
    ConsoleRoute,
    Viewer,
    back_to,
    conversation_dep,
    handoff_service,
    message_dep,
    viewer_dep,
)
from backend.console.notices import delivery_notice, sms_notice, template_notice
from backend.console.permissions import Perm
from backend.console.replies import ReplyOutcome, send_agent_reply
from backend.container import Container
from backend.db.models import Message
from backend.services.handoff import (
    Actor,
    ConversationNotFound,
    HandoffError,
    IllegalTransition,
    NoteRequired,
    NotYourConversation,
    agent_actor,
)

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
STOP_STATE_ACTIONS = {"set": True, "clear": False}
Text = Annotated[str, Form()]


def _page(conversation_id: int) -> str:
    return f"/console/conversations/{conversation_id}"


@router.post("/conversations/{conversation_id}/reply")
async def reply(
    conversation_id: int, container: ContainerDep,
    viewer: Annotated[Viewer, conversation_dep(Perm.REPLY)], text: Text,
    discusses_debt: Annotated[bool, Form()] = False,
    recipient_verified: Annotated[bool, Form()] = False,
    nonce: Annotated[str, Form()] = "",
) -> Response:
    """Send through the outbox; the notice says plainly when the gate refused and why."""
    outcome = await send_agent_reply(
        container, conversation_id, viewer.id, text, discusses_debt=discusses_debt,
        recipient_verified=recipient_verified, nonce=nonce or secrets.token_hex(8),
    )
    status, reason = await delivered(container, outcome)
    return back_to(_page(conversation_id), notice=delivery_notice(status), reason=reason)


async def delivered(container: Container, outcome: ReplyOutcome) -> tuple[str, str | None]:
    """The reply's status and reason as stored now: the outcome says "pending" even when the
    send in this request already went out, or failed."""
    if outcome.message_id is None or outcome.status in ("deferred", "blocked"):
        return outcome.status, outcome.reason
    async with container.sessions() as db:
        message = await db.get(Message, outcome.message_id)
    if message is None:
        return outcome.status, outcome.reason
    if message.delivery_status == "queued" and message.provider_message_id:
        return "sent", None  # the provider took it ("queued" is Twilio's word for accepted)
    return message.delivery_status, message.error_code


@router.post("/conversations/{conversation_id}/whatsapp-template")
async def whatsapp_template(
    conversation_id: int, container: ContainerDep,
    viewer: Annotated[Viewer, conversation_dep(Perm.REPLY)],
    nonce: Annotated[str, Form()] = "",
) -> Response:
    """WhatsApp's window closed: send the approved template (through the compliance gate)."""
    outcome = await whatsapp_window.send_template(container, conversation_id, viewer.id,
                                                  nonce or secrets.token_hex(8))
    status, reason = await delivered(container, outcome)
    return back_to(_page(conversation_id), notice=template_notice(status), reason=reason)


@router.post("/conversations/{conversation_id}/reply-by-sms")
async def reply_by_sms(
    conversation_id: int, container: ContainerDep,
    viewer: Annotated[Viewer, conversation_dep(Perm.REPLY)], text: Text,
    discusses_debt: Annotated[bool, Form()] = False,
    recipient_verified: Annotated[bool, Form()] = False,
    nonce: Annotated[str, Form()] = "",
) -> Response:
    """WhatsApp's window closed: the reply goes to the debtor's SMS conversation instead, and
    the agent is taken there."""
    switch = await whatsapp_window.reply_by_sms(
        container, conversation_id, viewer.id, text, discusses_debt=discusses_debt,
        recipient_verified=recipient_verified, nonce=nonce or secrets.token_hex(8),
    )
    status, reason = await delivered(container, switch.outcome)
    if switch.conversation_id is None:
        return back_to(_page(conversation_id), notice=status, reason=reason)
    return back_to(_page(switch.conversation_id), notice=sms_notice(status), reason=reason)


@router.post("/conversations/{conversation_id}/notes")
async def note(
    conversation_id: int, container: ContainerDep,
    viewer: Annotated[Viewer, conversation_dep(Perm.NOTE)], text: Text,
) -> Response:
    """An internal note."""
    try:
        async with container.sessions.begin() as db:
            await actions.add_note(db, conversation_id, viewer.id, text, container.clock.now())
    except actions.ActionRefused as refused:
        return back_to(_page(conversation_id), notice=refused.code)
    return back_to(_page(conversation_id), notice="noted")


@router.post("/conversations/{conversation_id}/return")
async def return_to_bot(
    conversation_id: int, container: ContainerDep,
    viewer: Annotated[Viewer, conversation_dep(Perm.HANDBACK)], note: Annotated[str, Form()] = "",
) -> Response:
    """Give the conversation back to the bot with a note of what was agreed."""
    async def act(db: AsyncSession) -> object:
        return await handoff_service(container).return_to_bot(
            db, conversation_id, note=note, actor=_actor(viewer), now=container.clock.now()
        )

    return await _transition(container, conversation_id, act, "returned")


@router.post("/conversations/{conversation_id}/resolve")
async def resolve(
    conversation_id: int, container: ContainerDep,
    viewer: Annotated[Viewer, conversation_dep(Perm.HANDBACK)], note: Annotated[str, Form()] = "",
) -> Response:
    """Close the handoff; the debtor's next message reopens the conversation."""
    async def act(db: AsyncSession) -> object:
        return await handoff_service(container).resolve(
            db, conversation_id, actor=_actor(viewer), now=container.clock.now(), note=note
        )

    return await _transition(container, conversation_id, act, "resolved")


@router.post("/messages/{message_id}/intent")
async def correct_intent(
    message_id: int, container: ContainerDep,
    viewer: Annotated[Viewer, message_dep(Perm.CORRECT_INTENT)], intent: Text,
) -> Response:
    """Record the right intent for a debtor message (the trainers' inbox)."""
    async with container.sessions.begin() as db:
        message = await db.get(Message, message_id)
        if message is None:
            return back_to("/console", notice="not_found")
        conversation_id = message.conversation_id
        try:
            await actions.correct_intent(db, message_id, intent, agent_id=viewer.id,
                                         now=container.clock.now())
        except actions.ActionRefused as refused:
            return back_to(_page(conversation_id), notice=refused.code)
    return back_to(_page(conversation_id), notice="corrected")


@router.post("/accounts/{account_id}/stop-state")
async def stop_state(
    account_id: int, container: ContainerDep,
    viewer: Annotated[Viewer, viewer_dep(Perm.STOP_STATE)], state: Text,
    action: Text, details: Annotated[str, Form()] = "",
    conversation_id: Annotated[int | None, Form()] = None,
) -> Response:
    """Set or clear a stop-state (supervisors)."""
    target = _page(conversation_id) if conversation_id else "/console/queue"
    if action not in STOP_STATE_ACTIONS:
        # Anything but an explicit "clear" must never lift a stop-state.
        return back_to(target, notice="bad_action")
    try:
        async with container.sessions.begin() as db:
            change = await actions.set_stop_state(db, account_id, state,
                                                  on=STOP_STATE_ACTIONS[action],
                                                  details=details, actor=viewer.actor,
                                                  now=container.clock.now())
    except actions.ActionRefused as refused:
        return back_to(target, notice=refused.code,
                       reason=state if refused.code == "not_set" else None)
    return back_to(target, notice="disputes_resolved" if change.resolved_disputes
                   else "stop_state")


def _actor(viewer: Viewer) -> Actor:
    return agent_actor(viewer.id, supervisor=viewer.can(Perm.OVERRIDE))


async def _transition(
    container: ContainerDep, conversation_id: int,
    act: Callable[[AsyncSession], Awaitable[object]], done: str,
) -> Response:
    try:
        async with container.sessions.begin() as db:
            await act(db)
    except NoteRequired:
        return back_to(_page(conversation_id), notice="note_required")
    except NotYourConversation:
        return back_to(_page(conversation_id), notice="not_yours")
    except IllegalTransition:
        return back_to(_page(conversation_id), notice="illegal")
    except (ConversationNotFound, HandoffError):
        return back_to("/console/queue", notice="not_found")
    return back_to("/console/queue" if done == "returned" else _page(conversation_id),
                   notice=done)
