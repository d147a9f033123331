"""The model registry: named models, numbered versions, aliases and their history.

Vocabulary as in MLflow: a registered model (`credit-risk`) has versions 1..N, each made
from one FINISHED run (or imported from a bundle); aliases (`champion`, `challenger`, any
name) point at one version each and can move. `NAME@VERSION` and `NAME@ALIAS` are
accepted wherever a version is expected, plain `NAME` meaning the latest version.

The model bytes never leave SQLite: a version references its run's artifact by SHA-256.
A version also keeps its own `info` (task, signature, classes, metrics, lineage) so that
serving, prediction and packaging need only the version row, also for imported bundles.

Every alias move (set, remove, promote, rollback) is one transaction that updates the
alias, appends to `alias_history` (who, when, why, from which version to which) and
writes the audit row. Rollback walks that history back, skipping moves already undone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.store.database import Store, os_user
from core.store.errors import NotFound, PitboardError
from core.store.outbox import publish
from core.store.refs import parse_ref, validate_name

CHAMPION = "champion"


@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model, as stored."""

    id: int
    model_id: int
    name: str
    version: int
    run_id: int | None
    model_sha256: str
    source: str
    info: dict[str, Any]
    description: str
    created_by: str
    created_at: float
    aliases: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        """`name@version`."""
        return f"{self.name}@{self.version}"


_VERSION_SQL = """
    SELECT v.*, m.name,
           (SELECT group_concat(alias, ',') FROM (SELECT alias FROM model_aliases a
             WHERE a.version_id = v.id ORDER BY alias)) AS alias_list
    FROM model_versions v JOIN models m ON m.id = v.model_id
"""


