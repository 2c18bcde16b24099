"""Importing accounts from CSV: upsert, idempotency, precise errors, nothing half-written."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from backend.container import Container
from backend.db.models import Account, ContactPoint, Creditor, Debtor
from backend.services import ledger
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
    assert await _count(container, ContactPoint) == 5  # 3 phones, 1 email, 1 WhatsApp
    assert await _count(container, Creditor) == 2


async def test_reimport_keeps_the_ledger_balance_and_updates_the_rest(
    container: Container,
) -> None:
    await import_accounts(container.sessions, _csv([_row()]), now=container.clock.now(), actor="t")
    later = _row(balance="99.10", due_date="2026-09-01", state="FL", phone="305-555-0199")
    report, _ = await import_accounts(container.sessions, _csv([later]),
                                      now=container.clock.now(), actor="t")
    assert (report.created, report.updated, report.errors) == (0, 1, [])
    async with container.sessions() as session:
        account = await session.scalar(select(Account))
        debtor = await session.get(Debtor, account.debtor_id)
        phones = set(await session.scalars(select(ContactPoint.address).where(
            ContactPoint.channel == "sms")))
    assert account.current_balance == Decimal("1250.00")  # the balance is the ledger's
    assert account.due_date.isoformat() == "2026-09-01"
    assert debtor.region == "FL" and debtor.timezone == "America/New_York"
    assert phones == {"+17135550123", "+13055550199"}


async def test_reimport_after_a_payment_does_not_undo_it(container: Container) -> None:
    lines = _csv([_row(external_ref="QA-1", balance="300.00", original_balance="")])
    await import_accounts(container.sessions, lines, now=container.clock.now(), actor="t")
    async with container.sessions.begin() as session:
        account = await session.scalar(select(Account))
        await ledger.post_payment(session, account, Decimal("300"), "INV-1",
                                  ledger.Origin(container.clock.now(), "test"))
    report, _ = await import_accounts(container.sessions, lines, now=container.clock.now(),
                                      actor="t")
    assert (report.created, report.updated, report.errors) == (0, 1, [])
    async with container.sessions() as session:
        account = await session.scalar(select(Account))
    assert (account.current_balance, account.status) == (Decimal("0.00"), "paid")
    assert account.original_balance == Decimal("300.00")


async def test_reimport_contradicting_the_placed_debt_is_a_row_error(
    container: Container, tmp_path: Path
) -> None:
    first = [_row(external_ref="R1"), _row(external_ref="R2"), _row(external_ref="R3")]
    await import_accounts(container.sessions, _csv(first), now=container.clock.now(), actor="t")
    again = [_row(external_ref="R1", original_balance="1600.00"),
             _row(external_ref="R2", debtor_name="Maria L. Lopez"),
             _row(external_ref="R3", currency="EUR"), _row(external_ref="R4")]
    report, _ = await import_accounts(container.sessions, _csv(again),
                                      now=container.clock.now(), actor="t")
    assert [(e.row, e.column) for e in report.errors] == [(2, "original_balance"), (4, "currency")]
    assert "original balance 1500.00" in report.errors[0].reason
    assert not report.written and await _count(container, Account) == 3
    error_csv = tmp_path / "errors.csv"
    report, _ = await import_accounts(container.sessions, _csv(again), now=container.clock.now(),
                                      actor="t", skip_invalid=True, error_csv=error_csv)
    assert (report.created, report.updated, report.rejected_rows) == (1, 1, 2)
    rejected = list(csv.DictReader(error_csv.open()))
    assert [(r["row"], r["external_ref"]) for r in rejected] == [("2", "R1"), ("4", "R3")]
    async with container.sessions() as session:
        stored = dict((await session.execute(
            select(Account.external_ref, Account.original_balance))).all())
        currencies = set(await session.scalars(select(Account.currency)))
    assert stored["R1"] == Decimal("1500.00") and currencies == {"USD"}


async def test_full_state_names_become_codes_and_unknown_states_are_rejected(
    container: Container,
) -> None:
    rows = [_row(external_ref="S1", state="Massachusetts"),
            _row(external_ref="S2", state="new york"),
            _row(external_ref="S3", state="Mass."),
            _row(external_ref="S4", state="ZZ")]
    report, _ = await import_accounts(container.sessions, _csv(rows), now=container.clock.now(),
                                      actor="t", skip_invalid=True)
    assert [(e.row, e.column) for e in report.errors] == [(4, "state"), (5, "state")]
    assert report.errors[0].reason == "'Mass.' is not a US state code or name"
    async with container.sessions() as session:
        regions = set(await session.scalars(select(Debtor.region)))
    assert regions == {"MA", "NY"}


async def test_money_and_dates_in_other_formats_are_rejected(container: Container) -> None:
    rows = [_row(external_ref="M1", balance="1,50"),
            _row(external_ref="M2", balance="1e3"),
            _row(external_ref="M3", due_date="20261001"),
            _row(external_ref="M4", currency="JPY", balance="100.50", original_balance=""),
            _row(external_ref="M5", balance="1,200.50", original_balance="$1,500"),
            _row(external_ref="M6", currency="JPY", balance="1,000", original_balance="")]
    report, _ = await import_accounts(container.sessions, _csv(rows), now=container.clock.now(),
                                      actor="t", skip_invalid=True)
    assert [(e.row, e.column) for e in report.errors] == [
        (2, "balance"), (3, "balance"), (4, "due_date"), (5, "balance")]
    assert "not a number" in report.errors[0].reason
    assert "YYYY-MM-DD" in report.errors[2].reason
    assert report.errors[3].reason == (
        "100.50 has more decimals than the currency allows (JPY has 0)")
    async with container.sessions() as session:
        balances = dict((await session.execute(
            select(Account.external_ref, Account.current_balance))).all())
    assert balances == {"M5": Decimal("1200.50"), "M6": Decimal("1000.00")}


async def test_header_names_with_spaces_keep_their_data(container: Container) -> None:
    lines = _csv([_row()])
    lines[0] = ", ".join(f" {name} " for name in COLUMN_NAMES) + "\r\n"
    report, _ = await import_accounts(container.sessions, lines, now=container.clock.now(),
                                      actor="t")
    assert (report.created, report.errors) == (1, [])
    async with container.sessions() as session:
        account = await session.scalar(select(Account))
        debtor = await session.get(Debtor, account.debtor_id)
    assert (debtor.postal_code, debtor.region, debtor.date_of_birth.isoformat()) == (
        "77002", "TX", "1985-04-12")
    assert await _count(container, ContactPoint) == 2


async def test_creditors_match_across_imports_in_any_case(container: Container) -> None:
    await import_accounts(container.sessions, _csv([_row(external_ref="QA-20", creditor="QA Co")]),
                          now=container.clock.now(), actor="t")
    for name in ("qa co", "QA CO"):
        report, _ = await import_accounts(
            container.sessions, _csv([_row(external_ref="QA-20", creditor=name)]),
            now=container.clock.now(), actor="t")
        assert (report.created, report.updated) == (0, 1)
    assert await _count(container, Creditor) == 1
    assert await _count(container, Account) == 1


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
