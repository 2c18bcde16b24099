"""Inbound SMS webhooks end to end in one process: sign, verify, store, ack, reply to a fake Twilio.

Usage: python -m bench.webhooks_sms [--messages 2000] [--concurrency 50] [--database-url URL]
Prints messages/s, p50/p99 webhook latency, and lost/doubled counts (inbound rows and replies).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from backend.api.app import create_app
from backend.channels_wiring import close_channels, install_channels
from backend.db.migrate import upgrade
from backend.db.models import Message
from backend.settings import Settings
from tests.channels.helpers import StubTurnHandler
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, fake_twilio

BASE = "https://parley.example.com"


def _request(n: int) -> dict[str, object]:
    form = {"MessageSid": f"SMbench{n:027d}", "From": f"+1212555{n % 10000:04d}",
            "To": "+12125550100", "Body": "hello", "FromCity": "", "NumMedia": "0"}
    sig = RequestValidator(AUTH_TOKEN).compute_signature(BASE + "/webhooks/twilio/sms", form)
    return {"url": "/webhooks/twilio/sms", "content": urlencode(form),
            "headers": {"X-Twilio-Signature": sig,
                        "Content-Type": "application/x-www-form-urlencoded"}}


async def main(total: int, concurrency: int, database_url: str) -> None:
    fake = fake_twilio()
    await upgrade(database_url)
    settings = Settings(_env_file=None, parley_env="test", database_url=database_url,  # type: ignore[call-arg]
                        public_base_url=BASE, twilio_account_sid=ACCOUNT_SID,
                        twilio_auth_token=AUTH_TOKEN, twilio_api_url=fake.base,
                        twilio_sms_from="+12125550100")
    app = create_app(settings, migrate=False, extensions=(install_channels,))
    latencies: list[float] = []
    async with app.router.lifespan_context(app):
        container = app.state.container
        container.services["turn_handler"] = StubTurnHandler(container)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            queue = list(range(total)) + list(range(0, total, 10))  # 10 % duplicate deliveries

            async def worker() -> None:
                while queue:
                    request = _request(queue.pop())
                    started = time.perf_counter()
                    response = await client.post(**request)  # type: ignore[arg-type]
                    latencies.append(time.perf_counter() - started)
                    assert response.status_code == 200

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            await container.services["dispatcher"].idle()
            elapsed = time.perf_counter() - started
        async with container.sessions() as session:
            inbound = await session.scalar(select(func.count(Message.id))
                                           .where(Message.direction == "inbound"))
        await close_channels(container)
    replies = len(fake.calls("/Messages.json"))
    fake.stop()
    latencies.sort()
    print(f"{total} messages (+{total // 10} duplicates), concurrency {concurrency}")
    print(f"throughput {total / elapsed:.0f} msg/s end to end (reply sent to fake Twilio)")
    print(f"webhook p50 {statistics.median(latencies) * 1000:.1f} ms, "
          f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms")
    print(f"inbound rows {inbound} (lost {total - inbound}), replies {replies} "
          f"(doubled {replies - total})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    asyncio.run(main(args.messages, args.concurrency, url))
