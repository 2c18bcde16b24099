"""A debtor who types card data is told it was deleted, first, and then answered as usual;
read by the real NLU from the message the inbox stored without the card data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import Account
from backend.services.imports.writer import upsert_accounts
from bot.messages import ConversationKey
from nlu.types import Interpreter
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.fakes import CollectingOutbox

NOTICE = "card_data.deleted"
SAID = {
    "en": "For your security, please don't send card numbers, security codes or Social Security "
    "numbers by message. We deleted what you sent.",
    "es": "Por su seguridad, no envíe números de tarjeta, códigos de seguridad ni números de "
    "Seguro Social por mensaje. Hemos eliminado lo que nos envió.",
}
CARD = "4111 1111 1111 1111"


async def _chat(container: Container, interpreter: Interpreter, **row: Any) -> Chat:
    """The New York debtor's phone, read by the real NLU; not verified yet."""
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row(**row)], container.clock.now())
    container.services["outbox"] = CollectingOutbox()
    container.interpreter = interpreter
    install_conversations(None, container)
    return Chat(container, ConversationKey("sms", PHONE), container.services["outbox"])


async def _keys(chat: Chat, text: str) -> list[str]:
    return [r.key for r in (await chat.says(text)).replies]


async def test_the_notice_comes_first_then_the_pay_flow_after_verification(
    container: Container, interpreter: Interpreter
) -> None:
    chat = await _chat(container, interpreter)
    first = await chat.says(f"pay the full amount with my card {CARD}")
    assert [r.key for r in first.replies] == [NOTICE, "identity.ask.date_of_birth"]
    assert first.replies[0].text.startswith(SAID["en"])
    assert await _keys(chat, "03/14/1985") == ["identity.next.postal_code"]
    assert await _keys(chat, "10001") == ["pay.link"]  # the request remembered, answered


async def test_the_notice_comes_first_in_spanish(
    container: Container, interpreter: Interpreter
) -> None:
    chat = await _chat(container, interpreter, preferred_language="es")
    await chat.verify()
    said = await chat.says(f"quiero pagar todo con mi tarjeta {CARD} vence 12/27")
    assert [r.key for r in said.replies] == [NOTICE, "pay.link"]
    assert said.replies[0].text.startswith(SAID["es"])


async def test_card_data_asking_how_to_pay_is_told_how_to_pay(
    container: Container, interpreter: Interpreter
) -> None:
    chat = await _chat(container, interpreter)
    await chat.verify()
    said = await chat.says(f"i want to pay with my card {CARD} exp 12/27 cvv 123")
    assert [r.key for r in said.replies] == [NOTICE, "pay.methods"]  # as without the card


async def test_a_message_without_card_data_gets_no_notice(
    container: Container, interpreter: Interpreter
) -> None:
    chat = await _chat(container, interpreter)
    assert await _keys(chat, "i want to pay with my card") == ["identity.ask.date_of_birth"]


async def test_a_held_account_stays_silent(container: Container, interpreter: Interpreter) -> None:
    chat = await _chat(container, interpreter)
    async with container.sessions.begin() as session:
        account = await session.scalar(select(Account))
        assert account is not None
        account.dispute = True
    assert await _keys(chat, f"here is my card {CARD} cvv 123") == []
