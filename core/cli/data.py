"""`pitboard data`: import, list, inspect and validate datasets."""

from __future__ import annotations

from typing import Any

import click

from core.cli._output import emit, format_value, json_option, to_json
from core.store.clock import iso
from core.store.errors import CheckFailed


@click.group()
def data() -> None:
    """Datasets: content-hashed versions of CSV and Parquet files."""


@data.command("add")
@click.argument("name")
@click.argument("path", type=click.Path(dir_okay=True, path_type=str))
@click.option("--target", help="The label column (role: target).")
@click.option("--time-column", help="The column of ISO 8601 dates or times the rows happened at.")
@click.option("--id-column", help="The column identifying each row (role: id).")
@json_option
@click.pass_obj
def add(obj: Any, name: str, path: str, target: str | None, time_column: str | None, id_column: str | None,
        as_json: bool) -> None:
    """Import PATH (CSV, TSV or Parquet) as a new version of dataset NAME.

    Identical content gives back the existing version and writes nothing.
    """
    from core.data.datasets import add_dataset

    dv, created = add_dataset(obj.store, name, path, target=target, time_column=time_column, id_column=id_column)
    if as_json:
        click.echo(to_json({"created": created, **dv.to_dict()}))
        return
    state = "new version" if created else "unchanged: same content as the existing version"
    click.echo(f"{dv.ref}: {dv.n_rows:,} rows x {dv.n_columns} columns, sha256 {dv.sha256[:12]} ({state})")


@data.command("list")
@click.argument("name", required=False)
@json_option
@click.pass_obj
def list_(obj: Any, name: str | None, as_json: bool) -> None:
    """List datasets with their latest version, or every version of NAME."""
    from core.data.datasets import list_datasets, list_versions

    if name is None:
        rows = list_datasets(obj.store)
        if as_json:
            emit(rows, True)
            return
        emit([{**r, "sha256": r["sha256"][:12], "created_at": iso(r["created_at"])} for r in rows], False,
             ["name", "latest", "versions", "rows", "columns", "target", "sha256", "created_at"])
        return
    versions = list_versions(obj.store, name)
    if as_json:
        emit([v.to_dict() for v in versions], True)
        return
    emit([{**v.to_dict(), "sha256": v.sha256[:12], "created_at": iso(v.created_at)} for v in versions], False,
         ["ref", "n_rows", "n_columns", "target", "time_column", "id_column", "sha256", "source", "created_at"])


@data.command("show")
@click.argument("ref")
@json_option
@click.pass_obj
def show(obj: Any, ref: str, as_json: bool) -> None:
    """Schema and profile of REF (NAME for the latest version, or NAME@VERSION)."""
    from core.data.datasets import columns, resolve

    dv = resolve(obj.store, ref)
    schema = columns(obj.store, dv)
    if as_json:
        click.echo(to_json({"version": dv.to_dict(), "columns": schema}))
        return
    emit({"version": dv.ref, "sha256": dv.sha256, "rows": dv.n_rows, "columns": dv.n_columns, "target": dv.target,
          "time column": dv.time_column, "id column": dv.id_column, "source": dv.source,
          "created": iso(dv.created_at)}, False)
    click.echo()
    emit([_summary(c) for c in schema], False,
         ["column", "dtype", "role", "missing", "unique", "mean", "min", "p50", "max", "top"])


def _summary(column: dict[str, Any]) -> dict[str, Any]:
    profile = column["profile"]
    top = ", ".join(f"{format_value(value)} ({count})" for value, count in profile.get("top", [])[:3])
    return {"column": column["name"], "dtype": column["dtype"], "role": column["role"],
            "missing": f"{profile['missing_rate']:.1%}", "unique": profile["unique"], "mean": profile.get("mean"),
            "min": profile.get("min"), "p50": profile.get("p50"), "max": profile.get("max"), "top": top}


@data.command("head")
@click.argument("ref")
@click.option("-n", "--rows", "limit", default=10, show_default=True, type=click.IntRange(min=0), help="Rows to show.")
@click.option("--offset", default=0, show_default=True, type=click.IntRange(min=0), help="Rows to skip first.")
@json_option
@click.pass_obj
def head(obj: Any, ref: str, limit: int, offset: int, as_json: bool) -> None:
    """The first rows of REF, as stored."""
    from core.data.datasets import read_page, resolve

    dv = resolve(obj.store, ref)
    names, rows = read_page(obj.store, dv, offset, limit)
    emit([dict(zip(names, row)) for row in rows], as_json, names)


@data.command("validate")
@click.argument("ref")
@click.option("--against", help="Reference version to compare with (e.g. the training data).")
@click.option("--all", "show_all", is_flag=True, help="List the checks that passed too.")
@json_option
@click.pass_obj
def validate(obj: Any, ref: str, against: str | None, show_all: bool, as_json: bool) -> None:
    """Check REF (optionally against a reference); exit 1 when an error-level check fails."""
    from core.data.datasets import resolve
    from core.data.validation import validate as run_checks

    dv = resolve(obj.store, ref)
    reference = resolve(obj.store, against) if against else None
    report = run_checks(obj.store, dv, reference)
    if as_json:
        click.echo(to_json(report.to_dict()))
    else:
        compared = f" against {report.against}" if report.against else ""
        passed = sum(c.passed for c in report.checks)
        click.echo(f"{report.dataset}{compared}: {len(report.errors)} errors, {len(report.warnings)} warnings, "
                   f"{passed} of {len(report.checks)} checks passed")
        shown = report.checks if show_all else report.failed
        if shown:
            click.echo()
            emit([{"status": "pass" if c.passed else "FAIL", "severity": c.severity, "check": c.name,
                   "column": c.column or "", "value": c.value, "threshold": c.threshold, "message": c.message}
                  for c in shown], False)
    if not report.ok:
        names = ", ".join(f"{c.name} {c.column}" if c.column else c.name for c in report.errors[:5])
        more = f" and {len(report.errors) - 5} more" if len(report.errors) > 5 else ""
        raise CheckFailed(f"{report.dataset}: {len(report.errors)} error-level checks failed: {names}{more}")


@data.command("verify")
@click.argument("refs", nargs=-1)
@json_option
@click.pass_obj
def verify(obj: Any, refs: tuple[str, ...], as_json: bool) -> None:
    """Re-hash the stored rows of each REF (every version when none is given); exit 1 when
    one no longer matches the SHA-256 recorded at import."""
    from core.data.datasets import list_datasets, list_versions, resolve, stored_hash
    from core.store.errors import PitboardError

    versions = [resolve(obj.store, ref) for ref in refs] or [
        dv for listed in list_datasets(obj.store) for dv in list_versions(obj.store, listed["name"])]
    results = []
    for dv in versions:
        try:
            stored, problem = stored_hash(obj.store, dv), ""
        except PitboardError as exc:
            stored, problem = None, str(exc)
        ok = stored == dv.sha256
        results.append({"version": dv.ref, "ok": ok, "recorded": dv.sha256, "stored": stored,
                        "problem": problem or ("" if ok else "the stored rows changed since the import")})
    if as_json:
        click.echo(to_json(results))
    elif not results:
        click.echo("no dataset versions")
    else:
        emit([{"version": r["version"], "status": "ok" if r["ok"] else "ALTERED", "recorded": r["recorded"][:12],
               "stored": (r["stored"] or "-")[:12], "problem": r["problem"]} for r in results], False)
    altered = [r["version"] for r in results if not r["ok"]]
    if altered:
        raise CheckFailed(f"{len(altered)} of {len(results)} versions do not match their recorded hash: {', '.join(altered)}")


COMMANDS = [data]
