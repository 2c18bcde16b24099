"""Building the async database engine and session factory for a database URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def normalize_url(url: str) -> str:
    """Give plain `postgresql://` and `sqlite://` URLs their async drivers."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql+psycopg://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def build_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine for `url`; SQLite gets its directory created, WAL and foreign keys on."""
    url = normalize_url(url)
    parsed = make_url(url)
    # A failing statement's error (logged at ERROR) must not carry its parameters: message
    # bodies, names, phone numbers and balances.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    # No ping on every checkout: it is one more round trip per transaction on the hot path.
    # A connection the server dropped fails its first statement, SQLAlchemy recognises the
    # disconnect and invalidates the pool, and the caller's retry (the sweep, the provider's
    # webhook retry) gets fresh connections; recycling keeps idle ones from going stale.
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_recycle", 1800)
    return create_async_engine(url, **kwargs)


@asynccontextmanager
async def autocommit(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncConnection]:
    """A pooled connection without BEGIN/COMMIT: for one statement that is its own transaction."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        # Sessions bound to one connection (the workflow's dry run, inside its outer
        # transaction) get an ordinary transaction joined to it instead.
        async with sessions.begin() as session:
            yield await session.connection()
        return
    async with bind.connect() as conn:
        yield await conn.execution_options(isolation_level="AUTOCOMMIT")


def build_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
