"""Wiring conversations into the app: engine, state store, policy, payments, portal, routes."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from collections.abc import Callable, MutableMapping
from datetime import datetime
from typing import Any

from fastapi import FastAPI

from backend.container import Container
from backend.services.handoff import HandoffService
from backend.services.payments.base import PaymentProvider
from backend.services.payments.links import PaymentLinks
from backend.services.payments.sandbox import SandboxProvider
from backend.services.payments.service import PaymentService
from backend.services.payments.stripe import StripeProvider
from backend.services.policy.loader import load_default
from backend.services.policy.store import PolicyStore
from backend.services.portal import PortalLinks
from backend.services.queues import load_queues
from backend.services.turns import SqlTurnStore, TurnDeps
from backend.settings import Settings
from bot.engine import Engine
from bot.messages import OutboundMessage
from bot.ports import Outbox, OutboxDecision
from bot.responses import Renderer
from bot.state import MemoryStateStore, RedisStateStore, StateStore
from nlu.types import Interpreter, Parse

log = logging.getLogger(__name__)


class ServicesOutbox:
    """The outbox installed in `container.services` (by the channels), looked up when used."""

    def __init__(self, services: MutableMapping[str, Any]) -> None:
        self.services = services

    def _outbox(self) -> Outbox:
        outbox: Outbox | None = self.services.get("outbox")
        if outbox is None:
            raise RuntimeError("no outbox installed: add install_channels to the app extensions")
        return outbox

    async def submit(self, session: Any, outbound: OutboundMessage) -> OutboxDecision:
        return await self._outbox().submit(session, outbound)

    async def send(self, message_ids: list[int]) -> None:
        await self._outbox().send(message_ids)


class LazyInterpreter:
    """Builds the NLU on the first message (training it off the event loop when needed)."""

    def __init__(self, factory: Callable[[], Interpreter]) -> None:
        self.factory = factory
        self._built: Interpreter | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Interpreter:
        """The interpreter, built once."""
        if self._built is None:
            async with self._lock:
                if self._built is None:
                    self._built = await asyncio.to_thread(self.factory)
        return self._built

    async def parse(self, text: str, *, reference_time: datetime,
                    timezone: str | None = None, language: str | None = None) -> Parse:
        interpreter = await self.get()
        return await interpreter.parse(
            text, reference_time=reference_time, timezone=timezone, language=language
        )


def nlu_factory(settings: Settings) -> Callable[[], Interpreter]:
    """How to build the configured interpreter (nlu.runtime, when that module is present)."""

    def build() -> Interpreter:
        if importlib.util.find_spec("nlu.runtime") is None:
            raise RuntimeError("nlu.runtime is not available")
        from nlu.runtime import NluConfig, build_interpreter

        return build_interpreter(NluConfig(
            model_dir=settings.nlu_model_dir, data_dir=settings.nlu_training_data,
            backend=settings.nlu_backend, rasa_url=settings.rasa_url,
            rasa_timeout=settings.rasa_timeout_seconds,
            threshold=settings.nlu_confidence_threshold))

    return build


def build_state_store(container: Container) -> StateStore:
    """Redis when configured, in-process otherwise."""
    if container.redis is not None:
        return RedisStateStore(container.redis)
    return MemoryStateStore()


def payment_providers(secret: str | None) -> dict[str, PaymentProvider]:
    """The sandbox always; Stripe-style webhooks when STRIPE_WEBHOOK_SECRET is set."""
    providers: dict[str, PaymentProvider] = {"sandbox": SandboxProvider()}
    if secret:
        providers["stripe"] = StripeProvider(secret)
    return providers


def build_portal_links(container: Container) -> PortalLinks:
    """The debtor portal's links, signed with SECRET_KEY under PUBLIC_BASE_URL."""
    settings = container.settings
    return PortalLinks(settings.secret_key, settings.public_base_url, container.clock)


def _own_handoffs(container: Container) -> HandoffService:
    """Without the console: one handoff service, shared with the channels (a refused
    Telegram link opens its handoff through it instead of building another)."""
    service = HandoffService(load_queues(), container.services.get("events"))
    container.services["handoffs"] = service
    return service


def install_conversations(app: FastAPI | None, container: Container) -> None:
    """Register the engine as `services["turn_handler"]`, the portal links, payments, routes."""
    settings, services = container.settings, container.services
    policies = PolicyStore(load_default(settings.policy_dir))
    links = PaymentLinks(settings.secret_key, settings.public_base_url, container.clock)
    portal = build_portal_links(container)
    states = build_state_store(container)
    interpreter = container.interpreter or LazyInterpreter(nlu_factory(settings))
    handoffs = services.get("handoffs") or _own_handoffs(container)
    outbox = ServicesOutbox(services)
    deps = TurnDeps(container.sessions, container.clock, policies, links, lambda: outbox,
                    handoffs.open_handoff, handoffs.reopen_on_debtor_message,
                    handoffs.release_opt_out_hold)
    renderer = Renderer(support=settings.support_contact)
    engine = Engine(SqlTurnStore(deps), states, interpreter, outbox=outbox, renderer=renderer)
    services.update({
        "engine": engine, "turn_handler": engine, "state_store": states, "renderer": renderer,
        "policies": policies, "payment_links": links, "portal_links": portal,
        "payment_providers": payment_providers(settings.stripe_webhook_secret),
        "interpreter_lazy": interpreter,
        "payments": PaymentService(container.sessions, container.clock, states, outbox,
                                   renderer, portal_links=portal),
    })
    if app is not None:
        _include_routes(app)


def _include_routes(app: FastAPI) -> None:
    from backend.api.routes import conversations, payments, portal, portfolios

    for module in (conversations, payments, portal, portfolios):
        app.include_router(module.router)
