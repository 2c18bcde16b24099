"""Rasa-compatible parse endpoint: POST /model/parse (API key, as a header or `?token=`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, field_validator

from backend.api.deps import RasaClient

router = APIRouter(tags=["nlu"])


class ParseRequest(BaseModel):
    """Rasa's request body, plus the debtor's reference time and timezone."""

    text: str = Field(min_length=1, max_length=5000)
    reference_time: datetime | None = None
    timezone: str | None = None

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        # Only spaces would still be classified (as a confident guess): refuse it like "".
        if not value.strip():
            raise ValueError("text is blank")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # "America": a folder
                raise ValueError(f"unknown timezone {value!r}") from exc
        return value


@router.post("/model/parse")
async def parse_message(body: ParseRequest, request: Request, _: RasaClient) -> dict[str, Any]:
    """Intent, ranking and normalized entities in Rasa's /model/parse shape.

    Like a Rasa server started with `--auth-token`, it takes the key as `?token=` too.
    """
    container = getattr(request.app.state, "container", None)
    interpreter = getattr(container, "interpreter", None)
    if container is None or interpreter is None:
        raise HTTPException(status_code=503, detail="NLU is not loaded")
    result = await interpreter.parse(
        body.text,
        reference_time=body.reference_time or container.clock.now(),
        timezone=body.timezone,
    )
    return result.to_rasa()
