"""WhatsApp contact points from an import, and the audit record of each one's opt-in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models.enums import Channel
from backend.services import audit
from backend.services.compliance.service import mask
from backend.services.imports.rows import AccountRow

WHATSAPP = Channel.WHATSAPP.value
ACTION = "contact.opted_in"


@dataclass(frozen=True, slots=True)
class OptIn:
    """A WhatsApp number to add to a debtor, with the row that brought its opt-in."""

    debtor_id: int
    address: str
    row: AccountRow


def whatsapp_opt_ins(rows: Sequence[AccountRow], debtor_of: dict[int, int]) -> list[OptIn]:
    """The rows' WhatsApp numbers (validated rows carry one only with its opt-in time)."""
    return [OptIn(debtor_of[r.row], r.whatsapp, r) for r in rows if r.whatsapp]


def created(opt_ins: Sequence[OptIn], returned: Iterable[tuple[int, int, str]]
            ) -> list[tuple[int, OptIn]]:
    """(contact point id, opt-in) for the (id, debtor id, address) rows an insert returned.

    The insert skips a number the debtor already has (opted out, wrong party or not), so only
    the points this import created are returned and recorded.
    """
    by_key = {(o.debtor_id, o.address): o for o in opt_ins}
    return [(int(i), by_key[(int(d), a)]) for i, d, a in returned]


async def record_opt_ins(
    session: AsyncSession, points: Sequence[tuple[int, OptIn]], now: datetime, actor: str
) -> None:
    """One audit event per WhatsApp contact point created, holding its opt-in time.

    The contact point has no opt-in column; the hash-chained audit log keeps the evidence
    (compliance.md D item 53: who opted in, when, on whose word).
    """
    for contact_id, opt_in in points:
        row = opt_in.row
        assert row.whatsapp_opt_in_at is not None  # rows.py refuses a number without one
        await audit.record(
            session, occurred_at=now, actor=actor, action=ACTION,
            subject_type="contact_point", subject_id=contact_id,
            data={"channel": WHATSAPP, "address": mask(opt_in.address),
                  "opted_in_at": row.whatsapp_opt_in_at.isoformat(), "source": "import",
                  "creditor": row.creditor, "external_ref": row.external_ref},
        )
