"""Two debtors on one phone: the identity answers decide whose conversation it is."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from backend.container import Container
from backend.db.models import Account, AuditEvent, Conversation, Handoff
from backend.services import audit
from backend.services.identity_attempts import failed_identity_answers
from backend.services.imports.writer import upsert_accounts
from tests.conversations.conftest import Chat, account_row

HER_DOB, HER_ZIP = "07/02/1990", "11215"


async def _seed_her(container: Container, **overrides: object) -> int:
    """A second debtor on the same phone, owing $345.67 on her own account."""
    values: dict[str, object] = dict(
        row=3,
        external_ref="ACME-777888",
        debtor_name="Mary Roe",
        date_of_birth=date(1990, 7, 2),
        postal_code="11215",
        balance=Decimal("345.67"),
        original_balance=Decimal("345.67"),
    )
    values.update(overrides)
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row(**values)], container.clock.now())
    async with container.sessions() as session:
        found = await session.scalar(
            select(Account.id).where(Account.external_ref == values["external_ref"])
        )
    assert found is not None
    return int(found)


async def _conversation(chat: Chat) -> Conversation:
    async with chat.container.sessions() as session:
        found = await session.scalar(
            select(Conversation).where(Conversation.address == chat.key.address)
        )
    assert found is not None
    return found


async def _actions(chat: Chat, action: str) -> list[AuditEvent]:
    async with chat.container.sessions() as session:
        return list(
            (await session.scalars(select(AuditEvent).where(AuditEvent.action == action))).all()
        )


def _texts(chat: Chat) -> str:
    return "\n".join(chat.outbox.texts)


async def test_the_second_holder_verifies_with_her_own_answers(chat: Chat, account_id: int) -> None:
    hers = await _seed_her(chat.container)
    await chat.says("hi")
    after_dob = await chat.says(HER_DOB)
    verified = await chat.says(HER_ZIP)

    assert [r.key for r in after_dob.replies] == ["identity.next.postal_code"]
    assert [r.key for r in verified.replies] == ["identity.verified"]
    conversation = await _conversation(chat)
    assert conversation.account_id == hers
    [relinked] = await _actions(chat, "conversation.relinked")
    assert relinked.data["from_account_id"] == account_id
    assert relinked.data["to_account_id"] == hers
    assert set(relinked.data) == {
        "from_debtor_id",
        "to_debtor_id",
        "from_account_id",
        "to_account_id",
    }
    balance = await chat.says("how much do I owe?")
    said = "\n".join(r.text for r in balance.replies)
    assert "345.67" in said and "1,200" not in said and "1200" not in said
    assert "1,200" not in _texts(chat)
    assert {m.account_id for m in chat.outbox.messages[-len(balance.replies) :]} == {hers}


async def test_his_answers_still_verify_him(chat: Chat, account_id: int) -> None:
    await _seed_her(chat.container)
    await chat.verify()

    assert (await _conversation(chat)).account_id == account_id
    assert await _actions(chat, "conversation.relinked") == []
    said = "\n".join(r.text for r in (await chat.says("how much do I owe?")).replies)
    assert "1,200.00" in said and "345.67" not in said


async def test_her_date_with_his_zip_is_a_wrong_answer(chat: Chat, account_id: int) -> None:
    await _seed_her(chat.container)
    await chat.says("hi")
    await chat.says(HER_DOB)
    wrong = await chat.says("10001")

    assert [r.key for r in wrong.replies] == ["identity.retry.date_of_birth"]
    assert (await _conversation(chat)).account_id == account_id


async def test_wrong_answers_count_against_every_holder_and_disclose_nothing(
    chat: Chat, account_id: int
) -> None:
    hers = await _seed_her(chat.container)
    await chat.says("what's my balance?")
    keys = [r.key for text in ("01/01/1970", "02/02/1971") for r in (await chat.says(text)).replies]

    assert keys == ["identity.retry.date_of_birth", "identity.locked"]
    now = chat.container.clock.now()
    async with chat.container.sessions() as session:
        assert await failed_identity_answers(session, account_id, now) == 2
        assert await failed_identity_answers(session, hers, now) == 2
    assert "345.67" not in _texts(chat) and "1,200" not in _texts(chat)
    assert (await _conversation(chat)).account_id == account_id


async def test_her_attempts_used_elsewhere_lock_the_shared_number(chat: Chat) -> None:
    hers = await _seed_her(chat.container)
    now = chat.container.clock.now()
    async with chat.container.sessions.begin() as session:
        for _ in range(2):
            await audit.record(
                session,
                occurred_at=now,
                actor="bot",
                action="identity.failed",
                subject_type="account",
                subject_id=hers,
                data={},
            )

    assert [r.key for r in (await chat.says("hi")).replies] == ["identity.locked"]


async def test_identical_answers_are_one_person_and_verify_the_linked_account(
    chat: Chat, account_id: int
) -> None:
    # The importer makes a debtor row for each new account: one person with two accounts on
    # one phone gives the same answers for both.
    await _seed_her(chat.container, date_of_birth=date(1985, 3, 14), postal_code="10001")
    await chat.says("hi")
    await chat.says("03/14/1985")
    verified = await chat.says("10001")

    assert "identity.verified" in [r.key for r in verified.replies]
    async with chat.container.sessions() as session:
        assert (await session.scalars(select(Handoff))).all() == []
    assert (await _conversation(chat)).account_id == account_id
    assert "345.67" not in _texts(chat)