def _version(row: Any) -> ModelVersion:
    return ModelVersion(
        id=row["id"],
        model_id=row["model_id"],
        name=row["name"],
        version=row["version"],
        run_id=row["run_id"],
        model_sha256=row["model_sha256"],
        source=row["source"],
        info=json.loads(row["info"]),
        description=row["description"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        aliases=tuple(row["alias_list"].split(",")) if row["alias_list"] else (),
    )


def version_by_id(store: Store, version_id: int) -> ModelVersion:
    """The version with this row id."""
    row = store.row(_VERSION_SQL + " WHERE v.id = ?", (version_id,))
    if row is None:
        raise NotFound(f"model version id {version_id}: not found")
    return _version(row)


def model_id(store: Store, name: str) -> int:
    """The id of registered model `name`, or NotFound listing the models that exist."""
    found = store.value("SELECT id FROM models WHERE name = ?", (name,))
    if found is None:
        names = [r["name"] for r in store.rows("SELECT name FROM models ORDER BY name")]
        raise NotFound(f"model {name!r}: not registered; models: {', '.join(names) or '(none yet)'}")
    return int(found)


def resolve(store: Store, text: str) -> ModelVersion:
    """`NAME` (latest), `NAME@VERSION` or `NAME@ALIAS` -> the version it names."""
    ref = parse_ref(text)
    mid = model_id(store, ref.name)
    if ref.selector is None:
        row = store.row(_VERSION_SQL + " WHERE v.model_id = ? ORDER BY v.version DESC LIMIT 1", (mid,))
    elif ref.version is not None:
        row = store.row(_VERSION_SQL + " WHERE v.model_id = ? AND v.version = ?", (mid, ref.version))
    else:
        row = store.row(
            _VERSION_SQL + " WHERE v.id = (SELECT version_id FROM model_aliases WHERE model_id = ? AND alias = ?)",
            (mid, ref.selector),
        )
    if row is None:
        versions = [str(r["version"]) for r in store.rows("SELECT version FROM model_versions WHERE model_id = ? ORDER BY version", (mid,))]
        aliases = [r["alias"] for r in store.rows("SELECT alias FROM model_aliases WHERE model_id = ? ORDER BY alias", (mid,))]
        raise NotFound(
            f"{text}: no such version or alias of {ref.name!r}; versions: {', '.join(versions) or '(none)'};"
            f" aliases: {', '.join(aliases) or '(none)'}"
        )
    return _version(row)


def alias_holder(store: Store, name: str, alias: str) -> ModelVersion | None:
    """The version `alias` points at now, or None when the alias is free."""
    row = store.row(
        _VERSION_SQL + " WHERE v.id = (SELECT version_id FROM model_aliases WHERE model_id = ? AND alias = ?)",
        (model_id(store, name), alias),
    )
    return None if row is None else _version(row)


# -- registering -------------------------------------------------------------------------


def register(store: Store, run_id: int, name: str, *, description: str = "") -> ModelVersion:
    """Create the next version of `name` (creating the model) from a FINISHED run."""
    from core.experiments.runs import get_run

    validate_name(name, "model name")
    run = get_run(store, run_id)
    if run.status != "FINISHED":
        raise PitboardError(f"run {run_id}: status is {run.status}, only FINISHED runs can be registered ({run.error or 'no error recorded'})")
    if not run.model_sha256:
        raise PitboardError(f"run {run_id}: has no stored model to register")
    version = add_version(store, name, run_id=run.id, sha256=run.model_sha256, source=f"run {run.id}",
                          info=info_from_run(store, run), description=description)
    return version


def add_version(
    store: Store, name: str, *, run_id: int | None, sha256: str, source: str, info: dict[str, Any], description: str = ""
) -> ModelVersion:
    """Append version N+1 of `name` in one transaction (shared by register and bundle import)."""
    validate_name(name, "model name")  # again here: a bundle's name comes from a file, not a command
    now = store.clock()
    with store.transaction():
        store.conn.execute("INSERT OR IGNORE INTO models (name, created_at) VALUES (?, ?)", (name, now))
        mid = model_id(store, name)
        number = 1 + (store.value("SELECT MAX(version) FROM model_versions WHERE model_id = ?", (mid,)) or 0)
        cursor = store.conn.execute(
            "INSERT INTO model_versions (model_id, version, run_id, model_sha256, source, info, description, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (mid, number, run_id, sha256, source, json.dumps(info, sort_keys=True, default=str), description, os_user(), now),
        )
        store.audit("model.register", f"{name}@{number}", {"source": source, "sha256": sha256})
    return version_by_id(store, int(cursor.lastrowid))


def info_from_run(store: Store, run: Any) -> dict[str, Any]:
    """What a version keeps of its run: enough to serve, package and explain it."""
    from core.data.datasets import version_by_id as dataset_version

    dataset = dataset_version(store, run.dataset_version_id)
    return {
        "task": run.task,
        "estimator": run.estimator,
        "primary_metric": run.primary_metric,
        "metrics": dict(run.metrics),
        "params": dict(run.params),
        "signature": list(run.signature),
        "classes": list(run.classes) if run.classes is not None else None,
        "feature_importance": list(run.feature_importance),
        "holdout_size": run.holdout_size,
        "experiment": run.experiment,
        "dataset_version_id": run.dataset_version_id,
        "dataset": dataset.ref,
        "dataset_sha256": dataset.sha256,
        "dataset_rows": dataset.n_rows,
        "git_commit": run.git_commit,
        "git_dirty": run.git_dirty,
        "env": dict(run.env),
        "seed": run.seed,
    }


# -- aliases -----------------------------------------------------------------------------


def check_alias_name(alias: str) -> str:
    """Aliases are names that cannot be mistaken for version numbers."""
    validate_name(alias, "alias")
    if alias.isdigit():
        raise PitboardError(f"invalid alias {alias!r}: an alias cannot be a number (that would read as a version)")
    return alias


def move_alias(
    store: Store,
    name: str,
    alias: str,
    target: ModelVersion | None,
    *,
    action: str,
    reason: str = "",
    forced: bool = False,
    gates: list[dict[str, Any]] | None = None,
    undoes: int | None = None,
) -> dict[str, Any]:
    """Point `alias` at `target` (None removes it), with history and audit, in one transaction."""
    check_alias_name(alias)
    with store.transaction():
        mid = model_id(store, name)
        current = store.value("SELECT version_id FROM model_aliases WHERE model_id = ? AND alias = ?", (mid, alias))
        if target is None and current is None:
            raise NotFound(f"{name}@{alias}: no such alias to remove")
        if target is not None:
            if target.model_id != mid:
                raise PitboardError(f"{target.ref}: is not a version of {name!r}")
            store.conn.execute(
                "INSERT INTO model_aliases (model_id, alias, version_id, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (model_id, alias) DO UPDATE SET version_id = excluded.version_id, updated_at = excluded.updated_at",
                (mid, alias, target.id, store.clock()),
            )
        else:
            store.conn.execute("DELETE FROM model_aliases WHERE model_id = ? AND alias = ?", (mid, alias))
        store.conn.execute(
            "INSERT INTO alias_history (model_id, alias, action, from_version_id, to_version_id, undoes, forced, reason, gates, user, ts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (mid, alias, action, current, target.id if target else None, undoes, int(forced), reason,
             json.dumps(gates or [], default=str), os_user(), store.clock()),
        )
        before = _number(store, current)
        after = target.version if target else None
        details = {"from": before, "to": after, "reason": reason, "forced": forced}
        if gates:
            details["gates"] = [f"{g['name']}: {g['verdict']}" for g in gates]
        store.audit(f"model.{action}" + (".forced" if forced else ""), f"{name}@{alias}", details)
        if action in ("promote", "rollback"):
            kind = "promotion" if action == "promote" else "rollback"
            verb = "promoted to" if action == "promote" else "rolled back to"
            publish(store, kind, f"{name}@{alias} {verb} v{after} (was v{before})" + (" [forced]" if forced else ""),
                    model=name, details=details)
    return {"model": name, "alias": alias, "from": before, "to": after, "action": action, "forced": forced}


