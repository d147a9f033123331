"""`pitboard explain`: each feature's contribution to the predictions for a file's rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from core.cli._output import emit, json_option

TOP = 5  # contributions printed per row without -o; the CSV has them all


@click.command()
@click.argument("model_ref")
@click.argument("input_path", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), help="CSV to write (every contribution).")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@json_option
@click.pass_obj
def explain(obj, model_ref: str, input_path: Path, out: Path | None, overwrite: bool, as_json: bool) -> None:
    """Explain MODEL_REF's predictions for INPUT_PATH, row by row.

    Each feature's contribution: with the expected output they add up to the prediction.
    Exact for linear and tree models; for other models a sampled estimate, with the
    standard error of each contribution beside it.
    """
    from core.serving.explain import explain_file

    summary = explain_file(obj, model_ref, input_path, out, overwrite=overwrite)
    if as_json:
        emit(summary, True)
        return
    kind = "exact" if summary["exact"] else "ESTIMATE"
    click.echo(f"{summary['model']}: {summary['rows']} rows, {kind}: {summary['about']}; contributions to the {summary['output']}")
    if out is not None:
        click.echo(f"wrote {out}")
        return
    for i, row in enumerate(summary["explanations"], start=1):
        click.echo(_row_line(i, row, summary["output"]))


def _row_line(number: int, row: dict[str, Any], output: str) -> str:
    parts = []
    for entry in row["contributions"][:TOP]:
        error = f" ± {entry['error']:.4g}" if "error" in entry else ""
        parts.append(f"{entry['feature']} {entry['contribution']:+.4g}{error}")
    more = len(row["contributions"]) - TOP
    rest = f", {more} more" if more > 0 else ""
    return f"row {number}: {row['prediction']:.4g} = expected {row['expected']:.4g} + " + ", ".join(parts) + rest


COMMANDS = [explain]
