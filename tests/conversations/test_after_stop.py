"""After the bot acknowledged a STOP it stays silent, yet what the debtor writes later that
changes the law's hold on the account (bankruptcy, an attorney, STOP ALL) is still acted on."""

from __future__ import annotations

from sqlalchemy import select

from backend.db.models import Account, ContactPoint, Handoff
from tests.conversations.conftest import Chat


async def _stopped(chat: Chat) -> None:
    first = await chat.says("STOP")
    assert [r.key for r in first.replies] == ["optout.confirm"]


async def test_bankruptcy_after_stop_is_recorded_and_read_by_a_person(chat: Chat) -> None:
    await _stopped(chat)
    later = await chat.says("I filed for bankruptcy last week, chapter 7")
    assert later.replies == []
    async with chat.container.sessions() as session:
        account = await session.scalar(select(Account))
        reasons = (await session.scalars(select(Handoff.reason))).all()
    assert account is not None and account.bankruptcy
    assert "bankruptcy" in (account.stop_details or "")
    assert reasons == ["bankruptcy"]


async def test_an_attorney_after_stop_is_recorded(chat: Chat) -> None:
    await _stopped(chat)
    assert (await chat.says("talk to my lawyer Jane Doe at 555-0100")).replies == []
    async with chat.container.sessions() as session:
        account = await session.scalar(select(Account))
    assert account is not None and account.attorney


async def test_stop_all_after_stop_opts_out_every_channel_silently(chat: Chat) -> None:
    await _stopped(chat)
    async with chat.container.sessions.begin() as session:
        sms = await session.scalar(select(ContactPoint).where(ContactPoint.channel == "sms"))
        assert sms is not None
        session.add(ContactPoint(debtor_id=sms.debtor_id, channel="whatsapp",
                                 address=sms.address, created_at=chat.container.clock.now()))
    assert (await chat.says("STOP ALL")).replies == []
    async with chat.container.sessions() as session:
        points = (await session.scalars(select(ContactPoint))).all()
    assert {p.channel: p.opted_out_at is not None for p in points} == {
        "sms": True, "whatsapp": True}


async def test_small_talk_after_stop_stays_unanswered_and_unassigned(chat: Chat) -> None:
    await _stopped(chat)
    assert (await chat.says("hello?")).replies == []
    async with chat.container.sessions() as session:
        assert (await session.scalars(select(Handoff))).all() == []
