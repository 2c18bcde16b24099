"""Through the engine: "no" to the bot's day with another amount asks which day; the refused
day is never read back, and no promise is recorded on it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from backend.db.models import Promise
from tests.conversations.conftest import Chat


async def _promises(chat: Chat) -> list[tuple[Decimal, date]]:
    async with chat.container.sessions() as session:
        rows = await session.execute(select(Promise.amount, Promise.due_date).order_by(Promise.id))
        return [(amount, due) for amount, due in rows]


async def test_another_amount_after_the_bots_day_asks_which_day(chat: Chat) -> None:
    await chat.verify()
    countered = await chat.says("I'll pay $200 on 2027-02-15")
    assert [r.key for r in countered.replies] == ["promise.counter"]
    bots_day = countered.replies[0].text.split(" by ")[1].split(".")[0]

    refused = await chat.says("no. I'll pay $100 on my next payday")
    assert [r.key for r in refused.replies] == ["promise.ask_date"]
    assert bots_day not in refused.replies[0].text
    assert [r.key for r in (await chat.says("yes")).replies] != ["promise.recorded"]
    assert await _promises(chat) == []

    confirm = await chat.says("2026-12-10")
    assert [r.key for r in confirm.replies] == ["promise.confirm"]
    assert [r.key for r in (await chat.says("yes")).replies] == ["promise.recorded"]
    assert await _promises(chat) == [(Decimal("100.00"), date(2026, 12, 10))]
