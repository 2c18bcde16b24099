"""The bulk upsert of validated account rows, keyed by (creditor, external reference)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, ContactPoint, Creditor, Debtor, Portfolio
from backend.db.models.enums import Channel
from backend.services.imports.rows import AccountRow

CHUNK = 2000
ACCOUNT: Table = Account.__table__  # type: ignore[assignment]
DEBTOR: Table = Debtor.__table__  # type: ignore[assignment]
CONTACT: Table = ContactPoint.__table__  # type: ignore[assignment]


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


async def upsert_accounts(
    session: AsyncSession,
    rows: Sequence[AccountRow],
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> UpsertCounts:
    """Create or update every row inside the caller's transaction."""
    ids = _Ids(session, now)
    counts = UpsertCounts()
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        created, updated = await _upsert_chunk(session, chunk, ids, now)
        counts.created += created
        counts.updated += updated
        if progress:
            progress(len(chunk))
    return counts


async def _upsert_chunk(
    session: AsyncSession, chunk: Sequence[AccountRow], ids: _Ids, now: datetime
) -> tuple[int, int]:
    keyed = [(await _key(ids, row), row) for row in chunk]
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


async def _key(ids: _Ids, row: AccountRow) -> tuple[int, str, int]:
    creditor_id = await ids.creditor(row.creditor)
    return creditor_id, row.external_ref, await ids.portfolio(creditor_id, row.portfolio)


async def _existing(
    session: AsyncSession, keyed: list[tuple[tuple[int, str, int], AccountRow]]
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


def _debtor_values(row: AccountRow) -> dict[str, Any]:
    return {
        "full_name": row.debtor_name,
        "date_of_birth": row.date_of_birth,
        "postal_code": row.postal_code,
        "region": row.region,
        "country": row.country,
        "timezone": row.timezone,
        "preferred_language": row.preferred_language,
    }


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
    new: list[tuple[tuple[int, str, int], AccountRow]],
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
    old: list[tuple[tuple[int, str, int], AccountRow]],
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
            "debtor_id": debtor_of[r.row],
            "channel": channel,
            "address": address,
            "consent": True,
            "wrong_party": False,
            "created_at": now,
        }
        for r in rows
        for channel, address in ((Channel.SMS.value, r.phone), (Channel.EMAIL.value, r.email))
        if address
    ]
    if not params:
        return
    dialect = session.bind.dialect.name
    builder = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = builder(CONTACT).on_conflict_do_nothing(
        index_elements=["debtor_id", "channel", "address"]
    )
    await session.execute(stmt, params)
