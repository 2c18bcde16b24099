"""A fake Twilio REST API: POST and GET /2010-04-01/Accounts/{sid}/Messages.json."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.server import FakeServer, Recorded, Reply

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"


def twilio_error(code: int, status: int = 400, message: str = "error") -> Reply:
    """The legacy error body the SDK turns into TwilioRestException."""
    return status, {"code": code, "message": message, "more_info": "", "status": status}


class FakeTwilio(FakeServer):
    """The fake server plus what it accepted: `created` (newest last) and its clock `now`."""

    created: list[dict[str, Any]]
    now: Callable[[], datetime]


def fake_twilio() -> FakeTwilio:
    """Accepts every message with a fresh SM sid and status `queued`, and keeps it.

    GET lists the kept messages newest first, filtered by `To` and `From` as Twilio does;
    `date_created` comes from `server.now` (set it to a test's clock).
    """
    counter = itertools.count(1)
    created: list[dict[str, Any]] = []

    def router(rec: Recorded) -> Reply:
        if rec.method == "POST" and rec.path.endswith("/Messages.json"):
            form = rec.form
            body: dict[str, Any] = {
                "sid": f"SM{next(counter):032d}", "status": "queued", "to": form.get("To"),
                "from": form.get("From"), "body": form.get("Body") or _rendered(form),
                "account_sid": ACCOUNT_SID,
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "direction": "outbound-api", "date_sent": None,
                "date_created": format_datetime(server.now().astimezone(UTC), usegmt=True),
            }
            created.append(body)
            return 201, body
        if rec.method == "GET" and rec.path.endswith("/Messages.json"):
            return 200, _page(rec, created)
        return 404, {"code": 20404, "message": "not found", "status": 404}

    server = FakeTwilio(router)
    server.created, server.now = created, lambda: datetime.now(UTC)
    server.start()
    return server


def _rendered(form: dict[str, str]) -> str | None:
    """A Content template's text as Twilio renders it: here, its variables in order."""
    if "ContentSid" not in form:
        return None
    variables = json.loads(form.get("ContentVariables") or "{}")
    return "Your reminder: " + " ".join(str(v) for _, v in sorted(variables.items()))


def _page(rec: Recorded, created: list[dict[str, Any]]) -> dict[str, Any]:
    query = dict(parse_qsl(rec.query))
    found = [m for m in reversed(created)
             if all(m[key] == query[name] for name, key in (("To", "to"), ("From", "from"))
                    if name in query)]
    size = int(query.get("PageSize") or 50)
    return {"messages": found[:size], "page": 0, "page_size": size, "next_page_uri": None,
            "uri": rec.path, "first_page_uri": rec.path, "previous_page_uri": None}
