"""Console fixtures: seeded conversations, console users of each role, a logged-in client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from backend.api.app import create_app
from backend.console import users
from backend.console_wiring import install_console
from backend.container import Container
from backend.db.models import Message
from backend.db.models.enums import Role
from backend.services.demo import demo_rows
from backend.services.events import MemoryEventBus
from backend.services.handoff import HandoffService
from backend.services.imports.writer import upsert_accounts
from backend.services.inbox import store_inbound
from backend.services.queues import load_queues
from backend.settings import Settings
from bot.clock import SettableClock
from bot.messages import ConversationKey, InboundMessage
from tests.console.fakes import RecordingOutbox

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def bus() -> MemoryEventBus:
    """An in-process event bus."""
    return MemoryEventBus()


@pytest.fixture
def handoffs(bus: MemoryEventBus) -> HandoffService:
    """The state machine over the shipped queues file."""
    return HandoffService(load_queues(), bus)


Seeder = Callable[..., Awaitable[int]]


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> Seeder:
    """Create a debtor with an account and a conversation holding `texts`; returns its id.

    Each call makes a new debtor. Uses the console's container when the test has one.
    """
    name = "console" if "console" in request.fixturenames else "container"
    container: Container = request.getfixturevalue(name)
    messages = iter(range(1, 10_000))
    debtors = iter(range(10_000))

    async def make(*texts: str, intent: str | None = "request_agent",
                   confidence: float | None = 0.91) -> int:
        index = next(debtors)
        row = demo_rows(index + 1, NOW.date())[index]
        async with container.sessions.begin() as session:
            await upsert_accounts(session, [row], NOW)
            conversation_id = 0
            for text in texts or ("I want to talk to a person",):
                stored = await store_inbound(session, InboundMessage(
                    ConversationKey("sms", row.phone or ""), text, f"SM{next(messages)}", NOW,
                ), now=NOW)
                message = await session.get(Message, stored.message_id)
                assert message is not None
                message.intent, message.confidence = intent, confidence
                conversation_id = stored.conversation_id
        return conversation_id

    return make


@pytest.fixture
def console_app(settings: Settings, clock: SettableClock) -> FastAPI:
    """The core app with the console installed."""
    return create_app(settings, clock=clock, migrate=False, extensions=(install_console,))


@pytest.fixture
async def console(console_app: FastAPI) -> AsyncIterator[Container]:
    """The running console app's container, with a recording outbox."""
    async with console_app.router.lifespan_context(console_app):
        container: Container = console_app.state.container
        container.services["outbox"] = RecordingOutbox(container.clock)
        yield container


@pytest.fixture
async def anon(console_app: FastAPI, console: Container) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client with no session."""
    transport = httpx.ASGITransport(app=console_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


AgentFactory = Callable[..., Awaitable[int]]


@pytest.fixture
def make_agent(console: Container) -> AgentFactory:
    """Create a console user; returns the id."""

    async def make(role: Role = Role.AGENT, email: str | None = None,
                   queues: tuple[str, ...] = ()) -> int:
        # Queues are taken for agents only: a supervisor or an admin with queues is an agent
        # promoted since, who keeps them for a demotion.
        first = Role.AGENT if queues else role
        async with console.sessions.begin() as session:
            agent = await users.create_agent(
                session, email=email or f"{role.value}@example.com", name=f"{role.value} user",
                role=first, password=PASSWORD, now=console.clock.now(), queues=queues,
            )
            if first != role:
                await users.set_role(session, agent.id, role, actor="test",
                                     now=console.clock.now())
        return agent.id

    return make


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    match = CSRF_RE.search(html)
    assert match, "no csrf token on the page"
    return match.group(1)


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    page = await client.get("/console/login")
    response = await client.post("/console/login", data={
        "email": email, "password": password, "csrf_token": csrf_of(page.text),
    })
    assert response.status_code == 303, response.text
    landing = await client.get(response.headers["location"])
    return csrf_of(landing.text)


LoggedIn = Callable[..., Awaitable[tuple[httpx.AsyncClient, str, int]]]


@pytest.fixture
async def logged_in(
    console_app: FastAPI, make_agent: AgentFactory
) -> AsyncIterator[LoggedIn]:
    """A client logged in as a new user of `role`: (client, csrf token, agent id)."""
    clients: list[httpx.AsyncClient] = []

    async def make(role: Role = Role.AGENT, email: str | None = None
                   ) -> tuple[httpx.AsyncClient, str, int]:
        agent_id = await make_agent(role, email)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=console_app),
                                   base_url="http://testserver")
        clients.append(client)
        token = await login(client, email or f"{role.value}@example.com")
        return client, token, agent_id

    yield make
    for client in clients:
        await client.aclose()
