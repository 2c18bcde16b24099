"""The portable write path (SQLite and any other database): executemany per table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, ContactPoint, Debtor
from backend.services.imports.changes import BULK_AUDITED, BulkChange, bulk_change
from backend.services.imports.opt_ins import WHATSAPP, OptIn, created, whatsapp_opt_ins
from backend.services.imports.records import (
    DEBTOR_FIELDS,
    Existing,
    Keyed,
    contacts,
    debtor_changes,
    debtor_values,
    merged_changes,
    unchanged_terms,
)
from backend.services.imports.rows import AccountRow, RowError

ACCOUNT: Table = Account.__table__  # type: ignore[assignment]
DEBTOR: Table = Debtor.__table__  # type: ignore[assignment]
CONTACT: Table = ContactPoint.__table__  # type: ignore[assignment]


@dataclass
class Written:
    """What one chunk did: accounts created and updated, rows refused, WhatsApp points added
    (with their opt-ins), debtors whose consent date or identity factors changed, and how
    many phone and email contact points were added."""

    created: int
    updated: int
    refused: list[RowError]
    points: list[tuple[int, OptIn]]
    changed: list[BulkChange]
    contacts_added: int


async def upsert_chunk(session: AsyncSession, keyed: list[Keyed], now: datetime) -> Written:
    """Insert new accounts and update existing ones.

    Existing accounts keep their currency and balances (the ledger's); rows that contradict
    them are refused.
    """
    existing = await _existing(session, keyed)
    new = [(k, r) for k, r in keyed if k[:2] not in existing]
    old, refused = unchanged_terms([(k, r) for k, r in keyed if k[:2] in existing], existing)
    chunk = [row for _, row in new + old]
    debtor_of: dict[int, int] = {r.row: existing[k[:2]][1] for k, r in old}
    new_debtor_ids = await _insert_debtors(session, [r for _, r in new], now)
    debtor_of.update({r.row: d for (_, r), d in zip(new, new_debtor_ids, strict=True)})
    await _insert_accounts(session, new, debtor_of, now)
    changed = await _changed_debtors(session, [r for _, r in old], debtor_of)
    await _update_debtors(session, [r for _, r in old], debtor_of)
    await _update_accounts(session, old, existing, now)
    added = await _insert_contacts(session, chunk, debtor_of, now)
    points = await _insert_whatsapp(session, whatsapp_opt_ins(chunk, debtor_of), now)
    return Written(len(new), len(old), refused, points, changed, added)


async def _existing(session: AsyncSession, keyed: list[Keyed]) -> Existing:
    by_creditor: dict[int, list[str]] = {}
    for (creditor_id, ref, _), _row in keyed:
        by_creditor.setdefault(creditor_id, []).append(ref)
    found: Existing = {}
    columns = (ACCOUNT.c.id, ACCOUNT.c.debtor_id, ACCOUNT.c.currency, ACCOUNT.c.original_balance)
    for creditor_id, refs in by_creditor.items():
        result = await session.execute(
            select(ACCOUNT.c.external_ref, *columns).where(
                ACCOUNT.c.creditor_id == creditor_id, ACCOUNT.c.external_ref.in_(refs)
            )
        )
        found.update({(creditor_id, ref): tuple(stored) for ref, *stored in result})
    return found


async def _insert_debtors(
    session: AsyncSession, rows: list[AccountRow], now: datetime
) -> list[int]:
    if not rows:
        return []
    params = [{**debtor_values(r), "created_at": now} for r in rows]
    if session.get_bind().dialect.name == "sqlite":
        return await _insert_sqlite_debtors(session, params)
    result = await session.execute(
        insert(DEBTOR).returning(DEBTOR.c.id, sort_by_parameter_order=True), params
    )
    return [row_id for (row_id,) in result]


async def _insert_sqlite_debtors(session: AsyncSession, params: list[dict[str, Any]]) -> list[int]:
    """Insert debtors in one executemany, their ids given after the largest one.

    SQLite cannot promise the order of a multi-row RETURNING, so SQLAlchemy would insert
    row by row (most of an import's time). It lets one writer in at a time: once the first
    row is in, nobody else can add a debtor before this transaction ends, and the ids after
    the largest are ours to give, the ones SQLite would have chosen.
    """
    first = await session.scalar(insert(DEBTOR).returning(DEBTOR.c.id), params[0])
    top = int(await session.scalar(select(func.max(DEBTOR.c.id))) or 0)
    rest = [{**p, "id": top + i} for i, p in enumerate(params[1:], start=1)]
    if rest:
        await session.execute(insert(DEBTOR), rest)
    return [int(first or 0), *range(top + 1, top + len(rest) + 1)]


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


async def _changed_debtors(
    session: AsyncSession, rows: list[AccountRow], debtor_of: dict[int, int]
) -> list[BulkChange]:
    """The debtors whose consent date or identity factors the rows change (read before)."""
    if not rows:
        return []
    given: dict[int, tuple[Any, ...]] = {}
    for row in rows:  # rows sharing a debtor: the later one wins where it gives a value
        debtor_id = debtor_of[row.row]
        given[debtor_id] = merged_changes(given.get(debtor_id), _audited(debtor_changes(row)))
    columns = [DEBTOR.c[name] for name in BULK_AUDITED]
    stored = await session.execute(
        select(DEBTOR.c.id, *columns).where(DEBTOR.c.id.in_(list(given)))
    )
    found = (bulk_change(int(i), tuple(values), given[int(i)]) for i, *values in stored)
    return sorted((c for c in found if c is not None), key=lambda c: c.debtor_id)


def _audited(changes: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(changes[DEBTOR_FIELDS.index(name)] for name in BULK_AUDITED)


async def _update_debtors(
    session: AsyncSession, rows: list[AccountRow], debtor_of: dict[int, int]
) -> None:
    if not rows:
        return
    # Executed in row order, so a later row sharing a debtor wins where it gives a value; an
    # empty cell (None from `debtor_changes`) keeps what is stored.
    stmt = (
        DEBTOR.update()
        .where(DEBTOR.c.id == bindparam("b_id"))
        .values({
            name: func.coalesce(bindparam(f"b_{name}", type_=DEBTOR.c[name].type), DEBTOR.c[name])
            for name in DEBTOR_FIELDS
        })
    )
    names = [f"b_{name}" for name in DEBTOR_FIELDS]
    params = [
        {"b_id": debtor_of[r.row], **dict(zip(names, debtor_changes(r), strict=True))}
        for r in rows
    ]
    await (await session.connection()).execute(stmt, params)


async def _update_accounts(
    session: AsyncSession, old: list[Keyed], existing: Existing, now: datetime
) -> None:
    if not old:
        return
    stmt = ACCOUNT.update().where(ACCOUNT.c.id == bindparam("b_id")).values(
        portfolio_id=bindparam("b_portfolio_id"), due_date=bindparam("b_due"),
        updated_at=bindparam("b_now", type_=ACCOUNT.c.updated_at.type),
    )
    params = [
        {"b_id": existing[key[:2]][0], "b_portfolio_id": key[2], "b_due": row.due_date,
         "b_now": now}
        for key, row in old
    ]
    await (await session.connection()).execute(stmt, params)


def _contact_insert(session: AsyncSession) -> Any:
    """INSERT … ON CONFLICT DO NOTHING: a number the debtor has keeps its row as it is."""
    dialect = session.get_bind().dialect.name
    builder = pg_insert if dialect == "postgresql" else sqlite_insert
    return builder(CONTACT).on_conflict_do_nothing(
        index_elements=["debtor_id", "channel", "address"]
    )


async def _insert_contacts(
    session: AsyncSession, rows: Sequence[AccountRow], debtor_of: dict[int, int], now: datetime
) -> int:
    """Add the rows' phone and email contact points the debtors lack; how many were added."""
    params = [
        {
            "debtor_id": debtor_id,
            "channel": channel,
            "address": address,
            "consent": True,
            "wrong_party": False,
            "created_at": now,
        }
        for debtor_id, channel, address in contacts(rows, debtor_of)
    ]
    if not params:
        return 0
    result = await session.execute(_contact_insert(session), params)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def _insert_whatsapp(
    session: AsyncSession, opt_ins: list[OptIn], now: datetime
) -> list[tuple[int, OptIn]]:
    """Add the WhatsApp numbers the debtors lack (consent: the row's opt-in); the ones added."""
    if not opt_ins:
        return []
    params = [
        {"debtor_id": o.debtor_id, "channel": WHATSAPP, "address": o.address, "consent": True,
         "wrong_party": False, "created_at": now}
        for o in opt_ins
    ]
    stmt = _contact_insert(session).returning(
        CONTACT.c.id, CONTACT.c.debtor_id, CONTACT.c.address
    )
    result = await session.execute(stmt, params)
    return created(opt_ins, result.tuples())
