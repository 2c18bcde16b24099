"""The console's one-line notices after an action: by code, and only when the console sent them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from backend.console.cookies import COOKIE_PATH, secure_cookies
from backend.console.replies import explain
from backend.container import Container
from backend.db.models.enums import StopState
from backend.services.signing import TokenSigner

# The query parameters a page reads its notice from. A link anyone can write must not make
# the console say something happened, so they count only when the redirect that carried
# them was vouched for: see `vouch` and `screen`.
NOTICE_KEYS = frozenset({"notice", "reason", "label", "other"})
FLASH_COOKIE = "parley_notice"
FLASH_LIFETIME = timedelta(minutes=10)
_FLASH_SALT = "parley.console.notice"


@dataclass(frozen=True)
class Notice:
    """A message shown above the page: `ok` in green, `error` in red, `warn` in amber; with
    `field`, the id of the form field it is about (that field takes focus instead of it)."""

    kind: str
    text: str
    field: str | None = None


# Why the approved WhatsApp template or a reply by SMS is not offered (whatsapp_window.py).
WINDOW_REFUSALS = {
    "no_whatsapp_channel": "No WhatsApp channel is configured.",
    "no_template_configured": "No approved template is configured: set "
                              "TWILIO_WHATSAPP_CONTENT_SIDS=parley_reminder=HX… "
                              "(docs/CHANNELS.md 3a).",
    "no_sms_channel": "No SMS channel is configured, so SMS is not offered.",
    "no_sms_number": "The debtor has no SMS number on this account, so SMS is not offered.",
    "sms_no_consent": "There is no consent to text the debtor's SMS number, so SMS is not "
                      "offered.",
    "sms_opted_out": "The debtor opted out of SMS on their number, so SMS is not offered.",
    "number_opted_out": "The debtor opted out on WhatsApp, which stops SMS to the same number "
                        "too, so SMS is not offered.",
    "sms_wrong_party": "The debtor's SMS number reached the wrong person, so SMS is not "
                       "offered.",
    "sms_other_agent": "Another agent owns the debtor's SMS conversation.",
}
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
    "settlement_recorded": Notice("ok", "Settlement recorded."),
    "reviewed": Notice("ok", "Marked as reviewed."),
    "agent_created": Notice("ok", "Console user created."),
    "unlocked": Notice("ok", "Console user unlocked."),
    "agent_disabled": Notice("ok", "Console user disabled: their sessions have ended."),
    "agent_enabled": Notice("ok", "Console user enabled."),
    "role_changed": Notice("ok", "Role changed."),
    "password_set": Notice("ok", "Password changed: the user's sessions have ended."),
    "agent_exists": Notice("error", "A console user with that email already exists."),
    "bad_email": Notice("error", "Enter an email address such as ana@example.com."),
    "bad_name": Notice("error", "Enter a name (up to 200 characters)."),
    "weak_password": Notice("error", "Choose a stronger password: at least 12 characters, "
                                     "not only spaces or a few repeated characters, and not a "
                                     "common password."),
    "not_yourself": Notice("error", "Ask another admin to disable you or change your role."),
    "bad_role": Notice("error", "Unknown role."),
    "illegal": Notice("error", "That is not possible in the conversation's current state "
                               "(someone may have acted first). The page shows the state now."),
    "not_yours": Notice("error", "Another agent owns this conversation (or it must be claimed "
                                 "first)."),
    "note_required": Notice("error", "Say what was agreed before returning the conversation to "
                                     "the bot.", "handback-note"),
    "not_owner": Notice("error", "Claim the conversation to reply."),
    "unavailable": Notice("error", "No outbound channel is configured: the reply was not sent."),
    "empty": Notice("error", "Write a message first.", "reply-text"),
    "note_empty": Notice("error", "The note is empty.", "note-text"),
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
    "template_sent": Notice("ok", "Approved template sent. The debtor's reply reopens WhatsApp's "
                                  "24-hour window."),
    "template_queued": Notice("ok", "Approved template queued for delivery. The debtor's reply "
                                    "reopens WhatsApp's 24-hour window."),
    "sms_sent": Notice("ok", "Reply sent by SMS. This is the debtor's SMS conversation, now "
                             "yours: continue here."),
    "sms_queued": Notice("ok", "Reply by SMS queued for delivery. This is the debtor's SMS "
                               "conversation, now yours: continue here."),
    "window_open": Notice("error", "WhatsApp's 24-hour window is open: reply in the box."),
    **{code: Notice("error", f"{why} Nothing was sent.") for code, why in WINDOW_REFUSALS.items()},
}


# The message's delivery status after the send the request made, as the notice to show.
DELIVERY_NOTICES = {
    "pending": ("queued", "link_queued"), "queued": ("queued", "link_queued"),
    "sent": ("sent", "link_sent"), "delivered": ("sent", "link_sent"),
    "read": ("sent", "link_sent"),
    "failed": ("send_failed", "link_failed"), "undelivered": ("send_failed", "link_failed"),
}
# The same, for the approved WhatsApp template and for a reply sent by SMS instead.
TEMPLATE_NOTICES = {"pending": "template_queued", "queued": "template_queued",
                    "sent": "template_sent", "delivered": "template_sent",
                    "read": "template_sent", "failed": "template_failed",
                    "undelivered": "template_failed"}
SMS_NOTICES = {"pending": "sms_queued", "queued": "sms_queued", "sent": "sms_sent",
               "delivered": "sms_sent", "read": "sms_sent"}
FAILURES = {
    "no_adapter": "no channel adapter is configured for this channel",
    "unknown_outcome": "the sender stopped before the provider answered; check before "
                       "sending again",
}
FAILED = {"send_failed": "The reply", "link_failed": "The payment link",
          "template_failed": "The approved template"}
# Reasons come back in the URL: only a provider's code is shown, never free text.
CODE = re.compile(r"[A-Za-z0-9_.-]{1,40}")
REPLACED = re.compile(r"([0-9]{1,4}):([0-9]{1,4})")


def delivery_notice(status: str, link: bool = False) -> str:
    """The notice code for a sent message's delivery status (gate refusals keep theirs)."""
    codes = DELIVERY_NOTICES.get(status)
    return status if codes is None else codes[link]


