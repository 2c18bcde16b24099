"""The visible schedule names the channel the sender would use, not the step's first one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from backend.container import Container
from backend.db.models import ContactPoint
from backend.workflow.schedule import planned_contacts
from bot.clock import SettableClock
from tests.workflow import seed

WHATSAPP = "+12125559900"


async def _d15_channel(container: Container, clock: SettableClock,
                       whatsapp: dict[str, object] | None) -> str | None:
    """The projected channel of default.yml's d+15 step (WhatsApp first, then SMS)."""
    now = clock.now()
    acct = await seed.activated_account(container, now, now.date() - timedelta(days=8))
    async with container.sessions.begin() as session:
        if whatsapp is not None:
            session.add(ContactPoint(debtor_id=acct.debtor_id, channel="whatsapp",
                                     address=WHATSAPP, created_at=now, **whatsapp))
            await session.flush()
        views = await planned_contacts(session, acct.id, now)
    [d15] = [v for v in views if v.step == "d+15"]
    assert d15.status == "projected"
    return d15.channel


@pytest.mark.parametrize(("whatsapp", "expected"), [
    pytest.param(None, "sms", id="no-whatsapp"),
    pytest.param({"consent": True}, "whatsapp", id="whatsapp-reachable"),
    pytest.param({"consent": False}, "sms", id="whatsapp-without-consent"),
    pytest.param({"consent": True, "wrong_party": True}, "sms", id="whatsapp-wrong-party"),
])
async def test_the_projection_names_the_first_reachable_channel(
    wf_container: Container, clock: SettableClock, whatsapp: dict[str, object] | None,
    expected: str,
) -> None:
    assert await _d15_channel(wf_container, clock, whatsapp) == expected


async def test_an_opted_out_whatsapp_is_projected_as_sms(
    wf_container: Container, clock: SettableClock,
) -> None:
    opted_out = {"consent": True, "opted_out_at": clock.now() - timedelta(days=1)}
    assert await _d15_channel(wf_container, clock, opted_out) == "sms"


async def test_a_step_no_channel_reaches_is_projected_without_one(
    wf_container: Container, clock: SettableClock,
) -> None:
    now = clock.now()
    acct = await seed.activated_account(wf_container, now, now.date() - timedelta(days=8))
    async with wf_container.sessions.begin() as session:
        await session.execute(update(ContactPoint).where(
            ContactPoint.debtor_id == acct.debtor_id).values(wrong_party=True))
        views = await planned_contacts(session, acct.id, now)
    assert [(v.step, v.channel) for v in views] == [("d+15", None), ("d+30", None)]
