"""Wiring the NLU into the app: build the interpreter at start-up and serve /model/parse."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from backend.api.routes import nlu as nlu_routes
from backend.container import Container
from backend.settings import Settings
from nlu.runtime import NluConfig, build_interpreter


def nlu_config(settings: Settings) -> NluConfig:
    """The NLU's own config from Parley's settings."""
    return NluConfig(
        model_dir=settings.nlu_model_dir, data_dir=settings.nlu_training_data,
        backend=settings.nlu_backend, rasa_url=settings.rasa_url,
        rasa_timeout=settings.rasa_timeout_seconds,
        threshold=settings.nlu_confidence_threshold, train_if_missing=True,
    )


async def install_nlu(app: FastAPI | None, container: Container) -> None:
    """Load (or train, when missing) the model off the event loop; mount the parse route."""
    config = nlu_config(container.settings)
    container.interpreter = await asyncio.to_thread(build_interpreter, config)
    if app is not None:
        app.include_router(nlu_routes.router)