def _number(store: Store, version_id: int | None) -> int | None:
    if version_id is None:
        return None
    return int(store.value("SELECT version FROM model_versions WHERE id = ?", (version_id,)))


def rollback(store: Store, name: str, alias: str = CHAMPION, *, reason: str = "") -> dict[str, Any]:
    """Give `alias` back to the version that held it before its last move not yet undone."""
    with store.transaction():
        mid = model_id(store, name)
        undone: set[int] = set()
        for entry in store.rows(
            "SELECT id, action, from_version_id, undoes FROM alias_history WHERE model_id = ? AND alias = ? ORDER BY id DESC",
            (mid, alias),
        ):
            if entry["action"] == "rollback":
                undone.add(entry["undoes"])
                continue
            if entry["id"] in undone:
                continue
            if entry["from_version_id"] is None:
                raise PitboardError(f"{name}@{alias}: had no holder before its first assignment; nothing to roll back to")
            target = version_by_id(store, entry["from_version_id"])
            return move_alias(store, name, alias, target, action="rollback", reason=reason, undoes=entry["id"])
        raise PitboardError(f"{name}@{alias}: no earlier holder in the alias history; nothing to roll back to")


def history(store: Store, name: str, alias: str | None = None) -> list[dict[str, Any]]:
    """The alias moves of a model, oldest first."""
    mid = model_id(store, name)
    rows = store.rows(
        """SELECT h.id, h.alias, h.action, f.version AS from_version, t.version AS to_version, h.forced,
                  h.reason, h.gates, h.user, h.ts
           FROM alias_history h
           LEFT JOIN model_versions f ON f.id = h.from_version_id
           LEFT JOIN model_versions t ON t.id = h.to_version_id
           WHERE h.model_id = ? AND (? IS NULL OR h.alias = ?) ORDER BY h.id""",
        (mid, alias, alias),
    )
    return [{**dict(r), "forced": bool(r["forced"]), "gates": json.loads(r["gates"])} for r in rows]


# -- tags --------------------------------------------------------------------------------