def template_notice(status: str) -> str:
    """The notice code for the approved template's delivery status (gate refusals keep theirs)."""
    return TEMPLATE_NOTICES.get(status, status)


def sms_notice(status: str) -> str:
    """The notice code for a reply sent by SMS instead, by its delivery status."""
    return SMS_NOTICES.get(status) or delivery_notice(status)


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
    if code == "settlement_replaced":
        return _replaced(reason, "Settlement")
    return NOTICES.get(code or "")


def _failed(what: str, reason: str | None) -> Notice:
    if reason is None or not CODE.fullmatch(reason):
        return Notice("error", f"{what} could not be sent.")
    why = FAILURES.get(reason, f"the provider refused it (error {reason})")
    return Notice("error", f"{what} could not be sent: {why}.")


def _replaced(reason: str | None, what: str = "Plan") -> Notice:
    """The plan's (or settlement's) notice, with what it superseded (`plans:promises` counts)."""
    match = REPLACED.fullmatch(reason or "")
    plans, promises = (int(match[1]), int(match[2])) if match else (0, 0)
    parts = []
    if plans:
        parts.append("replaces the active plan" if plans == 1
                     else f"replaces {plans} active plans")
    if promises:
        parts.append(f"cancels {promises} open promise{'s' if promises > 1 else ''}")
    said = f" It {' and '.join(parts)}." if parts else ""
    return Notice("ok", f"{what} recorded.{said}")


class NoticeRedirect(RedirectResponse):
    """A 303 to a console page after an action; the console vouches for its notice."""


def back_to(path: str, **params: str | int | None) -> NoticeRedirect:
    """A 303 redirect to a console page with notice parameters."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return NoticeRedirect(f"{path}?{query}" if query else path, status_code=303)


def vouch(request: Request, response: Response) -> None:
    """After an action, remember in a signed cookie the page and notice the browser is sent
    to; only that page shows that notice (until FLASH_LIFETIME passes or another action)."""
    if not isinstance(response, NoticeRedirect):
        return
    path, _, query = response.headers["location"].partition("?")
    pairs = _pairs(query)
    if not any(key in NOTICE_KEYS for key, _ in pairs):
        return
    container = _container(request)
    token = _signer(container).sign({"path": path, "query": pairs})
    response.set_cookie(FLASH_COOKIE, token, max_age=int(FLASH_LIFETIME.total_seconds()),
                        path=COOKIE_PATH, httponly=True, samesite="lax",
                        secure=secure_cookies(container.settings))


def screen(request: Request) -> None:
    """Drop the notice parameters of a request the console did not vouch for, before any
    page reads them (a forged `?notice=link_sent` then shows nothing)."""
    pairs = _pairs(request.scope.get("query_string", b"").decode("latin-1"))
    if not any(key in NOTICE_KEYS for key, _ in pairs) or _vouched(request, pairs):
        return
    kept = [(key, value) for key, value in pairs if key not in NOTICE_KEYS]
    request.scope["query_string"] = urlencode(kept).encode("latin-1")


def _vouched(request: Request, pairs: list[list[str]]) -> bool:
    token = request.cookies.get(FLASH_COOKIE)
    if not token:
        return False
    flash = _signer(_container(request)).read(token)
    return (flash is not None and flash.get("path") == request.scope.get("path")
            and flash.get("query") == pairs)


def _pairs(query: str) -> list[list[str]]:
    """The query's parameters in a canonical order (lists: they survive a JSON round trip)."""
    return sorted([key, value] for key, value in parse_qsl(query, keep_blank_values=True))


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def _signer(container: Container) -> TokenSigner:
    return TokenSigner(container.settings.secret_key, _FLASH_SALT, container.clock,
                       FLASH_LIFETIME)
