"""Hot reload: an embedded interpreter that follows the model directory's live pointer."""

from __future__ import annotations

import asyncio
import logging
import pickle
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from nlu.interpreter import EmbeddedInterpreter
from nlu.model import NluModel, current_version, is_compatible, load_model
from nlu.types import Parse

log = logging.getLogger(__name__)


class ReloadingInterpreter(EmbeddedInterpreter):
    """Checks `current` at most every `every` seconds and swaps in a newly promoted model.

    The swap is one attribute assignment, so a parse uses the old model or the new, never a
    mix; a model that fails to load is logged and the running one is kept.
    """

    def __init__(
        self, model: NluModel, model_dir: Path, threshold: float = 0.5, *,
        every: float = 5.0, monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(model, threshold)
        self.model_dir = model_dir
        self.every = every
        self._monotonic = monotonic
        self._checked = monotonic()
        self._loading = False

    async def parse(
        self, text: str, *, reference_time: datetime, timezone: str | None = None,
        language: str | None = None,
    ) -> Parse:
        """Interpret `text` with the live model (reloaded off the event loop when it changed)."""
        if self._due():
            await self.refresh()
        return super().parse_sync(
            text, reference_time=reference_time, timezone=timezone, language=language
        )

    def parse_sync(
        self, text: str, *, reference_time: datetime, timezone: str | None = None,
        language: str | None = None,
    ) -> Parse:
        """The same as `parse`, reloading in this thread when due."""
        if self._due():
            self._swap(self._changed())
        return super().parse_sync(
            text, reference_time=reference_time, timezone=timezone, language=language
        )

    async def refresh(self) -> bool:
        """Check the pointer now; load and swap in the live model if it changed."""
        self._checked = self._monotonic()
        version = self._changed()
        if version is None or self._loading:
            return False
        self._loading = True
        try:
            return await asyncio.to_thread(self._swap, version)
        finally:
            self._loading = False

    def _due(self) -> bool:
        return self._monotonic() - self._checked >= self.every

    def _changed(self) -> str | None:
        self._checked = self._monotonic()
        version = current_version(self.model_dir)
        return version if version and version != self.model.version else None

    def _swap(self, version: str | None) -> bool:
        if version is None:
            return False
        try:
            model = load_model(self.model_dir, version)
        except (OSError, ValueError, TypeError, EOFError, pickle.UnpicklingError) as exc:
            log.error("could not load NLU model %s (%s); keeping %s", version, exc,
                      self.model.version)
            return False
        if not is_compatible(model):
            log.error("NLU model %s was built with other libraries; keeping %s", version,
                      self.model.version)
            return False
        self.model = model
        log.info("NLU model %s is live in this process", version)
        return True
