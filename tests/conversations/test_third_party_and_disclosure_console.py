"""An agent's reply in Spanish after an English disclosure carries the full Spanish one."""

from __future__ import annotations

import httpx

from backend.container import Container
from backend.db.models.enums import Role
from bot.dialogs.base import DialogState
from bot.engine import state_key
from bot.responses import Renderer
from bot.state import MemoryStateStore
from tests.console import conftest as console_fixtures

# The console's fixtures, for this test outside tests/console.
console_app = console_fixtures.console_app
console = console_fixtures.console
make_agent = console_fixtures.make_agent
logged_in = console_fixtures.logged_in
seed = console_fixtures.seed
NOW = console_fixtures.NOW

MINI_MIRANDA_EN = "This is a communication from a debt collector. This is an attempt"
MINI_MIRANDA_ES = "Esta es una comunicación de un cobrador de deudas. Es un intento"
SHORT_ES = "Esta es una comunicación de un cobrador de deudas.\n"


async def _verified_in(states: MemoryStateStore, cid: int, language: str) -> None:
    state = DialogState.from_dict(await states.get(state_key(cid)))
    state.language = language
    state.verified_until = NOW.replace(year=NOW.year + 1).isoformat()
    await states.set(state_key(cid), state.to_dict())


async def _reply(client: httpx.AsyncClient, token: str, cid: int, text: str, nonce: str
                 ) -> str:
    response = await client.post(f"/console/conversations/{cid}/reply", data={
        "csrf_token": token, "text": text, "nonce": nonce, "discusses_debt": "true"})
    assert response.status_code == 303
    return str(response.headers["location"])


async def test_an_agents_first_spanish_reply_about_the_debt_carries_the_full_spanish_one(
    console: Container, seed: console_fixtures.Seeder,
    logged_in: console_fixtures.LoggedIn,
) -> None:
    states = MemoryStateStore()
    console.services["renderer"], console.services["state_store"] = Renderer(), states
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await seed("I want to talk to a person")
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(session, cid, "request_agent", now=NOW)
        await console.services["handoff"].claim(session, cid, agent_id=agent_id, now=NOW)
    await _verified_in(states, cid, "en")
    await _reply(client, token, cid, "Your balance is 1027.02.", "en1")
    await _verified_in(states, cid, "es")  # the debtor wrote in Spanish since
    await _reply(client, token, cid, "Su saldo es 1027.02.", "es1")
    await _reply(client, token, cid, "¿Puede pagar 100 el viernes?", "es2")
    english, spanish, again = (o.text for o in console.services["outbox"].submitted)
    assert english.startswith(MINI_MIRANDA_EN)
    assert spanish.startswith(MINI_MIRANDA_ES) and "Su saldo es 1027.02." in spanish
    assert SHORT_ES in again and MINI_MIRANDA_ES not in again
