"""Importing accounts from CSV: upsert, idempotency, precise errors, nothing half-written."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from backend.container import Container
from backend.db.models import Account, ContactPoint, Creditor, Debtor
from backend.services.imports.columns import COLUMN_NAMES, EXAMPLE_ROWS, write_template
from backend.services.imports.service import import_accounts


def _csv(rows: list[dict[str, str]], header: tuple[str, ...] = COLUMN_NAMES) -> list[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().splitlines(keepends=True)


def _row(**overrides: str) -> dict[str, str]:
    return {**EXAMPLE_ROWS[0], **overrides}


async def _count(container: Container, model: type) -> int:
    async with container.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_template_rows_import_with_normalized_values(container: Container) -> None:
    report, _ = await import_accounts(
        container.sessions, _csv(list(EXAMPLE_ROWS)), now=container.clock.now(), actor="test"
    )
    assert (report.total, report.created, report.updated, report.errors) == (3, 3, 0, [])
    async with container.sessions() as session:
        account = await session.scalar(select(Account).where(Account.external_ref == "ACME-000123"))
        phone = await session.scalar(select(ContactPoint.address).where(
            ContactPoint.debtor_id == account.debtor_id, ContactPoint.channel == "sms"))
        debtor = await session.get(Debtor, account.debtor_id)
    assert account.current_balance == Decimal("1250.00")
    assert account.original_balance == Decimal("1500.00")
    assert phone == "+17135550123"
    assert debtor.timezone == "America/Chicago"  # derived from the state TX
    assert debtor.preferred_language == "es"


async def test_reimporting_the_same_file_creates_nothing_new(container: Container) -> None:
    lines = _csv(list(EXAMPLE_ROWS))
    await import_accounts(container.sessions, lines, now=container.clock.now(), actor="t")
    report, _ = await import_accounts(container.sessions, lines, now=container.clock.now(),
                                      actor="t")
    assert (report.created, report.updated) == (0, 3)
    assert await _count(container, Account) == 3
    assert await _count(container, Debtor) == 3
    assert await _count(container, ContactPoint) == 4  # 3 phones + 1 email
    assert await _count(container, Creditor) == 2


async def test_reimport_updates_the_balance(container: Container) -> None:
    await import_accounts(container.sessions, _csv([_row()]), now=container.clock.now(), actor="t")
    await import_accounts(container.sessions, _csv([_row(balance="99.10")]),
                          now=container.clock.now(), actor="t")
    async with container.sessions() as session:
        balance = await session.scalar(select(Account.current_balance))
    assert balance == Decimal("99.10")


async def test_every_invalid_row_is_reported_and_nothing_is_written(container: Container) -> None:
    rows = [
        _row(external_ref="A1"),
        _row(external_ref="A2", phone="12345"),
        _row(external_ref="A3", balance="-5"),
        _row(external_ref="A4", currency="XYZ"),
        _row(external_ref="A5", due_date="2026-02-30"),
        _row(external_ref="A1"),
    ]
    report, _ = await import_accounts(container.sessions, _csv(rows), now=container.clock.now(),
                                      actor="t")
    found = {(e.row, e.column) for e in report.errors}
    assert found == {(3, "phone"), (4, "balance"), (5, "currency"), (6, "due_date"),
                     (7, "external_ref")}
    reasons = {e.column: e.reason for e in report.errors}
    assert "negative" in reasons["balance"]
    assert "ISO-4217" in reasons["currency"]
    assert "real date" in reasons["due_date"]
    assert "first at row 2" in reasons["external_ref"]
    assert not report.written
    assert await _count(container, Account) == 0
    assert await _count(container, Debtor) == 0


async def test_skip_invalid_writes_valid_rows_and_an_error_csv(
    container: Container, tmp_path: Path
) -> None:
    rows = [_row(external_ref="B1"), _row(external_ref="B2", balance="abc"), _row(
        external_ref="B3")]
    error_csv = tmp_path / "errors.csv"
    report, _ = await import_accounts(container.sessions, _csv(rows), now=container.clock.now(),
                                      actor="t", skip_invalid=True, error_csv=error_csv)
    assert (report.created, report.rejected_rows, report.written) == (2, 1, True)
    rejected = list(csv.DictReader(error_csv.open()))
    assert [(r["row"], r["external_ref"]) for r in rejected] == [("3", "B2")]
    assert "balance" in rejected[0]["errors"] and "not a number" in rejected[0]["errors"]


async def test_a_missing_required_column_is_reported_on_row_one(container: Container) -> None:
    header = tuple(c for c in COLUMN_NAMES if c != "balance") + ("colour",)
    report, _ = await import_accounts(container.sessions, _csv([_row()], header),
                                      now=container.clock.now(), actor="t", skip_invalid=True)
    assert {(e.row, e.column) for e in report.errors} == {(1, "balance"), (1, "colour")}
    assert not report.written
    assert await _count(container, Account) == 0


async def test_a_row_with_extra_fields_is_rejected(container: Container) -> None:
    lines = _csv([_row()])
    lines.append(lines[1].rstrip("\r\n") + ",surplus\r\n")
    report, _ = await import_accounts(container.sessions, lines, now=container.clock.now(),
                                      actor="t")
    assert [(e.row, e.column) for e in report.errors] == [(3, "*")]


def test_template_has_every_column(tmp_path: Path) -> None:
    path = tmp_path / "template.csv"
    write_template(path)
    reader = csv.DictReader(path.open())
    assert tuple(reader.fieldnames or ()) == COLUMN_NAMES
    assert len(list(reader)) == len(EXAMPLE_ROWS)
