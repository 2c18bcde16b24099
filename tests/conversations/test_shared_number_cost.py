"""A number one debtor holds costs a turn no statement more for the shared-number check."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from tests.conversations.conftest import Chat
from tests.conversations.test_shared_number_identity import _seed_her


def _statements(chat: Chat) -> list[str]:
    seen: list[str] = []

    def keep(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append(f"{statement} {params}")

    event.listen(chat.container.engine.sync_engine, "before_cursor_execute", keep)
    return seen


async def test_a_single_holder_turn_reads_no_other_holders(chat: Chat) -> None:
    await chat.says("hi")
    seen = _statements(chat)
    await chat.says("03/14/1985")

    single = len(seen)
    print(f"single holder: {single} statements")
    assert not any("identity.narrowed" in s for s in seen)
    seen.clear()
    await _seed_her(chat.container)
    seen.clear()
    await chat.says("hi")
    await chat.says("03/14/1985")
    print(f"shared: {len(seen)} statements for two turns")
    assert any("identity.narrowed" in s for s in seen)


async def test_a_turn_counts_wrong_identity_answers_in_its_own_statement(chat: Chat) -> None:
    await chat.says("hi")
    await chat.says("01/01/1900")  # a wrong answer, counted on the next turn
    seen = _statements(chat)
    await chat.says("03/14/1985")

    separate = [s for s in seen if s.lstrip().startswith("SELECT count(audit_event.id)")]
    assert separate == []
    assert any("identity.failed" in s and "FROM message" in s for s in seen)
