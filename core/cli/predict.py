"""`pitboard predict`: score a CSV or Parquet file with a registered version or a bundle."""

from __future__ import annotations

from pathlib import Path

import click

from core.cli._output import emit, json_option


@click.command()
@click.argument("model_ref")
@click.argument("input_path", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path), help="CSV to write.")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@json_option
@click.pass_obj
def predict(obj, model_ref: str, input_path: Path, out: Path, overwrite: bool, as_json: bool) -> None:
    """Score INPUT_PATH with MODEL_REF (NAME@VERSION, NAME@ALIAS or a bundle path).

    The input is checked against the model's signature first: every problem is reported
    and nothing is written unless all rows pass.
    """
    from core.serving.offline import predict_file

    summary = predict_file(obj, model_ref, input_path, out, overwrite=overwrite)
    if as_json:
        emit(summary, True)
    else:
        unknown = f"; {summary['unknown_categories']} unknown categories handled" if summary["unknown_categories"] else ""
        click.echo(f"scored {summary['rows']} rows with {summary['model']} into {out}{unknown}")


COMMANDS = [predict]
