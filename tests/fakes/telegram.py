"""A fake Telegram Bot API: POST /bot{token}/{method}."""

from __future__ import annotations

import itertools
from typing import Any

from tests.fakes.server import FakeServer, Recorded, Reply

BOT_TOKEN = "123456:TEST-token_abc"


def telegram_error(code: int, description: str, **parameters: Any) -> Reply:
    """An error reply as the Bot API sends it."""
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return code, body


def fake_telegram() -> FakeServer:
    """Answers sendMessage with a Message, getMe with the bot, others (setWebhook,
    answerCallbackQuery) with True."""
    counter = itertools.count(1)

    def router(rec: Recorded) -> Reply:
        method = rec.path.rsplit("/", 1)[-1]
        if method == "sendMessage":
            form = rec.form
            message = {"message_id": next(counter), "date": 1700000000,
                       "chat": {"id": int(form["chat_id"]), "type": "private"},
                       "text": form.get("text", "")}
            return 200, {"ok": True, "result": message}
        if method == "getMe":
            return 200, {"ok": True, "result": {"id": 123456, "is_bot": True,
                                                 "first_name": "Parley", "username": "parley_bot"}}
        return 200, {"ok": True, "result": True}

    return FakeServer(router).start()
