"""The supervisors' dashboards: recovery, outcomes, automation, strategy and NLU health."""

from __future__ import annotations

from fastapi import APIRouter

from backend.console.deps import ConsoleRoute

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
