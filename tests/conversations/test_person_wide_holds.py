"""A bankruptcy or a death is a fact about the person: every account of theirs is held."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.db.models import Account
from backend.services.imports.writer import upsert_accounts
from tests.conversations.conftest import Chat, account_row


async def _second_account(chat: Chat, **row: object) -> None:
    async with chat.container.sessions.begin() as session:
        await upsert_accounts(session, [account_row(row=3, external_ref="ACME-777777", **row)],
                              chat.container.clock.now())


async def _flags(chat: Chat, flag: str) -> dict[str, bool]:
    async with chat.container.sessions() as session:
        accounts = (await session.scalars(select(Account).order_by(Account.id))).all()
        return {a.external_ref: getattr(a, flag) for a in accounts}


@pytest.mark.parametrize(("text", "flag"), [
    ("I filed for bankruptcy, chapter 7", "bankruptcy"),
    ("Jane passed away last month", "deceased"),
])
async def test_the_persons_other_account_on_the_same_phone_is_held(
    chat: Chat, text: str, flag: str
) -> None:
    await _second_account(chat, debtor_name="Jane R. Roe")
    await chat.says(text)
    assert await _flags(chat, flag) == {"ACME-123456": True, "ACME-777777": True}


async def test_an_attorney_holds_only_the_debt_it_is_for(chat: Chat) -> None:
    await _second_account(chat)
    await chat.says("talk to my lawyer Jane Doe at 555-0100")
    held = await _flags(chat, "attorney")
    assert sum(held.values()) == 1


async def test_someone_elses_account_on_another_phone_is_not_held(chat: Chat) -> None:
    await _second_account(chat, debtor_name="John Smith", phone="+13125550199",
                          date_of_birth=None)
    await chat.says("I filed for bankruptcy, chapter 7")
    assert sum((await _flags(chat, "bankruptcy")).values()) == 1
