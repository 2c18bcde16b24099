"""An agent's reply carries what a bot reply would: the disclosure and the opt-out line."""

from __future__ import annotations

from backend.container import Container
from backend.db.models.enums import Role
from backend.services import audit
from bot.dialogs.base import DialogState
from bot.engine import state_key
from bot.responses import Renderer
from bot.state import MemoryStateStore
from tests.console.conftest import NOW, LoggedIn, Seeder

MINI_MIRANDA = "This is a communication from a debt collector. This is an attempt"
SHORT = "This is a communication from a debt collector."
STOP_LINE = "Reply STOP to stop messages to this number."


async def _claimed(console: Container, seed: Seeder, agent_id: int) -> int:
    cid = await seed("I want to talk to a person")
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(session, cid, "request_agent", now=NOW)
        await console.services["handoff"].claim(session, cid, agent_id=agent_id, now=NOW)
    return cid


def _bot_parts(console: Container) -> MemoryStateStore:
    states = MemoryStateStore()
    console.services["renderer"], console.services["state_store"] = Renderer(), states
    return states


async def _reply(client, token: str, cid: int, text: str, nonce: str,  # type: ignore[no-untyped-def]
                 **form: str) -> None:
    response = await client.post(f"/console/conversations/{cid}/reply", data={
        "csrf_token": token, "text": text, "nonce": nonce, **form})
    assert response.status_code == 303


async def test_the_first_reply_about_the_debt_carries_the_mini_miranda_then_the_short_one(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    _bot_parts(console)
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _claimed(console, seed, agent_id)
    await _reply(client, token, cid, "Your balance is 1027.02; can you pay 100 Friday?", "a",
                 discusses_debt="true", recipient_verified="true")
    await _reply(client, token, cid, "Friday works, thank you.", "b",
                 discusses_debt="true", recipient_verified="true")
    await _reply(client, token, cid, "Have a good day.", "c")
    first, second, third = (o.text for o in console.services["outbox"].submitted)
    assert first.startswith(MINI_MIRANDA) and first.endswith(STOP_LINE)
    assert "Your balance is 1027.02" in first
    assert second.startswith("Friday works") and f"{SHORT}\n{STOP_LINE}" in second
    assert third == f"Have a good day.\n{STOP_LINE}"  # no debt: no disclosure, still STOP


async def test_a_person_the_bot_verified_needs_no_tick_from_the_agent(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    states = _bot_parts(console)
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _claimed(console, seed, agent_id)
    verified = DialogState(language="es")
    verified.verified_until = NOW.replace(year=NOW.year + 1).isoformat()
    await states.set(state_key(cid), verified.to_dict())
    await _reply(client, token, cid, "Su saldo es 1027.02", "v", discusses_debt="true")
    [outbound] = console.services["outbox"].submitted
    assert outbound.recipient_verified and outbound.language == "es"
    assert outbound.text.startswith("Esta es una comunicación de un cobrador de deudas")
    assert outbound.text.endswith("Responda STOP para dejar de recibir mensajes en este número.")


async def test_the_page_says_what_the_bot_knows_of_who_is_writing(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    states = _bot_parts(console)
    client, _, agent_id = await logged_in(Role.AGENT)
    cid = await _claimed(console, seed, agent_id)
    page = (await client.get(f"/console/conversations/{cid}")).text
    assert "Identity: not verified in this conversation" in page
    await states.set(state_key(cid), DialogState(attempts=3, locked=True).to_dict())
    page = (await client.get(f"/console/conversations/{cid}")).text
    assert "Identity: not verified: locked after 3 failed attempts" in page
    verified = DialogState()
    verified.verify(NOW, 30)
    await states.set(state_key(cid), verified.to_dict())
    page = (await client.get(f"/console/conversations/{cid}")).text
    assert "Identity: verified by the bot until 15:30 UTC" in page


async def test_after_a_restart_the_page_still_shows_the_accounts_wrong_answers(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    _bot_parts(console)  # a fresh state store: what a restart leaves
    client, _, agent_id = await logged_in(Role.AGENT)
    cid = await _claimed(console, seed, agent_id)
    async with console.sessions.begin() as session:
        for attempt in (1, 2):
            await audit.record(session, occurred_at=NOW, actor="bot", action="identity.failed",
                               subject_type="conversation", subject_id=cid,
                               data={"attempt": attempt})
    page = (await client.get(f"/console/conversations/{cid}")).text
    assert "Identity: not verified (2 wrong identity answer(s) on this account" in page
