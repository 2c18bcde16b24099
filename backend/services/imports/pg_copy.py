"""The PostgreSQL write path: COPY for new rows, one set-based statement per table for the rest."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.services.imports.changes import BulkChange, bulk_change
from backend.services.imports.opt_ins import WHATSAPP, OptIn, created, whatsapp_opt_ins
from backend.services.imports.records import (
    DEBTOR_FIELDS,
    Existing,
    Keyed,
    contacts,
    debtor_changes,
    debtor_tuple,
    merged_changes,
    unchanged_terms,
)
from backend.services.imports.rows import RowError

ACCOUNT_COPY_COLUMNS = (
    "creditor_id",
    "external_ref",
    "portfolio_id",
    "debtor_id",
    "currency",
    "original_balance",
    "current_balance",
    "due_date",
    "status",
    "dispute",
    "cease",
    "attorney",
    "bankruptcy",
    "deceased",
    "hardship",
    "created_at",
    "updated_at",
)
DEBTOR_COPY_COLUMNS = ("id", *DEBTOR_FIELDS, "created_at")
CONTACT_COPY_COLUMNS = ("debtor_id", "channel", "address", "consent", "wrong_party", "created_at")
NO_FLAGS = (False,) * 6  # dispute, cease, attorney, bankruptcy, deceased, hardship
# A join, not `= ANY($2)`: on a table filled moments ago (no statistics yet) the planner
# scans it and tests every row against the whole array, which is quadratic in the import.
PG_EXISTING = (
    "SELECT a.external_ref, a.id, a.debtor_id, a.currency, a.original_balance"
    " FROM unnest($2::text[]) AS r(ref)"
    " JOIN account AS a ON a.creditor_id = $1 AND a.external_ref = r.ref"
)
PG_DEBTOR_SEQUENCE = "SELECT pg_get_serial_sequence('debtor', 'id')"
# The sequence is named once per import: resolving it per drawn id cost 8x the nextval.
PG_NEXT_IDS = "SELECT array_agg(nextval($1::regclass)) FROM generate_series(1, $2)"
# Updates go through temporary tables filled with COPY: binary COPY encodes a row far more
# cheaply than asyncpg encodes the same values as unnest() arrays.
PG_STAGE_TABLES = (
    """CREATE TEMPORARY TABLE IF NOT EXISTS parley_import_debtor (
      id bigint, full_name text, date_of_birth date, postal_code text, region text,
      country text, timezone text, preferred_language text,
      written_consent_at timestamptz) ON COMMIT DROP""",
    """CREATE TEMPORARY TABLE IF NOT EXISTS parley_import_account (
      id bigint, portfolio_id bigint, currency text, original_balance numeric,
      current_balance numeric, due_date date) ON COMMIT DROP""",
    """CREATE TEMPORARY TABLE IF NOT EXISTS parley_import_contact (
      debtor_id bigint, channel text, address text) ON COMMIT DROP""",
    "TRUNCATE parley_import_debtor, parley_import_account, parley_import_contact",
)
PG_UPDATE_DEBTORS = """
UPDATE debtor AS d SET full_name = u.full_name,
  date_of_birth = COALESCE(u.date_of_birth, d.date_of_birth),
  postal_code = COALESCE(u.postal_code, d.postal_code), region = COALESCE(u.region, d.region),
  country = COALESCE(u.country, d.country), timezone = COALESCE(u.timezone, d.timezone),
  preferred_language = COALESCE(u.preferred_language, d.preferred_language),
  written_consent_at = COALESCE(u.written_consent_at, d.written_consent_at)
FROM parley_import_debtor AS u WHERE d.id = u.id
"""
# Balances and currency are the ledger's once the account exists: a re-import leaves them.
PG_UPDATE_ACCOUNTS = """
UPDATE account AS a SET portfolio_id = u.portfolio_id, due_date = u.due_date, updated_at = $1
FROM parley_import_account AS u WHERE a.id = u.id
"""
# Read before PG_UPDATE_DEBTORS: the stored values of the debtors whose date of birth, postal
# code or written-consent date the staged rows change (an empty cell changes nothing).
PG_CHANGED_DEBTORS = """
SELECT d.id, d.date_of_birth, d.postal_code, d.written_consent_at,
  u.date_of_birth, u.postal_code, u.written_consent_at
FROM parley_import_debtor AS u JOIN debtor AS d ON d.id = u.id
WHERE COALESCE(u.date_of_birth, d.date_of_birth) IS DISTINCT FROM d.date_of_birth
  OR COALESCE(u.postal_code, d.postal_code) IS DISTINCT FROM d.postal_code
  OR COALESCE(u.written_consent_at, d.written_consent_at) IS DISTINCT FROM d.written_consent_at
