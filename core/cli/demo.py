"""`pitboard demo`: build the demo database through the real engine and open the app on it."""

from __future__ import annotations

import click

from core.store.database import resolve_db_path

DEMO_PANE = "monitor"  # where the demo's story ends: the alert, the retrain, the promoted challenger


@click.command("demo")
@click.option("--no-tui", is_flag=True, help="Build the database, replay the whole recession, and exit.")
@click.option("--fresh", is_flag=True, help="Delete the demo database (and the files beside it) and build again.")
@click.pass_context
def demo(ctx: click.Context, no_tui: bool, fresh: bool) -> None:
    """Build a demo database from sample_data/ and watch a recession unfold in the app.

    Imports and validates the credit data, trains the sample spec, registers and promotes
    credit-risk, turns on continuous training, then replays twelve production months
    (a few seconds each in the app). An existing demo is opened as it is, unless --fresh.
    """
    from core.simulation.demo import build, check_owned, is_built, remove_demo, replay, start_replay

    pane = ctx.find_root().params["pane"] or DEMO_PANE
    if not no_tui:
        ctx.obj.app.check_pane(pane)  # before building: a typo in --pane must not cost a whole build
    obj = ctx.obj
    if fresh:
        for path in remove_demo(resolve_db_path(obj.db)):
            click.echo(f"removed {path}")
    store = obj.store
    if check_owned(store) and is_built(store):
        click.echo(f"{store.path}: the demo is already built (use --fresh to build it again)")
    else:
        build(store, click.echo)
        if no_tui:
            replay(store, month_seconds=0.0, retrain_inline=True, say=click.echo)
        else:
            job = start_replay(store)
            click.echo(f"replaying the recession as job {job}: watch the Monitor (4) and Jobs (5) panes")
    if no_tui:
        click.echo(f"demo database ready: pitboard --db {store.path}")
        return
    obj.app.open(store.path, mouse=not ctx.find_root().params["no_mouse"], pane=pane)


COMMANDS = [demo]
