"""Helpers the CLI commands share: settings, a container for one command, logging."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from backend.container import Container, build_container
from backend.settings import Settings

T = TypeVar("T")


def setup_logging(level: str) -> None:
    """Plain one-line logs on stderr."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


@asynccontextmanager
async def command_container(settings: Settings | None = None) -> AsyncIterator[Container]:
    """A container for the length of one CLI command."""
    container = build_container(settings or Settings())
    try:
        yield container
    finally:
        await container.close()


def run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run an async command body to completion."""
    return asyncio.run(factory())  # type: ignore[arg-type]
