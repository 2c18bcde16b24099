"""The `parley` command: serve, worker, database, demo data, accounts, API keys, audit."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.cli import accounts, agents, channels, conversations, strategy
from backend.cli import apikeys as apikey_cli
from backend.cli import nlu as nlu_cli
from backend.cli.runtime import ParleyGroup, command_container, reach_database, run, setup_logging
from backend.container import Container
from backend.db.migrate import upgrade
from backend.services import apikeys, audit
from backend.services.compliance.rules import DEFAULT_RULES_PATH, RulesError, load_rules
from backend.services.demo import DEMO_MAX_ACCOUNTS, database_is_empty, seed_demo
from backend.services.policy.loader import load_default
from backend.settings import Settings

app = typer.Typer(cls=ParleyGroup, help="Parley: a conversational collections agent.",
                  no_args_is_help=True)
db_app = typer.Typer(help="Database schema migrations.")
audit_app = typer.Typer(help="The hash-chained audit log.")
app.add_typer(db_app, name="db")
app.add_typer(accounts.app, name="accounts")
app.add_typer(apikey_cli.app, name="apikey")
app.add_typer(audit_app, name="audit")
app.add_typer(nlu_cli.app, name="nlu")
app.add_typer(agents.app, name="agents")
app.registered_commands.extend(channels.app.registered_commands)  # parley remind
app.add_typer(channels.telegram_app, name="telegram")
app.registered_commands.extend(conversations.app.registered_commands)
app.add_typer(strategy.app, name="strategy")


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="bind address (default HOST or 127.0.0.1)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="port (default PORT or 8000)")] = None,
) -> None:
    """Serve the API (and the pages) with uvicorn; migrates the database first."""
    import uvicorn

    from backend.wiring import build_parley_app

    # --host is the address served: the settings' checks (a placeholder SECRET_KEY off
    # loopback) must see it, not only HOST.
    settings = Settings(**({"host": host} if host else {}))
    setup_logging(settings.log_level)
    # The app migrates in its lifespan, where a failure is uvicorn's traceback: check first.
    run(lambda: reach_database(settings.database_url))
    load_default(settings.policy_dir)  # a broken policy file: one line, not uvicorn's traceback
    _check_rules()
    bind_host, bind_port = host or settings.host, port or settings.port
    typer.echo(f"Parley on http://{bind_host}:{bind_port}  "
               "(API docs: /docs, agent console: /console, health: /health)")
    uvicorn.run(
        build_parley_app(settings),
        host=bind_host,
        port=bind_port,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
    )


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="jobs at once (with Redis)")] = 10,
) -> None:
    """Run background jobs (scheduled sends, lifecycle checks) until stopped.

    With REDIS_URL: a SAQ worker (start several); without: the in-process loop.
    """
    from backend.workflow.worker import run_worker

    settings = Settings()
    setup_logging(settings.log_level)
    _check_rules()
    try:
        run(lambda: run_worker(settings, concurrency))
    except KeyboardInterrupt:
        typer.echo("worker stopped")


def _check_rules() -> None:
    """The compliance rules file, read before serving: a mistake is one line and exit 2."""
    try:
        load_rules(DEFAULT_RULES_PATH)
    except RulesError as error:
        typer.echo(f"parley: {error}", err=True)
        raise typer.Exit(2) from None


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate the database (DATABASE_URL) to the latest schema."""
    settings = Settings()
    run(lambda: reach_database(settings.database_url))
    run(lambda: upgrade(settings.database_url, revision))
    typer.echo(f"database at {revision}")


@app.command()
def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="only seed an empty database")
    ] = False,
    accounts_count: Annotated[int, typer.Option("--accounts", min=1, max=DEMO_MAX_ACCOUNTS)] = 300,
) -> None:
    """Seed a realistic demo portfolio (creditors, accounts, payments, promises).

    Running it again upserts the same accounts and adds no payment or promise twice.
    """

    async def body() -> None:
        async with command_container() as container:
            await upgrade(container.settings.database_url)
            if if_empty and not container.settings.demo_seed:
                typer.echo("DEMO_SEED=false; demo not seeded")
                return
            async with container.sessions.begin() as session:
                if if_empty and not await database_is_empty(session):
                    typer.echo("database has accounts; demo not seeded")
                    return
                summary = await seed_demo(session, container.clock.now(), accounts_count)
                _, raw = await apikeys.create_key(session, "demo", container.clock.now())
                admin = await _demo_admin(session, container.clock.now())
                portal = await _demo_portal_link(session, container)
        base = container.settings.public_base_url.rstrip("/")
        typer.echo(
            f"demo portfolio: {summary.accounts} accounts, {summary.payments} payments, "
            f"{summary.promises} promises"
        )
        typer.echo(f"demo API key (shown once): {raw}")
        if admin:
            typer.echo(f"console: {base}/console  (admin@demo.parley / {admin}, shown once)")
        if portal:
            typer.echo(f"a demo debtor's portal: {portal}")

    run(body)


