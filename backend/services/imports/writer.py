"""The bulk upsert of validated account rows, keyed by (creditor, external reference)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backend.services.imports import portable
from backend.services.imports.changes import BulkChange
from backend.services.imports.opt_ins import record_opt_ins
from backend.services.imports.pg_copy import CopyWriter, Records, Resolved
from backend.services.imports.portfolios import PortfolioIds
from backend.services.imports.records import Keyed
from backend.services.imports.rows import AccountRow, RowError

CHUNK = 2000
PG_CHUNK = 5000


@dataclass
class UpsertCounts:
    """How many accounts were created and how many updated; the rows refused, and why."""

    created: int = 0
    updated: int = 0
    # Rows for existing accounts whose currency or original balance the file contradicts.
    refused: list[RowError] = field(default_factory=list)
    # WhatsApp contact points added (each with its opt-in recorded in the audit log).
    whatsapp_added: int = 0
    # Phone and email contact points added, and the existing debtors whose consent date or
    # identity factors changed (the import's caller audits them).
    contacts_added: int = 0
    changed: list[BulkChange] = field(default_factory=list)


@dataclass
class Chunk:
    """One chunk on its way to the database; `work` is what the write path needs next."""

    size: int
    work: list[Keyed] | Resolved | Records


class AccountWriter:
    """Creates or updates chunks of rows inside the caller's transaction, counting them.

    PostgreSQL streams new rows with COPY and updates with one statement per table per
    chunk; other databases (SQLite) take the portable executemany path. A chunk is
    `prepare`d (ids looked up), `build`t (pure Python) and `send`t; `write` does all three.
    """

    def __init__(self, session: AsyncSession, now: datetime, actor: str = "import") -> None:
        self.session, self.now, self.actor = session, now, actor
        self.ids = PortfolioIds(session, now)
        self.counts = UpsertCounts()
        postgres = session.get_bind().dialect.name == "postgresql"
        self.copy = CopyWriter(session, now) if postgres else None
        self.chunk_size = PG_CHUNK if self.copy else CHUNK

    async def connect(self) -> None:
        """Open the transaction's connection now, so the first chunk does not wait for it."""
        if self.copy:
            await self.copy.connection()
        else:
            await self.session.connection()

    async def write(self, rows: Sequence[AccountRow]) -> None:
        """Write one chunk (at most `chunk_size` rows)."""
        await self.send(self.build(await self.prepare(rows)))

    async def prepare(self, rows: Sequence[AccountRow]) -> Chunk:
        """Resolve the chunk's creditor, portfolio, account and new debtor ids."""
        keyed = await self.ids.keys(rows)
        if self.copy is None:
            return Chunk(len(rows), keyed)
        return Chunk(len(rows), await self.copy.resolve(keyed, self.ids.created))

    def build(self, chunk: Chunk) -> Chunk:
        """Build what the chunk sends; touches no connection, so it can overlap a send."""
        if self.copy and isinstance(chunk.work, Resolved):
            return Chunk(chunk.size, self.copy.build(chunk.work))
        return chunk

    async def send(self, chunk: Chunk) -> None:
        """Write a built chunk and count it."""
        if self.copy and isinstance(chunk.work, Records):
            points = await self.copy.send(chunk.work)
            work = chunk.work
            written = portable.Written(work.created, work.updated, work.refused, points,
                                       work.changed, work.contacts_added)
        elif isinstance(chunk.work, list):
            written = await portable.upsert_chunk(self.session, chunk.work, self.now)
        else:
            raise TypeError(f"chunk not built: {type(chunk.work).__name__}")
        await record_opt_ins(self.session, written.points, self.now, self.actor)
        self._count(written)

    def _count(self, written: portable.Written) -> None:
        self.counts.created += written.created
        self.counts.updated += written.updated
        self.counts.refused.extend(written.refused)
        self.counts.whatsapp_added += len(written.points)
        self.counts.contacts_added += written.contacts_added
        self.counts.changed.extend(written.changed)


async def upsert_accounts(
    session: AsyncSession,
    rows: Sequence[AccountRow],
    now: datetime,
    progress: Callable[[int], None] | None = None,
    actor: str = "import",
) -> UpsertCounts:
    """Create or update every row inside the caller's transaction (existing accounts keep
    their currency and balances, as in a file import); `actor` signs the opt-in records."""
    writer = AccountWriter(session, now, actor)
    size = writer.chunk_size
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        await writer.write(chunk)
        if progress:
            progress(len(chunk))
    return writer.counts
