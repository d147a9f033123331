"""Bundles: a registered version as files that can be checked, copied and served anywhere.

A bundle is a folder, or the same files in a `.tar.gz`: `model.skops`, `manifest.json`
(name, version, task, input signature, outputs, metrics, lineage, exact Python and
package versions, and the SHA-256 of every other file), `requirements.txt`,
`MODEL_CARD.md` and a `Dockerfile`.

Reading a bundle never extracts anything (`core.registry.tarsafety`): its files are read
into memory, links, folders and special files refused. The manifest is checked field by field
(`core.registry.manifest`), then every file is re-hashed against it BEFORE the model is
loaded, so a changed byte is refused and never deserialised; a file that is missing or
not listed is refused too. Loading then goes through `core.experiments.modelio` (skops,
trusted types only), and the model must answer a probe built from its signature (the
`Probe` that serving passes down) before it is reported as verified or registered.
A bundle is written into a temporary sibling and renamed into place, so an interrupted
export leaves no half bundle behind.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.registry.manifest import FORMAT, MANIFEST, MODEL_FILE, output_columns, parse_manifest
from core.registry.modelcard import LOADING_PACKAGES, SERVING_PACKAGES, dockerfile, model_card, requirements
from core.registry.tarsafety import read_bundle_files
from core.registry.versions import ModelVersion, add_version, resolve
from core.store.database import Store
from core.store.errors import CheckFailed, PitboardError, shown

Probe = Callable[[Any, dict[str, Any], str], None]
"""(estimator, version info, source) -> None, or a one-line error: proves a loaded model
answers a request built from its signature. Serving knows how a request is scored, so
`core.serving.probe.probe_model` is what the command line passes down."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_tarball(path: Path) -> bool:
    """Whether `path` names a `.tar.gz` / `.tgz` bundle rather than a folder."""
    return path.name.endswith((".tar.gz", ".tgz"))


def build_manifest(store: Store, mv: ModelVersion) -> dict[str, Any]:
    """Everything a bundle says about its model, except the file hashes."""
    from importlib import metadata

    info = mv.info
    packages = dict((info.get("env") or {}).get("packages") or {})
    for name in (*LOADING_PACKAGES, *SERVING_PACKAGES, "pitboard"):  # the run's own pins win
        try:
            packages.setdefault(name, metadata.version(name))
        except metadata.PackageNotFoundError:
            continue
    classes = info.get("classes")
    return {
        "format": FORMAT,
        "name": mv.name,
        "version": mv.version,
        "description": mv.description,
        "task": info["task"],
        "estimator": info.get("estimator"),
        "signature": info["signature"],
        "output": {
            "classes": classes,
            "columns": output_columns(classes),
        },
        "primary_metric": info.get("primary_metric"),
        "metrics": info.get("metrics"),
        "holdout_size": info.get("holdout_size"),
        "feature_importance": info.get("feature_importance"),
        "dataset": info.get("dataset"),
        "dataset_sha256": info.get("dataset_sha256"),
        "dataset_rows": info.get("dataset_rows"),
        "run": mv.run_id,
        "experiment": info.get("experiment"),
        "git_commit": info.get("git_commit"),
        "git_dirty": info.get("git_dirty"),
        "python": (info.get("env") or {}).get("python") or _python(),
        "packages": packages,
        "model_sha256": mv.model_sha256,
        "source": mv.source,
    }


def _python() -> str:
    import platform

    return platform.python_version()


def promotion_gates(store: Store, mv: ModelVersion) -> list[dict[str, Any]]:
    """The promotions of this version with the gates each one ran."""
    rows = store.rows(
        "SELECT alias, forced, reason, gates, user, ts FROM alias_history WHERE to_version_id = ? AND action = 'promote' ORDER BY id",
        (mv.id,),
    )
    return [{**dict(r), "gates": json.loads(r["gates"])} for r in rows]


