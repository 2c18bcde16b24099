"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy import text

from backend.api.deps import ContainerDep

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/ready")
async def ready(container: ContainerDep, response: Response) -> dict[str, str]:
    """The database (and Redis, when configured) answer."""
    checks = {"database": await _check_database(container)}
    if container.redis is not None:
        checks["redis"] = await _check_redis(container)
    if any(v != "ok" for v in checks.values()):
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {"status": "ok" if response.status_code != 503 else "unavailable", **checks}


async def _check_database(container: ContainerDep) -> str:
    try:
        async with container.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return f"error: {type(exc).__name__}"
    return "ok"


async def _check_redis(container: ContainerDep) -> str:
    assert container.redis is not None
    try:
        await container.redis.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return f"error: {type(exc).__name__}"
    return "ok"
