"""The accounts integration API: auth, create, list with filters, detail, CSV import."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import httpx
import pytest

from backend.services.imports.columns import COLUMN_NAMES, EXAMPLE_ROWS
from bot.clock import SettableClock

NEW_ACCOUNT = {
    "external_ref": "API-1", "creditor": "Acme Bank", "portfolio": "Cards",
    "debtor_name": "Rosa Diaz", "phone": "305-555-0199", "date_of_birth": "1990-01-02",
    "postal_code": "33101", "state": "FL", "currency": "usd", "balance": "420.50",
    "due_date": "2026-10-01", "preferred_language": "es",
}


@pytest.mark.parametrize("path", ["/api/accounts", "/api/accounts/1"])
async def test_calls_without_a_valid_key_get_401(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 401
    bad = {"Authorization": "Bearer pk_not-a-key"}
    assert (await client.get(path, headers=bad)).status_code == 401


async def test_create_then_read_everything_about_the_account(
    client: httpx.AsyncClient, auth: dict[str, str], clock: SettableClock
) -> None:
    created = await client.post("/api/accounts", json=NEW_ACCOUNT, headers=auth)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["current_balance"] == "420.50"
    assert body["currency"] == "USD"
    assert body["days_past_due"] == (clock.now().date() - body_due(body)).days
    assert body["debtor"]["timezone"] == "America/New_York"
    assert body["debtor"]["contacts"][0]["address"] == "+13055550199"
    detail = await client.get(f"/api/accounts/{body['id']}", headers=auth)
    assert detail.json()["external_ref"] == "API-1"
    assert detail.json()["payments"] == [] and detail.json()["conversations"] == []


def body_due(body: dict[str, object]) -> date:
    return date.fromisoformat(str(body["due_date"]))


async def test_create_rejects_bad_fields_with_reasons(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    response = await client.post(
        "/api/accounts", json={**NEW_ACCOUNT, "phone": "999", "currency": "ZZZ"}, headers=auth
    )
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["detail"]}
    assert fields == {"phone", "currency"}


async def test_create_refuses_a_date_of_birth_after_the_clock_date(
    client: httpx.AsyncClient, auth: dict[str, str], clock: SettableClock
) -> None:
    tomorrow = (clock.now().date() + timedelta(days=1)).isoformat()
    response = await client.post(
        "/api/accounts", json={**NEW_ACCOUNT, "date_of_birth": tomorrow}, headers=auth)
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["detail"]] == ["date_of_birth"]


async def test_create_adds_a_whatsapp_number_with_its_opt_in(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    payload = {**NEW_ACCOUNT, "whatsapp_phone": "(305) 555-0123",
               "whatsapp_opt_in_at": "2026-03-02T13:45:00-05:00"}
    created = await client.post("/api/accounts", json=payload, headers=auth)
    assert created.status_code == 201, created.text
    contacts = {(c["channel"], c["address"], c["consent"])
                for c in created.json()["debtor"]["contacts"]}
    assert ("whatsapp", "+13055550123", True) in contacts


async def test_create_records_written_consent_and_an_update_without_it_keeps_it(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    payload = {**NEW_ACCOUNT, "postal_code": "11201", "state": "NY",
               "written_consent_at": "2026-06-01T10:00:00-04:00"}
    created = await client.post("/api/accounts", json=payload, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["debtor"]["written_consent_at"] == "2026-06-01T14:00:00Z"
    again = await client.post("/api/accounts", json={**NEW_ACCOUNT, "postal_code": "11201",
                                                      "state": "NY"}, headers=auth)
    assert again.json()["debtor"]["written_consent_at"] == "2026-06-01T14:00:00Z"
    bad = await client.post("/api/accounts", json={**payload, "written_consent_at": "June"},
                            headers=auth)
    assert bad.status_code == 422
    assert [d["field"] for d in bad.json()["detail"]] == ["written_consent_at"]


@pytest.mark.parametrize(("extra", "field"), [
    ({"whatsapp_phone": "305-555-0123"}, "whatsapp_opt_in_at"),
    ({"whatsapp_phone": "305-555-0123", "whatsapp_opt_in_at": "2026-03-02T13:45:00"},
     "whatsapp_opt_in_at"),
    ({"whatsapp_opt_in_at": "2026-03-02T13:45:00Z"}, "whatsapp_phone"),
])
async def test_create_refuses_a_whatsapp_number_without_a_dated_opt_in(
    client: httpx.AsyncClient, auth: dict[str, str], extra: dict[str, str], field: str
) -> None:
    response = await client.post("/api/accounts", json={**NEW_ACCOUNT, **extra}, headers=auth)
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["detail"]] == [field]
    assert (await client.get("/api/accounts", headers=auth)).json()["total"] == 0


async def test_create_refuses_an_opt_in_later_than_the_clock(
    client: httpx.AsyncClient, auth: dict[str, str], clock: SettableClock
) -> None:
    later = (clock.now() + timedelta(minutes=5)).isoformat()
    response = await client.post("/api/accounts", json={
        **NEW_ACCOUNT, "whatsapp_phone": "305-555-0123", "whatsapp_opt_in_at": later},
        headers=auth)
    assert response.status_code == 422, response.text
    assert "in the future" in response.json()["detail"][0]["reason"]


async def test_list_filters_by_days_past_due_and_balance(
    client: httpx.AsyncClient, auth: dict[str, str], clock: SettableClock
) -> None:
    today = clock.now().date()
    for ref, days, balance in (("D1", 10, "50.00"), ("D2", 45, "500.00"), ("D3", 200, "900.00")):
        due = (today - timedelta(days=days)).isoformat()
        payload = {**NEW_ACCOUNT, "external_ref": ref, "due_date": due, "balance": balance}
        assert (await client.post("/api/accounts", json=payload, headers=auth)).status_code == 201
    bucket = await client.get("/api/accounts", params={"dpd_bucket": "31-60"}, headers=auth)
    assert [a["external_ref"] for a in bucket.json()["items"]] == ["D2"]
    rich = await client.get("/api/accounts", params={"min_balance": "400"}, headers=auth)
    assert {a["external_ref"] for a in rich.json()["items"]} == {"D2", "D3"}
    page = await client.get("/api/accounts", params={"limit": 2, "offset": 2}, headers=auth)
    assert page.json()["total"] == 3 and len(page.json()["items"]) == 1


async def test_unknown_account_is_404(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    assert (await client.get("/api/accounts/999999", headers=auth)).status_code == 404


def _csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMN_NAMES))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


async def test_import_endpoint_upserts_and_reports_errors(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    good = _csv(list(EXAMPLE_ROWS))
    ok = await client.post("/api/accounts/import", files={"file": ("a.csv", good)}, headers=auth)
    assert ok.status_code == 200, ok.text
    assert (ok.json()["created"], ok.json()["updated"]) == (3, 0)
    bad = _csv([{**EXAMPLE_ROWS[0], "external_ref": "X9", "due_date": "yesterday"}])
    refused = await client.post("/api/accounts/import", files={"file": ("b.csv", bad)},
                                headers=auth)
    assert refused.status_code == 422
    errors = refused.json()["detail"]["errors"]
    assert errors == [{"row": 2, "column": "due_date",
                       "reason": "'yesterday' is not a real date in YYYY-MM-DD form"}]
    listing = await client.get("/api/accounts", headers=auth)
    assert listing.json()["total"] == 3


@pytest.mark.parametrize("how", ["form", "query"])
async def test_skip_invalid_is_read_from_the_form_or_the_query(
    client: httpx.AsyncClient, auth: dict[str, str], how: str
) -> None:
    rows = [EXAMPLE_ROWS[0], {**EXAMPLE_ROWS[1], "due_date": "yesterday"}]
    sent = {"data": {"skip_invalid": "true"}} if how == "form" else \
        {"params": {"skip_invalid": "true"}}
    written = await client.post("/api/accounts/import", files={"file": ("a.csv", _csv(rows))},
                                headers=auth, **sent)  # type: ignore[arg-type]
    assert written.status_code == 200, written.text
    assert (written.json()["created"], written.json()["rejected_rows"]) == (1, 1)


async def test_openapi_documents_the_integration_api(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"/api/accounts", "/api/accounts/{account_id}", "/api/accounts/import"} <= set(paths)
