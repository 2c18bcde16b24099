"""The link sent with an agreed settlement opens until the date the debtor was told to pay by
(the end of that day in their calendar, plus the lifecycle's grace days), then expires."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx

from backend.api.app import create_app
from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.settings import Settings
from bot.clock import SettableClock
from nlu.types import Interpreter
from tests.conversations.test_review_fixes_negotiation_notes import _chat

NEW_YORK = ZoneInfo("America/New_York")
EXPIRED = "invalid or expired"


async def _settlement_link(container: Container, interpreter: Interpreter) -> str:
    """The `/pay/…` path of the link sent with a settlement due December 9, 2026 (14 days
    after the clock's November 25)."""
    chat = await _chat(
        container, interpreter, balance=Decimal("4032.33"), original_balance=Decimal("4032.33")
    )
    assert [r.key for r in (await chat.says("can I settle for $3,427.49?")).replies] == [
        "settlement.confirm"
    ]
    [reply] = (await chat.says("yes")).replies
    assert reply.key == "settlement.recorded" and "by December 9, 2026" in reply.text
    found = re.search(r"/pay/[\w.-]+", reply.text)
    assert found is not None
    return found.group()


async def test_the_settlement_link_opens_on_its_due_day_and_after_then_expires(
    container: Container, interpreter: Interpreter, settings: Settings, clock: SettableClock
) -> None:
    path = await _settlement_link(container, interpreter)
    app = create_app(settings, clock=clock, migrate=False, extensions=(install_conversations,))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as web:

            async def status_on(day: int, hour: int, minute: int = 0) -> int:
                clock.set(datetime(2026, 12, day, hour, minute, tzinfo=NEW_YORK))
                page = await web.get(path)
                assert (page.status_code == 404) == (EXPIRED in page.text)
                return page.status_code

            assert await status_on(3, 12) == 200  # past the old 7 days
            assert await status_on(9, 14) == 200  # the due day
            assert await status_on(10, 14) == 200  # the day after
            # The default lifecycle's longest grace is 3 days: the link closes after Dec 12.
            assert await status_on(12, 23, 59) == 200
            assert await status_on(13, 0, 1) == 404
            clock.advance(timedelta(days=30))
            assert (await web.get(path)).status_code == 404
