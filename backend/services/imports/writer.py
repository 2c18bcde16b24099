"""The bulk upsert of validated account rows, keyed by (creditor, external reference)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, ContactPoint, Creditor, Debtor, Portfolio
from backend.db.models.enums import Channel
from backend.services.imports.rows import AccountRow

CHUNK = 2000
PG_CHUNK = 10_000
ACCOUNT: Table = Account.__table__  # type: ignore[assignment]
DEBTOR: Table = Debtor.__table__  # type: ignore[assignment]
CONTACT: Table = ContactPoint.__table__  # type: ignore[assignment]
DEBTOR_FIELDS = (
    "full_name",
    "date_of_birth",
    "postal_code",
    "region",
    "country",
    "timezone",
    "preferred_language",
)
Keyed = tuple[tuple[int, str, int], AccountRow]


@dataclass
class UpsertCounts:
    """How many accounts were created and how many updated."""

    created: int = 0
    updated: int = 0


class _Ids:
    """Creditor and portfolio ids by name, created on first use."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session, self.now = session, now
        self.creditors: dict[str, int] = {}
        self.portfolios: dict[tuple[int, str], int] = {}

    async def creditor(self, name: str) -> int:
        if name not in self.creditors:
            row = await self.session.scalar(select(Creditor).where(Creditor.name == name))
            if row is None:
                row = Creditor(name=name, created_at=self.now)
                self.session.add(row)
                await self.session.flush()
            self.creditors[name] = row.id
        return self.creditors[name]

    async def portfolio(self, creditor_id: int, name: str) -> int:
        key = (creditor_id, name)
        if key not in self.portfolios:
            row = await self.session.scalar(
                select(Portfolio).where(
                    Portfolio.creditor_id == creditor_id, Portfolio.name == name
                )
            )
            if row is None:
                row = Portfolio(creditor_id=creditor_id, name=name, policy={}, created_at=self.now)
                self.session.add(row)
                await self.session.flush()
            self.portfolios[key] = row.id
        return self.portfolios[key]

    async def keys(self, rows: Sequence[AccountRow]) -> list[Keyed]:
        """Each row with its (creditor id, external_ref, portfolio id), names resolved once."""
        for creditor, portfolio in dict.fromkeys((r.creditor, r.portfolio) for r in rows):
            await self.portfolio(await self.creditor(creditor), portfolio)
        keyed = []
        for row in rows:
            creditor_id = self.creditors[row.creditor]
            portfolio_id = self.portfolios[(creditor_id, row.portfolio)]
            keyed.append(((creditor_id, row.external_ref, portfolio_id), row))
        return keyed