def k8s_folder(out: Path) -> Path:
    """Where `model package` writes a bundle's Kubernetes manifests: `<bundle>.k8s` beside it."""
    stem = out.name[: -len(".tar.gz")] if out.name.endswith(".tar.gz") else out.name.removesuffix(".tgz")
    return out.parent / f"{stem}.k8s"


def export_bundle(store: Store, ref: str, out: Path, *, overwrite: bool = False, replicas: int = 3,
                  log_to: str | None = None) -> dict[str, Any]:
    """Write the bundle of `ref` to `out` (a folder, or a file ending .tar.gz), and its Kubernetes
    manifests beside it (`k8s_folder`); returns the manifest."""
    from core.store.artifacts import get_blob

    out = Path(out)
    for path in (out, k8s_folder(out)):
        if (path.exists() or path.is_symlink()) and not overwrite:
            raise PitboardError(f"{path}: already exists; choose another path or pass --overwrite")
    if not out.parent.is_dir():
        raise PitboardError(f"{out}: folder {out.parent} does not exist")
    mv = resolve(store, ref)
    manifest = build_manifest(store, mv)
    contents = {
        MODEL_FILE: get_blob(store, mv.model_sha256),
        "requirements.txt": requirements(manifest).encode(),
        "MODEL_CARD.md": model_card(manifest, promotion_gates(store, mv)).encode(),
        "Dockerfile": dockerfile(manifest).encode(),
    }
    manifest["files"] = {name: _sha256(data) for name, data in contents.items()}
    contents[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n").encode()
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        target = staging / "bundle"
        if is_tarball(out):
            target.write_bytes(_tarball(contents, mtime=mv.created_at))
        else:
            target.mkdir()
            for name, data in contents.items():
                (target / name).write_bytes(data)
        _move_into_place(target, out)
        _write_k8s(store, manifest, k8s_folder(out), staging, replicas=replicas,
                   log_to=log_to or f"s3://CHANGE-ME/{manifest['name']}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with store.transaction():
        store.audit("model.package", mv.ref, {"path": str(out.resolve()), "sha256": mv.model_sha256})
    return manifest


def _write_k8s(store: Store, manifest: dict[str, Any], folder: Path, staging: Path, *, replicas: int, log_to: str) -> None:
    from core.registry.kubernetes import manifests
    from core.store.config import load_config

    serving = load_config(store.config_path).get("serving", {})
    serving = {key: value for key, value in serving.items() if isinstance(value, (int, float))} if isinstance(serving, dict) else {}
    target = staging / "k8s"
    target.mkdir()
    for name, text in manifests(manifest, replicas=replicas, log_to=log_to, serving=serving).items():
        (target / name).write_text(text)
    _move_into_place(target, folder)


def _move_into_place(staged: Path, out: Path) -> None:
    """Replace whatever is at `out` (folder, file or link) with `staged`, renamed."""
    if out.is_dir() and not out.is_symlink():
        shutil.rmtree(out)
    elif out.exists() or out.is_symlink():
        out.unlink()
    staged.rename(out)


def _tarball(contents: dict[str, bytes], *, mtime: float) -> bytes:
    """A reproducible .tar.gz: sorted members dated `mtime` (the version's registration),
    no owner names, and a gzip header without a timestamp, so the same version exports
    to the same bytes (and the same SHA-256) whenever and wherever it is packaged."""
    import gzip

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(contents):
            member = tarfile.TarInfo(name)
            member.size, member.mtime, member.mode = len(contents[name]), int(mtime), 0o644
            tar.addfile(member, io.BytesIO(contents[name]))
    return gzip.compress(buffer.getvalue(), mtime=0)


def read_verified(path: Path) -> tuple[dict[str, Any], bytes]:
    """(manifest, model bytes) once the manifest is well-formed and every file matches its SHA-256.

    The bytes hashed are the bytes returned: nothing is read twice, so nothing can change
    between the check and the use.
    """
    files = read_bundle_files(path)
    if MANIFEST not in files:
        raise CheckFailed(f"{path}: no {MANIFEST}; not a pitboard bundle")
    manifest = parse_manifest(Path(path), files[MANIFEST])
    listed = manifest["files"]
    extra = sorted(set(files) - set(listed) - {MANIFEST})
    if extra:
        raise CheckFailed(f"{path}: {shown(extra[0])} is not listed in the manifest; refused")
    for name in sorted(listed):
        if name not in files:
            raise CheckFailed(f"{path}: {name} is missing or not a regular file")
        actual = _sha256(files[name])
        if actual != listed[name]:
            raise CheckFailed(f"{path}: {name} has SHA-256 {actual}, the manifest says {listed[name]}: the file was changed")
    return manifest, files[MODEL_FILE]


def bundle_info(manifest: dict[str, Any]) -> dict[str, Any]:
    """What a registered version keeps of a (checked) manifest: enough to serve, package and explain it."""
    info = {key: manifest.get(key) for key in (
        "task", "estimator", "primary_metric", "metrics", "signature", "feature_importance", "holdout_size",
        "experiment", "dataset", "dataset_sha256", "dataset_rows", "git_commit", "git_dirty",
    )}
    info["classes"] = manifest["output"]["classes"]
    info["env"] = {"python": manifest.get("python"), "packages": manifest.get("packages")}
    info["bundle"] = {"name": manifest["name"], "version": manifest["version"], "run": manifest.get("run")}
    return info


def load_bundle(path: Path, *, probe: Probe) -> tuple[Any, dict[str, Any], bytes]:
    """(estimator, manifest, model bytes) of a verified bundle whose model answered `probe`.

    Raises before loading a changed file, and before returning a model that cannot answer.
    """
    from core.experiments.modelio import load_model

    manifest, model = read_verified(path)
    estimator = load_model(model)
    probe(estimator, bundle_info(manifest), str(path))
    return estimator, manifest, model


def verify_bundle(path: Path, *, probe: Probe) -> dict[str, Any]:
    """Check the manifest and every checksum, then that the model loads and answers; a report for `bundle verify`."""
    estimator, manifest, _ = load_bundle(path, probe=probe)
    return {
        "bundle": str(path),
        "model": manifest["name"],
        "version": manifest["version"],
        "task": manifest["task"],
        "files": {name: {"sha256": digest, "ok": True} for name, digest in sorted(manifest["files"].items())},
        "model_loads": True,
        "model_answers": True,
        "estimator": type(estimator).__name__,
    }


def import_bundle(store: Store, path: Path, *, probe: Probe) -> ModelVersion:
    """Register a verified bundle's model as a version of its name (reused if already imported).

    Nothing is written to the database until the manifest, every checksum and the probe pass.
    """
    from core.store.artifacts import put_blob

    _, manifest, model = load_bundle(path, probe=probe)
    name = manifest["name"]
    existing = store.value(
        "SELECT v.id FROM model_versions v JOIN models m ON m.id = v.model_id WHERE m.name = ? AND v.model_sha256 = ?",
        (name, manifest["model_sha256"]),
    )
    if existing is not None:
        return resolve(store, f"{name}@{store.value('SELECT version FROM model_versions WHERE id = ?', (existing,))}")
    with store.transaction():
        sha = put_blob(store, model)
        return add_version(store, name, run_id=None, sha256=sha, source=f"bundle {name}@{manifest['version']}",
                           info=bundle_info(manifest), description=manifest.get("description") or "")


def package_job(store: Store, job: Any, *, ref: str, out: str, overwrite: bool = False, replicas: int = 3,
                log_to: str | None = None) -> dict[str, Any]:
    """The `package` job kind: `pitboard model package --detach` runs this in a worker."""
    job.progress(0.1, f"packaging {ref}")
    manifest = export_bundle(store, ref, Path(out), overwrite=overwrite, replicas=replicas, log_to=log_to)
    job.progress(1.0, f"wrote {out}")
    return {"path": out, "model": manifest["name"], "version": manifest["version"]}
