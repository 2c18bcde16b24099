"""A fake Twilio REST API: POST /2010-04-01/Accounts/{sid}/Messages.json."""

from __future__ import annotations

import itertools
from typing import Any

from tests.fakes.server import FakeServer, Recorded, Reply

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"


def twilio_error(code: int, status: int = 400, message: str = "error") -> Reply:
    """The legacy error body the SDK turns into TwilioRestException."""
    return status, {"code": code, "message": message, "more_info": "", "status": status}


def fake_twilio() -> FakeServer:
    """Accepts every message with a fresh SM sid and status `queued`."""
    counter = itertools.count(1)

    def router(rec: Recorded) -> Reply:
        if rec.method == "POST" and rec.path.endswith("/Messages.json"):
            form = rec.form
            body: dict[str, Any] = {
                "sid": f"SM{next(counter):032d}", "status": "queued", "to": form.get("To"),
                "from": form.get("From"), "body": form.get("Body"), "account_sid": ACCOUNT_SID,
            }
            return 201, body
        return 404, {"code": 20404, "message": "not found", "status": 404}

    return FakeServer(router).start()
