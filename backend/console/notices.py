"""The console's one-line notices after an action, by code (links cannot inject their own text)."""

from __future__ import annotations

from dataclasses import dataclass

from backend.console.replies import explain


@dataclass(frozen=True)
class Notice:
    """A message shown above the page: `ok` in green, `error` in red, `warn` in amber."""

    kind: str
    text: str


NOTICES = {
    "claimed": Notice("ok", "You own this conversation now. The bot stays silent."),
    "sent": Notice("ok", "Reply sent."),
    "returned": Notice("ok", "Conversation returned to the bot."),
    "resolved": Notice("ok", "Conversation resolved."),
    "noted": Notice("ok", "Note added."),
    "corrected": Notice("ok", "Intent correction sent to the trainers' inbox."),
    "stop_state": Notice("ok", "Stop-state updated."),
    "link_sent": Notice("ok", "Payment link sent."),
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
    "unknown_intent": Notice("error", "Unknown intent: pick one from the list."),
    "not_debtor_message": Notice("error", "Only a debtor's message has an intent to correct."),
    "not_read": Notice("error", "The bot did not read this message for an intent (an answer to "
                                "an identity question): there is nothing to correct."),
    "not_found": Notice("error", "Not found."),
}


def notice_for(code: str | None, reason: str | None = None) -> Notice | None:
    """The notice for a redirect's `notice` code (gate reasons explained)."""
    if code == "blocked":
        return Notice("error", f"Not sent. {explain(reason)}")
    if code == "deferred":
        return Notice("warn", f"Not sent yet. {explain(reason)}")
    return NOTICES.get(code or "")
