"""Wiring the collections workflow: its context, its jobs on the right runner, its routes."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from backend.api.routes import strategies
from backend.container import Container
from backend.workflow.context import from_container
from backend.workflow.runner import InProcessRunner

log = logging.getLogger(__name__)


def install_workflow(app: FastAPI | None, container: Container) -> None:
    """Mount the strategies API; without Redis, put the workflow jobs on the in-process scheduler.

    Needs the channels installed first (`services["outbox"]`). With REDIS_URL set the jobs run
    in `parley worker` processes on SAQ instead (backend.workflow.worker).
    """
    if app is not None:
        app.include_router(strategies.router)
    if "outbox" not in container.services:
        log.warning("workflow not started: install the channels (the outbox) first")
        return
    ctx = from_container(container)
    container.services["workflow"] = ctx
    if container.redis is None:
        InProcessRunner(ctx).register(container.scheduler)
