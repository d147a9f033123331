"""Bundles: a registered version as files that can be checked, copied and served anywhere.

A bundle is a folder, or the same files in a `.tar.gz`: `model.skops`, `manifest.json`
(name, version, task, input signature, outputs, metrics, lineage, exact Python and
package versions, and the SHA-256 of every other file), `requirements.txt`,
`MODEL_CARD.md` and a `Dockerfile`.

Verification re-hashes every file against the manifest BEFORE the model is loaded, so a
changed byte is refused and never deserialised; a file that is missing or not listed is
refused too. Loading then goes through `core.experiments.modelio` (skops, trusted types only).
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.registry.modelcard import LOADING_PACKAGES, SERVING_PACKAGES, dockerfile, model_card, requirements
from core.registry.versions import ModelVersion, add_version, resolve
from core.store.database import Store
from core.store.errors import CheckFailed, PitboardError

FORMAT = "pitboard-bundle/1"
MODEL_FILE, MANIFEST = "model.skops", "manifest.json"
FILES = (MODEL_FILE, "requirements.txt", "MODEL_CARD.md", "Dockerfile")


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
            "columns": ["label", *[f"proba_{c}" for c in classes]] if classes else ["prediction"],
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


def export_bundle(store: Store, ref: str, out: Path, *, overwrite: bool = False) -> dict[str, Any]:
    """Write the bundle of `ref` to `out` (a folder, or a file ending .tar.gz); returns the manifest."""
    from core.store.artifacts import get_blob

    out = Path(out)
    if (out.exists() or out.is_symlink()) and not overwrite:
        raise PitboardError(f"{out}: already exists; choose another path or pass --overwrite")
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
        if out.is_dir() and not out.is_symlink():
            shutil.rmtree(out)
        elif out.exists() or out.is_symlink():
            out.unlink()
        target.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with store.transaction():
        store.audit("model.package", mv.ref, {"path": str(out.resolve()), "sha256": mv.model_sha256})
    return manifest


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


@contextmanager
def bundle_folder(path: Path) -> Iterator[Path]:
    """The bundle's folder: `path` itself, or a checked extraction of a `.tar.gz`."""
    from core.registry.tarsafety import safe_extract

    path = Path(path)
    if not path.exists():
        raise PitboardError(f"{path}: no such bundle")
    if path.is_dir():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="pitboard-bundle-") as folder:
        safe_extract(path, Path(folder))
        yield Path(folder)


def read_verified(folder: Path, source: Path) -> tuple[dict[str, Any], bytes]:
    """(manifest, model bytes) once every file matches its recorded SHA-256."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckFailed(f"{source}: no {MANIFEST}; not a pitboard bundle") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckFailed(f"{source}: {MANIFEST} is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise CheckFailed(f"{source}: {MANIFEST} is not a {FORMAT} manifest")
    listed = manifest["files"]
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()}
    extra = sorted(present - set(listed) - {MANIFEST})
    if extra:
        raise CheckFailed(f"{source}: {extra[0]} is not listed in the manifest; refused")
    for name in sorted(set(FILES) | set(listed)):
        file = folder / name
        if name not in listed:
            raise CheckFailed(f"{source}: the manifest lists no SHA-256 for {name}")
        if file.is_symlink() or not file.is_file():
            raise CheckFailed(f"{source}: {name} is missing or not a regular file")
        actual = _sha256(file.read_bytes())
        if actual != listed[name]:
            raise CheckFailed(f"{source}: {name} has SHA-256 {actual}, the manifest says {listed[name]}: the file was changed")
    model = (folder / MODEL_FILE).read_bytes()
    if _sha256(model) != manifest.get("model_sha256"):
        raise CheckFailed(f"{source}: {MODEL_FILE} does not match the manifest's model_sha256")
    return manifest, model


def load_bundle(path: Path) -> tuple[Any, dict[str, Any], bytes]:
    """(estimator, manifest, model bytes) of a verified bundle; raises before loading a changed one."""
    from core.experiments.modelio import load_model

    with bundle_folder(path) as folder:
        manifest, model = read_verified(folder, Path(path))
    return load_model(model), manifest, model


def verify_bundle(path: Path) -> dict[str, Any]:
    """Check every checksum, then that the model loads and answers; a report for `bundle verify`."""
    estimator, manifest, _ = load_bundle(path)
    method = "predict_proba" if manifest["task"] == "classification" else "predict"
    if not hasattr(estimator, method):
        raise CheckFailed(f"{path}: the model loads but has no {method}() for a {manifest['task']} model")
    return {
        "bundle": str(path),
        "model": manifest["name"],
        "version": manifest["version"],
        "task": manifest["task"],
        "files": {name: {"sha256": digest, "ok": True} for name, digest in sorted(manifest["files"].items())},
        "model_loads": True,
        "estimator": type(estimator).__name__,
    }


def import_bundle(store: Store, path: Path) -> ModelVersion:
    """Register a verified bundle's model as a version of its name (reused if already imported)."""
    from core.store.artifacts import put_blob

    _, manifest, model = load_bundle(path)
    name = manifest["name"]
    existing = store.value(
        "SELECT v.id FROM model_versions v JOIN models m ON m.id = v.model_id WHERE m.name = ? AND v.model_sha256 = ?",
        (name, manifest["model_sha256"]),
    )
    if existing is not None:
        return resolve(store, f"{name}@{store.value('SELECT version FROM model_versions WHERE id = ?', (existing,))}")
    info = {key: manifest.get(key) for key in (
        "task", "estimator", "primary_metric", "metrics", "signature", "feature_importance", "holdout_size",
        "experiment", "dataset", "dataset_sha256", "dataset_rows", "git_commit", "git_dirty",
    )}
    info["classes"] = manifest["output"]["classes"]
    info["env"] = {"python": manifest.get("python"), "packages": manifest.get("packages")}
    info["bundle"] = {"name": name, "version": manifest["version"], "run": manifest.get("run")}
    with store.transaction():
        sha = put_blob(store, model)
        return add_version(store, name, run_id=None, sha256=sha, source=f"bundle {name}@{manifest['version']}",
                           info=info, description=manifest.get("description") or "")


def package_job(store: Store, job: Any, *, ref: str, out: str, overwrite: bool = False) -> dict[str, Any]:
    """The `package` job kind: `pitboard model package --detach` runs this in a worker."""
    job.progress(0.1, f"packaging {ref}")
    manifest = export_bundle(store, ref, Path(out), overwrite=overwrite)
    job.progress(1.0, f"wrote {out}")
    return {"path": out, "model": manifest["name"], "version": manifest["version"]}
