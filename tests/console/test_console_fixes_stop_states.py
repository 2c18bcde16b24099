"""Stop-states from the console: each change is kept beside the earlier ones, with its reason."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent, Conversation, Dispute
from backend.db.models.enums import DisputeStatus, Role
from backend.services import ledger
from tests.console.conftest import NOW, LoggedIn, Seeder

FILED = "2026-11-20 bankruptcy: I filed for bankruptcy"


async def _account_of(console: Container, seed: Seeder) -> tuple[int, int]:
    cid = await seed("this is not my debt", intent="dispute_debt")
    async with console.sessions() as session:
        conversation = await session.get(Conversation, cid)
        assert conversation is not None and conversation.account_id is not None
        return cid, conversation.account_id


async def _bankrupt_account(console: Container, seed: Seeder) -> tuple[int, int]:
    cid, account_id = await _account_of(console, seed)
    async with console.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        account.bankruptcy, account.stop_details = True, FILED
    return cid, account_id


async def _change(client: httpx.AsyncClient, token: str, account_id: int, cid: int,
                  state: str, action: str, details: str) -> httpx.Response:
    return await client.post(f"/console/accounts/{account_id}/stop-state", data={
        "csrf_token": token, "state": state, "action": action, "details": details,
        "conversation_id": str(cid)})


async def _stop_events(console: Container, account_id: int) -> list[AuditEvent]:
    async with console.sessions() as session:
        return list(await session.scalars(select(AuditEvent).where(
            AuditEvent.subject_type == "account", AuditEvent.subject_id == str(account_id),
            AuditEvent.action.like("account.stop_state%")).order_by(AuditEvent.id)))


async def test_setting_and_clearing_one_state_keeps_the_others_details(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.SUPERVISOR)
    cid, account_id = await _bankrupt_account(console, seed)
    console.clock.advance(timedelta(days=3))  # type: ignore[attr-defined]
    for action, why in (("set", "executor called"), ("clear", "wrong account, mistake")):
        response = await _change(client, token, account_id, cid, "deceased", action, why)
        assert "notice=stop_state" in response.headers["location"]
    async with console.sessions() as session:
        account = await session.get(Account, account_id)
        assert account is not None
    assert account.bankruptcy and not account.deceased
    assert account.stop_details == "\n".join([
        FILED, "2026-11-28 deceased set: executor called",
        "2026-11-28 deceased cleared: wrong account, mistake"])
    events = await _stop_events(console, account_id)
    assert [(e.action, e.actor, e.data) for e in events] == [
        ("account.stop_state_set", f"agent:{agent_id}",
         {"state": "deceased", "reason": "executor called"}),
        ("account.stop_state_cleared", f"agent:{agent_id}",
         {"state": "deceased", "reason": "wrong account, mistake"}),
    ]
    page = await client.get(f"/console/conversations/{cid}")
    assert ("I filed for bankruptcy<br>2026-11-28 deceased set: executor called<br>"
            in page.text)  # one change a line


async def test_clearing_a_state_that_is_not_set_changes_nothing_and_says_so(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, _ = await logged_in(Role.SUPERVISOR)
    cid, account_id = await _account_of(console, seed)
    async with console.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        account.bankruptcy, account.stop_details = True, FILED
        before = account.updated_at
    response = await _change(client, token, account_id, cid, "cease", "clear", "letter")
    assert response.status_code == 303 and "notice=not_set" in response.headers["location"]
    page = await client.get(response.headers["location"])
    assert "cease is not set on this account: nothing was changed." in page.text
    async with console.sessions() as session:
        account = await session.get(Account, account_id)
        assert account is not None
    assert (account.cease, account.stop_details, account.updated_at) == (False, FILED, before)
    assert await _stop_events(console, account_id) == []


async def test_a_crafted_not_set_link_names_only_a_real_state(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, _, _ = await logged_in(Role.SUPERVISOR)
    cid, _ = await _account_of(console, seed)
    page = await client.get(f"/console/conversations/{cid}?notice=not_set&reason=pay+now")
    # Notices are vouched for by the console's signed cookie: a crafted link shows none.
    assert "pay now" not in page.text
    assert "That stop-state is not set on this account" not in page.text


async def test_clearing_the_dispute_resolves_the_open_disputes_with_the_reason(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.SUPERVISOR)
    cid, account_id = await _account_of(console, seed)
    async with console.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        origin = ledger.Origin(now=NOW, conversation_id=cid)
        first = await ledger.record_dispute(session, account, "not my debt", origin)
        second = await ledger.record_dispute(session, account, "wrong amount", origin)
        first_id, second_id = first.id, second.id
    console.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    why = "verification letter mailed on 2026-11-26"
    response = await _change(client, token, account_id, cid, "dispute", "clear", why)
    assert "notice=disputes_resolved" in response.headers["location"]
    page = await client.get(response.headers["location"])
    assert "open disputes are marked resolved" in page.text
    async with console.sessions() as session:
        account = await session.get(Account, account_id)
        disputes = list(await session.scalars(select(Dispute).order_by(Dispute.id)))
        resolved = list(await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "dispute.resolved").order_by(AuditEvent.id)))
    assert account is not None and not account.dispute
    assert [(d.status, d.resolved_at) for d in disputes] == [
        (DisputeStatus.RESOLVED, NOW + timedelta(days=2))] * 2
    assert [(e.actor, e.subject_id, e.data) for e in resolved] == [
        (f"agent:{agent_id}", str(account_id),
         {"dispute_id": first_id, "reason": why}),
        (f"agent:{agent_id}", str(account_id),
         {"dispute_id": second_id, "reason": why}),
    ]
    [cleared] = await _stop_events(console, account_id)
    assert cleared.data == {"state": "dispute", "reason": why,
                            "disputes_resolved": [first_id, second_id]}


async def test_an_open_dispute_row_alone_is_a_dispute_that_can_be_cleared(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, _ = await logged_in(Role.SUPERVISOR)
    cid, account_id = await _account_of(console, seed)
    async with console.sessions.begin() as session:
        session.add(Dispute(account_id=account_id, reason="prove it", opened_at=NOW))
    response = await _change(client, token, account_id, cid, "dispute", "clear", "verified")
    assert "notice=disputes_resolved" in response.headers["location"]
    async with console.sessions() as session:
        status = await session.scalar(select(Dispute.status))
    assert status == DisputeStatus.RESOLVED


async def test_a_full_stop_details_column_keeps_what_was_there(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, _ = await logged_in(Role.SUPERVISOR)
    cid, account_id = await _account_of(console, seed)
    earlier = FILED + "\n" + "x" * (1960 - len(FILED))
    async with console.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        account.bankruptcy, account.stop_details = True, earlier
    response = await _change(client, token, account_id, cid, "cease", "set", "letter " * 50)
    assert "notice=stop_state" in response.headers["location"]
    async with console.sessions() as session:
        account = await session.get(Account, account_id)
        assert account is not None
    assert account.cease and account.stop_details is not None
    assert account.stop_details.startswith(earlier + "\n2026-11-25 cease")
    assert len(account.stop_details) == 2000 and account.stop_details.endswith("…")
    [event] = await _stop_events(console, account_id)
    assert event.data["reason"] == ("letter " * 50).strip()


async def test_an_unknown_action_changes_no_stop_state(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, _ = await logged_in(Role.SUPERVISOR)
    cid, account_id = await _bankrupt_account(console, seed)
    for action in ("Set", "remove", "on"):
        response = await _change(client, token, account_id, cid, "bankruptcy", action, "typo")
        assert "notice=bad_action" in response.headers["location"]
    async with console.sessions() as session:
        account = await session.get(Account, account_id)
        assert account is not None
    assert account.bankruptcy and account.stop_details == FILED
    assert await _stop_events(console, account_id) == []
