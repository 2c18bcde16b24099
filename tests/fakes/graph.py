"""A fake WhatsApp Cloud API (Graph): POST /{version}/{phone_number_id}/messages."""

from __future__ import annotations

import itertools

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
