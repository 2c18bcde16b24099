"""An empty cell in a re-import or an API update keeps what is stored about the debtor."""

from __future__ import annotations

import csv
import io
from datetime import date

import httpx
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, Debtor
from backend.services.imports.columns import COLUMN_NAMES, EXAMPLE_ROWS
from backend.services.imports.records import merged_changes
from backend.services.imports.service import import_accounts

FIRST = {**EXAMPLE_ROWS[0], "timezone": "America/Denver", "country": "US"}
BLANKS = ("date_of_birth", "postal_code", "state", "country", "timezone", "preferred_language")


def _lines(row: dict[str, str]) -> list[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMN_NAMES))
    writer.writeheader()
    writer.writerow(row)
    return buffer.getvalue().splitlines(keepends=True)


async def _debtor(container: Container) -> Debtor:
    async with container.sessions() as session:
        account = await session.scalar(select(Account))
        debtor = await session.get(Debtor, account.debtor_id)
    assert debtor is not None
    return debtor


async def test_a_reimport_with_empty_cells_keeps_the_stored_values(container: Container) -> None:
    now = container.clock.now()
    await import_accounts(container.sessions, _lines(FIRST), now=now, actor="t")
    emptied = {**FIRST, **dict.fromkeys(BLANKS, ""), "debtor_name": "Maria L. Lopez"}
    report, _ = await import_accounts(container.sessions, _lines(emptied), now=now, actor="t")
    assert (report.created, report.updated, report.errors) == (0, 1, [])
    debtor = await _debtor(container)
    assert debtor.full_name == "Maria L. Lopez"  # what the row gives is written
    assert debtor.date_of_birth == date(1985, 4, 12)  # a verification factor survives
    assert (debtor.postal_code, debtor.region, debtor.country) == ("77002", "TX", "US")
    assert debtor.timezone == "America/Denver"  # not re-derived from the phone
    assert debtor.preferred_language == "es"  # not reset to the default "en"


async def test_a_reimport_giving_values_replaces_the_stored_ones(container: Container) -> None:
    now = container.clock.now()
    await import_accounts(container.sessions, _lines(FIRST), now=now, actor="t")
    moved = {**FIRST, "date_of_birth": "1985-04-21", "postal_code": "33101", "state": "FL",
             "timezone": "", "preferred_language": "en"}
    await import_accounts(container.sessions, _lines(moved), now=now, actor="t")
    debtor = await _debtor(container)
    assert debtor.date_of_birth == date(1985, 4, 21)
    assert (debtor.postal_code, debtor.region) == ("33101", "FL")
    assert debtor.timezone == "America/New_York"  # the new state's zone
    assert debtor.preferred_language == "en"


async def test_an_api_update_without_the_date_of_birth_keeps_it(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    full = {"external_ref": "API-9", "creditor": "Acme Bank", "portfolio": "Cards",
            "debtor_name": "Rosa Diaz", "phone": "305-555-0199", "date_of_birth": "1990-01-02",
            "postal_code": "33101", "state": "FL", "currency": "USD", "balance": "420.50",
            "due_date": "2026-10-01", "preferred_language": "es"}
    assert (await client.post("/api/accounts", json=full, headers=auth)).status_code == 201
    partial = {k: v for k, v in full.items()
               if k not in {"date_of_birth", "postal_code", "state", "preferred_language"}}
    response = await client.post("/api/accounts", json={**partial, "due_date": "2026-11-01"},
                                 headers=auth)
    assert response.status_code == 200, response.text  # an update
    debtor = response.json()["debtor"]
    assert response.json()["due_date"] == "2026-11-01"
    assert (debtor["date_of_birth"], debtor["postal_code"]) == ("1990-01-02", "33101")
    assert (debtor["region"], debtor["preferred_language"]) == ("FL", "es")


def test_two_rows_for_one_debtor_merge_their_values() -> None:
    assert merged_changes(None, ("a", None)) == ("a", None)
    assert merged_changes(("a", date(1990, 1, 2)), ("b", None)) == ("b", date(1990, 1, 2))
