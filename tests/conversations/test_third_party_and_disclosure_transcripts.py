"""Someone writing for the debtor is no wrong number, and each language gets its own full
mini-Miranda: transcripts through the engine with the real NLU."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import Account, ContactPoint, Handoff
from backend.services.imports.writer import upsert_accounts
from bot.dialogs.base import DialogState
from bot.messages import ConversationKey
from nlu.types import Interpreter
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.fakes import CollectingOutbox

DAUGHTER = ("Hello, this is her daughter. My mom got this text, she has dementia and can not "
            "handle her own affairs. What is this about?")
MINI_MIRANDA_EN = "This is an attempt to collect a debt"
MINI_MIRANDA_ES = "Es un intento de cobrar una deuda"
SHORT_ES = "Esta es una comunicación de un cobrador de deudas."
# What would tell a third party there is a debt: the creditor, the amount, the words.
DEBT_WORDS = ("Acme", "1,200", "1200", "debt", "deuda", "balance", "saldo", "collect")


@pytest.fixture
async def nlu_chat(container: Container, interpreter: Interpreter) -> Chat:
    """The New York debtor's phone, read by the real NLU; not verified yet."""
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row()], container.clock.now())
    container.services["outbox"] = CollectingOutbox()
    container.interpreter = interpreter
    install_conversations(None, container)
    return Chat(container, ConversationKey("sms", PHONE), container.services["outbox"])


async def _handoffs(chat: Chat) -> list[tuple[str, str, str]]:
    async with chat.container.sessions() as session:
        rows = await session.scalars(select(Handoff).order_by(Handoff.id))
        return [(h.reason, h.queue, h.note or "") for h in rows]


async def _wrong_party(chat: Chat) -> bool:
    async with chat.container.sessions() as session:
        contact = await session.scalar(select(ContactPoint))
    assert contact is not None
    return bool(contact.wrong_party)


async def test_the_daughter_of_a_debtor_with_dementia_reaches_the_hardship_team(
    nlu_chat: Chat,
) -> None:
    out = await nlu_chat.says(DAUGHTER)
    assert [r.key for r in out.replies] == ["wrong_person.for_account_holder"]
    [reply] = out.replies
    assert "only discuss this matter with the person our message was for" in reply.text
    assert not any(word.lower() in reply.text.lower() for word in DEBT_WORDS)
    assert not await _wrong_party(nlu_chat)
    [(reason, queue, note)] = await _handoffs(nlu_chat)
    assert (reason, queue) == ("third_party", "hardship")
    assert "she has dementia and can not handle her own affairs" in note
    assert "incapacity: dementia" in note
    async with nlu_chat.container.sessions() as session:
        account = await session.scalar(select(Account))
    assert account is not None and not (account.deceased or account.attorney)


@pytest.mark.parametrize(("text", "queue", "said"), [
    ("I am her daughter, I handle her bills. why are you texting her", "general",
     "only discuss this matter"),
    ("I have power of attorney for my mother", "general", "only discuss this matter"),
    ("this is her husband, she is in the hospital", "hardship", "only discuss this matter"),
    ("soy su hija, mi mamá tiene demencia", "hardship", "Solo podemos tratar este asunto"),
    ("mi mamá recibió este mensaje, de qué se trata", "general",
     "Solo podemos tratar este asunto"),
    ("le escribo de parte de mi papá", "general", "Solo podemos tratar este asunto"),
])
async def test_someone_writing_for_the_debtor_is_handed_to_a_person(
    nlu_chat: Chat, text: str, queue: str, said: str,
) -> None:
    out = await nlu_chat.says(text)
    assert [r.key for r in out.replies] == ["wrong_person.for_account_holder"]
    assert said in out.replies[0].text
    assert not await _wrong_party(nlu_chat)
    assert [(r, q) for r, q, _ in await _handoffs(nlu_chat)] == [("third_party", queue)]
    async with nlu_chat.container.sessions() as session:
        account = await session.scalar(select(Account))
    assert account is not None and not (account.attorney or account.deceased)


@pytest.mark.parametrize("text", [
    "wrong number", "no one by that name here", "I don't know this person",
    "número equivocado",
])
async def test_a_real_wrong_number_is_still_marked(nlu_chat: Chat, text: str) -> None:
    out = await nlu_chat.says(text)
    assert [r.key for r in out.replies] == ["wrong_person.apology"]
    assert await _wrong_party(nlu_chat)
    assert await _handoffs(nlu_chat) == []


async def test_a_lawyer_for_the_debtor_is_still_the_attorney_stop(nlu_chat: Chat) -> None:
    out = await nlu_chat.says("I have a lawyer for this, my attorney is Ann Lee 555-123-4567")
    assert [r.key for r in out.replies] == ["stop.attorney"]
    assert [(r, q) for r, q, _ in await _handoffs(nlu_chat)] == [("attorney", "legal")]


async def test_switching_to_spanish_gets_the_full_spanish_mini_miranda(nlu_chat: Chat) -> None:
    await nlu_chat.verify()
    english = await nlu_chat.says("how much do I owe?")
    assert [r.key for r in english.replies] == ["balance.answer"]
    assert MINI_MIRANDA_EN in english.replies[0].text
    spanish = await nlu_chat.says("¿cuánto debo?")
    assert [r.key for r in spanish.replies] == ["balance.answer"]
    assert MINI_MIRANDA_ES in spanish.replies[0].text
    again = await nlu_chat.says("¿cuál es mi saldo?")
    assert [r.key for r in again.replies] == ["balance.answer"]
    assert SHORT_ES in again.replies[0].text and MINI_MIRANDA_ES not in again.replies[0].text


def test_a_state_stored_before_the_languages_were_kept_discloses_in_full_once_more() -> None:
    old = DialogState.from_dict({"disclosed": True, "language": "en"})
    assert old.disclose("en") == "full"
    assert old.disclose("en") == "short"
    assert old.disclose("es") == "full"
    assert DialogState.from_dict(old.to_dict()).disclosed_in == ["en", "es"]
