"""Console gaps a reviewer found: the handoff note, canned replies' debt tick, the queues the
bot names, one event per inbound message, and time zone labels."""

from __future__ import annotations

import re
from pathlib import Path

from backend.console.canned import load_canned
from backend.container import Container
from backend.db.models.enums import Role
from backend.services.queues import load_queues
from tests.console.conftest import NOW, LoggedIn, Seeder

NOTE = "debtor asked: plan 20.00 monthly <b>x</b>; offered: plan 1200.00 x12 monthly 2026-12-08"
DIALOGS = Path(__file__).resolve().parents[2] / "bot" / "dialogs"
QUEUE_NAMED = re.compile(r"""queue=["']([a-z_]+)["']""")


async def _handed_off(console: Container, seed: Seeder, note: str | None = NOTE) -> int:
    cid = await seed("20 a month")
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(
            session, cid, "negotiation_rounds", now=NOW, note=note, queue="negotiation")
    return cid


async def test_the_bots_handoff_note_is_on_the_page_and_the_board_escaped(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    cid = await _handed_off(console, seed)
    client, _, _ = await logged_in(Role.AGENT)
    page = (await client.get(f"/console/conversations/{cid}")).text
    assert "plan 20.00 monthly &lt;b&gt;x&lt;/b&gt;; offered: plan 1200.00" in page
    assert "<b>x</b>" not in page
    board = (await client.get("/console/queue/board")).text
    assert "debtor asked: plan 20.00 monthly &lt;b&gt;x&lt;/b&gt;" in board
    assert "2026-12-08" not in board  # shortened on the board
    assert "…" in board


async def test_canned_replies_say_whether_they_are_about_the_debt() -> None:
    about = {c.title: c.mentions_debt for c in load_canned()}
    assert about["Dispute received"] is False
    assert about["Introduce yourself"] is False
    assert about["Looking into it"] is False
    assert about["Payment found"] is True
    assert all("mentions_debt" not in c.texts for c in load_canned())


async def test_choosing_a_canned_reply_sets_the_debt_tick(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    cid = await _handed_off(console, seed)
    client, _, me = await logged_in(Role.AGENT)
    async with console.sessions.begin() as session:
        await console.services["handoff"].claim(session, cid, agent_id=me, now=NOW)
    titles = [c.title for c in load_canned()]
    dispute = titles.index("Dispute received")
    page = (await client.get(f"/console/conversations/{cid}?canned={dispute}")).text
    box = re.search(r'<input type="checkbox"[^>]*name="discusses_debt"[^>]*>', page)
    assert box and "checked" not in box.group(0)
    draft = page.split('id="reply-text"')[1].split("</textarea>")[0]
    assert "We have received your dispute." in draft
    assert re.search(r'data-mentions-debt="false">Dispute received</option>', page)
    assert re.search(r'data-mentions-debt="true">Payment found</option>', page)
    plain = (await client.get(f"/console/conversations/{cid}")).text
    box = re.search(r'<input type="checkbox"[^>]*name="discusses_debt"[^>]*>', plain)
    assert box and "checked" in box.group(0)  # unchosen, the tick stays on


def test_the_page_script_sets_the_tick_from_the_chosen_reply() -> None:
    script = (Path(__file__).resolve().parents[2] / "backend/console/static/console.js"
              ).read_text(encoding="utf-8")
    assert "mentionsDebt" in script and "debtBox" in script


def test_every_queue_the_bot_names_is_configured() -> None:
    named = {name for path in DIALOGS.rglob("*.py")
             for name in QUEUE_NAMED.findall(path.read_text(encoding="utf-8"))}
    assert {"approvals", "negotiation"} <= named  # the grep still finds them
    queues = load_queues()
    assert queues.known(sorted(named))  # UnknownQueue names any missing one
    assert queues.route("needs_approval").name == "approvals"
    assert queues.route("negotiation_rounds").name == "negotiation"


async def test_audit_trail_and_notes_say_their_zone_like_the_transcript(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    cid = await _handed_off(console, seed)
    client, _, _ = await logged_in(Role.SUPERVISOR)
    page = (await client.get(f"/console/conversations/{cid}")).text
    assert re.search(r"\d\d:\d\d UTC</time> <code>handoff\.opened</code>", page)