async def upsert_accounts(
    session: AsyncSession,
    rows: Sequence[AccountRow],
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> UpsertCounts:
    """Create or update every row inside the caller's transaction.

    PostgreSQL streams new rows with COPY and updates with one statement per table per
    chunk; other databases (SQLite) take the portable executemany path.
    """
    ids = _Ids(session, now)
    counts = UpsertCounts()
    postgres = session.bind.dialect.name == "postgresql"
    write, size = (_copy_chunk, PG_CHUNK) if postgres else (_upsert_chunk, CHUNK)
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        created, updated = await write(session, await ids.keys(chunk), now)
        counts.created += created
        counts.updated += updated
        if progress:
            progress(len(chunk))
    return counts


async def _upsert_chunk(
    session: AsyncSession, keyed: list[Keyed], now: datetime
) -> tuple[int, int]:
    chunk = [row for _, row in keyed]
    existing = await _existing(session, keyed)
    new = [(k, r) for k, r in keyed if k[:2] not in existing]
    old = [(k, r) for k, r in keyed if k[:2] in existing]
    debtor_of: dict[int, int] = {r.row: existing[k[:2]][1] for k, r in old}
    new_debtor_ids = await _insert_debtors(session, [r for _, r in new], now)
    debtor_of.update({r.row: d for (_, r), d in zip(new, new_debtor_ids, strict=True)})
    await _insert_accounts(session, new, debtor_of, now)
    await _update_debtors(session, [r for _, r in old], debtor_of)
    await _update_accounts(session, old, existing, now)
    await _insert_contacts(session, chunk, debtor_of, now)
    return len(new), len(old)


async def _existing(
    session: AsyncSession, keyed: list[Keyed]
) -> dict[tuple[int, str], tuple[int, int]]:
    by_creditor: dict[int, list[str]] = {}
    for (creditor_id, ref, _), _row in keyed:
        by_creditor.setdefault(creditor_id, []).append(ref)
    found: dict[tuple[int, str], tuple[int, int]] = {}
    for creditor_id, refs in by_creditor.items():
        result = await session.execute(
            select(ACCOUNT.c.external_ref, ACCOUNT.c.id, ACCOUNT.c.debtor_id).where(
                ACCOUNT.c.creditor_id == creditor_id, ACCOUNT.c.external_ref.in_(refs)
            )
        )
        found.update({(creditor_id, ref): (aid, did) for ref, aid, did in result})
    return found


def _debtor_tuple(row: AccountRow) -> tuple[Any, ...]:
    """The debtor's columns, in DEBTOR_FIELDS order."""
    return (
        row.debtor_name,
        row.date_of_birth,
        row.postal_code,
        row.region,
        row.country,
        row.timezone,
        row.preferred_language,
    )


def _debtor_values(row: AccountRow) -> dict[str, Any]:
    return dict(zip(DEBTOR_FIELDS, _debtor_tuple(row), strict=True))


async def _insert_debtors(
    session: AsyncSession, rows: list[AccountRow], now: datetime
) -> list[int]:
    if not rows:
        return []
    params = [{**_debtor_values(r), "created_at": now} for r in rows]
    result = await session.execute(
        insert(DEBTOR).returning(DEBTOR.c.id, sort_by_parameter_order=True), params
    )
    return [row_id for (row_id,) in result]


async def _insert_accounts(
    session: AsyncSession,
    new: list[Keyed],
    debtor_of: dict[int, int],
    now: datetime,
) -> None:
    if not new:
        return
    params = [
        {
            "creditor_id": key[0],
            "external_ref": key[1],
            "portfolio_id": key[2],
            "debtor_id": debtor_of[row.row],
            "currency": row.currency,
            "original_balance": row.original_balance,
            "current_balance": row.balance,
            "due_date": row.due_date,
            "status": "active",
            "dispute": False,
            "cease": False,
            "attorney": False,
            "bankruptcy": False,
            "deceased": False,
            "hardship": False,
            "created_at": now,
            "updated_at": now,
        }
        for key, row in new
    ]
    await session.execute(insert(ACCOUNT), params)


async def _update_debtors(
    session: AsyncSession, rows: list[AccountRow], debtor_of: dict[int, int]
) -> None:
    if not rows:
        return
    stmt = (
        DEBTOR.update()
        .where(DEBTOR.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}") for name in _debtor_values(rows[0])})
    )
    params = [
        {"b_id": debtor_of[r.row], **{f"b_{k}": v for k, v in _debtor_values(r).items()}}
        for r in rows
    ]
    await (await session.connection()).execute(stmt, params)


async def _update_accounts(
    session: AsyncSession,
    old: list[Keyed],
    existing: dict[tuple[int, str], tuple[int, int]],
    now: datetime,
) -> None:
    if not old:
        return
    stmt = (
        ACCOUNT.update()
        .where(ACCOUNT.c.id == bindparam("b_id"))
        .values(
            portfolio_id=bindparam("b_portfolio_id"),
            currency=bindparam("b_currency"),
            original_balance=bindparam("b_original", type_=ACCOUNT.c.original_balance.type),
            current_balance=bindparam("b_balance", type_=ACCOUNT.c.current_balance.type),
            due_date=bindparam("b_due"),
            updated_at=bindparam("b_now", type_=ACCOUNT.c.updated_at.type),
        )
    )
    params = [
        {
            "b_id": existing[key[:2]][0],
            "b_portfolio_id": key[2],
            "b_currency": row.currency,
            "b_original": row.original_balance,
            "b_balance": row.balance,
            "b_due": row.due_date,
            "b_now": now,
        }
        for key, row in old
    ]
    await (await session.connection()).execute(stmt, params)


async def _insert_contacts(
    session: AsyncSession, rows: Sequence[AccountRow], debtor_of: dict[int, int], now: datetime
) -> None:
    params = [
        {
            "debtor_id": debtor_id,
            "channel": channel,
            "address": address,
            "consent": True,
            "wrong_party": False,
            "created_at": now,
        }
        for debtor_id, channel, address in _contacts(rows, debtor_of)
    ]
    if not params:
        return
    dialect = session.bind.dialect.name
    builder = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = builder(CONTACT).on_conflict_do_nothing(
        index_elements=["debtor_id", "channel", "address"]
    )
    await session.execute(stmt, params)


def _contacts(
    rows: Sequence[AccountRow], debtor_of: dict[int, int]
) -> list[tuple[int, str, str]]:
    """(debtor id, channel, address) for each row's phone and email, in row order."""
    return [
        (debtor_of[r.row], channel, address)
        for r in rows
        for channel, address in ((Channel.SMS.value, r.phone), (Channel.EMAIL.value, r.email))
        if address
    ]


# --- PostgreSQL: COPY for new rows, one set-based statement per table for the rest ---------

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
CONTACT_COPY_COLUMNS = ("debtor_id", "channel", "address", "consent", "wrong_party", "created_at")
# A join, not `= ANY($2)`: on a table filled moments ago (no statistics yet) the planner
# scans it and tests every row against the whole array, which is quadratic in the import.
PG_EXISTING = (
    "SELECT a.external_ref, a.id, a.debtor_id FROM unnest($2::text[]) AS r(ref)"
    " JOIN account AS a ON a.creditor_id = $1 AND a.external_ref = r.ref"
)
PG_NEXT_IDS = (
    "SELECT array_agg(nextval(pg_get_serial_sequence($1, 'id'))) FROM generate_series(1, $2)"
)
# Updates go through temporary tables filled with COPY: binary COPY encodes a row far more
# cheaply than asyncpg encodes the same values as unnest() arrays.
PG_STAGE_TABLES = (
    """CREATE TEMPORARY TABLE IF NOT EXISTS parley_import_debtor (
      id bigint, full_name text, date_of_birth date, postal_code text, region text,
      country text, timezone text, preferred_language text) ON COMMIT DROP""",
    """CREATE TEMPORARY TABLE IF NOT EXISTS parley_import_account (
      id bigint, portfolio_id bigint, currency text, original_balance numeric,
      current_balance numeric, due_date date) ON COMMIT DROP""",
    """CREATE TEMPORARY TABLE IF NOT EXISTS parley_import_contact (
      debtor_id bigint, channel text, address text) ON COMMIT DROP""",
    "TRUNCATE parley_import_debtor, parley_import_account, parley_import_contact",
)
PG_UPDATE_DEBTORS = """
UPDATE debtor AS d SET full_name = u.full_name, date_of_birth = u.date_of_birth,
  postal_code = u.postal_code, region = u.region, country = u.country,
  timezone = u.timezone, preferred_language = u.preferred_language
FROM parley_import_debtor AS u WHERE d.id = u.id
"""
PG_UPDATE_ACCOUNTS = """
UPDATE account AS a SET portfolio_id = u.portfolio_id, currency = u.currency,
  original_balance = u.original_balance, current_balance = u.current_balance,
  due_date = u.due_date, updated_at = $1
FROM parley_import_account AS u WHERE a.id = u.id
"""
PG_INSERT_CONTACTS = """
INSERT INTO contact_point (debtor_id, channel, address, consent, wrong_party, created_at)
SELECT u.debtor_id, u.channel, u.address, true, false, $1 FROM parley_import_contact AS u
ON CONFLICT (debtor_id, channel, address) DO NOTHING
"""


async def _copy_chunk(
    session: AsyncSession, keyed: list[Keyed], now: datetime
) -> tuple[int, int]:
    driver = await _asyncpg_connection(session)
    existing = await _pg_existing(driver, keyed)
    new = [(k, r) for k, r in keyed if k[:2] not in existing]
    old = [(k, r) for k, r in keyed if k[:2] in existing]
    await _pg_insert_new(driver, new, now)
    await _pg_update_old(driver, old, existing, now)
    return len(new), len(old)


async def _asyncpg_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under the session, inside the session's transaction."""
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if not driver.is_in_transaction():
        # SQLAlchemy's asyncpg adapter sends BEGIN with its first statement; make it happen
        # so our COPY is rolled back with the rest of the import.
        await connection.execute(text("SELECT 1"))
    return driver


async def _pg_existing(driver: Any, keyed: list[Keyed]) -> dict[tuple[int, str], tuple[int, int]]:
    by_creditor: dict[int, list[str]] = {}
    for (creditor_id, ref, _), _row in keyed:
        by_creditor.setdefault(creditor_id, []).append(ref)
    found: dict[tuple[int, str], tuple[int, int]] = {}
    for creditor_id, refs in by_creditor.items():
        for ref, account_id, debtor_id in await driver.fetch(PG_EXISTING, creditor_id, refs):
            found[(creditor_id, ref)] = (account_id, debtor_id)
    return found


async def _pg_insert_new(driver: Any, new: list[Keyed], now: datetime) -> None:
    """COPY new debtors (ids drawn from their sequence first), accounts and contacts."""
    if not new:
        return
    ids = await driver.fetchval(PG_NEXT_IDS, "debtor", len(new))
    debtor_of = {row.row: debtor_id for (_, row), debtor_id in zip(new, ids, strict=True)}
    await driver.copy_records_to_table(
        "debtor",
        columns=("id", *DEBTOR_FIELDS, "created_at"),
        records=[(debtor_of[r.row], *_debtor_tuple(r), now) for _, r in new],
    )
    await driver.copy_records_to_table(
        "account",
        columns=ACCOUNT_COPY_COLUMNS,
        records=[_account_record(key, row, debtor_of[row.row], now) for key, row in new],
    )
    # Fresh debtors have no contact points yet, so nothing here can conflict.
    await driver.copy_records_to_table(
        "contact_point",
        columns=CONTACT_COPY_COLUMNS,
        records=[(*c, True, False, now) for c in _contacts([r for _, r in new], debtor_of)],
    )


def _account_record(
    key: tuple[int, str, int], row: AccountRow, debtor_id: int, now: datetime
) -> tuple[Any, ...]:
    flags = (False,) * 6  # dispute, cease, attorney, bankruptcy, deceased, hardship
    return (
        *key,
        debtor_id,
        row.currency,
        row.original_balance,
        row.balance,
        row.due_date,
        "active",
        *flags,
        now,
        now,
    )


async def _pg_update_old(
    driver: Any,
    old: list[Keyed],
    existing: dict[tuple[int, str], tuple[int, int]],
    now: datetime,
) -> None:
    """Update accounts and debtors in place; add contact points they did not have."""
    if not old:
        return
    debtor_of = {row.row: existing[key[:2]][1] for key, row in old}
    # One update per debtor; when two rows share a debtor the later row wins, as before.
    debtors = {debtor_of[row.row]: _debtor_tuple(row) for _, row in old}
    accounts = [
        (existing[key[:2]][0], key[2], r.currency, r.original_balance, r.balance, r.due_date)
        for key, r in old
    ]
    contacts = _contacts([r for _, r in old], debtor_of)
    for statement in PG_STAGE_TABLES:
        await driver.execute(statement)
    copy = driver.copy_records_to_table
    await copy("parley_import_debtor", records=[(i, *d) for i, d in debtors.items()])
    await copy("parley_import_account", records=accounts)
    await copy("parley_import_contact", records=contacts)
    await driver.execute(PG_UPDATE_DEBTORS)
    await driver.execute(PG_UPDATE_ACCOUNTS, now)
    await driver.execute(PG_INSERT_CONTACTS, now)
