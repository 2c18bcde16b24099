"""Audit records of what writing one account did to its debtor and contact points."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import Account, ContactPoint, Debtor
from backend.services import audit
from backend.services.compliance.service import mask
from backend.services.imports.records import DEBTOR_FIELDS

DEBTOR: Table = Debtor.__table__  # type: ignore[assignment]
CONTACT: Table = ContactPoint.__table__  # type: ignore[assignment]
CONSENT_DATE = "written_consent_at"
# Verification answers (compliance.md item 9): the log says they changed, never what to.
IDENTITY_FACTORS = frozenset({"date_of_birth", "postal_code", "reference"})


@dataclass(frozen=True)
class ContactState:
    """One contact point as stored."""

    id: int
    channel: str
    address: str
    consent: bool


@dataclass(frozen=True)
class DebtorState:
    """A debtor's stored columns and contact points at one moment of a write."""

    debtor_id: int
    values: dict[str, Any]
    contacts: dict[tuple[str, str], ContactState]


@dataclass(frozen=True)
class Writer:
    """Who wrote the account, and through which door ("api", "import:<job id>")."""

    actor: str
    source: str
    now: datetime


async def account_debtor(session: AsyncSession, account_id: int) -> DebtorState:
    """The state of the debtor the account belongs to."""
    debtor_id = await session.scalar(select(Account.debtor_id).where(Account.id == account_id))
    assert debtor_id is not None, f"account {account_id} has no debtor"
    return await debtor_state(session, int(debtor_id))


async def debtor_state(session: AsyncSession, debtor_id: int) -> DebtorState:
    """The debtor's columns and contact points, read from the database (not the ORM's cache)."""
    columns = [DEBTOR.c[name] for name in DEBTOR_FIELDS]
    row = (await session.execute(select(*columns).where(DEBTOR.c.id == debtor_id))).one()
    points = await session.execute(
        select(CONTACT.c.id, CONTACT.c.channel, CONTACT.c.address, CONTACT.c.consent).where(
            CONTACT.c.debtor_id == debtor_id
        )
    )
    contacts = {(c, a): ContactState(int(i), c, a, bool(ok)) for i, c, a, ok in points}
    return DebtorState(debtor_id, dict(zip(DEBTOR_FIELDS, row, strict=True)), contacts)


def changed_fields(before: DebtorState, after: DebtorState) -> list[str]:
    """The debtor's columns whose stored value the write changed, in DEBTOR_FIELDS order."""
    return [name for name in DEBTOR_FIELDS if before.values[name] != after.values[name]]


def added_contacts(before: DebtorState | None, after: DebtorState) -> list[ContactState]:
    """The contact points the write created, in the order they were stored."""
    known = before.contacts if before else {}
    return sorted((c for k, c in after.contacts.items() if k not in known), key=lambda c: c.id)


async def record_created(
    session: AsyncSession, after: DebtorState, account_id: int, writer: Writer
) -> None:
    """`debtor.created` (with the written-consent date given) and its contact points."""
    given = [name for name in DEBTOR_FIELDS if after.values[name] is not None]
    await audit.record(
        session,
        occurred_at=writer.now,
        actor=writer.actor,
        action="debtor.created",
        subject_type="debtor",
        subject_id=after.debtor_id,
        data={
            "account_id": account_id,
            "source": writer.source,
            "fields": given,
            CONSENT_DATE: _when(after.values[CONSENT_DATE]),
        },
    )
    await record_contacts(session, after.debtor_id, added_contacts(None, after), writer)


async def record_changes(
    session: AsyncSession,
    before: DebtorState,
    after: DebtorState,
    account_id: int,
    writer: Writer,
) -> None:
    """`debtor.changed` when a column changed, and `contact.added` per new contact point."""
    fields = changed_fields(before, after)
    if fields:
        await audit.record(
            session,
            occurred_at=writer.now,
            actor=writer.actor,
            action="debtor.changed",
            subject_type="debtor",
            subject_id=after.debtor_id,
            data=_change_data(fields, before, after, account_id, writer.source),
        )
    await record_contacts(session, after.debtor_id, added_contacts(before, after), writer)


def _change_data(
    fields: list[str], before: DebtorState, after: DebtorState, account_id: int, source: str
) -> dict[str, Any]:
    """Which fields changed; the consent date's old and new value, no identity answer."""
    data: dict[str, Any] = {"account_id": account_id, "source": source, "fields": fields}
    if CONSENT_DATE in fields:
        data[CONSENT_DATE] = {
            "old": _when(before.values[CONSENT_DATE]),
            "new": _when(after.values[CONSENT_DATE]),
        }
    data["identity_factors_changed"] = [f for f in fields if f in IDENTITY_FACTORS]
    return data


async def record_contacts(
    session: AsyncSession, debtor_id: int, added: list[ContactState], writer: Writer
) -> None:
    """One `contact.added` per contact point created: its consent, and on whose word."""
    for point in added:
        await audit.record(
            session,
            occurred_at=writer.now,
            actor=writer.actor,
            action="contact.added",
            subject_type="contact_point",
            subject_id=point.id,
            data={
                "debtor_id": debtor_id,
                "channel": point.channel,
                "address": mask(point.address),
                "consent": point.consent,
                "source": writer.source,
            },
        )


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True, slots=True)
class BulkChange:
    """An existing debtor whose consent date or identity factors an import changed."""

    debtor_id: int
    fields: tuple[str, ...]
    consent_before: datetime | None
    consent_after: datetime | None


# The debtor columns a bulk import reports changing, one event per debtor that changes any.
BULK_AUDITED = ("date_of_birth", "postal_code", CONSENT_DATE)


def bulk_change(
    debtor_id: int, stored: tuple[Any, ...], given: tuple[Any, ...]
) -> BulkChange | None:
    """The change `given` (BULK_AUDITED values, None for an empty cell) makes to `stored`."""
    fields = tuple(
        name
        for name, old, new in zip(BULK_AUDITED, stored, given, strict=True)
        if new is not None and new != old
    )
    if not fields:
        return None
    consent = BULK_AUDITED.index(CONSENT_DATE)
    after = given[consent] if given[consent] is not None else stored[consent]
    return BulkChange(debtor_id, fields, stored[consent], after)


async def record_bulk(
    session: AsyncSession, found: list[BulkChange], contacts_added: int, writer: Writer
) -> None:
    """One `debtor.changed` per debtor an import changed; one count of the contacts it added.

    A contact point per event would cost more than the import itself (one hash each), so an
    import's new contact points are counted in one `import.contacts_added` event.
    """
    for change in found:
        data: dict[str, Any] = {
            "source": writer.source,
            "fields": list(change.fields),
            "identity_factors_changed": [f for f in change.fields if f in IDENTITY_FACTORS],
        }
        if CONSENT_DATE in change.fields:
            data[CONSENT_DATE] = {
                "old": _when(change.consent_before),
                "new": _when(change.consent_after),
            }
        await audit.record(
            session,
            occurred_at=writer.now,
            actor=writer.actor,
            action="debtor.changed",
            subject_type="debtor",
            subject_id=change.debtor_id,
            data=data,
        )
    if contacts_added:
        await audit.record(
            session,
            occurred_at=writer.now,
            actor=writer.actor,
            action="import.contacts_added",
            subject_type="import",
            data={"count": contacts_added, "consent": True, "source": writer.source},
        )
