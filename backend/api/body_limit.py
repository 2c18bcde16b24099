"""Request body limits: a body over its path's limit gets 413 and is never read whole."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """Raised from `receive` once a streamed body passes its limit (the app stops reading)."""


@dataclass
class _Progress:
    received: int = 0
    exceeded: bool = False
    started: bool = False


class BodyLimit:
    """Pure ASGI middleware: refuses a declared Content-Length over the limit before the app
    runs, and counts a streamed (chunked) body as it arrives, stopping it with 413 once over.

    `larger` gives some paths (uploads) their own limit; every other path has `default`.
    """

    def __init__(self, app: ASGIApp, *, default: int, larger: Mapping[str, int]) -> None:
        self.app = app
        self.default = default
        self.larger = dict(larger)

    def limit_for(self, path: str) -> int:
        """The most bytes a request body to `path` may have."""
        return self.larger.get(path, self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        if (_declared_length(scope) or 0) > limit:
            await _refuse(send, limit)
            return
        progress = _Progress()

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                progress.received += len(message.get("body", b""))
                if progress.received > limit:
                    progress.exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded(message: Message) -> None:
            # Whatever the app answers to a body it never got whole (FastAPI turns a failed
            # read into 400, a handler may catch it) is replaced by the 413.
            if progress.exceeded and not progress.started:
                return
            progress.started = progress.started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            # Code that read the body may have wrapped BodyTooLarge in its own error.
            if not progress.exceeded:
                raise
        if progress.exceeded and not progress.started:
            await _refuse(send, limit)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server (h11, httptools) refuses a malformed length itself
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"request body too large: the limit is {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
