"""The access log never carries link tokens or query strings (a payment token holds the amount)."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI

from backend.api.access_log import ACCESS_LOGGER, RedactSecrets, redact_path

PAY_TOKEN = "eyJhIjoxLCJtIjoiMTAyNy4wMiJ9.c2lnbmF0dXJlLW9mLXRoZS1saW5r"


@pytest.mark.parametrize(("path", "logged"), [
    (f"/pay/{PAY_TOKEN}", "/pay/…"),
    ("/p/short-token/messages", "/p/…/messages"),
    ("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=s3cret", "/webhooks/whatsapp?…"),
    (f"/some/{PAY_TOKEN}/x", "/some/…/x"),
    ("/console/conversations/42", "/console/conversations/42"),
    ("/api/accounts/7/remind", "/api/accounts/7/remind"),
])
def test_paths_lose_their_secrets(path: str, logged: str) -> None:
    assert redact_path(path) == logged


async def test_the_running_apps_access_lines_carry_no_token(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    # uvicorn logs each request as (client, method, path, http version, status).
    record = logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", f"/pay/{PAY_TOKEN}?x=1", "1.1", 200),
                               None)
    logger = logging.getLogger(ACCESS_LOGGER)
    assert any(isinstance(f, RedactSecrets) for f in logger.filters)
    assert logger.filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /pay/…?… HTTP/1.1" 200'