"""
PG_INSERT_CONTACTS = """
INSERT INTO contact_point (debtor_id, channel, address, consent, wrong_party, created_at)
SELECT u.debtor_id, u.channel, u.address, true, false, $1 FROM parley_import_contact AS u
ON CONFLICT (debtor_id, channel, address) DO NOTHING
"""
# WhatsApp numbers for new and existing debtors alike; RETURNING names the points added, whose
# opt-ins the import then records (a number the debtor has already is left as it is).
PG_INSERT_WHATSAPP = """
INSERT INTO contact_point (debtor_id, channel, address, consent, wrong_party, created_at)
SELECT u.debtor_id, $3, u.address, true, false, $4
FROM unnest($1::bigint[], $2::text[]) AS u(debtor_id, address)
ON CONFLICT (debtor_id, channel, address) DO NOTHING
RETURNING id, debtor_id, address
"""


@dataclass
class Resolved:
    """A chunk split into new and existing accounts, with the ids the new debtors get."""

    new: list[Keyed]
    old: list[Keyed]
    existing: Existing
    debtor_ids: list[int]
    refused: list[RowError] = field(default_factory=list)


@dataclass
class Records:
    """The records one chunk sends: COPY rows for new accounts, staged rows for the rest."""

    created: int
    updated: int
    refused: list[RowError] = field(default_factory=list)
    debtors: list[tuple[Any, ...]] = field(default_factory=list)
    accounts: list[tuple[Any, ...]] = field(default_factory=list)
    contacts: list[tuple[Any, ...]] = field(default_factory=list)
    staged_debtors: list[tuple[Any, ...]] = field(default_factory=list)
    staged_accounts: list[tuple[Any, ...]] = field(default_factory=list)
    staged_contacts: list[tuple[Any, ...]] = field(default_factory=list)
    opt_ins: list[OptIn] = field(default_factory=list)
    # What `send` found: debtors whose consent date or identity factors it changed, and how
    # many phone and email contact points it added.
    changed: list[BulkChange] = field(default_factory=list)
    contacts_added: int = 0


class CopyWriter:
    """Writes chunks of keyed rows through the asyncpg connection under the session.

    A chunk goes through three steps: `resolve` (two quick queries), `build` (pure Python)
    and `send` (the statements that make the database work); keeping them apart lets the
    caller build the next chunk while this one is being sent.
    """

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session, self.now = session, now
        self.driver: Any = None
        self.debtor_sequence: str | None = None
        # References already written under each fresh creditor: a caller may repeat one in
        # a later chunk, and that one must be found and updated.
        self.fresh_written: dict[int, set[str]] = {}

    async def resolve(self, keyed: list[Keyed], fresh: Set[int] = frozenset()) -> Resolved:
        """Find which accounts exist and draw ids for the debtors of the new ones.

        `fresh` creditors were created by this import, so none of their accounts exist.
        """
        driver = await self.connection()
        existing = await _existing(driver, self._unknown(keyed, fresh))
        refused: list[RowError] = []
        if existing:
            new = [(k, r) for k, r in keyed if k[:2] not in existing]
            old, refused = unchanged_terms(
                [(k, r) for k, r in keyed if k[:2] in existing], existing)
        else:
            new, old = keyed, []
        ids: list[int] = []
        if new:
            if self.debtor_sequence is None:
                self.debtor_sequence = await driver.fetchval(PG_DEBTOR_SEQUENCE)
            ids = await driver.fetchval(PG_NEXT_IDS, self.debtor_sequence, len(new))
        return Resolved(new, old, existing, ids, refused)

    def _unknown(self, keyed: list[Keyed], fresh: Set[int]) -> list[Keyed]:
        """The rows whose account may already exist (all but first sightings under `fresh`)."""
        unknown = []
        for item in keyed:
            creditor_id, ref, _ = item[0]
            if creditor_id in fresh:
                written = self.fresh_written.setdefault(creditor_id, set())
                if ref not in written:
                    written.add(ref)
                    continue
            unknown.append(item)
        return unknown

    def build(self, resolved: Resolved) -> Records:
        """Every record the chunk sends, built without touching the connection."""
        now = self.now
        records = Records(len(resolved.new), len(resolved.old), resolved.refused)
        debtor_of: dict[int, int] = {}
        for (key, row), debtor_id in zip(resolved.new, resolved.debtor_ids, strict=True):
            debtor_of[row.row] = debtor_id
            records.debtors.append((debtor_id, *debtor_tuple(row), now))
            records.accounts.append(
                (
                    *key,
                    debtor_id,
                    row.currency,
                    row.original_balance,
                    row.balance,
                    row.due_date,
                    "active",
                    *NO_FLAGS,
                    now,
                    now,
                )
            )
        points = contacts([r for _, r in resolved.new], debtor_of)
        records.contacts = [(*c, True, False, now) for c in points]
        records.opt_ins = whatsapp_opt_ins([r for _, r in resolved.new], debtor_of)
        _stage_old(records, resolved)
        return records

    async def send(self, records: Records) -> list[tuple[int, OptIn]]:
        """COPY the new rows, then apply the staged updates; the WhatsApp points added."""
        driver = await self.connection()
        copy = driver.copy_records_to_table
        if records.created:
            await copy("debtor", columns=DEBTOR_COPY_COLUMNS, records=records.debtors)
            await copy("account", columns=ACCOUNT_COPY_COLUMNS, records=records.accounts)
            # Fresh debtors have no contact points yet, so nothing here can conflict.
            await copy("contact_point", columns=CONTACT_COPY_COLUMNS, records=records.contacts)
            records.contacts_added += len(records.contacts)
        if records.updated:
            for statement in PG_STAGE_TABLES:
                await driver.execute(statement)
            await copy("parley_import_debtor", records=records.staged_debtors)
            await copy("parley_import_account", records=records.staged_accounts)
            await copy("parley_import_contact", records=records.staged_contacts)
            records.changed = _changes(await driver.fetch(PG_CHANGED_DEBTORS))
            await driver.execute(PG_UPDATE_DEBTORS)
            await driver.execute(PG_UPDATE_ACCOUNTS, self.now)
            status = await driver.execute(PG_INSERT_CONTACTS, self.now)  # "INSERT 0 <rows>"
            records.contacts_added += int(status.rsplit(" ", 1)[-1])
        if not records.opt_ins:
            return []
        returned = await driver.fetch(
            PG_INSERT_WHATSAPP, [o.debtor_id for o in records.opt_ins],
            [o.address for o in records.opt_ins], WHATSAPP, self.now)
        return created(records.opt_ins, (tuple(r) for r in returned))

    async def connection(self) -> Any:
        """The asyncpg connection under the session, inside the session's transaction."""
        if self.driver is not None:
            return self.driver
        connection = await self.session.connection()
        driver: Any = (await connection.get_raw_connection()).driver_connection
        if not driver.is_in_transaction():
            # SQLAlchemy's asyncpg adapter sends BEGIN with its first statement; make it
            # happen so our COPY is rolled back with the rest of the import.
            await connection.execute(text("SELECT 1"))
        self.driver = driver
        return driver


