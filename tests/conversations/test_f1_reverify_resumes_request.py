"""Verified at night, asked in the morning to verify again: the night's request is answered."""

from __future__ import annotations

from bot.responses.catalog import Catalog
from tests import test_end_to_end
from tests.channels.helpers import seed_debtor
from tests.conversations.test_held_reply_reverify_engine import MORNING, NIGHT, released
from tests.test_end_to_end import Parley

# The whole app with SMS through a fake Twilio, and the trained NLU.
parley = test_end_to_end.parley
twilio_api = test_end_to_end.twilio_api


async def test_the_request_whose_replies_were_dropped_is_answered_once_verified_again(
    parley: Parley,
) -> None:
    clock = parley.container.clock
    clock.set(NIGHT)  # type: ignore[attr-defined]
    await seed_debtor(parley.container, now=clock.now())
    await parley.texts(1, "hi")
    await parley.texts(2, "04/02/1985")
    await parley.texts(3, "10001")
    assert await parley.texts(4, "how much do I owe?") == []  # held for the morning

    clock.set(MORNING)  # type: ignore[attr-defined]
    [prompt] = await released(parley)
    assert prompt.startswith(Catalog().text("identity.reverify_held", "en"))

    await parley.texts(5, "ok")
    await parley.texts(6, "04/02/1985")
    answer = await parley.texts(7, "10001")
    assert any("420.50" in body for body in answer), answer  # the balance they asked for
    verified = Catalog().text("identity.verified", "en")
    assert not any(body.startswith(verified) for body in answer), answer
