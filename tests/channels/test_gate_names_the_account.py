"""The gate reads the account's creditor name and reference from the database (A.2 item 9)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, update

from backend.container import Container
from backend.db.models import Account, Creditor
from backend.services.compliance.facts import load_facts
from backend.services.compliance.rules import load_rules
from backend.services.compliance.service import ComplianceGate
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.channels.helpers import PHONE, seed_debtor

RULES = load_rules()
GATE = ComplianceGate(RULES)
NAMES_THE_CREDITOR = "Hi, a note from Acme Bank for you."
NAMES_THE_REFERENCE = "Hi, this is about your file ACC-1234."
NEUTRAL = "Hi, a colleague will call you tomorrow."


async def _seed(container: Container, reference: str = "ACC-1234", dispute: bool = False) -> int:
    """A debtor in New York whose account is `reference` with Acme Bank; the account id."""
    _, account_id = await seed_debtor(container, now=container.clock.now(), dispute=dispute)
    async with container.sessions.begin() as session:
        account = await session.get(Account, account_id)
        assert account is not None
        account.external_ref = reference
        await session.execute(
            update(Creditor).where(Creditor.id == account.creditor_id).values(name="Acme Bank")
        )
    return account_id


def _agent(account_id: int, text: str, verified: bool = False) -> OutboundMessage:
    return OutboundMessage(
        ConversationKey("sms", PHONE),
        text,
        purpose=Purpose.AGENT,
        account_id=account_id,
        recipient_verified=verified,
    )


async def _decide(container: Container, outbound: OutboundMessage) -> Any:
    async with container.sessions() as session:
        return await GATE.preview(session, outbound, None, container.clock.now())


async def test_the_facts_carry_the_creditor_name_and_the_reference(container: Container) -> None:
    account_id = await _seed(container)
    async with container.sessions() as session:
        facts = await load_facts(
            session, _agent(account_id, NEUTRAL), None, container.clock.now(), RULES
        )
    assert (facts.creditor_name, facts.account_reference) == ("Acme Bank", "ACC-1234")


@pytest.mark.parametrize(
    "text", [NAMES_THE_CREDITOR, NAMES_THE_REFERENCE, "ACME BANK: about acc-1234"]
)
async def test_naming_the_account_is_held_until_the_debtor_is_verified(
    container: Container,
    text: str,
) -> None:
    account_id = await _seed(container)
    unverified = await _decide(container, _agent(account_id, text))
    assert (unverified.status, unverified.reason) == ("blocked", "identity_unverified")
    assert unverified.details["debt_mention"] == "account"  # the kind, never the words
    assert (await _decide(container, _agent(account_id, text, verified=True))).allowed
    assert (await _decide(container, _agent(account_id, NEUTRAL))).allowed


@pytest.mark.parametrize("text", [NAMES_THE_CREDITOR, NAMES_THE_REFERENCE])
async def test_naming_a_disputed_account_is_held_even_once_verified(
    container: Container,
    text: str,
) -> None:
    account_id = await _seed(container, dispute=True)
    decision = await _decide(container, _agent(account_id, text, verified=True))
    assert (decision.status, decision.reason) == ("blocked", "dispute_pause")
    assert decision.details["debt_mention"] == "account"
    assert (await _decide(container, _agent(account_id, NEUTRAL, verified=True))).allowed


async def test_a_reference_too_short_to_tell_from_a_word_does_not_block(
    container: Container,
) -> None:
    # debt_mentions.MIN_TERM_LENGTH: "A1" would match ordinary replies; the creditor still counts.
    account_id = await _seed(container, reference="A1")
    assert (await _decide(container, _agent(account_id, "Reply A1 to confirm."))).allowed
    assert not (await _decide(container, _agent(account_id, NAMES_THE_CREDITOR))).allowed


async def test_the_names_cost_no_extra_statement(container: Container) -> None:
    # docs/BENCHMARKS.md "Conversations": the account, the debtor, one facts read (their phones
    # among the facts).
    account_id = await _seed(container)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(container.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with container.sessions() as session:
            await load_facts(
                session, _agent(account_id, NEUTRAL), None, container.clock.now(), RULES
            )
    finally:
        event.remove(container.engine.sync_engine, "before_cursor_execute", count)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 3
