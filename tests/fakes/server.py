"""A tiny threaded HTTP server that records requests and answers from a script or a router."""

from __future__ import annotations

import json
import threading
import time
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
    query: str = ""

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
    # Seconds to wait before dropping the connection unanswered, for the next POSTs.
    drops: deque[float] = field(default_factory=deque)

    def start(self) -> FakeServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                url = urlsplit(self.path)
                rec = Recorded(self.command, url.path,
                               {k.lower(): v for k, v in self.headers.items()},
                               self.rfile.read(length) if length else b"", url.query)
                outer.requests.append(rec)
                status, payload = outer.script.popleft() if outer.script else outer.router(rec)
                if rec.method == "POST" and outer.drops:
                    # Done (the router took the request), but the reply is lost: a timeout
                    # when the client gives up first, a dropped connection otherwise.
                    time.sleep(outer.drops.popleft())
                    self.close_connection = True
                    return
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

    def drop_next(self, count: int = 1, *, delay: float = 0.0) -> None:
        """Handle the next `count` POSTs, then close the connection after `delay` seconds
        without answering (longer than the client's timeout: the client times out)."""
        self.drops.extend([delay] * count)

    def calls(self, suffix: str) -> list[Recorded]:
        """Requests whose path ends with `suffix`."""
        return [r for r in self.requests if r.path.endswith(suffix)]
