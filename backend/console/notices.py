"""The console's one-line notices after an action, by code (links cannot inject their own text)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from backend.console.replies import explain
from backend.db.models.enums import StopState


@dataclass(frozen=True)
class Notice:
    """A message shown above the page: `ok` in green, `error` in red, `warn` in amber."""

    kind: str
    text: str


NOTICES = {
    "claimed": Notice("ok", "You own this conversation now. The bot stays silent."),
    "sent": Notice("ok", "Reply sent."),
    "queued": Notice("ok", "Reply queued for delivery."),
    "returned": Notice("ok", "Conversation returned to the bot."),
    "resolved": Notice("ok", "Conversation resolved."),
    "noted": Notice("ok", "Note added."),
    "corrected": Notice("ok", "Intent correction sent to the trainers' inbox."),
    "stop_state": Notice("ok", "Stop-state updated."),
    "disputes_resolved": Notice("ok", "Dispute cleared: the account's open disputes are marked "
                                      "resolved."),
    "link_sent": Notice("ok", "Payment link sent."),
    "link_queued": Notice("ok", "Payment link queued for delivery."),
    "promise_recorded": Notice("ok", "Promise recorded."),
    "plan_recorded": Notice("ok", "Plan recorded."),
    "reviewed": Notice("ok", "Marked as reviewed."),
    "agent_created": Notice("ok", "Console user created."),
    "unlocked": Notice("ok", "Console user unlocked."),
    "agent_exists": Notice("error", "A console user with that email already exists."),
    "weak_password": Notice("error", "Use a password of at least 12 characters."),
    "bad_role": Notice("error", "Unknown role."),
    "illegal": Notice("error", "That is not possible in the conversation's current state "
                               "(someone may have acted first). The page shows the state now."),
    "not_yours": Notice("error", "Another agent owns this conversation (or it must be claimed "
                                 "first)."),
    "note_required": Notice("error", "Say what was agreed before returning the conversation to "
                                     "the bot."),
    "not_owner": Notice("error", "Claim the conversation to reply."),
    "unavailable": Notice("error", "No outbound channel is configured: the reply was not sent."),
    "empty": Notice("error", "Write a message first."),
    "note_empty": Notice("error", "The note is empty."),
    "reason_required": Notice("error", "Say why the stop-state changes."),
    "unknown_stop_state": Notice("error", "Unknown stop-state."),
    "bad_action": Notice("error", "Choose Set or Clear: nothing was changed."),
    "not_set": Notice("error", "That stop-state is not set on this account: nothing was "
                               "changed."),
    "unknown_intent": Notice("error", "Unknown intent: pick one from the list."),
    "not_debtor_message": Notice("error", "Only a debtor's message has an intent to correct."),
    "not_read": Notice("error", "The bot did not read this message for an intent (an answer to "
                                "an identity question): there is nothing to correct."),
    "not_found": Notice("error", "Not found."),
}


# The message's delivery status after the send the request made, as the notice to show.
DELIVERY_NOTICES = {
    "pending": ("queued", "link_queued"), "queued": ("queued", "link_queued"),
    "sent": ("sent", "link_sent"), "delivered": ("sent", "link_sent"),
    "read": ("sent", "link_sent"),
    "failed": ("send_failed", "link_failed"), "undelivered": ("send_failed", "link_failed"),
}
FAILURES = {
    "no_adapter": "no channel adapter is configured for this channel",
    "unknown_outcome": "the sender stopped before the provider answered; check before "
                       "sending again",
}
FAILED = {"send_failed": "The reply", "link_failed": "The payment link"}
# Reasons come back in the URL: only a provider's code is shown, never free text.
CODE = re.compile(r"[A-Za-z0-9_.-]{1,40}")
REPLACED = re.compile(r"([0-9]{1,4}):([0-9]{1,4})")


def delivery_notice(status: str, link: bool = False) -> str:
    """The notice code for a sent message's delivery status (gate refusals keep theirs)."""
    codes = DELIVERY_NOTICES.get(status)
    return status if codes is None else codes[link]


def notice_for(code: str | None, reason: str | None = None) -> Notice | None:
    """The notice for a redirect's `notice` code (gate reasons explained)."""
    if code == "blocked":
        return Notice("error", f"Not sent. {explain(reason)}")
    if code == "deferred":
        return Notice("warn", f"Not sent yet. {explain(reason)}")
    if code in FAILED:
        return _failed(FAILED[code], reason)
    if code == "not_set" and reason in {s.value for s in StopState}:
        return Notice("error", f"{reason} is not set on this account: nothing was changed.")
    if code == "plan_replaced":
        return _replaced(reason)
    return NOTICES.get(code or "")


def _failed(what: str, reason: str | None) -> Notice:
    if reason is None or not CODE.fullmatch(reason):
        return Notice("error", f"{what} could not be sent.")
    why = FAILURES.get(reason, f"the provider refused it (error {reason})")
    return Notice("error", f"{what} could not be sent: {why}.")


def _replaced(reason: str | None) -> Notice:
    """The plan notice, with what the plan superseded (`plans:promises` counts)."""
    match = REPLACED.fullmatch(reason or "")
    plans, promises = (int(match[1]), int(match[2])) if match else (0, 0)
    parts = []
    if plans:
        parts.append("replaces the active plan" if plans == 1
                     else f"replaces {plans} active plans")
    if promises:
        parts.append(f"cancels {promises} open promise{'s' if promises > 1 else ''}")
    said = f" It {' and '.join(parts)}." if parts else ""
    return Notice("ok", f"Plan recorded.{said}")
