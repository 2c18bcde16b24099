"""The full Parley app as `parley serve` runs it: the core plus every installed capability."""

from __future__ import annotations

from fastapi import FastAPI

from backend.api.app import Extension, create_app
from backend.channels_wiring import install_channels
from backend.console_wiring import install_console
from backend.conversations_wiring import install_conversations
from backend.imports_wiring import install_imports
from backend.nlu_wiring import install_nlu
from backend.reports_wiring import install_reports
from backend.settings import Settings
from backend.workflow_wiring import install_workflow
from bot.clock import Clock


def default_extensions() -> tuple[Extension, ...]:
    """In dependency order: the engine needs the interpreter, the handoff service (console),
    and the outbox (channels); the workflow needs the outbox."""
    return (
        install_imports, install_nlu, install_console, install_channels, install_conversations,
        install_workflow, install_reports,
    )


def build_parley_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    """The app with NLU, conversations, channels and pages installed."""
    # Without Redis there is no separate worker: the API process runs the periodic jobs.
    return create_app(
        settings, clock=clock, extensions=default_extensions(), run_jobs=settings.redis_url is None
    )
