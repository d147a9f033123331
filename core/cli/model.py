"""`pitboard model ...`: register runs, move aliases through gates, roll back, package, tag."""

from __future__ import annotations

from pathlib import Path

import click

from core.cli._output import emit, json_option
from core.store.clock import iso
from core.store.errors import CheckFailed, PitboardError


@click.group()
def model() -> None:
    """The model registry: versions, aliases (champion, challenger, ...), gates, bundles."""


@model.command()
@click.argument("run_id", type=int)
@click.option("--name", required=True, help="Registered model name, e.g. credit-risk.")
@click.option("--description", default="", help="What this version is for.")
@json_option
@click.pass_obj
def register(obj, run_id: int, name: str, description: str, as_json: bool) -> None:
    """Register RUN_ID (a FINISHED run) as the next version of NAME."""
    from core.monitoring.references import register as register_run
    from core.registry.versions import describe

    mv = register_run(obj.store, run_id, name, description=description)
    if as_json:
        emit(describe(obj.store, mv), True)
    else:
        click.echo(f"registered {mv.ref} from run {run_id}")


@model.command()
@click.argument("ref")
@click.argument("alias")
@click.option("--remove", is_flag=True, help="Drop ALIAS from the model instead of setting it.")
@click.option("--reason", default="", help="Why, for the alias history.")
@json_option
@click.pass_obj
def alias(obj, ref: str, alias: str, remove: bool, reason: str, as_json: bool) -> None:
    """Point ALIAS at REF (NAME@VERSION), without gates; --remove drops it (REF: NAME)."""
    from core.registry.versions import move_alias, resolve
    from core.store.refs import parse_ref

    store = obj.store
    if remove:
        moved = move_alias(store, parse_ref(ref).name, alias, None, action="remove", reason=reason)
    else:
        target = resolve(store, ref)
        moved = move_alias(store, target.name, alias, target, action="set", reason=reason)
    if as_json:
        emit(moved, True)
    else:
        click.echo(_move_line(moved))


def _move_line(moved: dict) -> str:
    before = "(free)" if moved["from"] is None else f"v{moved['from']}"
    after = "(removed)" if moved["to"] is None else f"v{moved['to']}"
    return f"{moved['model']}@{moved['alias']}: {before} -> {after}" + (" (forced)" if moved.get("forced") else "")


@model.command(name="list")
@json_option
@click.pass_obj
def list_(obj, as_json: bool) -> None:
    """Registered models with their latest version and aliases."""
    from core.registry.versions import list_models

    rows = list_models(obj.store)
    if as_json:
        emit(rows, True)
    elif rows:
        emit([{**r, "created": iso(r["created_at"])} for r in rows], False, ["name", "versions", "latest", "aliases", "created"])
    else:
        click.echo("no registered models yet: pitboard model register RUN --name NAME")


@model.command()
@click.argument("ref")
@json_option
@click.pass_obj
def show(obj, ref: str, as_json: bool) -> None:
    """One version (NAME = latest) with metrics, aliases, tags and lineage."""
    from core.registry.versions import describe, list_versions, resolve

    store = obj.store
    mv = resolve(store, ref)
    data = describe(store, mv)
    if "@" not in ref:
        data["versions"] = [{"version": v.version, "aliases": ",".join(v.aliases), "source": v.source,
                             "primary": v.info.get("metrics", {}).get(v.info.get("primary_metric"))}
                            for v in list_versions(store, mv.name)]
    if as_json:
        emit(data, True)
        return
    lineage = data["lineage"]
    emit({
        "model": f"{mv.name} version {mv.version}",
        "aliases": ", ".join(mv.aliases) or "(none)",
        "task": f"{data['task']} ({data['estimator']})",
        data["primary_metric"] or "primary": data["primary_value"],
        "lineage": f"{lineage['source']} -> spec -> {lineage['dataset']} -> commit {lineage['git_commit'] or 'unknown'}"
                   + (" (dirty)" if lineage["git_dirty"] else ""),
        "experiment": lineage["experiment"],
        "sha256": mv.model_sha256,
        "registered": f"{iso(mv.created_at)} by {mv.created_by}",
        "tags": " ".join(f"{k}={v}" for k, v in data["tags"].items()),
        "description": mv.description,
    }, False)
    if data.get("versions"):
        click.echo("")
        emit(data["versions"], False)


@model.command()
@click.argument("name")
@click.option("--alias", "alias_name", default=None, help="Only this alias.")
@json_option
@click.pass_obj
def history(obj, name: str, alias_name: str | None, as_json: bool) -> None:
    """Every alias move of NAME: who, when, why, from which version to which."""
    from core.registry.versions import history as alias_history

    rows = alias_history(obj.store, name, alias_name)
    if as_json:
        emit(rows, True)
    else:
        emit([{**r, "when": iso(r["ts"])} for r in rows], False,
             ["when", "alias", "action", "from_version", "to_version", "forced", "user", "reason"])


