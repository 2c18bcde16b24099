"""The documented account CSV columns, and the template file with example rows."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Column:
    """One CSV column: its name, whether it is required, and what it holds."""

    name: str
    required: bool
    meaning: str


COLUMNS: tuple[Column, ...] = (
    Column("external_ref", True, "the creditor's account reference; unique per creditor"),
    Column("creditor", True, "creditor name (created when new)"),
    Column("portfolio", True, "portfolio name within the creditor (created when new)"),
    Column("debtor_name", True, "the debtor's full name"),
    Column("phone", False, "mobile number; national (US) or international; stored as E.164"),
    Column("email", False, "email address"),
    Column("date_of_birth", False, "YYYY-MM-DD; used to verify identity"),
    Column("postal_code", False, "ZIP or postal code; used to verify identity"),
    Column("state", False, "two-letter state/region code, e.g. TX"),
    Column("country", False, "ISO-3166 alpha-2 country, default US"),
    Column("timezone", False, "IANA zone, e.g. America/Chicago; derived from state or phone"),
    Column("currency", True, "ISO-4217 code with at most 2 decimals, e.g. USD"),
    Column("balance", True, "current balance owed, e.g. 1250.00 (not negative)"),
    Column("original_balance", False, "balance at placement; defaults to balance"),
    Column("due_date", True, "YYYY-MM-DD the debt fell due"),
    Column("preferred_language", False, "en or es, default en"),
    Column("whatsapp_phone", False, "WhatsApp number, written like phone; with its opt-in time"),
    Column(
        "whatsapp_opt_in_at",
        False,
        "when the WhatsApp opt-in was collected: YYYY-MM-DDTHH:MM[:SS] with Z or a UTC offset",
    ),
    Column(
        "written_consent_at",
        False,
        "when the debtor consented in writing to texts and chat messages (required before "
        "outreach to an NYC address): written like whatsapp_opt_in_at",
    ),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)
REQUIRED = frozenset(c.name for c in COLUMNS if c.required)

EXAMPLE_ROWS = (
    {
        "external_ref": "ACME-000123",
        "creditor": "Acme Bank",
        "portfolio": "Credit cards",
        "debtor_name": "Maria Lopez",
        "phone": "(713) 555-0123",
        "email": "maria@example.com",
        "date_of_birth": "1985-04-12",
        "postal_code": "77002",
        "state": "TX",
        "country": "US",
        "timezone": "",
        "currency": "USD",
        "balance": "1250.00",
        "original_balance": "1500.00",
        "due_date": "2026-08-01",
        "preferred_language": "es",
        "whatsapp_phone": "",
        "whatsapp_opt_in_at": "",
        "written_consent_at": "",
    },
    {
        "external_ref": "ACME-000124",
        "creditor": "Acme Bank",
        "portfolio": "Credit cards",
        "debtor_name": "James Carter",
        "phone": "+1 212 555 1234",
        "email": "",
        "date_of_birth": "1979-11-30",
        "postal_code": "10001",
        "state": "NY",
        "country": "US",
        "timezone": "America/New_York",
        "currency": "USD",
        "balance": "310.45",
        "original_balance": "",
        "due_date": "2026-10-15",
        "preferred_language": "en",
        "whatsapp_phone": "",
        "whatsapp_opt_in_at": "",
        "written_consent_at": "",
    },
    {
        "external_ref": "NW-88",
        "creditor": "Northwind Utilities",
        "portfolio": "Residential",
        "debtor_name": "Ana Ruiz",
        "phone": "305-555-0199",
        "email": "",
        "date_of_birth": "",
        "postal_code": "33101",
        "state": "FL",
        "country": "US",
        "timezone": "",
        "currency": "USD",
        "balance": "89.99",
        "original_balance": "89.99",
        "due_date": "2026-09-20",
        "preferred_language": "en",
        "whatsapp_phone": "305-555-0199",
        "whatsapp_opt_in_at": "2026-03-02T13:45:00-05:00",
        "written_consent_at": "",
    },
)


def write_template(path: Path) -> None:
    """Write the header with every column and the example rows."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMN_NAMES)
        writer.writeheader()
        writer.writerows(EXAMPLE_ROWS)
