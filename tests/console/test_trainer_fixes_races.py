"""Two trainers reviewing at once: clashing labels and double saves are refused, never both
kept and never a server error."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.console import actions
from backend.container import Container
from backend.db.models import Message, TrainingExample
from backend.db.models.enums import Role
from tests.console.conftest import LoggedIn, Seeder

INBOX = "/console/trainer"
# How long the first request waits at the rendezvous for the second before going on alone.
MEETING = 1.0


@pytest.fixture
def rendezvous(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold each review just after it found its message in the inbox until the other review
    gets there too (or MEETING passes): the reviewer's "at the same moment", every time."""
    arrived = 0
    both = asyncio.Event()
    original = actions._inbox_entry

    async def meet(*args: Any, **kwargs: Any) -> actions.InboxEntry:
        nonlocal arrived
        entry = await original(*args, **kwargs)
        arrived += 1
        if arrived >= 2:
            both.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(both.wait(), MEETING)
        return entry

    monkeypatch.setattr(actions, "_inbox_entry", meet)


async def _message_of(console: Container, cid: int) -> int:
    async with console.sessions() as session:
        mid = await session.scalar(select(Message.id).where(Message.conversation_id == cid))
    assert mid is not None
    return int(mid)


async def _trainers(logged_in: LoggedIn) -> list[tuple[httpx.AsyncClient, str]]:
    pairs = []
    for n in (1, 2):
        client, token, _ = await logged_in(Role.TRAINER, email=f"trainer{n}@example.com")
        pairs.append((client, token))
    return pairs


async def _outcome(post: Any) -> str:
    """Where the console sent the trainer, or what went wrong instead."""
    try:
        response = await post
    except Exception as error:  # the app's own exception, raised through the transport
        return f"raised {type(error).__name__}"
    if response.status_code != 303:
        return f"HTTP {response.status_code}"
    return str(response.headers["location"]).removeprefix(f"{INBOX}?")


async def _accepted_rows(console: Container) -> list[tuple[int, str | None]]:
    async with console.sessions() as session:
        rows = await session.execute(select(TrainingExample.message_id, TrainingExample.intent)
                                     .where(TrainingExample.status == "accepted"))
    return sorted((int(mid), intent) for mid, intent in rows.all())


@pytest.mark.usefixtures("rendezvous")
async def test_the_same_text_labelled_two_ways_at_once_keeps_one_label(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    first = await _message_of(console, await seed("bro wat", intent="deny", confidence=0.3))
    second = await _message_of(console, await seed("bro wat", intent="deny", confidence=0.3))
    (one, token1), (two, token2) = await _trainers(logged_in)
    outcomes = await asyncio.gather(
        _outcome(one.post(f"{INBOX}/messages/{first}/accept",
                          data={"csrf_token": token1, "intent": "out_of_scope"})),
        _outcome(two.post(f"{INBOX}/messages/{second}/accept",
                          data={"csrf_token": token2, "intent": "complaint"})))
    assert sorted(o.split("&")[0] for o in outcomes) == [
        "notice=accepted", "notice=label_conflict"]
    rows = await _accepted_rows(console)
    assert len(rows) == 1
    download = await one.get(f"{INBOX}/accepted.yml")
    assert download.status_code == 200, download.text
    assert f"- intent: {rows[0][1]}\n  examples: |\n    - bro wat\n" in download.text


@pytest.mark.usefixtures("rendezvous")
async def test_one_message_accepted_by_two_trainers_at_once_is_saved_once(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    mid = await _message_of(console, await seed("bro wat", intent="deny", confidence=0.3))
    (one, token1), (two, token2) = await _trainers(logged_in)
    outcomes = await asyncio.gather(
        _outcome(one.post(f"{INBOX}/messages/{mid}/accept",
                          data={"csrf_token": token1, "intent": "out_of_scope"})),
        _outcome(two.post(f"{INBOX}/messages/{mid}/accept",
                          data={"csrf_token": token2, "intent": "out_of_scope"})))
    assert sorted(outcomes) == ["notice=accepted", "notice=not_in_inbox"]
    assert await _accepted_rows(console) == [(mid, "out_of_scope")]
    second = (one, two)[outcomes.index("notice=not_in_inbox")]  # its notice is vouched for it
    page = await second.get(f"{INBOX}?notice=not_in_inbox")
    assert "someone may have reviewed it first" in page.text


@pytest.mark.usefixtures("rendezvous")
async def test_an_accept_and_a_dismiss_at_once_keep_one_review(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    mid = await _message_of(console, await seed("bro wat", intent="deny", confidence=0.3))
    (one, token1), (two, token2) = await _trainers(logged_in)
    outcomes = await asyncio.gather(
        _outcome(one.post(f"{INBOX}/messages/{mid}/accept",
                          data={"csrf_token": token1, "intent": "out_of_scope"})),
        _outcome(two.post(f"{INBOX}/messages/{mid}/dismiss", data={"csrf_token": token2})))
    assert "notice=not_in_inbox" in outcomes
    assert outcomes.count("notice=not_in_inbox") == 1
    async with console.sessions() as session:
        reviews = list(await session.scalars(select(TrainingExample.status)))
    assert len(reviews) == 1
