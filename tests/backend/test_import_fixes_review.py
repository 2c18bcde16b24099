"""Import fixes: no invented timezone, non-UTF-8 files named by line, non-money currency codes."""

from __future__ import annotations

import codecs
import csv
import io

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, Debtor
from backend.services.compliance.facts import load_facts
from backend.services.compliance.rules import load_rules
from backend.services.geo import DEFAULT_TIMEZONE, debtor_zone, derive_timezone
from backend.services.imports.columns import COLUMN_NAMES, EXAMPLE_ROWS
from backend.services.imports.reader import read_accounts
from backend.services.imports.rows import AccountRow, RowError, validate_row
from backend.services.imports.service import import_accounts
from bot.messages import ConversationKey, OutboundMessage
from tests.backend.test_import_jobs import Api, api  # noqa: F401  (the fixture)

COUNTRYWIDE = "+15005550104"  # a US prefix phonenumbers maps to dozens of zones
NO_LOCATION = {**EXAMPLE_ROWS[0], "phone": COUNTRYWIDE, "state": "", "timezone": ""}


def _text(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMN_NAMES))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _latin1_on_line_3() -> bytes:
    second = {**EXAMPLE_ROWS[1], "debtor_name": "José Muñoz"}
    return _text([EXAMPLE_ROWS[0], second]).encode("latin-1")


def test_a_phone_spanning_several_zones_gives_no_zone() -> None:
    assert derive_timezone(None, "US", COUNTRYWIDE) is None
    assert derive_timezone(None, "US", None) is None
    assert derive_timezone(None, "US", "+17135550123") == "America/Chicago"  # one zone
    assert derive_timezone("TX", "US", COUNTRYWIDE) == "America/Chicago"  # the state wins


def test_a_row_without_location_stores_the_unknown_zone() -> None:
    row = validate_row(2, NO_LOCATION)
    assert isinstance(row, AccountRow)
    assert row.timezone == ""
    assert "timezone" in row.blank  # an existing debtor keeps the zone it has


async def test_the_gate_sees_no_location_for_an_imported_debtor_without_one(
    container: Container,
) -> None:
    now = container.clock.now()
    report, _ = await import_accounts(container.sessions, _text([NO_LOCATION]).splitlines(True),
                                      now=now, actor="t")
    assert report.written and report.errors == []
    async with container.sessions() as session:
        account = await session.scalar(select(Account))
        debtor = await session.get(Debtor, account.debtor_id)
        outbound = OutboundMessage(ConversationKey("sms", COUNTRYWIDE), "Hello",
                                   account_id=account.id)
        facts = await load_facts(session, outbound, None, now, load_rules())
    assert debtor.timezone == ""
    assert facts.zones == ()  # the gate's "no_location_signal", not America/Adak


@pytest.mark.parametrize("wrap", ["iterdecode", "textio"])
def test_a_non_utf8_file_names_the_line_and_utf8(wrap: str) -> None:
    data = _latin1_on_line_3()
    if wrap == "iterdecode":
        lines = codecs.iterdecode(io.BytesIO(data), "utf-8-sig")
    else:
        lines = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    with pytest.raises(UnicodeDecodeError) as raised:
        read_accounts(lines)
    assert getattr(raised.value, "line", None) == 3
    message = str(raised.value)
    assert message.startswith("line 3: byte 0xe9") and "must be UTF-8" in message
    assert "position" not in message


def test_a_non_utf8_line_deep_in_a_file_is_counted_across_chunks() -> None:
    rows = [{**EXAMPLE_ROWS[0], "external_ref": f"R{i}"} for i in range(400)]
    rows.append({**EXAMPLE_ROWS[1], "debtor_name": "Peña"})
    data = _text(rows).encode("latin-1")
    with pytest.raises(UnicodeDecodeError) as raised:
        read_accounts(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""))
    assert str(raised.value).startswith("line 402: byte 0xf1")


async def test_a_non_utf8_job_is_rejected_naming_file_and_line(api: Api) -> None:  # noqa: F811
    queued = await api.queue(_latin1_on_line_3())
    await api.container.scheduler.run_due()
    job = await api.job(queued["id"])
    assert job["status"] == "rejected"
    assert str(job["error"]).startswith("accounts.csv: line 3:")
    assert "must be UTF-8" in str(job["error"])
    assert await api.accounts() == 0


@pytest.mark.parametrize("code", ["XXX", "XAU", "XAG", "XPT", "XPD", "XTS", "XDR", "XBA",
                                  "XBD", "XSU", "XUA", "xau"])
def test_codes_that_are_not_money_are_refused(code: str) -> None:
    errors = validate_row(2, {**EXAMPLE_ROWS[0], "currency": code})
    assert isinstance(errors, list)
    [error] = errors
    assert isinstance(error, RowError)
    assert (error.row, error.column) == (2, "currency")
    assert "not a currency a debt can be owed in" in error.reason


@pytest.mark.parametrize("code", ["USD", "XAF", "XOF", "XCD", "XPF"])
def test_real_currencies_starting_with_x_still_import(code: str) -> None:
    assert isinstance(validate_row(2, {**EXAMPLE_ROWS[0], "currency": code}), AccountRow)


async def test_a_non_utf8_upload_names_its_file_and_line(api: Api) -> None:  # noqa: F811
    response = await api.client.post(
        "/api/accounts/import", files={"file": ("ledger-nov.csv", _latin1_on_line_3())},
        headers=api.auth)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("ledger-nov.csv: line 3: byte 0xe9"), detail
    assert "must be UTF-8" in detail and "position" not in detail
    assert await api.accounts() == 0


@pytest.mark.parametrize(("state", "postal_code", "phone", "zone"), [
    ("FL", "32501", "(850) 555-0142", "America/Chicago"),  # Pensacola: Central, not Eastern
    ("KY", "42001", "(270) 555-0142", "America/Chicago"),  # Paducah
    ("IN", "46320", "(219) 555-0142", "America/Chicago"),  # Hammond, near Chicago
    ("TX", "79901", "(915) 555-0142", "America/Chicago"),  # El Paso: 799 straddles (+Denver)
    ("FL", "33101", "(305) 555-0142", "America/New_York"),  # Miami
    ("FL", "", "(305) 555-0142", "America/New_York"),  # no ZIP: the state's predominant zone
])
def test_an_imported_row_without_a_zone_takes_its_zips_in_a_split_state(
    state: str, postal_code: str, phone: str, zone: str
) -> None:
    row = validate_row(2, {**EXAMPLE_ROWS[0], "state": state, "postal_code": postal_code,
                           "phone": phone})
    assert isinstance(row, AccountRow)
    assert row.timezone == zone


@pytest.mark.parametrize("zone", ["America", "Europe", "Etc"])
def test_a_folder_of_zones_is_a_refused_timezone_not_a_crash(zone: str) -> None:
    # ZoneInfo("America") raises IsADirectoryError, which no one caught: the import crashed.
    errors = validate_row(2, {**EXAMPLE_ROWS[0], "timezone": zone})
    assert isinstance(errors, list) and [e.column for e in errors] == ["timezone"]
    assert debtor_zone(zone).key == DEFAULT_TIMEZONE
