"""`parley agents`: console users (the first admin, then anyone else)."""

from __future__ import annotations

from typing import Annotated

import typer

from backend.cli.runtime import command_container, run
from backend.console import users
from backend.console.passwords import MIN_PASSWORD_LENGTH, WeakPassword
from backend.db.migrate import upgrade
from backend.db.models.enums import Role

app = typer.Typer(help="Console users: agents, supervisors, trainers, admins.")


@app.command("create")
def create(
    email: Annotated[str, typer.Option(help="login email")],
    name: Annotated[str, typer.Option(help="name shown to colleagues")],
    role: Annotated[Role, typer.Option(help="what the user may do")] = Role.AGENT,
    password: Annotated[
        str | None,
        typer.Option(help=f"at least {MIN_PASSWORD_LENGTH} characters (prompted when omitted)"),
    ] = None,
    queue: Annotated[
        list[str] | None, typer.Option(help="a queue the user works (repeat; default all)")
    ] = None,
) -> None:
    """Create a console user; `--role admin` for the first one."""
    secret = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def body() -> int:
        async with command_container() as container:
            await upgrade(container.settings.database_url)
            async with container.sessions.begin() as session:
                agent = await users.create_agent(
                    session, email=email, name=name, role=role, password=secret,
                    now=container.clock.now(), actor="cli", queues=tuple(queue or ()),
                )
            return agent.id

    try:
        agent_id = run(body)
    except (users.AgentExists, WeakPassword) as error:
        typer.echo(f"not created: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created {role.value} {email} (id {agent_id}); log in at /console")


@app.command("unlock")
def unlock(email: Annotated[str, typer.Option(help="the locked user's email")]) -> None:
    """Lift a login lockout early."""

    async def body() -> bool:
        async with command_container() as container, container.sessions.begin() as session:
            for agent in await users.list_agents(session):
                if agent.email == users.normalize_email(email):
                    await users.unlock(session, agent.id, actor="cli", now=container.clock.now())
                    return True
            return False

    if not run(body):
        typer.echo(f"no console user {email}", err=True)
        raise typer.Exit(1)
    typer.echo(f"unlocked {email}")
