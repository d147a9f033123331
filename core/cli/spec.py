"""`pitboard spec`: every valid choice of a spec, and a first spec drafted from a dataset."""

from __future__ import annotations

from pathlib import Path

import click

from core.cli._output import emit, json_option
from core.store.errors import PitboardError


@click.group("spec")
def spec() -> None:
    """Write experiment specs without guessing."""


@spec.command("init")
@click.argument("dataset")
@click.option("--target", metavar="COLUMN", help="The column to predict (default: the dataset's target).")
@click.option("--experiment", metavar="NAME", help="The experiment's name (default: the dataset's).")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of printing.")
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
@click.pass_obj
def init(obj, dataset: str, target: str | None, experiment: str | None, out: Path | None, overwrite: bool) -> None:
    """Draft a complete, commented spec for DATASET that trains as written.

    The task comes from the target's values (two classes: binary classification, judged
    by roc_auc; a few classes: multi-class, by macro f1; numbers: regression, by rmse).
    """
    from core.experiments.spec_draft import draft_spec

    if out is not None and out.exists() and not overwrite:
        raise PitboardError(f"{out}: already exists; choose another path or pass --overwrite")
    if out is not None and not out.parent.is_dir():
        raise PitboardError(f"{out}: folder {out.parent} does not exist")
    text = draft_spec(obj.store, dataset, target, experiment)
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}: train it with `pitboard train {out}`")


@spec.command("options")
@json_option
def options(as_json: bool) -> None:
    """Every valid choice of a spec: tasks, estimators and metrics per task, split, search, preprocessing."""
    from core.experiments.spec_draft import spec_options

    found = spec_options()
    if as_json:
        emit(found, True)
        return
    for task in found["tasks"]:
        metrics = ", ".join(f"{m}{' (lower is better)' if m in found['lower_is_better'] else ''}" for m in found["metrics"][task])
        click.echo(f"{task}")
        click.echo(f"  estimators:      {', '.join(found['estimators'][task])}")
        click.echo(f"  primary_metric:  {metrics}; default {found['default_metric'][task]}")
    for section in ("split", "preprocessing", "search", "features"):
        click.echo(f"[{section}]")
        for key, choices in found[section].items():
            click.echo(f"  {key} = {' | '.join(choices) if isinstance(choices, list) else choices}")
    click.echo(f"parameter distributions (random search): {' | '.join(found['distributions'])}")


COMMANDS = [spec]