async def _existing(driver: Any, keyed: list[Keyed]) -> Existing:
    by_creditor: dict[int, list[str]] = {}
    for (creditor_id, ref, _), _row in keyed:
        by_creditor.setdefault(creditor_id, []).append(ref)
    found: Existing = {}
    for creditor_id, refs in by_creditor.items():
        for ref, *stored in await driver.fetch(PG_EXISTING, creditor_id, refs):
            found[(creditor_id, ref)] = tuple(stored)  # type: ignore[assignment]
    return found


def _changes(rows: list[Any]) -> list[BulkChange]:
    """The changes PG_CHANGED_DEBTORS found: (id, three stored values, three staged)."""
    found = (bulk_change(int(r[0]), tuple(r[1:4]), tuple(r[4:7])) for r in rows)
    return [change for change in found if change is not None]


def _stage_old(records: Records, resolved: Resolved) -> None:
    """Rows for the temporary tables that update existing accounts and their debtors."""
    if not resolved.old:
        return
    existing = resolved.existing
    debtor_of = {row.row: existing[key[:2]][1] for key, row in resolved.old}
    # One update per debtor; when two rows share a debtor the later row wins where it gives
    # a value, and an empty cell keeps what is stored (`debtor_changes`).
    debtors: dict[int, tuple[Any, ...]] = {}
    for _, row in resolved.old:
        debtor_id = debtor_of[row.row]
        debtors[debtor_id] = merged_changes(debtors.get(debtor_id), debtor_changes(row))
    records.staged_debtors = [(i, *d) for i, d in debtors.items()]
    records.staged_accounts = [
        (existing[key[:2]][0], key[2], r.currency, r.original_balance, r.balance, r.due_date)
        for key, r in resolved.old
    ]
    records.staged_contacts = list(contacts([r for _, r in resolved.old], debtor_of))
    records.opt_ins += whatsapp_opt_ins([r for _, r in resolved.old], debtor_of)
