"""Importing WhatsApp numbers with their opt-in: contact points, row errors, re-import, reminder."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.api.app import create_app
from backend.channels_wiring import close_channels, install_channels
from backend.container import Container
from backend.db.models import Account, AuditEvent, ContactPoint, Debtor
from backend.services.imports.columns import COLUMN_NAMES, EXAMPLE_ROWS
from backend.services.imports.reader import read_accounts
from backend.services.imports.rows import AccountRow, validate_row
from backend.services.imports.service import ImportReport, import_accounts
from backend.services.reminders import WHATSAPP_TEMPLATE, send_reminder
from backend.settings import Settings
from bot.clock import SettableClock
from tests.fakes.graph import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN, fake_graph
from tests.fakes.server import FakeServer
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, fake_twilio

WA_COLUMNS = ("whatsapp_phone", "whatsapp_opt_in_at")
HEADER = tuple(dict.fromkeys((*COLUMN_NAMES, *WA_COLUMNS)))
OPT_IN = "2026-03-02T13:45:00-05:00"  # the clock (conftest T0) is 2026-11-25 15:00 UTC


def _csv(rows: list[dict[str, str]], header: tuple[str, ...] = HEADER) -> list[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().splitlines(keepends=True)


def _row(**overrides: str) -> dict[str, str]:
    base = {**EXAMPLE_ROWS[0], "whatsapp_phone": "", "whatsapp_opt_in_at": ""}
    return {**base, **overrides}


def _wa(**overrides: str) -> dict[str, str]:
    return _row(**{"whatsapp_phone": "+52 55 1234 5678", "whatsapp_opt_in_at": OPT_IN,
                   **overrides})


async def _import(container: Container, rows: list[dict[str, str]], *,
                  skip_invalid: bool = False, error_csv: Path | None = None) -> ImportReport:
    report, _ = await import_accounts(container.sessions, _csv(rows), now=container.clock.now(),
                                      actor="ops", skip_invalid=skip_invalid, error_csv=error_csv)
    return report


async def _contacts(container: Container, channel: str) -> list[ContactPoint]:
    async with container.sessions() as session:
        rows = await session.scalars(
            select(ContactPoint).where(ContactPoint.channel == channel).order_by(ContactPoint.id))
        return list(rows.all())


async def _count(container: Container, model: type) -> int:
    async with container.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _opt_in_events(container: Container) -> list[AuditEvent]:
    async with container.sessions() as session:
        rows = await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "contact.opted_in").order_by(AuditEvent.id))
        return list(rows.all())


async def test_a_whatsapp_number_with_its_opt_in_becomes_a_whatsapp_contact_point(
    container: Container,
) -> None:
    report = await _import(container, [_wa()])
    assert (report.created, report.errors) == (1, [])
    [point] = await _contacts(container, "whatsapp")
    assert (point.address, point.consent, point.opted_out_at, point.wrong_party) == (
        "+525512345678", True, None, False)
    [sms] = await _contacts(container, "sms")
    assert sms.address == "+17135550123" and sms.debtor_id == point.debtor_id
    # The model has no opt-in column: the evidence is the audit event on the contact point.
    [event] = await _opt_in_events(container)
    assert (event.actor, event.subject_type, event.subject_id) == (
        "ops", "contact_point", str(point.id))
    assert event.data["opted_in_at"] == "2026-03-02T18:45:00+00:00"
    assert (event.data["channel"], event.data["source"]) == ("whatsapp", "import")
    assert event.data["external_ref"] == "ACME-000123" and "5678" in event.data["address"]
    assert "+525512345678" not in str(event.data)


async def test_plain_us_numbers_and_utc_times_are_normalized(container: Container) -> None:
    rows = [_row(external_ref="W1", whatsapp_phone="(212) 555-1234",
                 whatsapp_opt_in_at="2026-11-25T15:00:00Z"),  # exactly the clock's now
            _row(external_ref="W2", whatsapp_phone="+44 7911 123456",
                 whatsapp_opt_in_at="2025-12-31 23:59:59.5+01:00")]
    report = await _import(container, rows)
    assert (report.created, report.errors) == (2, [])
    assert [p.address for p in await _contacts(container, "whatsapp")] == [
        "+12125551234", "+447911123456"]
    stamps = [e.data["opted_in_at"] for e in await _opt_in_events(container)]
    assert stamps == ["2026-11-25T15:00:00+00:00", "2025-12-31T22:59:59.500000+00:00"]


async def test_a_whatsapp_number_without_an_opt_in_is_a_row_error_and_nothing_is_written(
    container: Container,
) -> None:
    rows = [_wa(external_ref="W1"), _row(external_ref="W2", whatsapp_phone="+525512345679")]
    report = await _import(container, rows)
    assert [(e.row, e.column) for e in report.errors] == [(3, "whatsapp_opt_in_at")]
    assert "required when whatsapp_phone is given" in report.errors[0].reason
    assert str(report.errors[0]).startswith("row 3, column whatsapp_opt_in_at: ")
    assert not report.written
    assert (await _count(container, Account), await _count(container, ContactPoint)) == (0, 0)
    assert await _opt_in_events(container) == []


async def test_an_opt_in_in_the_future_or_without_a_zone_is_a_row_error(
    container: Container,
) -> None:
    rows = [_wa(external_ref="F1", whatsapp_opt_in_at="2026-11-25T15:00:01Z"),
            _wa(external_ref="F2", whatsapp_opt_in_at="2026-11-25T10:00:01-05:00"),
            _wa(external_ref="F3", whatsapp_opt_in_at="2026-03-02T13:45:00"),
            _wa(external_ref="F4", whatsapp_opt_in_at="2026-03-02"),
            _wa(external_ref="F5", whatsapp_opt_in_at="02/03/2026 13:45"),
            _wa(external_ref="F6", whatsapp_opt_in_at="2026-02-30T10:00:00Z"),
            _wa(external_ref="F7")]
    report = await _import(container, rows)
    assert [(e.row, e.column) for e in report.errors] == [
        (n, "whatsapp_opt_in_at") for n in range(2, 8)]
    reasons = [e.reason for e in report.errors]
    assert reasons[0] == "2026-11-25T15:00:01Z is in the future"
    assert reasons[1] == "2026-11-25T10:00:01-05:00 is in the future"
    assert all("with a UTC offset" in r for r in reasons[2:])
    assert not report.written and await _count(container, ContactPoint) == 0


async def test_a_bad_whatsapp_number_or_an_opt_in_without_one_is_a_row_error(
    container: Container, tmp_path: Path,
) -> None:
    rows = [_wa(external_ref="B1", whatsapp_phone="12345"),
            _row(external_ref="B2", whatsapp_opt_in_at=OPT_IN),
            _wa(external_ref="B3")]
    report = await _import(container, rows)
    assert [(e.row, e.column) for e in report.errors] == [
        (2, "whatsapp_phone"), (3, "whatsapp_phone")]
    assert report.errors[0].reason.startswith("'12345': ")
    assert "whatsapp_opt_in_at is given" in report.errors[1].reason
    assert not report.written and await _count(container, Account) == 0
    error_csv = tmp_path / "errors.csv"
    report = await _import(container, rows, skip_invalid=True, error_csv=error_csv)
    assert (report.created, report.rejected_rows) == (1, 2)
    rejected = list(csv.DictReader(error_csv.open()))
    assert [(r["row"], r["whatsapp_phone"]) for r in rejected] == [("2", "12345"), ("3", "")]
    assert [p.address for p in await _contacts(container, "whatsapp")] == ["+525512345678"]


async def test_reimport_adds_a_missing_whatsapp_point_once_and_never_duplicates(
    container: Container,
) -> None:
    old_file = [_row(external_ref="R1"), _row(external_ref="R2")]
    report, _ = await import_accounts(
        container.sessions, _csv(old_file, COLUMN_NAMES[:16]), now=container.clock.now(),
        actor="ops")
    assert (report.created, report.errors) == (2, [])
    assert await _contacts(container, "whatsapp") == []
    # R1 exists and gains its WhatsApp number; R3 is new; both in one file (and one chunk).
    again = [_wa(external_ref="R1"), _row(external_ref="R2"),
             _wa(external_ref="R3", whatsapp_phone="+525512345670")]
    for _ in range(2):
        report = await _import(container, again)
        assert report.errors == [] and report.written
    assert (report.created, report.updated) == (0, 3)
    points = await _contacts(container, "whatsapp")
    assert sorted(p.address for p in points) == ["+525512345670", "+525512345678"]
    assert len(await _opt_in_events(container)) == 2  # only when a point was created
    assert await _count(container, Debtor) == 3


async def test_reimport_never_resurrects_an_opted_out_or_wrong_party_whatsapp_point(
    container: Container,
) -> None:
    rows = [_wa(external_ref="O1"), _wa(external_ref="O2", whatsapp_phone="+525512345670")]
    await _import(container, rows)
    stopped = container.clock.now()
    async with container.sessions.begin() as session:
        first, second = (await session.scalars(select(ContactPoint).where(
            ContactPoint.channel == "whatsapp").order_by(ContactPoint.id))).all()
        first.opted_out_at, first.opt_out_reason = stopped, "STOP"
        second.wrong_party = True
    later = [_wa(external_ref="O1", whatsapp_opt_in_at="2026-11-01T09:00:00Z"),
             _wa(external_ref="O2", whatsapp_phone="+525512345670",
                 whatsapp_opt_in_at="2026-11-01T09:00:00Z")]
    report = await _import(container, later)
    assert (report.updated, report.errors) == (2, [])
    first, second = await _contacts(container, "whatsapp")
    assert first.opted_out_at == stopped and first.opt_out_reason == "STOP"
    assert second.wrong_party and second.opted_out_at is None
    assert len(await _opt_in_events(container)) == 2


def test_the_reader_and_the_row_validator_agree_on_the_new_columns() -> None:
    now = datetime.fromisoformat("2026-11-25T15:00:00+00:00")
    parsed = read_accounts(_csv([_wa()]), now.date(), now=now)
    [row] = parsed.rows
    assert (row.whatsapp, row.whatsapp_opt_in_at) == (
        "+525512345678", datetime.fromisoformat("2026-03-02T18:45:00+00:00"))
    raw: dict[str, str | None] = {**_wa()}
    single = validate_row(2, raw, now.date())
    assert isinstance(single, AccountRow) and single.whatsapp == row.whatsapp
    # Given only a date (as POST /api/accounts gives), an opt-in the next UTC day is refused.
    late = validate_row(2, {**raw, "whatsapp_opt_in_at": "2026-11-26T00:00:00Z"}, now.date())
    assert [(e.column, e.reason) for e in late] == [  # type: ignore[union-attr]
        ("whatsapp_opt_in_at", "2026-11-26T00:00:00Z is in the future")]


def test_the_template_shows_a_whatsapp_number_with_its_opt_in() -> None:
    assert COLUMN_NAMES[-3:-1] == WA_COLUMNS and COLUMN_NAMES[-1] == "written_consent_at"
    filled = [r for r in EXAMPLE_ROWS if r.get("whatsapp_phone")]
    assert filled and all(r["whatsapp_opt_in_at"] for r in filled)


@pytest.fixture
async def whatsapp_wired(settings: Settings, clock: SettableClock
                         ) -> AsyncIterator[tuple[Container, FakeServer]]:
    """The app with SMS (Twilio) and WhatsApp (Cloud API) configured against the fakes."""
    graph, twilio = fake_graph(), fake_twilio()
    configured = settings.model_copy(update={
        "public_base_url": "https://parley.example.com",
        "twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": AUTH_TOKEN,
        "twilio_api_url": twilio.base, "twilio_sms_from": "+12125550100",
        "whatsapp_access_token": ACCESS_TOKEN, "whatsapp_app_secret": APP_SECRET,
        "whatsapp_verify_token": VERIFY_TOKEN, "whatsapp_phone_number_id": PHONE_NUMBER_ID,
        "whatsapp_api_url": graph.base + "/v21.0",
    })
    app = create_app(configured, clock=clock, migrate=False, extensions=(install_channels,))
    try:
        async with app.router.lifespan_context(app):
            container: Container = app.state.container
            yield container, graph
            await close_channels(container)
    finally:
        graph.stop()
        twilio.stop()


async def test_after_the_import_a_reminder_goes_by_whatsapp_template(
    whatsapp_wired: tuple[Container, FakeServer],
) -> None:
    container, graph = whatsapp_wired
    assert {"sms", "whatsapp"} <= set(container.services["adapters"])
    report = await _import(container, [_wa(due_date="2026-10-01")])
    assert report.errors == []
    now = container.clock.now()
    async with container.sessions.begin() as session:
        account_id = await session.scalar(select(Account.id))
        assert account_id is not None
        result = await send_reminder(session, container.services["outbox"],
                                     container.services["gate"], account_id, now,
                                     container.services["adapters"])
    assert result.channel == "whatsapp"
    assert result.decision is not None and result.decision.message_id is not None
    await container.services["outbox"].send([result.decision.message_id])
    [call] = graph.calls("/messages")
    assert (call.json["type"], call.json["to"]) == ("template", "525512345678")
    assert call.json["template"]["name"] == WHATSAPP_TEMPLATE
