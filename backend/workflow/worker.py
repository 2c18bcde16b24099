"""`parley worker`: SAQ workers over Redis when REDIS_URL is set, else the in-process loop."""

from __future__ import annotations

import logging

from backend.cli.runtime import command_container
from backend.container import Container
from backend.db.migrate import upgrade
from backend.settings import Settings
from backend.workflow.saq_runner import SaqRunner

log = logging.getLogger(__name__)


async def install_for_worker(container: Container) -> None:
    """Every capability the API has (the inbound sweep needs the engine), without routes."""
    from backend.wiring import default_extensions

    for extension in default_extensions():
        result = extension(None, container)
        if hasattr(result, "__await__"):
            await result


async def run_worker(settings: Settings, concurrency: int = 10) -> None:
    """Run jobs until stopped (SIGINT/SIGTERM); several processes may run side by side."""
    async with command_container(settings) as container:
        await upgrade(settings.database_url)
        await install_for_worker(container)
        if settings.redis_url:
            await _saq(container, settings.redis_url, concurrency)
        else:
            log.info("worker running %s periodic job(s) in-process", len(container.scheduler.jobs))
            await container.scheduler.run_forever()


async def _saq(container: Container, redis_url: str, concurrency: int) -> None:
    runner = SaqRunner.from_url(container.services["workflow"], redis_url,
                                periodic=container.scheduler.jobs)
    worker = runner.worker(concurrency=concurrency)
    log.info("SAQ worker on %s (queue %s)", redis_url.split("@")[-1], runner.queue.name)
    try:
        await worker.start()
    finally:
        await runner.queue.disconnect()


