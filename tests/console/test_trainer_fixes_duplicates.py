"""The trainer inbox refuses what `parley nlu validate` would refuse: a text, or one a typo or
punctuation apart, already under another intent in the accepted or the shipped data."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from backend.container import Container
from backend.db.models import Message, TrainingExample
from backend.db.models.enums import Role
from nlu.dataset import Example, TrainingData
from nlu.validation import ValidationConfig, clashes, validate
from tests.console.conftest import LoggedIn, Seeder

INBOX = "/console/trainer"
LOOSE = ValidationConfig(min_examples=0, require_all_intents=False, require_all_entities=False)


async def _message_of(console: Container, cid: int) -> int:
    async with console.sessions() as session:
        mid = await session.scalar(select(Message.id).where(Message.conversation_id == cid))
    assert mid is not None
    return int(mid)


async def _accepted(console: Container) -> list[tuple[str, str | None]]:
    async with console.sessions() as session:
        rows = await session.execute(select(TrainingExample.text, TrainingExample.intent)
                                     .where(TrainingExample.status == "accepted"))
    return sorted((text, intent) for text, intent in rows.all())


async def test_a_variant_of_an_accepted_text_under_another_intent_is_refused_naming_it(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    first = await _message_of(console, await seed("bro wat", intent="deny", confidence=0.3))
    second = await _message_of(console, await seed("BRO  wat!", intent="deny", confidence=0.3))
    client, token, _ = await logged_in(Role.TRAINER)
    ok = await client.post(f"{INBOX}/messages/{first}/accept",
                           data={"csrf_token": token, "intent": "out_of_scope"})
    assert ok.headers["location"] == f"{INBOX}?notice=accepted"
    refused = await client.post(f"{INBOX}/messages/{second}/accept",
                                data={"csrf_token": token, "intent": "complaint"})
    assert refused.headers["location"] == (
        f"{INBOX}?notice=label_conflict&label=out_of_scope&other={first}")
    page = html.unescape((await client.get(refused.headers["location"])).text)
    assert f"already accepted as out_of_scope (message {first}): “bro wat”" in page
    assert f'data-message="{second}"' in page  # still waiting for review
    assert await _accepted(console) == [("bro wat", "out_of_scope")]
    same = await client.post(f"{INBOX}/messages/{second}/accept",
                             data={"csrf_token": token, "intent": "out_of_scope"})
    assert same.headers["location"] == f"{INBOX}?notice=accepted"


async def test_a_shipped_text_under_another_intent_is_refused_naming_its_file(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    mid = await _message_of(console, await seed("thank you", intent="thanks", confidence=0.3))
    client, token, _ = await logged_in(Role.TRAINER)
    refused = await client.post(f"{INBOX}/messages/{mid}/accept",
                                data={"csrf_token": token, "intent": "complaint"})
    assert refused.headers["location"] == (
        f"{INBOX}?notice=label_conflict&label=thanks&reason=thanks.yml%3A6")
    page = html.unescape((await client.get(refused.headers["location"])).text)
    assert "the shipped training data has “thank you” as thanks (" in page
    assert "thanks.yml:6)" in page
    assert await _accepted(console) == []
    kept = await client.post(f"{INBOX}/messages/{mid}/accept",
                             data={"csrf_token": token, "intent": "thanks"})
    assert kept.headers["location"] == f"{INBOX}?notice=accepted"


async def test_a_shipped_near_duplicate_under_another_intent_is_refused(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    mid = await _message_of(console, await seed("Thank you!!!", intent="thanks", confidence=0.3))
    client, token, _ = await logged_in(Role.TRAINER)
    refused = await client.post(f"{INBOX}/messages/{mid}/accept",
                                data={"csrf_token": token, "intent": "complaint"})
    assert refused.headers["location"].startswith(
        f"{INBOX}?notice=label_conflict&label=thanks&reason=thanks.yml")


@pytest.mark.parametrize(("text", "other"), [
    ("BRO  wat!", "bro wat"),
    ("bro wat", "Bro wat"),
    ("cant pay", "can t pay"),
    ("i cannot afford thsi", "i cannot afford this"),
    ("i cannot afford that", "i cannot afford this"),
    ("bro wat", "bro what is this"),
    ("👍", "👍"),
])
def test_the_inbox_check_is_the_validators_rule(text: str, other: str) -> None:
    """`clashes` flags exactly the pairs `validate` reports as duplicates under two intents."""
    new, old = Example(text, "complaint"), Example(other, "out_of_scope")
    reported = [p for p in validate(TrainingData([old, new]), LOOSE)
                if "two intents" in p.message or "near-duplicate" in p.message]
    assert bool(clashes(new, [old], LOOSE)) == bool(reported)
    assert clashes(new, [Example(other, "complaint")], LOOSE) == []  # same intent: fine
