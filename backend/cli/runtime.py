"""Helpers the CLI commands share: settings, a container for one command, logging, errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import click
import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.core import TyperGroup

from backend.container import Container, build_container
from backend.db.engine import build_engine, normalize_url
from backend.services.compliance.rules import RulesError
from backend.services.policy.loader import PolicyError
from backend.settings import Settings

T = TypeVar("T")


class DatabaseUnreachable(ConnectionError):
    """DATABASE_URL names a database this process cannot connect to (message has no password)."""


class ParleyGroup(TyperGroup):
    """The `parley` group: a refused setting or an unreachable database is a line, not a trace."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ValidationError as error:
            for line in settings_problems(error):
                typer.echo(f"parley: invalid setting: {line}", err=True)
            raise typer.Exit(2) from None
        except DatabaseUnreachable as error:
            typer.echo(f"parley: {error}", err=True)
            raise typer.Exit(1) from None
        except (PolicyError, RulesError) as error:  # the file and every field at fault
            typer.echo(f"parley: {error}", err=True)
            raise typer.Exit(2) from None


def settings_problems(error: ValidationError) -> list[str]:
    """One line per refused setting, naming it and the reason; never the value given."""
    lines = []
    for problem in error.errors(include_url=False, include_context=False, include_input=False):
        reason = problem["msg"].removeprefix("Value error, ")
        name = "_".join(str(part) for part in problem["loc"]).upper()
        lines.append(reason if not name or name in reason else f"{name}: {reason}")
    return lines


def setup_logging(level: str) -> None:
    """Plain one-line logs on stderr."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


async def reach_database(url: str, engine: AsyncEngine | None = None) -> None:
    """Connect once to `url` (through `engine` when given); DatabaseUnreachable if that fails."""
    probe = engine or build_engine(url)
    try:
        async with probe.connect():
            pass
    except (OSError, DBAPIError) as error:
        raise DatabaseUnreachable(unreachable_message(url, error)) from None
    finally:
        if engine is None:
            await probe.dispose()


def unreachable_message(url: str, error: BaseException) -> str:
    """Where DATABASE_URL points and why connecting failed, with any password masked."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        where = f"the SQLite file {parsed.database}"
    else:
        where = f"host {parsed.host or 'localhost'} port {parsed.port or 5432}"
    cause = getattr(error, "orig", None) or error
    reason = (str(cause).splitlines() or [type(cause).__name__])[0]
    if parsed.password:
        reason = reason.replace(parsed.password, "***")
    return f"cannot connect to the database at DATABASE_URL ({where}): {reason}"


@asynccontextmanager
async def command_container(settings: Settings | None = None) -> AsyncIterator[Container]:
    """A container for the length of one CLI command, its database reached first."""
    container = build_container(settings or Settings())
    try:
        await reach_database(container.settings.database_url, container.engine)
        yield container
    finally:
        await container.close()


def run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run an async command body to completion."""
    return asyncio.run(factory())  # type: ignore[arg-type]
