"""Test access to real PostgreSQL and Redis: skip locally when absent, fail under CI=true."""

from __future__ import annotations

import asyncio
import atexit
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from backend.db.migrate import upgrade

# One template per test process, so concurrent runs on one server never drop each other's.
TEMPLATE_DB = f"parley_tpl_{os.getpid()}"


def require(env_name: str) -> str:
    """The service URL from `env_name`; skip (or fail under CI) when it is not set."""
    url = os.environ.get(env_name)
    if url:
        return url
    message = f"{env_name} not set: tests needing it are skipped (they run in CI)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{env_name} must be set under CI=true")
    pytest.skip(message)


def _admin_dsn(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _db_url(url: str, name: str) -> str:
    parsed = make_url(url).set(drivername="postgresql+asyncpg", database=name)
    return parsed.render_as_string(hide_password=False)


_template_ready: set[str] = set()


async def _ensure_template(admin_url: str) -> None:
    if admin_url in _template_ready:
        return
    conn = await asyncpg.connect(_admin_dsn(admin_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    finally:
        await conn.close()
    await upgrade(_db_url(admin_url, TEMPLATE_DB))
    _template_ready.add(admin_url)
    atexit.register(_drop_template, admin_url)


def _drop_template(admin_url: str) -> None:
    async def drop() -> None:
        conn = await asyncpg.connect(_admin_dsn(admin_url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


@asynccontextmanager
async def fresh_postgres(admin_url: str) -> AsyncIterator[str]:
    """A new migrated database cloned from a template; dropped afterwards."""
    await _ensure_template(admin_url)
    name = f"parley_t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(_admin_dsn(admin_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    finally:
        await conn.close()
    try:
        yield _db_url(admin_url, name)
    finally:
        conn = await asyncpg.connect(_admin_dsn(admin_url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