def _print_gates(gates: list) -> None:
    emit([{"gate": g.name, "value": g.value, "threshold": g.threshold, "verdict": g.verdict, "note": g.message} for g in gates],
         False, ["gate", "value", "threshold", "verdict", "note"])


@model.command()
@click.argument("ref")
@click.option("--to", "alias_name", default="champion", show_default=True, help="The alias to move.")
@click.option("--force", is_flag=True, help="Move the alias even if gates fail (needs --reason; audited).")
@click.option("--reason", default="", help="Why; required with --force.")
@json_option
@click.pass_obj
def promote(obj, ref: str, alias_name: str, force: bool, reason: str, as_json: bool) -> None:
    """Move an alias to REF if every promotion gate passes; exit 1 and move nothing otherwise."""
    from core.monitoring.promotion import promote as run_promotion

    result = run_promotion(obj.store, ref, alias_name, force=force, reason=reason)
    if as_json:
        emit({"gates": [g.to_dict() for g in result.gates], "passed": result.passed, "moved": result.moved}, True)
    else:
        _print_gates(result.gates)
        click.echo(_move_line(result.moved) if result.moved else f"not promoted: a gate failed; {alias_name} unchanged")
    if result.moved is None:
        raise CheckFailed(f"{ref}: promotion to {alias_name} refused by its gates")


@model.command()
@click.argument("name")
@click.option("--alias", "alias_name", default="champion", show_default=True)
@click.option("--reason", default="", help="Why, for the alias history.")
@json_option
@click.pass_obj
def rollback(obj, name: str, alias_name: str, reason: str, as_json: bool) -> None:
    """Give the alias back to the version that held it before its last move."""
    from core.registry.versions import rollback as roll_back

    moved = roll_back(obj.store, name, alias_name, reason=reason)
    emit(moved, True) if as_json else click.echo(_move_line(moved))


@model.command()
@click.argument("ref")
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path),
              help="A folder, or a file ending .tar.gz.")
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("--detach", is_flag=True, help="Package in a background job; prints the job id.")
@click.option("--replicas", default=3, show_default=True, type=click.IntRange(1, 1000),
              help="Replicas of the Kubernetes Deployment written beside the bundle.")
@click.option("--log-to", "log_to", metavar="URL", help="Where the replicas write their log segments (s3://BUCKET/PREFIX).")
@json_option
@click.pass_obj
def package(obj, ref: str, out: Path, overwrite: bool, detach: bool, replicas: int, log_to: str | None,
            as_json: bool) -> None:
    """Write REF as a bundle: model.skops, manifest.json, requirements.txt, MODEL_CARD.md, Dockerfile;
    and beside it OUTPUT.k8s/: Deployment, Service, ConfigMap and kustomization.yaml."""
    from core.registry.packaging import export_bundle

    store = obj.store
    if detach:
        from core.jobs.runner import start_job
        from core.registry.versions import resolve

        mv = resolve(store, ref)
        if out.exists() and not overwrite:
            raise PitboardError(f"{out}: already exists; choose another path or pass --overwrite")
        job = start_job(store, "package", {"ref": mv.ref, "out": str(out.resolve()), "overwrite": overwrite,
                                              "replicas": replicas, "log_to": log_to},
                        title=f"package {mv.ref}")
        emit({"job": job}, True) if as_json else click.echo(f"job {job}: packaging {mv.ref} (pitboard jobs show {job})")
        return
    manifest = export_bundle(store, ref, out, overwrite=overwrite, replicas=replicas, log_to=log_to)
    if as_json:
        emit({"path": str(out), "manifest": manifest}, True)
    else:
        click.echo(f"packaged {manifest['name']}@{manifest['version']} into {out}")


@model.command()
@click.argument("ref")
@click.argument("pairs", nargs=-1)
@click.option("--remove", "removed", multiple=True, help="Tag key to remove (repeatable).")
@json_option
@click.pass_obj
def tag(obj, ref: str, pairs: tuple[str, ...], removed: tuple[str, ...], as_json: bool) -> None:
    """Tag a model (NAME) or a version (NAME@REF) with KEY=VALUE pairs."""
    from core.registry.versions import set_tag

    if not pairs and not removed:
        raise PitboardError("give KEY=VALUE pairs to set or --remove KEY")
    bad = [p for p in pairs if "=" not in p]
    if bad:
        raise PitboardError(f"tag {bad[0]!r}: write KEY=VALUE")
    store = obj.store
    with store.transaction():
        done = [set_tag(store, ref, *pair.split("=", 1)) for pair in pairs]
        done += [set_tag(store, ref, key, None) for key in removed]
    if as_json:
        emit(done, True)
    else:
        for entry in done:
            click.echo(f"{entry['object']}: {entry['key']}" + ("" if entry["value"] is None else f"={entry['value']}")
                       + (" removed" if entry["value"] is None else ""))


COMMANDS = [model]
