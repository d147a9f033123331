"""How commands print: aligned plain-text tables for people, `--json` for programs.

Plain text keeps output readable over SSH, in logs and with NO_COLOR; JSON output is the
stable interface for scripts and CI.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import click

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def to_json(data: Any) -> str:
    """JSON with NaN as null and anything unknown (paths, numpy scalars) as str or number."""
    return json.dumps(_clean(data), indent=2, sort_keys=False, default=_default)


def _default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalar
        return _clean(value.item())
    return str(value)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def format_value(value: Any) -> str:
    """One cell: floats with 4 significant decimals, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return f"{value:.4g}" if abs(value) >= 1e5 or (value != 0 and abs(value) < 1e-3) else f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """An aligned text table; numbers are right-aligned."""
    rows = list(rows)
    if columns is None:
        columns = list(rows[0]) if rows else []
    if not columns:
        return ""
    cells = [[format_value(row.get(column)) for column in columns] for row in rows]
    numeric = [
        all(isinstance(row.get(column), (int, float)) and not isinstance(row.get(column), bool) for row in rows if row.get(column) is not None)
        for column in columns
    ]
    widths = [max([len(column)] + [len(line[i]) for line in cells]) for i, column in enumerate(columns)]

    def render(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return "  ".join(parts).rstrip()

    lines = [render(list(columns)), render(["-" * w for w in widths])]
    lines += [render(line) for line in cells]
    return "\n".join(lines)


def emit(data: Any, as_json: bool, columns: Sequence[str] | None = None) -> None:
    """Print a list of row dicts (or one dict) as a table, or as JSON."""
    if as_json:
        click.echo(to_json(data))
    elif isinstance(data, Mapping):
        width = max((len(str(k)) for k in data), default=0)
        for key, value in data.items():
            click.echo(f"{str(key).ljust(width)}  {format_value(value)}")
    else:
        rendered = table(data, columns)
        if rendered:
            click.echo(rendered)
