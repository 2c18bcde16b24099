"""P1: a portfolio's wording file never silences the bot: a broken one still gets the debtor
the safe reply and a person; edits are read without a restart; errors name the file."""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.conversations_wiring import install_conversations
from backend.db.models import Handoff, Message, Portfolio
from backend.services.imports.writer import upsert_accounts
from backend.services.policy import model as policy_model
from backend.services.policy.loader import load_default
from bot.dialogs.base import Said
from bot.engine import Engine
from bot.messages import ConversationKey, Reply
from bot.responses import Catalog, RenderContext, Renderer, catalog
from tests.conversations.conftest import PHONE, Chat, account_row
from tests.conversations.fakes import CollectingOutbox, RuleInterpreter

BROKEN = 'identity.intro: "Hi, this is Parley, and the quote never ends\n'


def _root(tmp_path: Path, **overrides: str) -> Path:
    """A copy of the shipped sentences with one `en.yml` override per wording given."""
    root = tmp_path / "responses"
    root.mkdir()
    for locale in catalog.LOCALES:
        shutil.copy(catalog.ROOT / f"{locale}.yml", root / f"{locale}.yml")
    for name, text in overrides.items():
        _write(root / catalog.OVERRIDES / name / "en.yml", text)
    return root


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    # As an editor saving a second later would: a same-tick rewrite must not hide the edit.
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def test_an_edited_wording_is_said_without_a_restart(tmp_path: Path) -> None:
    root = _root(tmp_path, acme='identity.intro: "Hello from Acme."\n')
    sentences = Catalog(root)
    assert sentences.text("identity.intro", "en", "acme") == "Hello from Acme."
    _write(root / catalog.OVERRIDES / "acme" / "en.yml", 'identity.intro: "Hi, Acme here."\n')
    assert sentences.text("identity.intro", "en", "acme") == "Hi, Acme here."
    (root / catalog.OVERRIDES / "acme" / "en.yml").unlink()
    assert sentences.text("identity.intro", "en", "acme") == sentences.base["en"]["identity.intro"]


def test_a_slot_the_sentence_cannot_fill_names_the_override_file(tmp_path: Path) -> None:
    root = _root(tmp_path, acme='identity.retry.date_of_birth: "Not quite ({tries} to go)."\n')
    renderer = Renderer(Catalog(root))
    with pytest.raises(KeyError, match="overrides/acme/en.yml") as failed:
        renderer.render(
            Said(Reply("identity.retry.date_of_birth", {"left": 2})), RenderContext(wording="acme")
        )
    assert "tries" in str(failed.value)


def test_a_broken_override_names_its_file_without_the_servers_layout(tmp_path: Path) -> None:
    root = _root(tmp_path, acme=BROKEN)
    with pytest.raises(catalog.CatalogError) as failed:
        Catalog(root).text("identity.intro", "en", "acme")
    assert str(failed.value).startswith("overrides/acme/en.yml: not valid YAML")


@pytest.fixture
async def broken_chat(
    container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Chat:
    """A portfolio whose wording file broke after the policy naming it was saved."""
    root = _root(tmp_path, broken=BROKEN)
    monkeypatch.setattr(policy_model, "wordings", functools.partial(catalog.wordings, root))
    monkeypatch.setattr(policy_model, "wording_problems", lambda *_, **__: [], raising=False)
    async with container.sessions.begin() as session:
        await upsert_accounts(session, [account_row()], container.clock.now())
        portfolio = await session.scalar(select(Portfolio))
        assert portfolio is not None
        default = load_default(container.settings.policy_dir)
        portfolio.policy = default.model_copy(update={"wording": "broken"}).model_dump(mode="json")
        portfolio.policy_version = 1
    outbox = CollectingOutbox()
    container.services["outbox"] = outbox
    container.interpreter = RuleInterpreter()
    install_conversations(None, container)
    engine: Engine = container.services["engine"]
    engine.renderer = Renderer(Catalog(root))
    return Chat(container, ConversationKey("sms", PHONE), outbox)


async def test_a_broken_wording_gets_the_safe_reply_and_a_person(broken_chat: Chat) -> None:
    result = await broken_chat.says("hello")
    assert result.error_id and [r.key for r in result.replies] == ["error.safe"]
    assert result.replies[0].text.startswith("Sorry, something went wrong on our side.")
    async with broken_chat.container.sessions() as session:
        handoff = await session.scalar(select(Handoff))
        inbound = await session.scalar(select(Message).where(Message.text == "hello"))
    assert handoff is not None and handoff.error_id == result.error_id
    assert inbound is not None and inbound.processed_at is not None
    assert [m.text for m in broken_chat.outbox.messages] == [result.replies[0].text]
