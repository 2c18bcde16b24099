"""`parley portal-link ACCOUNT`: print a fresh signed link to the debtor portal."""

from __future__ import annotations

from typing import Annotated

import typer

from backend.cli.runtime import command_container, run
from backend.db.models import Account

app = typer.Typer(help="Conversations and the debtor portal.")


@app.command("portal-link")
def portal_link(account: Annotated[int, typer.Argument(help="account id")]) -> None:
    """Print a fresh, expiring portal URL for ACCOUNT."""

    from backend.conversations_wiring import build_portal_links

    async def body() -> str | None:
        async with command_container() as container, container.sessions() as session:
            found = await session.get(Account, account)
            if found is None:
                return None
            return build_portal_links(container).url_for(found)

    url = run(body)
    if url is None:
        typer.echo(f"no account {account}", err=True)
        raise typer.Exit(1)
    typer.echo(url)
