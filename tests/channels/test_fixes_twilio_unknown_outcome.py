"""A Twilio create whose reply is lost is looked up before any re-send: none lost, none doubled."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

import aiohttp
import httpx
import pytest
from twilio.base.exceptions import TwilioRestException

from backend.container import Container
from backend.services.delivery import envelope
from bot.channels.errors import PermanentChannelError, TransientChannelError
from bot.channels.twilio_common import map_twilio_error
from bot.clock import SettableClock
from bot.messages import ConversationKey, OutboundMessage, Purpose
from tests.channels.helpers import PHONE, messages, seed_debtor
from tests.fakes.twilio import FakeTwilio, twilio_error

OUTAGE = twilio_error(20503, 503, "Service unavailable")


async def submit(wired: Container, account_id: int, text: str) -> int:
    outbound = OutboundMessage(key=ConversationKey("sms", PHONE), text=text,
                               account_id=account_id, idempotency_key=f"test:{text}")
    async with wired.sessions.begin() as session:
        decision = await wired.services["outbox"].submit(session, outbound)
    assert decision.allowed and decision.message_id is not None
    return int(decision.message_id)


async def start(wired: Container, twilio_api: FakeTwilio, clock: SettableClock) -> int:
    twilio_api.now = clock.now  # Twilio's date_created on the test's clock
    _, account_id = await seed_debtor(wired, now=clock.now())
    return account_id


def bodies(twilio_api: FakeTwilio) -> Counter[str]:
    """What Twilio holds: each body once means nothing was doubled."""
    return Counter(str(m["body"]) for m in twilio_api.created)


async def one_minute_later(wired: Container, clock: SettableClock) -> list[int]:
    clock.advance(timedelta(minutes=1))
    released: list[int] = await wired.services["outbox"].release_due(clock.now())
    return released


async def test_a_connection_dropped_after_twilio_took_the_message_adopts_its_sid(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeTwilio,
    clock: SettableClock,
) -> None:
    account_id = await start(wired, twilio_api, clock)
    twilio_api.drop_next()
    message_id = await submit(wired, account_id, "Your payment link")
    await wired.services["outbox"].send([message_id])
    [message] = await messages(wired, "outbound")
    assert (message.delivery_status, message.error_code) == ("deferred", "transport")
    assert envelope(message)["unknown_since"]
    assert len(twilio_api.calls("/Messages.json")) == 1  # no blind retry in the request

    assert await one_minute_later(wired, clock) == [message_id]
    [message] = await messages(wired, "outbound")
    assert message.delivery_status == "queued"
    assert message.provider_message_id == twilio_api.created[0]["sid"]
    assert bodies(twilio_api) == {"Your payment link": 1}
    lookup = [r for r in twilio_api.calls("/Messages.json") if r.method == "GET"]
    assert len(lookup) == 1 and dict(parse_qsl(lookup[0].query))["To"] == PHONE


async def test_a_timeout_after_twilio_took_the_message_adopts_its_sid(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeTwilio,
    clock: SettableClock,
) -> None:
    account_id = await start(wired, twilio_api, clock)
    wired.services["outbox"].adapters["sms"].client.http_client.timeout = 0.3
    twilio_api.drop_next(delay=1.0)  # answers after the client gave up
    message_id = await submit(wired, account_id, "Promise confirmed")
    await wired.services["outbox"].send([message_id])
    [message] = await messages(wired, "outbound")
    assert (message.delivery_status, message.error_code) == ("deferred", "timeout")

    assert await one_minute_later(wired, clock) == [message_id]
    [message] = await messages(wired, "outbound")
    assert message.provider_message_id == twilio_api.created[0]["sid"]
    assert bodies(twilio_api) == {"Promise confirmed": 1}


async def test_a_message_twilio_never_took_is_sent_once_after_the_lookup(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeTwilio,
    clock: SettableClock,
) -> None:
    account_id = await start(wired, twilio_api, clock)
    twilio_api.fail_next(OUTAGE)  # refused, and the refusal is lost too: nothing was created
    twilio_api.drop_next()
    message_id = await submit(wired, account_id, "Your link")
    await wired.services["outbox"].send([message_id])
    assert twilio_api.created == []

    assert await one_minute_later(wired, clock) == [message_id]
    [message] = await messages(wired, "outbound")
    assert message.delivery_status == "queued"
    assert message.provider_message_id == twilio_api.created[0]["sid"]
    assert bodies(twilio_api) == {"Your link": 1}


async def test_a_lookup_never_adopts_a_sid_another_message_holds(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeTwilio,
    clock: SettableClock,
) -> None:
    account_id = await start(wired, twilio_api, clock)
    outbox = wired.services["outbox"]
    first = await submit(wired, account_id, "Sorry, I did not understand")
    await outbox.send([first])
    twilio_api.fail_next(OUTAGE)
    twilio_api.drop_next()
    again = OutboundMessage(key=ConversationKey("sms", PHONE), text="Sorry, I did not understand",
                            account_id=account_id, idempotency_key="test:again")
    async with wired.sessions.begin() as session:
        second = (await outbox.submit(session, again)).message_id
    await outbox.send([second])

    assert await one_minute_later(wired, clock) == [second]
    rows = await messages(wired, "outbound")
    assert [r.delivery_status for r in rows] == ["queued", "queued"]
    assert len({r.provider_message_id for r in rows}) == 2
    assert bodies(twilio_api) == {"Sorry, I did not understand": 2}


async def test_a_failed_lookup_sends_nothing_and_waits(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeTwilio,
    clock: SettableClock,
) -> None:
    account_id = await start(wired, twilio_api, clock)
    twilio_api.drop_next()
    message_id = await submit(wired, account_id, "Your plan")
    await wired.services["outbox"].send([message_id])
    twilio_api.fail_next(OUTAGE)  # the GET of the lookup
    assert await one_minute_later(wired, clock) == [message_id]
    [message] = await messages(wired, "outbound")
    assert (message.delivery_status, message.error_code) == ("deferred", "lookup")
    assert len([r for r in twilio_api.calls("/Messages.json") if r.method == "POST"]) == 1

    clock.set(datetime.fromisoformat(envelope(message)["not_before"]))
    assert await wired.services["outbox"].release_due(clock.now()) == [message_id]
    [message] = await messages(wired, "outbound")
    assert message.provider_message_id == twilio_api.created[0]["sid"]
    assert bodies(twilio_api) == {"Your plan": 1}


async def test_many_lost_replies_none_lost_none_doubled(
    channel_client: httpx.AsyncClient, wired: Container, twilio_api: FakeTwilio,
    clock: SettableClock,
) -> None:
    account_id = await start(wired, twilio_api, clock)
    outbox = wired.services["outbox"]
    texts = [f"Reply number {n}" for n in range(6)]
    for n, text in enumerate(texts):
        if n % 3 == 1:
            twilio_api.drop_next()  # taken, reply lost
        elif n % 3 == 2:
            twilio_api.fail_next(OUTAGE)
            twilio_api.drop_next()  # not taken, reply lost
        await outbox.send([await submit(wired, account_id, text)])
    await one_minute_later(wired, clock)
    rows = await messages(wired, "outbound")
    assert {r.delivery_status for r in rows} == {"queued"}
    assert bodies(twilio_api) == dict.fromkeys(texts, 1)
    assert sorted(str(r.provider_message_id) for r in rows) == sorted(
        str(m["sid"]) for m in twilio_api.created)


async def test_a_whatsapp_template_through_twilio_is_looked_up_by_its_variables(
    twilio_whatsapp: tuple[httpx.AsyncClient, Container], twilio_api: FakeTwilio,
    clock: SettableClock,
) -> None:
    _, container = twilio_whatsapp
    twilio_api.now = clock.now
    _, account_id = await seed_debtor(container, now=clock.now(), channels=("whatsapp",))
    twilio_api.drop_next()
    outbound = OutboundMessage(key=ConversationKey("whatsapp", PHONE), text="Hola",
                               purpose=Purpose.REMINDER, account_id=account_id,
                               template="parley_reminder",
                               template_vars={"1": "https://pay.example.com/x"})
    async with container.sessions.begin() as session:
        decision = await container.services["outbox"].submit(session, outbound)
    await container.services["outbox"].send([decision.message_id])
    assert await one_minute_later(container, clock) == [decision.message_id]
    [message] = await messages(container, "outbound")
    assert message.provider_message_id == twilio_api.created[0]["sid"]
    assert len(twilio_api.created) == 1
    lookup = [r for r in twilio_api.calls("/Messages.json") if r.method == "GET"]
    assert dict(parse_qsl(lookup[0].query))["To"] == f"whatsapp:{PHONE}"


@pytest.mark.parametrize(("error", "kind", "code"), [
    (TimeoutError(), "OutcomeUnknown", "timeout"),
    (aiohttp.ServerDisconnectedError(), "OutcomeUnknown", "transport"),
    (TwilioRestException(503, "uri", "unavailable", 20503), "TransientChannelError", "20503"),
    (TwilioRestException(429, "uri", "too many", 20429), "TransientChannelError", "20429"),
    (TwilioRestException(400, "uri", "bad to", 21211), "PermanentChannelError", "21211"),
])
def test_only_a_lost_reply_is_an_unknown_outcome(error: Exception, kind: str, code: str) -> None:
    mapped = map_twilio_error(error)
    assert (type(mapped).__name__, mapped.code) == (kind, code)
    assert isinstance(mapped, TransientChannelError | PermanentChannelError)
