"""Wiring the NLU into the app: build the interpreter at start-up and serve /model/parse."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from backend.api.routes import nlu as nlu_routes
from backend.container import Container
from backend.settings import Settings
from nlu.accepted import AcceptedExample
from nlu.comparison import Comparison, compare
from nlu.model import NluModel, current_version, list_versions
from nlu.promotion import promote, read_history, rollback
from nlu.runtime import NluConfig, build_interpreter
from nlu.training import train_and_save


def nlu_config(settings: Settings) -> NluConfig:
    """The NLU's own config from Parley's settings."""
    return NluConfig(
        model_dir=settings.nlu_model_dir, data_dir=settings.nlu_training_data,
        backend=settings.nlu_backend, rasa_url=settings.rasa_url,
        rasa_timeout=settings.rasa_timeout_seconds,
        threshold=settings.nlu_confidence_threshold, train_if_missing=True,
        reload_seconds=settings.nlu_reload_seconds,
    )


async def install_nlu(app: FastAPI | None, container: Container) -> None:
    """Load (or train, when missing) the model off the event loop; mount the parse route."""
    config = nlu_config(container.settings)
    container.interpreter = await asyncio.to_thread(build_interpreter, config)
    if app is not None:
        app.include_router(nlu_routes.router)


@dataclass
class ModelService:
    """Train candidates, compare, promote and roll back; the CPU work runs off the event loop."""

    model_dir: Path
    data_dir: Path
    training: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def train(self, accepted: Iterable[AcceptedExample], *, now: datetime,
                    by: str) -> tuple[NluModel, Comparison]:
        """A candidate from the shipped data plus `accepted` (one training at a time)."""
        async with self.training:
            return await asyncio.to_thread(train_and_save, self.data_dir, self.model_dir,
                                           now=now, by=by, accepted=list(accepted))

    async def compare(self, version: str) -> Comparison:
        """`version` against the live model on its held-out messages."""
        return await asyncio.to_thread(compare, self.model_dir, version)

    async def promote(self, version: str, *, now: datetime, by: str) -> Comparison:
        """Make `version` live if not worse (raises PromotionRefused otherwise)."""
        return await asyncio.to_thread(promote, self.model_dir, version, now=now, by=by)

    async def rollback(self, *, now: datetime, by: str) -> str:
        """Make the previous live version live again."""
        return await asyncio.to_thread(rollback, self.model_dir, now=now, by=by)

    def state(self) -> dict[str, Any]:
        """Versions (newest first), the live one, and the promotion log (newest first)."""
        history = read_history(self.model_dir)
        return {"versions": list_versions(self.model_dir), "live": current_version(self.model_dir),
                "log": list(reversed(history["log"])), "stack": history["stack"]}


def model_service(container: Container) -> ModelService:
    """The container's model service (created on first use)."""
    service: ModelService | None = container.services.get("nlu_models")
    if service is None:
        settings = container.settings
        service = ModelService(settings.nlu_model_dir, settings.nlu_training_data)
        container.services["nlu_models"] = service
    return service


async def follow_live_model(container: Container) -> None:
    """Swap this process's interpreter to the live model now (others follow within
    NLU_RELOAD_SECONDS)."""
    interpreter = container.interpreter
    target = getattr(interpreter, "fallback", interpreter)  # the Rasa backend wraps it
    refresh = getattr(target, "refresh", None)
    if refresh is not None:
        await refresh()
