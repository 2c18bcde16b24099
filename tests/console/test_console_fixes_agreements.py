"""Agreement forms: only plain numbers and dates, a plan says what it replaces, links in the
debtor's language."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, Conversation, Debtor, PaymentPlan, Promise
from backend.db.models.enums import Role
from backend.services import ledger
from backend.services.payments.links import PaymentLinks
from backend.services.policy.loader import load_default
from backend.services.policy.store import PolicyStore
from tests.console.conftest import NOW, LoggedIn, Seeder

FIRST = (NOW + timedelta(days=5)).date().isoformat()


@pytest.fixture
def agreeable(console: Container) -> Container:
    """The console with the policy store and payment links installed."""
    console.services["policies"] = PolicyStore(load_default(console.settings.policy_dir))
    console.services["payment_links"] = PaymentLinks(
        console.settings.secret_key, "http://127.0.0.1:8000", console.clock)
    return console


async def _owned(container: Container, seed: Seeder, agent_id: int) -> int:
    cid = await seed("can I pay later?", intent="promise_to_pay", confidence=0.8)
    async with container.sessions.begin() as session:
        await container.services["handoff"].open_handoff(session, cid, "requested_agent", now=NOW)
        await container.services["handoff"].claim(session, cid, agent_id=agent_id, now=NOW)
    return cid


@pytest.mark.parametrize(("path", "form"), [
    ("plan", {"count": "²", "frequency": "monthly", "first": FIRST}),
    ("plan", {"count": "٣", "frequency": "monthly", "first": FIRST}),
    ("plan", {"count": "３", "frequency": "monthly", "first": FIRST}),
    ("plan", {"count": "+3", "frequency": "monthly", "first": FIRST}),
    ("plan", {"count": "3", "frequency": "monthly", "first": "20261130"}),
    ("plan", {"count": "3", "frequency": "monthly", "first": "2026-W49-1"}),
    ("plan", {"count": "120", "frequency": "monthly", "first": "9999-12-01"}),
    ("promise", {"amount": "٣٠.00", "due": FIRST}),
    ("promise", {"amount": "1_000", "due": FIRST}),
    ("promise", {"amount": "2.5e1", "due": FIRST}),
    ("promise", {"amount": "1e999999", "due": FIRST}),
    ("promise", {"amount": "9" * 40, "due": FIRST}),
    ("promise", {"amount": "25.00", "due": "２０２６-12-01"}),
    ("payment-link", {"amount": "1e999999"}),
    ("payment-link", {"amount": "٣٠"}),
])
async def test_only_plain_ascii_numbers_and_dates_are_read(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn, path: str, form: dict[str, str]
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(agreeable, seed, agent_id)
    page = await client.post(f"/console/conversations/{cid}/{path}",
                             data={"csrf_token": token, **form})
    assert page.status_code == 422 and "Not recorded: " in page.text
    assert page.headers["content-type"].startswith("text/html")
    async with agreeable.sessions() as session:
        assert await session.scalar(select(PaymentPlan)) is None
        assert await session.scalar(select(Promise)) is None
    assert agreeable.services["outbox"].submitted == []


async def test_plain_numbers_with_spaces_still_work(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(agreeable, seed, agent_id)
    plan = await client.post(f"/console/conversations/{cid}/plan", data={
        "csrf_token": token, "count": " 3 ", "frequency": "monthly", "first": f" {FIRST} "})
    assert plan.status_code == 303, plan.text[:300]
    async with agreeable.sessions() as session:
        [row] = (await session.scalars(select(PaymentPlan))).all()
        account = await session.get(Account, row.account_id)
        assert account is not None
    assert row.status == "active"
    link = await client.post(f"/console/conversations/{cid}/payment-link",
                             data={"csrf_token": token, "amount": " 10.00 "})
    assert link.status_code == 303


async def _promise(container: Container, cid: int, amount: str) -> None:
    async with container.sessions.begin() as session:
        conversation = await session.get(Conversation, cid)
        assert conversation is not None and conversation.account_id is not None
        account = await session.get(Account, conversation.account_id)
        assert account is not None
        await ledger.record_promise(session, account, Decimal(amount),
                                    (NOW + timedelta(days=3)).date(),
                                    ledger.Origin(now=NOW, conversation_id=cid))


async def test_recording_a_plan_says_what_it_replaces(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(agreeable, seed, agent_id)
    form = {"csrf_token": token, "count": "3", "frequency": "monthly", "first": FIRST}
    url = f"/console/conversations/{cid}/plan"
    await _promise(agreeable, cid, "10.00")
    first = await client.post(url, data=form)
    page = await client.get(first.headers["location"])
    assert "Plan recorded. It cancels 1 open promise." in page.text
    await _promise(agreeable, cid, "10.00")
    await _promise(agreeable, cid, "12.00")
    second = await client.post(url, data=form)
    page = await client.get(second.headers["location"])
    assert ("Plan recorded. It replaces the active plan and cancels 2 open promises."
            in page.text)
    third = await client.post(url, data=form)
    page = await client.get(third.headers["location"])
    assert "Plan recorded. It replaces the active plan." in page.text
    async with agreeable.sessions() as session:
        plans = sorted((await session.scalars(select(PaymentPlan.status))).all())
        promises = set((await session.scalars(select(Promise.status))).all())
    assert plans == ["active", "cancelled", "cancelled"] and promises == {"cancelled"}


async def test_a_plan_replacing_nothing_says_only_recorded(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(agreeable, seed, agent_id)
    posted = await client.post(f"/console/conversations/{cid}/plan", data={
        "csrf_token": token, "count": "3", "frequency": "monthly", "first": FIRST})
    page = await client.get(posted.headers["location"])
    assert "Plan recorded." in page.text and "It replaces" not in page.text
    assert "It cancels" not in page.text


async def test_a_crafted_replaced_link_shows_no_text_of_its_own(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, _, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(agreeable, seed, agent_id)
    page = await client.get(f"/console/conversations/{cid}?notice=plan_replaced&reason=call+us")
    # Notices are vouched for by the console's signed cookie: a crafted link shows none.
    assert "Plan recorded." not in page.text and "call us" not in page.text


async def _language(container: Container, cid: int, conversation: str | None,
                    preferred: str) -> None:
    async with container.sessions.begin() as session:
        row = await session.get(Conversation, cid)
        assert row is not None and row.debtor_id is not None
        row.language = conversation
        debtor = await session.get(Debtor, row.debtor_id)
        assert debtor is not None
        debtor.preferred_language = preferred


@pytest.mark.parametrize(("conversation", "preferred", "opening"), [
    ("es", "en", "Puede pagar $30.00 de forma segura aquí: "),
    (None, "es", "Puede pagar $30.00 de forma segura aquí: "),
    ("en", "es", "You can pay $30.00 securely here: "),
    (None, "en", "You can pay $30.00 securely here: "),
])
async def test_the_payment_link_is_written_in_the_debtors_language(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn, conversation: str | None,
    preferred: str, opening: str,
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(agreeable, seed, agent_id)
    await _language(agreeable, cid, conversation, preferred)
    response = await client.post(f"/console/conversations/{cid}/payment-link", data={
        "csrf_token": token, "amount": "30.00", "recipient_verified": "true"})
    assert response.status_code == 303
    [outbound] = agreeable.services["outbox"].submitted
    assert outbound.text.startswith(opening + "http://127.0.0.1:8000/pay/"), outbound.text
    assert outbound.discusses_debt
