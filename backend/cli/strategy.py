"""`parley strategy`: load a strategy file, dry-run it over a portfolio, switch it on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from backend.channels_wiring import build_adapters
from backend.cli.runtime import command_container, run
from backend.db.migrate import upgrade
from backend.db.models import Strategy
from backend.services.compliance.rules import load_rules
from backend.workflow import store
from backend.workflow.simulate import SimulationReport, simulate
from backend.workflow.strategy import StrategyError, load_strategy_file

app = typer.Typer(help="Collections strategies: load, simulate, activate.", no_args_is_help=True)


@app.command("load")
def load(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
         activate: Annotated[bool, typer.Option(help="switch the new version on")] = False
         ) -> None:
    """Store FILE as the next version of its strategy (not switched on unless --activate)."""
    try:
        definition = load_strategy_file(path)
    except StrategyError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc

    async def body() -> store.LoadedVersion:
        async with command_container() as container:
            await upgrade(container.settings.database_url)
            async with container.sessions.begin() as session:
                now = container.clock.now()
                loaded = await store.save_version(
                    session, definition, source=path.read_text(encoding="utf-8"), actor="cli",
                    now=now)
                if activate:
                    await store.activate(session, loaded.strategy_id, loaded.version,
                                         actor="cli", now=now)
                return loaded

    loaded = run(body)
    state = "active" if activate else "not active"
    typer.echo(f"strategy {loaded.name} (id {loaded.strategy_id}) v{loaded.version} ({state})")


@app.command("activate")
def activate_cmd(name: str, version: Annotated[int | None, typer.Option(
        help="version to switch on (default: the newest)")] = None,
        off: Annotated[bool, typer.Option("--off", help="switch the strategy off")] = False
        ) -> None:
    """Switch strategy NAME on at a version (or off)."""
    async def body() -> str:
        async with command_container() as container, container.sessions.begin() as session:
            strategy_id = await _strategy_id(session, name)
            try:
                chosen = None if off else (await store.get_version(session, strategy_id,
                                                                   version)).version
            except store.StrategyNotFound:
                typer.echo(f"strategy {name!r} has no version {version}", err=True)
                raise typer.Exit(1) from None
            await store.activate(session, strategy_id, chosen, actor="cli",
                                 now=container.clock.now())
            return f"strategy {name} " + ("off" if chosen is None else f"active at v{chosen}")

    typer.echo(run(body))


@app.command("simulate")
def simulate_cmd(
    name: Annotated[str, typer.Option("--strategy", help="strategy name")] = "default",
    portfolio: Annotated[int | None, typer.Option(help="portfolio id (default: all)")] = None,
    days: Annotated[int, typer.Option(min=1, max=366)] = 30,
    version: Annotated[int | None, typer.Option(help="default: the newest")] = None,
) -> None:
    """Print every message the strategy would send, day by day, with the compliance decision."""
    async def body() -> SimulationReport:
        async with command_container() as container:
            async with container.sessions() as session:
                loaded = await store.get_version(session, await _strategy_id(session, name),
                                                 version)
            adapters = build_adapters(container.settings, container.clock)
            try:  # only to know which providers are configured, as the worker does
                return await simulate(container.engine, loaded, rules=load_rules(),
                                      start=container.clock.now(), days=days,
                                      portfolio_id=portfolio, channels=frozenset(adapters))
            finally:
                for adapter in adapters.values():
                    await adapter.close()

    report = run(body)
    for c in report.contacts:
        extra = f" until {c.not_before:%Y-%m-%d %H:%M}Z" if c.not_before else ""
        typer.echo(f"day {c.day:>2} {c.at:%Y-%m-%d %H:%M}Z account {c.account_id:>8} "
                   f"{c.step:<20} {c.channel or '-':<9} {c.decision}{extra}"
                   f"{' (' + c.reason + ')' if c.reason else ''}")
    totals = ", ".join(f"{k} {v}" for k, v in sorted(report.by_decision().items()))
    typer.echo(f"{report.strategy} v{report.version} over {days} day(s): {totals or 'nothing'}")


async def _strategy_id(session: object, name: str) -> int:
    found = await session.scalar(select(Strategy.id).where(Strategy.name == name))  # type: ignore[attr-defined]
    if found is None:
        typer.echo(f"no strategy named {name!r} (load one with `parley strategy load`)", err=True)
        raise typer.Exit(1)
    return int(found)