async def _demo_admin(session: AsyncSession, now: datetime) -> str | None:
    """A console admin for the demo; returns its new password (None when it exists)."""
    from backend.console import users
    from backend.db.models.enums import Role

    password = secrets.token_urlsafe(12)
    try:
        await users.create_agent(session, email="admin@demo.parley", name="Demo admin",
                                 role=Role.ADMIN, password=password, now=now, actor="demo")
    except users.AgentExists:
        return None
    return password


async def _demo_portal_link(session: AsyncSession, container: Container) -> str | None:
    from backend.conversations_wiring import build_portal_links
    from backend.db.models import Account, Debtor

    account = await session.scalar(select(Account).order_by(Account.id).limit(1))
    if account is None:
        return None
    link = build_portal_links(container).url_for(account)
    debtor = await session.get(Debtor, account.debtor_id)
    if debtor is None or debtor.date_of_birth is None:
        return link
    # A demo identity is fake; printing it lets the person trying the portal pass the check.
    return (f"{link}\n  (the bot verifies identity first: date of birth "
            f"{debtor.date_of_birth:%m/%d/%Y}, ZIP {debtor.postal_code or '-'})")


@audit_app.command("verify")
def audit_verify(
    expect: Annotated[
        list[str] | None,
        typer.Option(
            "--expect", metavar="ID:HASH",
            help="a head printed earlier and kept elsewhere: fail unless the chain still holds "
                 "it (repeatable)"),
    ] = None,
    messages: Annotated[
        bool, typer.Option("--messages", help="also check each recorded message text's digest")
    ] = False,
) -> None:
    """Recompute the audit hash chain; exit 1 and name each altered event if any."""
    checkpoints = _checkpoints(expect or [])

    async def body() -> tuple[audit.VerifyResult, audit.MessagesResult | None]:
        async with command_container() as container, container.sessions() as session:
            chain = await audit.verify(session, checkpoints)
            return chain, await audit.verify_messages(session) if messages else None

    result, texts = run(body)
    for brk in result.breaks:
        typer.echo(f"audit event {brk.event_id}: {brk.reason}", err=True)
    for gone in texts.breaks if texts else ():
        typer.echo(f"message {gone.message_id} (audit event {gone.event_id}): {gone.reason}",
                   err=True)
    if not result.ok:
        typer.echo(
            f"audit chain BROKEN: {len(result.breaks)} problem(s) in {result.checked} events",
            err=True,
        )
    if texts is not None and not texts.ok:
        typer.echo(f"messages CHANGED: {len(texts.breaks)} of {texts.checked} recorded texts",
                   err=True)
    if not result.ok or (texts is not None and not texts.ok):
        raise typer.Exit(1)
    typer.echo(f"audit chain ok: {result.checked} events verified")
    if texts is not None:
        typer.echo(f"messages ok: {texts.checked} recorded texts match")
    if result.head is not None:
        typer.echo(f"head: event {result.head.event_id} {result.head.hash}")


def _checkpoints(values: list[str]) -> list[audit.Checkpoint]:
    try:
        return [audit.Checkpoint.parse(value) for value in values]
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--expect") from None


@audit_app.command("export")
def audit_export(
    account: Annotated[
        int, typer.Option("--account", min=1, max=2**63 - 1, help="the account's id")
    ],
    out: Annotated[Path | None, typer.Option("--out", help="write the CSV to this file")] = None,
) -> None:
    """Every audit event about one account (its debtor, contact points, conversations and
    messages) as CSV, oldest first: printed, or written to --out."""
    from backend.api.routes.audit import account_events, events_to_csv

    async def body() -> tuple[int, str] | None:
        async with command_container() as container, container.sessions() as session:
            events = await account_events(session, account)
            return None if events is None else (len(events), events_to_csv(events))

    exported = run(body)
    if exported is None:
        typer.echo(f"parley: no account {account}", err=True)
        raise typer.Exit(1)
    count, text = exported
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8", newline="")
    typer.echo(f"{count} audit events of account {account} written to {out}")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # `python -m backend.cli.main`, where no console script is installed
    main()