def set_tag(store: Store, text: str, key: str, value: str | None) -> dict[str, Any]:
    """Tag a model (`NAME`) or a version (`NAME@REF`); value None removes the tag."""
    ref = parse_ref(text)
    validate_name(key, "tag key")
    with store.transaction():
        if ref.selector is None:
            table, column, owner = "model_tags", "model_id", model_id(store, ref.name)
        else:
            table, column, owner = "model_version_tags", "version_id", resolve(store, text).id
        if value is None:
            deleted = store.conn.execute(f"DELETE FROM {table} WHERE {column} = ? AND key = ?", (owner, key)).rowcount
            if not deleted:
                raise NotFound(f"{text}: no tag {key!r}")
        else:
            store.conn.execute(
                f"INSERT INTO {table} ({column}, key, value) VALUES (?, ?, ?)"
                " ON CONFLICT DO UPDATE SET value = excluded.value",
                (owner, key, value),
            )
        store.audit("model.tag", text, {"key": key, "value": value})
    return {"object": text, "key": key, "value": value}


def tags(store: Store, *, model: int | None = None, version: int | None = None) -> dict[str, str]:
    """The tags of a model (by id) or of a version (by id)."""
    if model is not None:
        rows = store.rows("SELECT key, value FROM model_tags WHERE model_id = ? ORDER BY key", (model,))
    else:
        rows = store.rows("SELECT key, value FROM model_version_tags WHERE version_id = ? ORDER BY key", (version,))
    return {r["key"]: r["value"] for r in rows}


# -- listing -----------------------------------------------------------------------------


def list_models(store: Store) -> list[dict[str, Any]]:
    """Every registered model with its latest version and its aliases."""
    rows = store.rows(
        """SELECT m.id, m.name, m.description, m.created_at,
                  (SELECT MAX(version) FROM model_versions WHERE model_id = m.id) AS latest,
                  (SELECT COUNT(*) FROM model_versions WHERE model_id = m.id) AS versions,
                  (SELECT group_concat(alias || '=' || version, ' ') FROM
                     (SELECT a.alias, v.version FROM model_aliases a JOIN model_versions v ON v.id = a.version_id
                      WHERE a.model_id = m.id ORDER BY a.alias)) AS aliases
           FROM models m ORDER BY m.name"""
    )
    return [{**dict(r), "aliases": r["aliases"] or ""} for r in rows]


def list_versions(store: Store, name: str) -> list[ModelVersion]:
    """All versions of `name`, oldest first."""
    mid = model_id(store, name)
    return [_version(r) for r in store.rows(_VERSION_SQL + " WHERE v.model_id = ? ORDER BY v.version", (mid,))]


def describe(store: Store, mv: ModelVersion) -> dict[str, Any]:
    """Everything `model show` prints for one version, lineage included."""
    info = mv.info
    primary = info.get("primary_metric")
    return {
        "model": mv.name,
        "version": mv.version,
        "aliases": list(mv.aliases),
        "description": mv.description,
        "task": info.get("task"),
        "estimator": info.get("estimator"),
        "primary_metric": primary,
        "primary_value": info.get("metrics", {}).get(primary),
        "metrics": info.get("metrics", {}),
        "model_sha256": mv.model_sha256,
        "created_by": mv.created_by,
        "created_at": mv.created_at,
        "tags": tags(store, version=mv.id),
        "model_tags": tags(store, model=mv.model_id),
        "lineage": {
            "source": mv.source,
            "run": mv.run_id,
            "experiment": info.get("experiment"),
            "dataset": info.get("dataset"),
            "dataset_sha256": info.get("dataset_sha256"),
            "git_commit": info.get("git_commit"),
            "git_dirty": info.get("git_dirty"),
        },
        "signature": info.get("signature", []),
        "classes": info.get("classes"),
    }


def load_estimator(store: Store, mv: ModelVersion) -> Any:
    """The fitted pipeline of a version: bytes re-hashed, then loaded with trusted types only."""
    from core.experiments.modelio import load_model
    from core.store.artifacts import get_blob

    return load_model(get_blob(store, mv.model_sha256))
