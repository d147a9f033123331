"""`pitboard bundle ...`: check a bundle before trusting it, or import it into the registry."""

from __future__ import annotations

from pathlib import Path

import click

from core.cli._output import emit, json_option


@click.group()
def bundle() -> None:
    """Model bundles written by `pitboard model package`."""


@bundle.command()
@click.argument("path", type=click.Path(path_type=Path))
@json_option
def verify(path: Path, as_json: bool) -> None:
    """Check the manifest, re-hash every file against it, load the model with trusted types
    only, and score a probe built from its signature."""
    from core.registry.packaging import verify_bundle
    from core.serving.probe import probe_model

    report = verify_bundle(path, probe=probe_model)
    if as_json:
        emit(report, True)
        return
    for name, entry in report["files"].items():
        click.echo(f"{name:<18} {entry['sha256']}  OK")
    click.echo(f"model loads ({report['estimator']}) and answers a probe: OK")
    click.echo(f"{path}: verified {report['model']}@{report['version']}")


@bundle.command(name="import")
@click.argument("path", type=click.Path(path_type=Path))
@json_option
@click.pass_obj
def import_(obj, path: Path, as_json: bool) -> None:
    """Register a verified bundle's model as a version of its name (reused if already there)."""
    from core.registry.packaging import import_bundle
    from core.serving.probe import probe_model

    mv = import_bundle(obj.store, path, probe=probe_model)
    emit({"model": mv.name, "version": mv.version, "source": mv.source}, True) if as_json else click.echo(
        f"{path}: available as {mv.ref} ({mv.source})"
    )


COMMANDS = [bundle]
