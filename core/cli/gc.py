"""`pitboard gc`: purge what was deleted, drop unreferenced blobs, vacuum, report the space.

Each module that keeps disposable data contributes one cleanup function to `CLEANUPS`
("module:function", imported lazily, called as `fn(store) -> dict[str, int]` of counts).
Order matters: anything that releases references to artifacts comes before
`core.store.artifacts:collect_garbage`, which deletes only the blobs nothing references.
"""

from __future__ import annotations

import importlib

import click

from core.cli._output import emit, json_option

CLEANUPS: list[str] = [
    "core.experiments.runs:purge_deleted_runs",
    "core.monitoring.status:drop_old_log",
    "core.store.artifacts:collect_garbage",  # keep last: it sees what the others released
]


def database_bytes(path) -> int:
    """The database file plus its WAL, the space the user pays for."""
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


@click.command("gc")
@json_option
@click.pass_obj
def gc(obj, as_json: bool) -> None:
    """Remove deleted runs and unreferenced artifacts, then vacuum the database."""
    store = obj.store
    before = database_bytes(store.path)
    report: dict[str, int] = {}
    for entry in CLEANUPS:
        module, _, name = entry.partition(":")
        report.update(getattr(importlib.import_module(module), name)(store))
    store.vacuum()
    after = database_bytes(store.path)
    report.update(bytes_before=before, bytes_after=after, bytes_reclaimed=max(0, before - after))
    if as_json:
        emit(report, True)
        return
    emit({k: v for k, v in report.items() if not k.startswith("bytes")}, False)
    click.echo(f"reclaimed {report['bytes_reclaimed']:,} bytes ({before:,} -> {after:,})")


COMMANDS = [gc]
