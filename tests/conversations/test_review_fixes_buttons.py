"""Review fix: a press on a button of an older message is closed, never "not understood"."""

from __future__ import annotations

from sqlalchemy import func, select

from backend.db.models import Handoff, PaymentPlan
from tests.conversations.conftest import Chat


async def _count(chat: Chat, model: type) -> int:
    async with chat.container.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_old_option_pressed_after_the_plan_is_set(chat: Chat) -> None:
    await chat.verify()
    menu = await chat.says("can I get a payment plan")
    assert [c.value for c in menu.replies[-1].choices][:2] == ["option:0", "option:1"]
    assert [r.key for r in (await chat.says("option:2")).replies] == ["plan.recorded"]
    for _ in range(3):
        out = await chat.says("option:1")
        assert [r.key for r in out.replies] == ["stale.plan_set"]
        assert "no longer open" in out.replies[0].text
    assert await _count(chat, Handoff) == 0
    assert await _count(chat, PaymentPlan) == 1


async def test_an_old_yes_does_not_agree_to_what_is_on_the_table_now(chat: Chat) -> None:
    await chat.verify()
    await chat.says("can I get a payment plan")
    out = await chat.says("intent:affirm")
    assert [r.key for r in out.replies] == ["stale.latest"]
    picked = await chat.says("option:1")  # the options stay open
    assert [r.key for r in picked.replies] == ["plan.recorded"]


async def test_an_old_press_before_verification_says_nothing_of_the_debt(chat: Chat) -> None:
    await chat.says("hi")
    out = await chat.says("option:1")
    assert [r.key for r in out.replies] == ["stale.closed"]
    assert not chat.outbox.messages[-1].discusses_debt
    assert [r.key for r in (await chat.says("03/14/1985")).replies] == [
        "identity.next.postal_code"]


async def test_an_old_menu_button_still_does_what_it_says(chat: Chat) -> None:
    await chat.verify()
    await chat.says("can I get a payment plan")
    await chat.says("option:1")
    out = await chat.says("intent:request_agent")
    assert [r.key for r in out.replies] == ["handoff.agent"]
