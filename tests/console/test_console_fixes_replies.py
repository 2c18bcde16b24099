"""After a reply or a payment link the notice says what really happened to the message."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import update

from backend.container import Container
from backend.db.models import Message
from backend.db.models.enums import Role
from backend.services.payments.links import PaymentLinks
from tests.console.conftest import NOW, LoggedIn, Seeder
from tests.console.fakes import RecordingOutbox


@dataclass
class SendingOutbox(RecordingOutbox):
    """Records each send with the status (and error code) a real send would leave."""

    container: Container | None = None
    outcome: tuple[str, str | None] = ("sent", None)

    async def send(self, message_ids: list[int]) -> None:
        await super().send(message_ids)
        assert self.container is not None
        status, code = self.outcome
        provider_id = None if code or status == "pending" else "SM-provider"
        async with self.container.sessions.begin() as session:
            await session.execute(update(Message).where(Message.id.in_(message_ids)).values(
                delivery_status=status, error_code=code, provider_message_id=provider_id))


async def _claimed(console: Container, seed: Seeder, agent_id: int) -> int:
    cid = await seed("this is not my debt", intent="dispute_debt")
    async with console.sessions.begin() as session:
        await console.services["handoff"].open_handoff(session, cid, "dispute", now=NOW)
        await console.services["handoff"].claim(session, cid, agent_id=agent_id, now=NOW)
    return cid


def _sending(console: Container, status: str, code: str | None = None) -> SendingOutbox:
    outbox = SendingOutbox(console.clock, container=console, outcome=(status, code))
    console.services["outbox"] = outbox
    return outbox


async def test_a_reply_only_stored_for_sending_is_queued_not_sent(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _claimed(console, seed, agent_id)
    response = await client.post(f"/console/conversations/{cid}/reply", data={
        "csrf_token": token, "text": "Checking now.", "nonce": "q1"})
    assert "notice=queued" in response.headers["location"]
    page = (await client.get(response.headers["location"])).text
    assert "Reply queued for delivery." in page and "Reply sent." not in page


@pytest.mark.parametrize(("status", "code", "says"), [
    ("sent", None, "Reply sent."),
    ("delivered", None, "Reply sent."),
    ("queued", None, "Reply sent."),  # the provider accepted it (Twilio says "queued")
    ("pending", None, "Reply queued for delivery."),
    ("failed", "30007", "The reply could not be sent: the provider refused it (error 30007)."),
    ("failed", "no_adapter", "The reply could not be sent: no channel adapter is configured "
                             "for this channel."),
])
async def test_the_notice_tells_the_real_outcome_of_the_send(
    console: Container, seed: Seeder, logged_in: LoggedIn, status: str, code: str | None,
    says: str,
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _claimed(console, seed, agent_id)
    outbox = _sending(console, status, code)
    response = await client.post(f"/console/conversations/{cid}/reply", data={
        "csrf_token": token, "text": "Checking now.", "nonce": "s1"})
    assert len(outbox.sent) == 1
    page = (await client.get(response.headers["location"])).text
    assert says in page, page[page.find("notice"):][:300]
    if status == "failed":
        assert "notice-error" in page and "Reply sent." not in page


async def test_the_same_form_posted_again_tells_the_stored_outcome(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _claimed(console, seed, agent_id)
    outbox = _sending(console, "failed", "30007")
    form = {"csrf_token": token, "text": "Checking now.", "nonce": "twice"}
    await client.post(f"/console/conversations/{cid}/reply", data=form)
    again = await client.post(f"/console/conversations/{cid}/reply", data=form)
    assert len(outbox.sent) == 1
    page = (await client.get(again.headers["location"])).text
    assert "The reply could not be sent" in page


async def test_a_crafted_failure_link_shows_no_text_of_its_own(
    console: Container, seed: Seeder, logged_in: LoggedIn
) -> None:
    client, _, agent_id = await logged_in(Role.AGENT)
    cid = await _claimed(console, seed, agent_id)
    page = (await client.get(f"/console/conversations/{cid}"
                             "?notice=send_failed&reason=Call+555-0100+now")).text
    # Notices are vouched for by the console's signed cookie: a crafted link shows none.
    assert "The reply could not be sent." not in page and "555-0100" not in page


@pytest.mark.parametrize(("status", "code", "notice", "says"), [
    ("pending", None, "link_queued", "Payment link queued for delivery."),
    ("sent", None, "link_sent", "Payment link sent."),
    ("failed", "30007", "link_failed",
     "The payment link could not be sent: the provider refused it (error 30007)."),
])
async def test_the_payment_link_notice_is_truthful_too(
    console: Container, seed: Seeder, logged_in: LoggedIn, status: str, code: str | None,
    notice: str, says: str,
) -> None:
    from backend.services.policy.loader import load_default
    from backend.services.policy.store import PolicyStore

    console.services["policies"] = PolicyStore(load_default(console.settings.policy_dir))
    console.services["payment_links"] = PaymentLinks(
        console.settings.secret_key, "http://127.0.0.1:8000", console.clock)
    client, token, agent_id = await logged_in(Role.AGENT)
    cid = await _claimed(console, seed, agent_id)
    if status != "pending":
        _sending(console, status, code)
    response = await client.post(f"/console/conversations/{cid}/payment-link", data={
        "csrf_token": token, "amount": "30.00", "recipient_verified": "true"})
    assert f"notice={notice}" in response.headers["location"]
    page = (await client.get(response.headers["location"])).text
    assert says in page
