"""`parley remind` and `parley telegram set-webhook|link`: channel operations from the shell."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import typer
from sqlalchemy import select

from backend.channels_wiring import close_channels, install_channels
from backend.cli.runtime import command_container, run
from backend.container import Container
from backend.conversations_wiring import build_portal_links
from backend.db.models import Account, Message
from backend.services.reminders import ReminderResult, due_accounts, send_reminder
from backend.services.telegram_links import make_token
from bot.channels.errors import ChannelError

app = typer.Typer(help="Messaging channels: reminders and webhook registration.")
telegram_app = typer.Typer(help="The Telegram bot: webhook registration and deep links.")
WEBHOOK_PATH = "/webhooks/telegram"


@app.command()
def remind(
    account: Annotated[int | None, typer.Option("--account", help="one account id")] = None,
    all_due: Annotated[bool, typer.Option(
        "--all-due", help="every past-due account nothing holds")] = False,
) -> None:
    """Send the first reminder through the compliance gate (deferred or blocked when it must).

    An account is reminded once (`already_reminded` when its reminder is stored); `--all-due`
    leaves out the accounts the workflow holds (promise pending, plan active, stop states...).
    """
    if (account is None) == (not all_due):
        raise typer.BadParameter("give exactly one of --account ID or --all-due")

    async def body() -> tuple[list[ReminderResult], dict[int, str]]:
        async with command_container() as container:
            install_channels(None, container)
            s = container.services
            # The same portal links the app registers, so the reminder carries the link.
            s.setdefault("portal_links", build_portal_links(container))
            try:
                async with container.sessions.begin() as session:
                    now = container.clock.now()
                    ids = [account] if account is not None else await due_accounts(session, now)
                    results = [await send_reminder(session, s["outbox"], s["gate"], i, now,
                                                   s["adapters"], s["portal_links"])
                               for i in ids]
                ready = [r.decision.message_id for r in results
                         if r.decision and r.decision.allowed and r.decision.message_id]
                await s["outbox"].send(ready)
                # What the send made of them ("sent", "failed"), not the gate's "pending".
                async with container.sessions() as session:
                    now_status = dict((await session.execute(
                        select(Message.id, Message.delivery_status)
                        .where(Message.id.in_(ready)))).tuples().all()) if ready else {}
            finally:
                await close_channels(container)
            return results, now_status

    results, sent = run(body)
    if account is not None and results[0].reason == "unknown_account":
        typer.echo(f"no account {account}", err=True)
        raise typer.Exit(1)
    for result in results:
        decision = result.decision
        status = decision.status if decision else "skipped"
        if decision and decision.message_id in sent:
            status = sent[decision.message_id]
        reason = (decision.reason if decision else result.reason) or ""
        earlier = f" (message {result.message_id})" if result.message_id else ""
        typer.echo(f"account {result.account_id}: {result.channel or '-'} {status} {reason}"
                   f"{earlier}".rstrip())
    if all_due and not results:
        typer.echo("no past-due account to remind")


@telegram_app.command("set-webhook")
def telegram_set_webhook() -> None:
    """Register PUBLIC_BASE_URL/webhooks/telegram with the bot, with TELEGRAM_WEBHOOK_SECRET."""

    async def body() -> str:
        async with command_container() as container, _telegram(container) as adapter:
            if not container.settings.telegram_webhook_secret:
                raise typer.BadParameter("TELEGRAM_WEBHOOK_SECRET is not set")
            url = container.settings.public_base_url.rstrip("/") + WEBHOOK_PATH
            await adapter.set_webhook(url)
            return url

    typer.echo(f"telegram webhook set to {run(body)}")


@telegram_app.command("link")
def telegram_link(
    account: Annotated[int, typer.Option("--account", help="the account id to link")],
) -> None:
    """Print a t.me deep link that links the chat opening it to ACCOUNT's debtor.

    Signed with SECRET_KEY, it works once and expires after 14 days; send it to the debtor
    through a channel already verified (a forwarded link is refused in a chat of another debtor).
    """

    async def body() -> str | None:
        async with command_container() as container, _telegram(container) as adapter:
            async with container.sessions() as session:
                if await session.get(Account, account) is None:
                    return None
            token = make_token(container.settings.secret_key, account, container.clock.now())
            try:
                link: str = await adapter.start_link(token)
            except ChannelError as exc:
                raise typer.BadParameter(
                    f"set TELEGRAM_BOT_USERNAME (getMe failed: {exc})") from exc
            return link

    link = run(body)
    if link is None:
        typer.echo(f"no account {account}", err=True)
        raise typer.Exit(1)
    typer.echo(link)


@asynccontextmanager
async def _telegram(container: Container) -> AsyncIterator[Any]:
    """The Telegram adapter, with the channels closed afterwards."""
    install_channels(None, container)
    try:
        adapter = container.services["adapters"].get("telegram")
        if adapter is None:
            raise typer.BadParameter("TELEGRAM_BOT_TOKEN is not set")
        yield adapter
    finally:
        await close_channels(container)
