"""A tiny threaded HTTP server that records requests and answers from a script or a router."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        """The body as a form (keeps blank values)."""
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    @property
    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


Reply = tuple[int, dict[str, Any]]


@dataclass
class FakeServer:
    """Answers each request with the next scripted reply, else with `router(request)`."""

    router: Callable[[Recorded], Reply]
    requests: list[Recorded] = field(default_factory=list)
    script: deque[Reply] = field(default_factory=deque)

    def start(self) -> FakeServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                rec = Recorded(self.command, urlsplit(self.path).path,
                               {k.lower(): v for k, v in self.headers.items()},
                               self.rfile.read(length) if length else b"")
                outer.requests.append(rec)
                status, payload = outer.script.popleft() if outer.script else outer.router(rec)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _handle

            def log_message(self, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fail_next(self, *replies: Reply) -> None:
        """Queue replies for the next requests (errors, rate limits)."""
        self.script.extend(replies)

    def calls(self, suffix: str) -> list[Recorded]:
        """Requests whose path ends with `suffix`."""
        return [r for r in self.requests if r.path.endswith(suffix)]
