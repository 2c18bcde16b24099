"""Noting a receipt's full disclosure in the working state leaves the rest of it as it was."""

from __future__ import annotations

from backend.services.payments.receipts import Receipt, record_disclosure
from bot.dialogs.base import DialogState
from bot.engine import state_key
from bot.state import MemoryStateStore


async def test_recording_the_disclosure_keeps_the_rest_of_the_state() -> None:
    states = MemoryStateStore()
    state = DialogState(flow="confirm", disclosed_in=["en"], language="es")
    await states.set(state_key(7), state.to_dict())
    await record_disclosure(states, Receipt(message_id=1, conversation_id=7, disclosed_in="es"))
    stored = DialogState.from_dict(await states.get(state_key(7)))
    assert (stored.flow, stored.language, stored.disclosed_in) == ("confirm", "es", ["en", "es"])
    await record_disclosure(states, Receipt(message_id=2, conversation_id=7))
    assert DialogState.from_dict(await states.get(state_key(7))).disclosed_in == ["en", "es"]
