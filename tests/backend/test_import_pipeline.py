"""Importing while validating: what was written before a bad row is rolled back, and more."""

from __future__ import annotations

import csv
import gc
import io
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.container import Container
from backend.db.models import Account, AuditEvent, ContactPoint, Debtor
from backend.services.imports import reader, writer
from backend.services.imports.columns import COLUMN_NAMES, EXAMPLE_ROWS
from backend.services.imports.rows import AccountRow, validate_row
from backend.services.imports.service import import_accounts
from backend.services.imports.writer import upsert_accounts


@pytest.fixture(autouse=True)
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 3 rows validated 2 at a time, so small files take many write round trips."""
    monkeypatch.setattr(reader, "BATCH", 2)
    monkeypatch.setattr(writer, "CHUNK", 3)
    monkeypatch.setattr(writer, "PG_CHUNK", 3)


def _csv(rows: list[dict[str, str]]) -> list[str]:
    buffer = io.StringIO()
    out = csv.DictWriter(buffer, fieldnames=list(COLUMN_NAMES))
    out.writeheader()
    out.writerows(rows)
    return buffer.getvalue().splitlines(keepends=True)


def _rows(count: int, **overrides: dict[str, str]) -> list[dict[str, str]]:
    """`count` valid rows with their own references and phones; overrides by row index."""
    rows = []
    for index in range(count):
        row = {
            **EXAMPLE_ROWS[index % len(EXAMPLE_ROWS)],
            "external_ref": f"P-{index}",
            "phone": f"+1 713 555 {100 + index:04d}",
        }
        row.update(overrides.get(str(index), {}))
        rows.append(row)
    return rows


async def _count(container: Container, model: type) -> int:
    async with container.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _slowly(lines: list[str]) -> Iterator[str]:
    """The lines, read at 1 ms each, so the writer gets ahead of the bad rows at the end."""
    for line in lines:
        time.sleep(0.001)
        yield line


async def test_a_bad_row_after_written_chunks_rolls_everything_back(container: Container) -> None:
    earlier = [{**row, "external_ref": f"E-{index}"} for index, row in enumerate(_rows(2))]
    await import_accounts(container.sessions, _csv(earlier), now=container.clock.now(),
                          actor="t")  # also opens the pool's connection before the timed file
    models = (Account, Debtor, ContactPoint, AuditEvent)
    before = {model: await _count(container, model) for model in models}
    rows = _rows(200, **{"190": {"balance": "-1"}, "195": {"due_date": "2026-13-01"}})
    written: list[int] = []
    report, _ = await import_accounts(container.sessions, _slowly(_csv(rows)),
                                      now=container.clock.now(), actor="t",
                                      progress=written.append)
    assert sum(written) >= 3  # chunks before the bad rows reached the database
    assert [(e.row, e.column) for e in report.errors] == [(192, "balance"), (197, "due_date")]
    assert (report.total, report.written, report.created) == (200, False, 0)
    assert {model: await _count(container, model) for model in before} == before
    assert before[Account] == 2


async def test_skip_invalid_writes_every_valid_row_of_every_chunk(container: Container) -> None:
    rows = _rows(20, **{"0": {"currency": "XYZ"}, "9": {"phone": "12345"}, "19": {"balance": ""}})
    written: list[int] = []
    report, _ = await import_accounts(container.sessions, _csv(rows), now=container.clock.now(),
                                      actor="t", skip_invalid=True, progress=written.append)
    assert (report.created, report.rejected_rows, report.written) == (17, 3, True)
    assert sum(written) == 17
    assert await _count(container, Account) == 17
    # emails: indexes 3, 6, 12, 15, 18; WhatsApp numbers: 2, 5, 8, 11, 14, 17
    assert await _count(container, ContactPoint) == 17 + 5 + 6


async def test_a_repeated_reference_in_a_later_chunk_is_rejected(container: Container) -> None:
    rows = _rows(12)
    rows[10]["external_ref"] = "P-1"
    report, _ = await import_accounts(container.sessions, _csv(rows), now=container.clock.now(),
                                      actor="t")
    assert [(e.row, e.column) for e in report.errors] == [(12, "external_ref")]
    assert "first at row 3" in report.errors[0].reason
    assert await _count(container, Account) == 0


async def test_many_chunks_import_and_reimport(container: Container) -> None:
    lines = _csv(_rows(25))
    first, _ = await import_accounts(container.sessions, lines, now=container.clock.now(),
                                     actor="t")
    again, _ = await import_accounts(container.sessions, lines, now=container.clock.now(),
                                     actor="t")
    assert (first.created, first.updated, again.created, again.updated) == (25, 0, 0, 25)
    assert await _count(container, Debtor) == 25
    # the two imports, the opt-ins of the WhatsApp numbers added (indexes 2, 5 … 23) and the
    # count of the first import's phone and email contact points (the re-import adds none)
    assert await _count(container, AuditEvent) == 2 + 8 + 1


async def test_a_birth_date_after_the_clocks_today_is_rejected(container: Container) -> None:
    today = container.clock.now().date()
    rows = _rows(2, **{"1": {"date_of_birth": (today + timedelta(days=1)).isoformat()}})
    rows[0]["date_of_birth"] = today.isoformat()
    report, _ = await import_accounts(container.sessions, _csv(rows), now=container.clock.now(),
                                      actor="t")
    assert [(e.row, e.column) for e in report.errors] == [(3, "date_of_birth")]
    assert "in the future" in report.errors[0].reason


async def test_blank_lines_and_uneven_rows_keep_their_row_numbers(container: Container) -> None:
    lines = _csv(_rows(4))
    short = lines[2].rstrip("\r\n").rsplit(",", 5)[0] + "\r\n"  # due_date etc. missing
    lines = [lines[0], lines[1], "\r\n", short, lines[3], lines[4].rstrip("\r\n") + ",x\r\n"]
    report, _ = await import_accounts(container.sessions, lines, now=container.clock.now(),
                                      actor="t", skip_invalid=True)
    assert [(e.row, e.column) for e in report.errors] == [(3, "due_date"), (5, "*")]
    assert (report.total, report.created) == (4, 2)


async def test_a_new_creditors_reference_repeated_in_a_later_chunk_is_updated(
    container: Container,
) -> None:
    refs = ["A", "B", "C", "A"]  # the second "A" falls in the second chunk of 3
    rows = [validate_row(i + 2, {**EXAMPLE_ROWS[0], "external_ref": r}) for i, r in enumerate(refs)]
    assert all(isinstance(row, AccountRow) for row in rows)
    async with container.sessions.begin() as session:
        counts = await upsert_accounts(session, rows, container.clock.now())  # type: ignore[arg-type]
    assert (counts.created, counts.updated) == (3, 1)
    assert await _count(container, Account) == 3


async def test_the_garbage_collector_is_left_as_it_was(container: Container) -> None:
    lines = _csv(_rows(5))
    assert gc.isenabled()
    await import_accounts(container.sessions, lines, now=container.clock.now(), actor="t")
    assert gc.isenabled()
    with pytest.raises(ValueError):
        await import_accounts(container.sessions, _failing(lines), now=container.clock.now(),
                              actor="t")
    assert gc.isenabled()
    gc.disable()
    try:
        await import_accounts(container.sessions, lines, now=container.clock.now(), actor="t")
        assert not gc.isenabled()
    finally:
        gc.enable()


def _failing(lines: list[str]) -> Iterator[str]:
    yield from lines[:3]
    raise ValueError("the upload broke off")
