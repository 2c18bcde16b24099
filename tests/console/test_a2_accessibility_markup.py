"""Console accessibility in the served HTML and CSS: headings, named controls, a live
transcript, errors tied to their field, a worded live indicator, and contrast (WCAG 2.2 AA)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backend.container import Container
from backend.db.models.enums import Role
from tests.console.conftest import NOW, LoggedIn, Seeder

CSS = (
    Path(__file__).resolve().parents[2] / "backend" / "console" / "static" / "console.css"
).read_text()


async def _claimed(console: Container, seed: Seeder, agent_id: int, *texts: str) -> int:
    cid = await seed(*texts)
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(session, cid, "complaint", now=NOW)
        await console.services["handoff"].claim(session, cid, agent_id=agent_id, now=NOW)
    return cid


async def test_the_queue_page_has_a_title_heading_and_a_named_claim_column(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    cid = await seed()
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(session, cid, "complaint", now=NOW)
    client, _, _ = await logged_in(Role.AGENT)
    page = (await client.get("/console/queue")).text
    assert re.search(r"<h1>Queue</h1>\s*<div id=\"board\"", page)
    headers = re.findall(r"<th>(.*?)</th>", page)
    assert headers and all(re.sub(r"<[^>]+>", "", h).strip() for h in headers), headers
    assert '<span class="sr">Claim</span>' in page


async def test_the_transcript_announces_new_messages_and_the_live_indicator_has_words(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, _, agent_id = await logged_in(Role.AGENT)
    cid = await _claimed(console, seed, agent_id)
    page = (await client.get(f"/console/conversations/{cid}")).text
    transcript = re.search(r'<ol class="transcript"[^>]*>', page)
    assert transcript
    assert 'role="log"' in transcript.group(0) and 'aria-live="polite"' in transcript.group(0)
    live = re.search(r'<span class="live" id="live">.*?<span id="live-text">([^<]+)</span>', page)
    assert live and live.group(1) == "Live updates off"  # until the script connects


async def test_each_correct_intent_control_names_its_message(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, _, _ = await logged_in(Role.SUPERVISOR)
    cid = await seed("I want a person", "still waiting")
    page = (await client.get(f"/console/conversations/{cid}")).text
    ids = re.findall(r'action="/console/messages/(\d+)/intent"', page)
    assert len(ids) == 2
    labels = re.findall(r'<span class="sr">(Intent of [^<]+)</span>', page)
    buttons = re.findall(
        r'<button type="submit" class="small" id="correct-\d+" '
        r'aria-label="([^"]+)">Correct</button>',
        page,
    )
    assert len(set(labels)) == 2 and len(set(buttons)) == 2
    for message_id, label, button in zip(ids, labels, buttons, strict=True):
        assert f"message {message_id} (Nov 25 15:00 UTC)" in label
        assert button.startswith("Correct") and f"message {message_id}" in button


async def test_an_empty_reply_marks_the_field_invalid_and_describes_it_with_the_notice(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _claimed(console, seed, agent_id)
    response = await client.post(
        f"/console/conversations/{cid}/reply",
        data={"csrf_token": token, "text": "   ", "nonce": "a2"},
    )
    page = (await client.get(response.headers["location"])).text
    notice = re.search(r'<p class="notice notice-error"[^>]*>Write a message first.</p>', page)
    assert notice and 'id="notice"' in notice.group(0)
    assert "autofocus" not in notice.group(0)  # the field takes focus, described by it
    field = re.search(r'<textarea id="reply-text"[^>]*>', page)
    assert field
    for attribute in ('aria-invalid="true"', 'aria-describedby="notice"', "autofocus"):
        assert attribute in field.group(0)


async def test_a_notice_after_a_redirect_takes_focus(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, _ = await logged_in(Role.AGENT)
    cid = await seed()
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(session, cid, "complaint", now=NOW)
    response = await client.post(f"/console/conversations/{cid}/claim", data={"csrf_token": token})
    page = (await client.get(response.headers["location"])).text
    notice = re.search(r'<p class="notice notice-ok"[^>]*>', page)
    assert notice
    assert 'tabindex="-1"' in notice.group(0) and "autofocus" in notice.group(0)
    field = re.search(r'<textarea id="reply-text"[^>]*>', page)
    assert field and "aria-invalid" not in field.group(0) and "autofocus" not in field.group(0)


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(one: str, two: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _colour(value: str) -> str:
    """A CSS colour, `var(--name)` resolved from :root."""
    named = re.fullmatch(r"var\(--([a-z-]+)\)", value.strip())
    if named is None:
        return value.strip()
    found = re.search(rf"--{named.group(1)}:\s*(#[0-9a-fA-F]{{6}})", CSS)
    assert found, named.group(1)
    return found.group(1)


def _rule(selector: str, prop: str) -> str:
    block = re.search(rf"(?:^|[\s}}]){re.escape(selector)}\s*(?:,[^{{]*)?{{([^}}]*)}}", CSS)
    assert block, selector
    value = re.search(rf"(?:^|[;\s]){prop}:\s*([^;]+);", block.group(1))
    assert value, (selector, prop)
    return value.group(1)


@pytest.mark.parametrize(
    ("selector", "background"),
    [
        (".notice-warn", "var(--warn-bg)"),
        (".own-queued", "var(--warn-bg)"),
        (".status-deferred", "#e3edfb"),  # an outbound line
        (".status-deferred", "#d9f2e3"),  # an agent's line
        (".confidence.mid", "#eef1f5"),  # a debtor's line
    ],
)
def test_amber_text_meets_4_5_to_1(selector: str, background: str) -> None:
    assert _contrast(_colour(_rule(selector, "color")), _colour(background)) >= 4.5


def test_the_priority_2_badge_meets_4_5_to_1() -> None:
    ink = _colour(_rule(".prio-2", "color"))
    assert _contrast(ink, _colour(_rule(".prio-2", "background"))) >= 4.5


def test_text_field_borders_and_focus_outlines_meet_3_to_1() -> None:
    border = _rule("input", "border").split()[-1]
    assert _contrast(border, "#ffffff") >= 3
    outline = _colour(_rule(":focus-visible", "outline").split()[-1])
    assert _contrast(outline, "#ffffff") >= 3 and _contrast(outline, "#f5f7fa") >= 3


def test_the_nav_and_a_long_address_wrap_on_a_phone() -> None:
    assert _rule(".nav", "flex-wrap").strip() == "wrap"
    assert _rule(".sub", "overflow-wrap").strip() == "anywhere"
