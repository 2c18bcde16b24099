"""A conversation carries its account's portfolio, however it gets linked (portfolio filters)."""

from __future__ import annotations

from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, Conversation
from tests.reports.dataset import Seeded, at


async def test_linking_relinking_and_unlinking_keep_the_portfolio(
    container: Container, seeded: Seeded
) -> None:
    async with container.sessions.begin() as session:
        accounts = {a.portfolio_id: a for a in (await session.scalars(select(Account))).all()}
        cards, loans = accounts[seeded.cards], accounts[seeded.loans]
        conversation = Conversation(channel="sms", address="+15550009999", account_id=cards.id,
                                    started_at=at(11, 1), last_message_at=at(11, 1))
        session.add(conversation)
        await session.flush()
        assert conversation.portfolio_id == seeded.cards
        conversation.account_id = loans.id
        await session.flush()
        assert conversation.portfolio_id == seeded.loans
        conversation.account_id = None
        await session.flush()
        assert conversation.portfolio_id is None
        conversation.last_message_at = at(11, 2)
        conversation.account_id = cards.id
        await session.flush()
    async with container.sessions() as session:
        stored = await session.get(Conversation, conversation.id)
        assert stored is not None and stored.portfolio_id == seeded.cards


async def test_every_seeded_conversation_matches_its_account(
    container: Container, seeded: Seeded
) -> None:
    async with container.sessions() as session:
        rows = (await session.execute(
            select(Conversation.portfolio_id, Account.portfolio_id)
            .outerjoin(Account, Account.id == Conversation.account_id))).all()
    assert rows and all(mine == theirs for mine, theirs in rows)
