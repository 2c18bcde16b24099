"""Verified by SMS at night, asked in the morning to verify again, and asked for identity."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.responses.catalog import Catalog
from tests import test_end_to_end
from tests.channels.helpers import seed_debtor
from tests.test_end_to_end import Parley

# The whole app with SMS through a fake Twilio, and the trained NLU.
parley = test_end_to_end.parley
twilio_api = test_end_to_end.twilio_api
NIGHT = datetime(2026, 11, 26, 3, 39, tzinfo=UTC)  # 22:39 in New York
MORNING = datetime(2026, 11, 26, 13, 1, tzinfo=UTC)  # 08:01 in New York


async def released(parley: Parley) -> list[str]:
    """What the morning's release sent (the app's own job loop may be the one running it)."""
    outbox = parley.container.services["outbox"]
    for _ in range(50):
        if len(parley.twilio.calls("/Messages.json")) > parley.sent_before:
            break
        await outbox.release_due(parley.container.clock.now())
        await asyncio.sleep(0.1)
    calls = parley.twilio.calls("/Messages.json")
    new, parley.sent_before = calls[parley.sent_before:], len(calls)
    return [call.form["Body"] for call in new]


async def test_the_morning_asks_to_verify_again_and_the_next_message_is_asked_identity(
    parley: Parley,
) -> None:
    clock = parley.container.clock
    clock.set(NIGHT)  # type: ignore[attr-defined]
    await seed_debtor(parley.container, now=clock.now())
    await parley.texts(1, "how much do I owe?")
    await parley.texts(2, "04/02/1985")
    assert await parley.texts(3, "10001") == []  # the verified answer waits for the morning

    clock.set(MORNING)  # type: ignore[attr-defined]
    [prompt] = await released(parley)
    assert prompt.startswith(Catalog().text("identity.reverify_held", "en"))
    assert "420.50" not in prompt

    answer = await parley.texts(4, "how much do I owe?")
    assert answer and not any("420.50" in body for body in answer)  # identity first
    assert any("date of birth" in body for body in answer), answer
