"""The full Parley app as `parley serve` runs it: the core plus every installed capability."""

from __future__ import annotations

from fastapi import FastAPI

from backend.api.app import Extension, create_app
from backend.nlu_wiring import install_nlu
from backend.settings import Settings
from bot.clock import Clock


def default_extensions() -> tuple[Extension, ...]:
    """NLU first (the conversation engine needs the interpreter)."""
    return (install_nlu,)


def build_parley_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    """The app with NLU, conversations, channels and pages installed."""
    return create_app(settings, clock=clock, extensions=default_extensions())
