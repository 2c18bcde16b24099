"""S24: START (UNSTOP, ALTA) is the number's consent on the channel it came from, so the sends
that need consent go to it again; the same number's other channel keeps its own."""

from __future__ import annotations

from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, ContactPoint
from bot.messages import ConversationKey
from tests.conversations import test_number_optout_same_number as same_number
from tests.conversations.conftest import PHONE, Chat

_gate = same_number._gate
on_whatsapp_only = same_number.on_whatsapp_only  # a debtor whose file gives PHONE for WhatsApp


async def _point(container: Container, channel: str) -> ContactPoint:
    async with container.sessions() as session:
        point = await session.scalar(
            select(ContactPoint).where(
                ContactPoint.channel == channel, ContactPoint.address == PHONE
            )
        )
    assert point is not None
    return point


def _on_sms(whatsapp: Chat) -> Chat:
    """The same number texting: it belongs to the WhatsApp number's debtor."""
    return Chat(whatsapp.container, ConversationKey("sms", PHONE), whatsapp.outbox)


async def test_after_stop_and_start_the_texted_number_has_consent_and_reminders_go(
    on_whatsapp_only: tuple[Chat, int],
) -> None:
    whatsapp, account_id = on_whatsapp_only
    sms = _on_sms(whatsapp)
    assert [r.key for r in (await sms.says("STOP")).replies] == ["optout.confirm"]
    stopped = await _point(sms.container, "sms")  # created by the STOP, without consent
    assert stopped.opted_out_at is not None and stopped.consent is False
    assert [r.key for r in (await sms.says("START")).replies] == ["optin.confirm"]
    started = await _point(sms.container, "sms")
    assert started.opted_out_at is None and started.consent is True
    assert await _gate(sms.container, "sms", account_id) == "allowed"
    assert await _gate(sms.container, "whatsapp", account_id) == "opted_out"  # its own START


async def test_a_start_on_the_other_channel_leaves_this_ones_consent(
    on_whatsapp_only: tuple[Chat, int],
) -> None:
    whatsapp, account_id = on_whatsapp_only
    sms = _on_sms(whatsapp)
    await sms.says("STOP")
    assert [r.key for r in (await whatsapp.says("START")).replies] == ["optin.confirm"]
    assert (await _point(sms.container, "whatsapp")).opted_out_at is None
    held = await _point(sms.container, "sms")
    assert held.opted_out_at is not None and held.consent is False
    assert await _gate(sms.container, "sms", account_id) == "opted_out"


async def test_start_gives_consent_to_a_number_that_never_stopped(
    on_whatsapp_only: tuple[Chat, int],
) -> None:
    """A point without consent that is not opted out (one a START lifted before START
    recorded consent): the holder's START now gives it."""
    whatsapp, account_id = on_whatsapp_only
    sms = _on_sms(whatsapp)
    await sms.says("hi")
    async with sms.container.sessions.begin() as session:
        debtor_id = await session.scalar(select(Account.debtor_id))
        assert debtor_id is not None
        session.add(
            ContactPoint(
                debtor_id=debtor_id,
                channel="sms",
                address=PHONE,
                consent=False,
                created_at=sms.container.clock.now(),
            )
        )
    assert await _gate(sms.container, "sms", account_id) == "no_consent"
    assert [r.key for r in (await sms.says("START")).replies] == ["optin.confirm"]
    assert (await _point(sms.container, "sms")).consent is True
    assert await _gate(sms.container, "sms", account_id) == "allowed"
