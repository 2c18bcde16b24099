"""The trainers' model page: retrain, compare a candidate with the live model, promote."""

from __future__ import annotations

from fastapi import APIRouter

from backend.console.deps import ConsoleRoute

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
