"""Shared fixtures: a fresh database per test (SQLite and PostgreSQL), settings, app, client."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from backend.api.app import create_app
from backend.container import Container, build_container
from backend.db.migrate import upgrade
from backend.services import apikeys
from backend.settings import Settings
from bot.clock import SettableClock
from nlu.runtime import NluConfig, build_interpreter
from nlu.types import Interpreter
from tests.services import fresh_postgres, require

T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
TRAINING_DATA = Path(__file__).parents[1] / "nlu" / "training_data"


def _guard_network(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host.startswith("127.") or host in {"localhost", "::1"} or host.startswith("/")
        ) and self.family in (socket.AF_INET, socket.AF_INET6):
            raise OSError(f"tests may not reach the network: {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only loopback is reachable from tests."""
    _guard_network(monkeypatch)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database of each kind, owned by this test alone."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'parley.db'}"
        await upgrade(url)
        yield url
        return
    admin = require("TEST_DATABASE_URL")
    async with fresh_postgres(admin) as url:
        yield url


@pytest.fixture
def clock() -> SettableClock:
    """A clock fixed at 2026-11-25 15:00 UTC (10:00 in New York)."""
    return SettableClock(T0)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own database, no .env file, test environment."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        parley_env="test", database_url=database_url, redis_url=None,
        nlu_model_dir=tmp_path / "models",
    )


@pytest.fixture
async def container(settings: Settings, clock: SettableClock) -> AsyncIterator[Container]:
    """A container over the test database."""
    built = build_container(settings, clock)
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
def app(settings: Settings, clock: SettableClock) -> FastAPI:
    """The app over the test database (migrations already applied)."""
    return create_app(settings, clock=clock, migrate=False)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, with its lifespan running."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.fixture
async def api_key(app: FastAPI, client: httpx.AsyncClient) -> str:
    """A valid API key for the app's database."""
    container: Container = app.state.container
    async with container.sessions.begin() as session:
        _, raw = await apikeys.create_key(session, "test", container.clock.now())
    return raw


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    """Authorization header for the API."""
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture(scope="session")
def trained_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model directory holding the real embedded NLU, trained once on nlu/training_data."""
    model_dir = tmp_path_factory.mktemp("nlu")
    build_interpreter(NluConfig(model_dir=model_dir, data_dir=TRAINING_DATA))
    return model_dir


@pytest.fixture(scope="session")
def interpreter(trained_model_dir: Path) -> Interpreter:
    """The real embedded NLU (loaded from the session's trained model)."""
    return build_interpreter(NluConfig(model_dir=trained_model_dir, data_dir=TRAINING_DATA,
                                       train_if_missing=False))
