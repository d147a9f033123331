"""`pipeline.toml`: named stages, what each one runs, and what it comes after.

    name = "credit"
    [stages.data]
    run = "data add"
    dataset = "credit"
    path = "credit_train.csv"      # relative to the pipeline file
    [stages.train]
    run = "train"
    spec = "credit_spec.toml"
    after = ["data"]

Every stage kind has its own keys (`KEYS`); file paths are relative to the pipeline file.
The stages form a graph through `after`: an unknown stage, a cycle or a missing file is
one error naming it, before anything runs. Stages run in an order that respects `after`,
ties broken by their order in the file.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.store.errors import PitboardError, shown
from core.store.refs import validate_name

# Each kind: its required keys, its optional keys (with defaults), and which keys are files.
KEYS: dict[str, tuple[tuple[str, ...], dict[str, Any], tuple[str, ...]]] = {
    "data add": (("dataset", "path"), {"target": "", "time_column": "", "id_column": ""}, ("path",)),
    "validate": (("dataset",), {"against": ""}, ()),
    "train": (("spec",), {}, ("spec",)),
    "register": (("model",), {"description": ""}, ()),
    "gate": ((), {"alias": "champion"}, ()),
    "package": (("output",), {}, ()),
    "promote": ((), {"alias": "champion"}, ()),
}
MAX_STAGES = 100


@dataclass(frozen=True)
class Stage:
    """One stage as written: its name, kind, settings, and the stages it comes after."""

    name: str
    kind: str
    settings: dict[str, Any]
    after: tuple[str, ...]
    files: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class Pipeline:
    name: str
    path: Path
    sha256: str
    stages: list[Stage]  # in running order

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise PitboardError(f"{self.path}: no stage {name!r}; stages: {', '.join(s.name for s in self.stages)}")

    def ancestors(self, stage: Stage) -> list[Stage]:
        """Every stage `stage` depends on, nearest first."""
        seen: list[Stage] = []
        frontier = list(stage.after)
        while frontier:
            found = self.stage(frontier.pop(0))
            if found not in seen:
                seen.append(found)
                frontier.extend(found.after)
        return seen


def load_pipeline(path: str | Path) -> Pipeline:
    """Read and check a pipeline file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PitboardError(f"{path}: cannot read the pipeline ({exc.strerror or exc})") from exc
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PitboardError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise PitboardError(f"{path}: not valid TOML ({exc})") from exc
    unknown = sorted(set(doc) - {"name", "stages"})
    if unknown:
        raise PitboardError(f"{path}: unknown key {unknown[0]!r}; a pipeline has name and [stages.NAME] tables")
    name = doc.get("name", path.stem)
    if not isinstance(name, str):
        raise PitboardError(f"{path}: name = {shown(name)} must be text")
    validate_name(name, f"{path}: pipeline name")
    tables = doc.get("stages")
    if not isinstance(tables, dict) or not tables:
        raise PitboardError(f"{path}: no stages; add [stages.NAME] tables with run = \"{'|'.join(KEYS)}\"")
    if len(tables) > MAX_STAGES:
        raise PitboardError(f"{path}: {len(tables)} stages; at most {MAX_STAGES}")
    stages = [_stage(path, stage_name, table) for stage_name, table in tables.items()]
    return Pipeline(name, path, hashlib.sha256(raw).hexdigest(), _ordered(path, stages))


def _stage(path: Path, name: str, table: Any) -> Stage:
    where = f"{path}: [stages.{name}]"
    validate_name(name, f"{path}: stage name")
    if not isinstance(table, dict):
        raise PitboardError(f"{where} must be a table")
    kind = table.get("run")
    if kind not in KEYS:
        raise PitboardError(f"{where} run = {shown(kind)}: unknown stage kind; kinds: {', '.join(KEYS)}")
    required, optional, file_keys = KEYS[kind]
    allowed = {"run", "after", *required, *optional}
    extra = sorted(set(table) - allowed)
    if extra:
        raise PitboardError(f"{where}: unknown key {extra[0]!r} for run = {kind!r}; keys: {', '.join(sorted(allowed))}")
    missing = [k for k in required if k not in table]
    if missing:
        raise PitboardError(f"{where}: {missing[0]} is required for run = {kind!r}")
    settings = {**optional, **{k: v for k, v in table.items() if k not in ("run", "after")}}
    for key, value in settings.items():
        if not isinstance(value, str):
            raise PitboardError(f"{where} {key} = {shown(value)}: must be text")
    after = table.get("after", [])
    if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
        raise PitboardError(f"{where} after = {shown(after)}: must be a list of stage names")
    files = {}
    for key in file_keys:
        file = (path.parent / settings[key]).resolve()
        if not file.exists():
            raise PitboardError(f"{where} {key} = {settings[key]!r}: {file} does not exist")
        files[key] = file
    if kind == "package":  # an output: made by the stage, resolved like the inputs
        files["output"] = (path.parent / settings["output"]).resolve()
    return Stage(name, kind, settings, tuple(after), files)


def _ordered(path: Path, stages: list[Stage]) -> list[Stage]:
    """Stages in an order that respects `after` (file order otherwise); unknown names and cycles named."""
    by_name = {s.name: s for s in stages}
    for stage in stages:
        for name in stage.after:
            if name not in by_name:
                raise PitboardError(f"{path}: [stages.{stage.name}] after: unknown stage {name!r};"
                                    f" stages: {', '.join(by_name)}")
            if name == stage.name:
                raise PitboardError(f"{path}: [stages.{stage.name}] comes after itself")
    order: list[Stage] = []
    done: set[str] = set()
    while len(order) < len(stages):
        ready = [s for s in stages if s.name not in done and all(a in done for a in s.after)]
        if not ready:
            raise PitboardError(f"{path}: the stages form a cycle: {_cycle(stages, done)}")
        order.append(ready[0])
        done.add(ready[0].name)
    return order


def _cycle(stages: list[Stage], done: set[str]) -> str:
    """One cycle among the stages left, as `a -> b -> a`."""
    left = {s.name: s for s in stages if s.name not in done}
    walk = [next(iter(left))]
    while True:
        nxt = next(a for a in left[walk[-1]].after if a in left)
        if nxt in walk:
            cycle = walk[walk.index(nxt):] + [nxt]
            return " -> ".join(reversed(cycle))
        walk.append(nxt)
