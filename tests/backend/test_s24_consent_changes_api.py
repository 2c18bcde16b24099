"""An API create or upsert leaves an audit record of consent, identity factors and contacts."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from backend.container import Container
from backend.db.models import AuditEvent
from backend.services import audit

ACCOUNT = {
    "external_ref": "NYC-4411",
    "creditor": "Acme Bank",
    "portfolio": "Cards",
    "debtor_name": "Rosa Diaz",
    "phone": "212-555-0147",
    "date_of_birth": "1990-01-02",
    "postal_code": "10001",
    "state": "NY",
    "currency": "USD",
    "balance": "420.50",
    "due_date": "2026-10-01",
    "written_consent_at": "2026-01-05T10:00:00+00:00",
}
CHANGED = {
    **ACCOUNT,
    "phone": "917-555-0188",
    "date_of_birth": "1991-03-04",
    "postal_code": "10002",
    "written_consent_at": "2026-06-07T11:30:00+00:00",
}


async def _events(app: FastAPI, action: str) -> list[AuditEvent]:
    container: Container = app.state.container
    async with container.sessions() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return list(rows)


async def _verified(app: FastAPI) -> bool:
    container: Container = app.state.container
    async with container.sessions() as session:
        return (await audit.verify(session)).ok


async def _post(client: httpx.AsyncClient, auth: dict[str, str], body: dict[str, Any]) -> int:
    response = await client.post("/api/accounts", json=body, headers=auth)
    assert response.status_code in (200, 201), response.text
    return response.status_code


def _actor(api_key: str) -> str:
    return f"apikey:{api_key[:10]}"


async def test_creating_an_account_records_its_debtor_and_contact(
    app: FastAPI, client: httpx.AsyncClient, auth: dict[str, str], api_key: str
) -> None:
    assert await _post(client, auth, ACCOUNT) == 201
    [created] = await _events(app, "debtor.created")
    assert created.actor == _actor(api_key)
    assert created.data["source"] == "api"
    assert created.data["written_consent_at"] == "2026-01-05T10:00:00+00:00"
    assert "1990-01-02" not in json.dumps(created.data)  # no identity answer in the log
    [sms] = await _events(app, "contact.added")
    assert sms.data == {
        "debtor_id": int(created.subject_id or 0),
        "channel": "sms",
        "address": "…0147",
        "consent": True,
        "source": "api",
    }
    assert await _verified(app)


async def test_an_upsert_changing_consent_and_identity_records_what_changed(
    app: FastAPI, client: httpx.AsyncClient, auth: dict[str, str], api_key: str
) -> None:
    await _post(client, auth, ACCOUNT)
    assert await _post(client, auth, CHANGED) == 200
    [changed] = await _events(app, "debtor.changed")
    assert changed.actor == _actor(api_key)
    assert changed.data["fields"] == ["date_of_birth", "postal_code", "written_consent_at"]
    assert changed.data["identity_factors_changed"] == ["date_of_birth", "postal_code"]
    assert changed.data["written_consent_at"] == {
        "old": "2026-01-05T10:00:00+00:00",
        "new": "2026-06-07T11:30:00+00:00",
    }
    shown = json.dumps(changed.data)
    for answer in ("1990", "1991", "10001", "10002"):
        assert answer not in shown, answer  # only that the factor changed, never its value
    added = await _events(app, "contact.added")
    assert [(e.data["address"], e.data["consent"], e.data["source"], e.actor) for e in added] == [
        ("…0147", True, "api", _actor(api_key)),
        ("…0188", True, "api", _actor(api_key)),
    ]
    assert await _verified(app)


async def test_an_upsert_changing_nothing_records_no_change(
    app: FastAPI, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    await _post(client, auth, ACCOUNT)
    assert await _post(client, auth, {**ACCOUNT, "due_date": "2026-11-01"}) == 200
    assert await _events(app, "debtor.changed") == []
    assert len(await _events(app, "contact.added")) == 1  # the first write's phone only
    assert await _verified(app)
