"""`parley apikey`: create, list and revoke the API keys of machine clients."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from backend.cli.runtime import command_container, run
from backend.db.migrate import upgrade
from backend.db.models import ApiKey
from backend.services import apikeys, audit

app = typer.Typer(help="API keys for machine clients.")
# CREDITOR last: a bound key's creditor name may hold spaces.
COLUMNS = ("PREFIX", "NAME", "SCOPES", "CREATED", "LAST USED", "REVOKED", "CREDITOR")


@app.command("create")
def create(
    name: Annotated[str, typer.Option(help="who the key is for")] = "default",
    scope: Annotated[
        list[str] | None,
        typer.Option(
            help=f"what it may do, repeatable: {', '.join(apikeys.SCOPES)} (default: all)"
        ),
    ] = None,
    creditor: Annotated[
        str | None,
        typer.Option(help="bind the key to this creditor (name or id): it reaches only its data"),
    ] = None,
) -> None:
    """Create an API key and print it once (only its hash is stored); its scopes, and the
    creditor it is bound to, go to stderr."""
    scopes = scope or None  # no --scope at all: every scope
    try:
        apikeys.encode_scopes(scopes)  # refused before anything is opened or written
    except apikeys.InvalidScope as error:
        typer.echo(f"not created: {error}", err=True)
        raise typer.Exit(1) from None

    async def body() -> tuple[str, str, str]:
        async with command_container() as container:
            await upgrade(container.settings.database_url)
            async with container.sessions.begin() as session:
                bound = await apikeys.find_creditor(session, creditor) if creditor else None
                row, raw = await apikeys.create_key(
                    session, name, container.clock.now(), scopes, bound
                )
                await audit.record(
                    session,
                    occurred_at=container.clock.now(),
                    actor="cli",
                    action="apikey.created",
                    subject_type="api_key",
                    subject_id=row.id,
                    data={"name": name, "prefix": row.prefix, "creditor_id": row.creditor_id},
                )
                reach = _creditor(row, {bound.id: bound.name} if bound else {})
                return raw, _scopes(row), reach

    try:
        raw, granted, reach = run(body)
    except apikeys.UnknownCreditor as error:
        typer.echo(f"not created: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(raw)
    # On stderr, so `KEY=$(parley apikey create)` still captures the key alone.
    typer.echo(f"scopes: {granted}", err=True)
    if creditor:
        typer.echo(f"creditor: {reach}", err=True)


@app.command("list")
def list_keys() -> None:
    """Every key: prefix, name, scopes, created, last used, revoked, creditor (never the key
    itself)."""

    async def body() -> list[tuple[str, ...]]:
        async with command_container() as container:
            await upgrade(container.settings.database_url)
            async with container.sessions() as session:
                keys = await apikeys.list_keys(session)
                names = await apikeys.creditor_names(session, keys)
                return [_row(key, names) for key in keys]

    rows = run(body)
    if not rows:
        typer.echo("no API keys (create one with `parley apikey create --name WHO`)")
        return
    widths = [max(len(line[i]) for line in (COLUMNS, *rows)) for i in range(len(COLUMNS))]
    for line in (COLUMNS, *rows):
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


@app.command("revoke")
def revoke(
    prefix: Annotated[str, typer.Argument(help="the key's prefix, as `parley apikey list` shows")],
) -> None:
    """Revoke a key: from now on a request with it gets 401 (audited)."""

    async def body() -> str:
        async with command_container() as container:
            await upgrade(container.settings.database_url)
            now = container.clock.now()
            async with container.sessions.begin() as session:
                key = await apikeys.revoke_key(session, prefix, now, actor="cli")
                if key.revoked_at == now:
                    return f"revoked {key.prefix} ({key.name}): it gets 401 from now on"
                return f"{key.prefix} ({key.name}) was revoked before, at {_when(key.revoked_at)}"

    try:
        typer.echo(run(body))
    except apikeys.KeyNotFound as error:
        typer.echo(f"not revoked: {error}", err=True)
        raise typer.Exit(1) from None


def _row(key: ApiKey, creditor_names: dict[int, str]) -> tuple[str, ...]:
    return (
        key.prefix,
        key.name,
        _scopes(key),
        _when(key.created_at),
        _when(key.last_used_at) or "never",
        _when(key.revoked_at) or "-",
        _creditor(key, creditor_names),
    )


def _creditor(key: ApiKey, creditor_names: dict[int, str]) -> str:
    """`all` for an agency-wide key, else the bound creditor's name and id."""
    if key.creditor_id is None:
        return "all"
    return f"{creditor_names.get(key.creditor_id, '?')} (id {key.creditor_id})"


def _scopes(key: ApiKey) -> str:
    return "all" if key.scopes is None else key.scopes


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""
