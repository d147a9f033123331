"""What each kind of stage reads and does, through the engine functions the CLI calls.

`inputs` names everything a stage's result depends on, as content hashes or values (a
dataset's content hash, a spec file's SHA-256, the run a registration takes, the alias
holder a gate compares with, the settings the check reads); the runner fingerprints them
to decide whether a stage can be skipped. `run` does the work and returns its outputs,
which later stages read (`upstream`: the outputs of the stages a stage comes after,
nearest first). A check or gate that fails raises `CheckFailed` naming the stage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.monitoring.ingest import file_sha256
from core.pipelines.spec import Stage
from core.store.database import Store
from core.store.errors import CheckFailed, PitboardError

Upstream = dict[str, Any]


def _needs(upstream: Upstream, key: str, stage: Stage) -> Any:
    if key not in upstream:
        raise PitboardError(f"[stages.{stage.name}]: needs a {key} from a stage it comes after (after = [...])")
    return upstream[key]


def _dataset(store: Store, stage: Stage, upstream: Upstream) -> Any:
    from core.data.datasets import resolve

    name = stage.settings["dataset"]
    produced = upstream.get("dataset")
    return resolve(store, produced if produced and produced.partition("@")[0] == name else name)


# -- data add -------------------------------------------------------------------------------


def data_inputs(store: Store, stage: Stage, upstream: Upstream) -> dict[str, Any]:
    return {"file": file_sha256(stage.files["path"])}


def data_run(store: Store, stage: Stage, upstream: Upstream) -> dict[str, Any]:
    from core.data.datasets import add_dataset

    s = stage.settings
    dv, created = add_dataset(store, s["dataset"], stage.files["path"], target=s["target"] or None,
                              time_column=s["time_column"] or None, id_column=s["id_column"] or None)
    return {"dataset": dv.ref, "dataset_sha256": dv.sha256, "rows": dv.n_rows, "created": created}


# -- validate -------------------------------------------------------------------------------


def validate_inputs(store: Store, stage: Stage, upstream: Upstream) -> dict[str, Any]:
    from core.data.datasets import resolve
    from core.data.validation import settings

    dv = _dataset(store, stage, upstream)
    against = resolve(store, stage.settings["against"]) if stage.settings["against"] else None
    return {"dataset": f"{dv.ref} {dv.sha256}", "against": f"{against.ref} {against.sha256}" if against else "",
            "settings": settings(store)}


def validate_run(store: Store, stage: Stage, upstream: Upstream) -> dict[str, Any]:
    from core.data.datasets import resolve
    from core.data.validation import validate

    dv = _dataset(store, stage, upstream)
    against = resolve(store, stage.settings["against"]) if stage.settings["against"] else None
    report = validate(store, dv, against)
    if not report.ok:
        names = ", ".join(f"{c.name} {c.column}" if c.column else c.name for c in report.errors[:5])
        raise CheckFailed(f"{dv.ref}: {len(report.errors)} error-level checks failed: {names}")
    return {"dataset": dv.ref, "validation": report.id, "warnings": len(report.warnings)}


# -- train ----------------------------------------------------------------------------------


def train_inputs(store: Store, stage: Stage, upstream: Upstream) -> dict[str, Any]:
    from core.data.datasets import resolve
    from core.experiments.specs import load_spec

    spec = load_spec(stage.files["spec"])
    dv = resolve(store, spec.dataset)
    return {"spec": file_sha256(stage.files["spec"]), "dataset": f"{dv.ref} {dv.sha256}"}


def train_run(store: Store, stage: Stage, upstream: Upstream) -> dict[str, Any]:
    from core.experiments.specs import load_spec
    from core.experiments.training import train_spec

    spec = load_spec(stage.files["spec"])
    result = train_spec(store, spec)
    if result.best_run_id is None:
        raise CheckFailed(f"{stage.settings['spec']}: all {result.failed} runs failed")
    return {"search": result.search_id, "run": result.best_run_id, "runs": len(result.run_ids), "failed": result.failed}


# -- register, gate, package, promote -------------------------------------------------------


def register_inputs(store: Store, stage: Stage, upstream: Upstream) -> dict[str, Any]:
    return {"run": _needs(upstream, "run", stage)}


def register_run(store: Store, stage: Stage, upstream: Upstream) -> dict[str, Any]:
    """Register the run, unless a version of the model already holds the very same model bytes
    (a retrain that reproduced it): that version is handed on, so its gates and bundle stay cached."""
    from core.experiments.runs import get_run
    from core.monitoring.references import register

    run_id, name = int(_needs(upstream, "run", stage)), stage.settings["model"]
    same = store.value("SELECT v.version FROM model_versions v JOIN models m ON m.id = v.model_id"
                       " WHERE m.name = ? AND v.model_sha256 = ? ORDER BY v.version LIMIT 1",
                       (name, get_run(store, run_id).model_sha256))
    if same is not None:
        return {"version": f"{name}@{same}", "verdict": f"the same model as {name}@{same}: not registered again"}
    version = register(store, run_id, name, description=stage.settings["description"])
    return {"version": version.ref}


def _holder(store: Store, ref: str, alias: str) -> Any:
    from core.registry.versions import alias_holder, check_alias_name, resolve

    check_alias_name(alias)
    candidate = resolve(store, ref)
    return candidate, alias_holder(store, candidate.name, alias)


def alias_inputs(store: Store, stage: Stage, upstream: Upstream) -> dict[str, Any]:
    """The version and the gates' policy; not the alias's holder, which the pipeline itself moves
    (a gate passed by a version stays passed for that version, like a cached build)."""
    from core.registry.gates import policy_for
    from core.registry.versions import check_alias_name, resolve

    candidate = resolve(store, _needs(upstream, "version", stage))
    return {"version": candidate.ref, "alias": check_alias_name(stage.settings["alias"]),
            "policy": policy_for(store, candidate.name)}


def gate_run(store: Store, stage: Stage, upstream: Upstream) -> dict[str, Any]:
    from core.monitoring.promotion import evaluate_gates

    alias = stage.settings["alias"]
    candidate, holder = _holder(store, _needs(upstream, "version", stage), alias)
    if holder is not None and holder.id == candidate.id:
        return {"version": candidate.ref, "gates": [], "verdict": f"{candidate.ref} already holds {alias}"}
    gates = [g.to_dict() for g in evaluate_gates(store, candidate, alias)]
    failed = [g["name"] for g in gates if not g["passed"]]
    if failed:
        raise CheckFailed(f"{candidate.ref} to {alias}: gates failed: {', '.join(failed)}")
    return {"version": candidate.ref, "gates": gates, "verdict": f"{len(gates)} gates passed"}


def package_inputs(store: Store, stage: Stage, upstream: Upstream) -> dict[str, Any]:
    from core.registry.versions import resolve

    version = resolve(store, _needs(upstream, "version", stage))
    return {"version": version.ref, "model_sha256": version.model_sha256, "output": stage.settings["output"]}


def package_run(store: Store, stage: Stage, upstream: Upstream) -> dict[str, Any]:
    from core.registry.packaging import export_bundle

    out = stage.files["output"]
    if not out.parent.is_dir():
        out.parent.mkdir(parents=True)
    export_bundle(store, _needs(upstream, "version", stage), out, overwrite=True)
    return {"version": upstream["version"], "bundle": str(out), "bundle_sha256": file_sha256(out) if out.is_file() else ""}


def promote_run(store: Store, stage: Stage, upstream: Upstream) -> dict[str, Any]:
    from core.monitoring.promotion import promote

    alias = stage.settings["alias"]
    candidate, holder = _holder(store, _needs(upstream, "version", stage), alias)
    if holder is not None and holder.id == candidate.id:
        return {"version": candidate.ref, "alias": alias, "moved": False}
    result = promote(store, candidate.ref, alias, reason=f"pipeline stage {stage.name}")
    if result.moved is None:
        failed = ", ".join(g.name for g in result.gates if not g.passed)
        raise CheckFailed(f"{candidate.ref} to {alias}: gates failed: {failed}")
    return {"version": candidate.ref, "alias": alias, "moved": True}


@dataclass(frozen=True)
class Kind:
    inputs: Callable[[Store, Stage, Upstream], dict[str, Any]]
    run: Callable[[Store, Stage, Upstream], dict[str, Any]]
    outputs_exist: Callable[[dict[str, Any]], bool] = lambda outputs: True


KINDS: dict[str, Kind] = {
    "data add": Kind(data_inputs, data_run),
    "validate": Kind(validate_inputs, validate_run),
    "train": Kind(train_inputs, train_run),
    "register": Kind(register_inputs, register_run),
    "gate": Kind(alias_inputs, gate_run),
    "package": Kind(package_inputs, package_run, lambda outputs: Path(outputs.get("bundle", "")).is_file()),
    "promote": Kind(alias_inputs, promote_run),
}
