"""A fake WhatsApp Cloud API (Graph): POST /{version}/{phone_number_id}/messages."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from tests.fakes.server import FakeServer, Recorded, Reply

PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
ACCESS_TOKEN = "test-access-token"


def graph_error(code: int, status: int = 400, message: str = "error") -> Reply:
    """A Graph API error body."""
    return status, {"error": {"message": f"(#{code}) {message}", "type": "OAuthException",
                              "code": code, "fbtrace_id": "Atrace"}}


def fake_graph() -> FakeServer:
    """Accepts every message with a fresh wamid."""
    counter = itertools.count(1)

    def router(rec: Recorded) -> Reply:
        if rec.method == "POST" and rec.path.endswith("/messages"):
            to = rec.json.get("to")
            return 200, {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                         "messages": [{"id": f"wamid.TEST{next(counter):06d}"}]}
        return 404, {"error": {"message": "unknown path", "code": 100}}

    return FakeServer(router).start()


# What the Cloud API refuses (error 131009, "Parameter value is not valid"): a text body over
# 4096 characters; an interactive body over 1024; more than 3 reply buttons or a title over
# 20; a list's button over 20, more than 10 rows, a section or row title over 24.
TEXT_BODY_CHARS, INTERACTIVE_BODY_CHARS = 4096, 1024
REPLY_BUTTONS, BUTTON_TITLE_CHARS = 3, 20
LIST_ROWS, LIST_TITLE_CHARS = 10, 24


def within_meta_limits(router: Callable[[Recorded], Reply]) -> Callable[[Recorded], Reply]:
    """`router`, refusing with Meta's 131009 what the Cloud API would refuse."""

    def checked(rec: Recorded) -> Reply:
        if rec.method == "POST" and rec.path.endswith("/messages") and _over_limits(rec.json):
            return graph_error(131009, message="Parameter value is not valid")
        return router(rec)

    return checked


def _over_limits(message: dict[str, Any]) -> bool:
    if message.get("type") == "text":
        return len(message["text"]["body"]) > TEXT_BODY_CHARS
    if message.get("type") != "interactive":
        return False
    interactive = message["interactive"]
    if len(interactive["body"]["text"]) > INTERACTIVE_BODY_CHARS:
        return True
    action = interactive["action"]
    if interactive["type"] == "button":
        titles = [b["reply"]["title"] for b in action["buttons"]]
        return len(titles) > REPLY_BUTTONS or any(len(t) > BUTTON_TITLE_CHARS for t in titles)
    sections = action["sections"]
    rows = [row for section in sections for row in section["rows"]]
    return (len(action["button"]) > BUTTON_TITLE_CHARS or len(rows) > LIST_ROWS
            or any(len(s.get("title", "")) > LIST_TITLE_CHARS for s in sections)
            or any(len(row["title"]) > LIST_TITLE_CHARS for row in rows))
