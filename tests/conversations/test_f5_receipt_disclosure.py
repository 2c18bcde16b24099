"""A verified receipt in a language not yet disclosed in carries the full disclosure, once."""

from __future__ import annotations

from sqlalchemy import select

from backend.db.models import Conversation
from bot.dialogs.base import DialogState
from bot.engine import state_key
from bot.responses import Catalog
from tests import test_end_to_end
from tests.backend.test_payment_fixes_receipts import _pay, _verified_by_sms
from tests.test_end_to_end import Parley

parley = test_end_to_end.parley
twilio_api = test_end_to_end.twilio_api
CATALOG = Catalog()
FULL_ES = CATALOG.text("disclosure.mini_miranda", "es")
SHORT_ES = CATALOG.text("disclosure.short", "es")


async def _state_key(parley: Parley, account_id: int) -> str:
    async with parley.container.sessions() as session:
        conversation_id = await session.scalar(
            select(Conversation.id).where(Conversation.account_id == account_id))
    assert conversation_id is not None
    return state_key(conversation_id)


async def _now_in_spanish(parley: Parley, key: str) -> None:
    """The debtor switched to Spanish, and nothing about the debt was said in it yet."""
    states = parley.container.services["state_store"]
    state = DialogState.from_dict(await states.get(key))
    assert state.disclosed_in == ["en"]
    state.language = "es"
    await states.set(key, state.to_dict())


async def test_a_receipt_in_a_new_language_gives_the_full_disclosure_once(
    parley: Parley,
) -> None:
    account_id = await _verified_by_sms(parley)
    key = await _state_key(parley, account_id)
    await _now_in_spanish(parley, key)

    [first] = await _pay(parley, account_id, "es-pay-1")
    assert first.startswith(FULL_ES + "\n"), first
    assert "Hemos recibido su pago de $20.00" in first, first
    stored = DialogState.from_dict(await parley.container.services["state_store"].get(key))
    assert stored.disclosed_in == ["en", "es"] and stored.is_verified(parley.container.clock.now())

    [second] = await _pay(parley, account_id, "es-pay-2")
    assert FULL_ES not in second and SHORT_ES in second, second


async def test_a_receipt_in_a_language_already_disclosed_in_gives_the_short_line(
    parley: Parley,
) -> None:
    account_id = await _verified_by_sms(parley)
    [body] = await _pay(parley, account_id, "en-pay-1")
    assert "This is a communication from a debt collector." in body
    assert "attempt to collect a debt" not in body
