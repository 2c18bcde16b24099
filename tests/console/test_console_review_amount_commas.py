"""Agreement amounts: a comma separates thousands only; a decimal comma ("12,50") is refused
with a notice, never read as a hundred times the amount."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, Conversation, Promise
from backend.db.models.enums import Role
from backend.services.payments.links import PaymentLinks
from backend.services.policy.loader import load_default
from backend.services.policy.store import PolicyStore
from tests.console.conftest import NOW, LoggedIn, Seeder

DUE = (NOW + timedelta(days=5)).date().isoformat()
HINT = "a comma only separates thousands (1,250.00); write the cents after a point, like 12.50"


@pytest.fixture
def agreeable(console: Container) -> Container:
    """The console with the policy store and payment links installed."""
    console.services["policies"] = PolicyStore(load_default(console.settings.policy_dir))
    console.services["payment_links"] = PaymentLinks(
        console.settings.secret_key, "http://127.0.0.1:8000", console.clock
    )
    return console


async def _owned(container: Container, seed: Seeder, agent_id: int) -> int:
    """A conversation the agent owns, on an account owing 5,000.00."""
    cid = await seed("can I pay later?", intent="promise_to_pay", confidence=0.8)
    async with container.sessions.begin() as session:
        await container.services["handoff"].open_handoff(session, cid, "requested_agent", now=NOW)
        await container.services["handoff"].claim(session, cid, agent_id=agent_id, now=NOW)
        conversation = await session.get(Conversation, cid)
        assert conversation is not None
        account = await session.get(Account, conversation.account_id)
        assert account is not None
        account.current_balance = account.original_balance = Decimal("5000.00")
    return cid


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("payment-link", {"amount": "12,50"}),
        ("payment-link", {"amount": "1,25"}),
        ("payment-link", {"amount": "1,2500"}),
        ("promise", {"amount": "2,50", "due": DUE}),
        ("promise", {"amount": "12,5", "due": DUE}),
        ("promise", {"amount": ",50", "due": DUE}),
    ],
)
async def test_a_decimal_comma_is_refused_with_a_notice(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn, path: str, form: dict[str, str]
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(agreeable, seed, agent_id)
    page = await client.post(
        f"/console/conversations/{cid}/{path}", data={"csrf_token": token, **form}
    )
    assert page.status_code == 422
    assert f"Not recorded: {HINT}." in page.text
    assert agreeable.services["outbox"].submitted == []
    async with agreeable.sessions() as session:
        assert await session.scalar(select(Promise)) is None


async def test_thousands_commas_are_read_as_thousands(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(agreeable, seed, agent_id)
    promise = await client.post(
        f"/console/conversations/{cid}/promise",
        data={"csrf_token": token, "amount": "1,250.00", "due": DUE},
    )
    assert promise.status_code == 303, promise.text[:300]
    async with agreeable.sessions() as session:
        [row] = (await session.scalars(select(Promise))).all()
    assert row.amount == Decimal("1250.00")
    link = await client.post(
        f"/console/conversations/{cid}/payment-link",
        data={"csrf_token": token, "amount": "1,250", "recipient_verified": "true"},
    )
    assert link.status_code == 303
    [outbound] = agreeable.services["outbox"].submitted
    assert "$1,250.00" in outbound.text


async def test_other_unreadable_amounts_keep_the_plain_hint(
    agreeable: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _owned(agreeable, seed, agent_id)
    page = await client.post(
        f"/console/conversations/{cid}/payment-link", data={"csrf_token": token, "amount": "twelve"}
    )
    assert page.status_code == 422
    assert "Not recorded: give an amount like 25.00 or 1,250.00." in page.text
