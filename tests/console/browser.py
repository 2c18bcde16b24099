"""Browser-test harness: Debian's Chromium, and Parley under uvicorn on a free loopback port."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn

from backend.api.app import Extension, create_app
from backend.container import Container
from backend.settings import Settings
from backend.wiring import default_extensions
from bot.clock import SettableClock

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DAYTIME = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 10:00 in New York: the gate lets it out
T = TypeVar("T")


def require_chromium() -> None:
    """Skip without Chromium, except under CI=true, where its absence is a failure."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is required under CI=true (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} not installed: browser tests skipped")


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServedApp:
    """The app under uvicorn in a background thread with its own event loop."""

    def __init__(self, settings: Settings, clock: SettableClock, port: int,
                 extensions: tuple[Extension, ...] | None = None) -> None:
        self.app = create_app(settings, clock=clock,
                              extensions=default_extensions() if extensions is None
                              else extensions)
        self.port = port
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def container(self) -> Container:
        container: Container = self.app.state.container
        return container

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve())

    def start(self) -> None:
        self.thread.start()
        for _ in range(600):
            if self.server.started:
                return
            self.thread.join(0.05)
        raise RuntimeError("the app did not start")

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the server's loop (so its events reach the server's bus)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
