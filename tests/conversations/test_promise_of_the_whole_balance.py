"""Through the engine: a promise of "the whole thing" on a day is a promise of the balance on
that day — read back, or countered with the latest allowed day — never a question about how
much, and the day is kept."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from backend.db.models import Promise
from tests.conversations.conftest import Chat


async def _promises(chat: Chat) -> list[tuple[Decimal, date]]:
    async with chat.container.sessions() as session:
        rows = await session.execute(select(Promise.amount, Promise.due_date))
        return [(amount, due) for amount, due in rows]


async def test_the_whole_thing_on_a_day_is_read_back_as_the_balance(chat: Chat) -> None:
    await chat.verify()
    confirm = await chat.says("I'll pay the whole thing on 2026-12-10")
    assert [r.key for r in confirm.replies] == ["promise.confirm"]
    assert "$1,200.00" in confirm.replies[0].text
    assert [r.key for r in (await chat.says("yes")).replies] == ["promise.recorded"]
    assert await _promises(chat) == [(Decimal("1200.00"), date(2026, 12, 10))]


async def test_the_whole_thing_beyond_the_horizon_is_countered_with_a_day(chat: Chat) -> None:
    await chat.verify()
    countered = await chat.says("I'll pay the whole thing on 2027-03-30")
    assert [r.key for r in countered.replies] == ["promise.counter"]
    assert "$1,200.00" in countered.replies[0].text
    assert await _promises(chat) == []
