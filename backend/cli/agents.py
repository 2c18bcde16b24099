"""`parley agents`: console users (the first admin, then anyone else)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from backend.cli.runtime import command_container, run
from backend.console import users
from backend.console.passwords import MIN_PASSWORD_LENGTH, WeakPassword
from backend.console.permissions import takes_queues
from backend.db.migrate import upgrade
from backend.db.models import AgentUser
from backend.db.models.enums import Role
from backend.services.queues import UnknownQueue, configured_queues
from backend.settings import Settings

app = typer.Typer(help="Console users: agents, supervisors, trainers, admins.")
Email = Annotated[str, typer.Argument(help="the user's login email")]


@app.command("create")
def create(
    email: Annotated[str, typer.Option(help="login email")],
    name: Annotated[str, typer.Option(help="name shown to colleagues")],
    role: Annotated[Role, typer.Option(help="what the user may do")] = Role.AGENT,
    password: Annotated[
        str | None,
        typer.Option(help=f"at least {MIN_PASSWORD_LENGTH} characters, not a common one "
                          "(prompted when omitted)"),
    ] = None,
    queue: Annotated[
        list[str] | None,
        typer.Option(help="a queue of the queues file the agent works (repeat; agents only); "
                          "an agent with queues sees and claims only those (default: all)"),
    ] = None,
) -> None:
    """Create a console user; `--role admin` for the first one."""
    settings = Settings()
    known = configured_queues(settings)
    try:
        users.queues_apply(role, queue or ())  # before the password prompt: nothing to retype
        queues = known.known(queue or ())
    except (users.QueuesNotTaken, UnknownQueue) as error:
        typer.echo(f"not created: {error}", err=True)
        raise typer.Exit(1) from None
    secret = password or _prompt_password()

    async def body() -> int:
        async with command_container(settings) as container:
            await upgrade(container.settings.database_url)
            async with container.sessions.begin() as session:
                agent = await users.create_agent(
                    session, email=email, name=name, role=role, password=secret,
                    now=container.clock.now(), actor="cli", queues=queues, known=known,
                )
            return agent.id

    try:
        agent_id = run(body)
    except (users.AgentExists, users.InvalidAgent, UnknownQueue, WeakPassword) as error:
        typer.echo(f"not created: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created {role.value} {email} (id {agent_id}); log in at /console")


@app.command("unlock")
def unlock(
    email: Annotated[str | None, typer.Argument(help="the locked user's login email")] = None,
    email_option: Annotated[
        str | None, typer.Option("--email", help="the same, as a flag (the older form)")
    ] = None,
) -> None:
    """Lift a login lockout early."""
    if email is not None and email_option is not None and email != email_option:
        typer.echo("give the email once: as EMAIL or as --email", err=True)
        raise typer.Exit(2)
    who = email or email_option
    if who is None:
        typer.echo("give the locked user's email: parley agents unlock EMAIL", err=True)
        raise typer.Exit(2)
    _change(who, lambda s, agent, now: users.unlock(s, agent.id, actor="cli", now=now))
    typer.echo(f"unlocked {who}")


@app.command("disable")
def disable(email: Email) -> None:
    """Refuse the user's logins and end their sessions (someone who left)."""
    _change(email, lambda s, agent, now: users.set_disabled(s, agent.id, True, actor="cli",
                                                            now=now))
    typer.echo(f"disabled {email}")


@app.command("enable")
def enable(email: Email) -> None:
    """Let a disabled user log in again (with the password they had)."""
    _change(email, lambda s, agent, now: users.set_disabled(s, agent.id, False, actor="cli",
                                                            now=now))
    typer.echo(f"enabled {email}")


@app.command("set-password")
def set_password(email: Email) -> None:
    """Set a new password (prompted, hidden); the user's sessions end."""
    secret = _prompt_password()
    try:
        _change(email, lambda s, agent, now: users.set_password(s, agent.id, secret,
                                                                actor="cli", now=now))
    except WeakPassword as error:
        typer.echo(f"not changed: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"password changed for {email}")


@app.command("set-role")
def set_role(
    email: Email, role: Annotated[Role, typer.Argument(help="what the user may do")],
) -> None:
    """Change what the user may do (from their next request); the queues an agent was given
    are kept through a promotion and limit them again as an agent (the output says so)."""
    queues: tuple[str, ...] = ()

    async def change(session: AsyncSession, agent: AgentUser, now: datetime) -> None:
        nonlocal queues
        await users.set_role(session, agent.id, role, actor="cli", now=now)
        queues = await users.queues_of(session, agent.id)

    _change(email, change)
    typer.echo(f"{email} is now {role.value}{_queues_note(role, queues)}")


def _queues_note(role: Role, queues: tuple[str, ...]) -> str:
    """What the user's stored queues mean in their new role, if they have any."""
    if not queues:
        return ""
    names = ", ".join(queues)
    if takes_queues(role.value):
        return f", limited to the queues {names}"
    return f"; their queues ({names}) are kept and limit them again if made an agent"


def _prompt_password() -> str:
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _change(
    email: str, change: Callable[[AsyncSession, AgentUser, datetime], Awaitable[object]]
) -> None:
    """Run `change` on the user with `email` in one audited transaction; exit 1 when absent."""

    async def body() -> None:
        async with command_container() as container, container.sessions.begin() as session:
            agent = await users.agent_by_email(session, email)
            await change(session, agent, container.clock.now())

    try:
        run(body)
    except users.UnknownAgent:
        typer.echo(f"no console user {email}", err=True)
        raise typer.Exit(1) from None
