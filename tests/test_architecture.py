"""The layout is the architecture: stages import only the stages below them, no module
cycle anywhere in the engine, and CONTRIBUTING.md's map names exactly the tree."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

CORE = REPO / "core"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, name: str, known: set[str]) -> set[str]:
    """Every engine module `path` imports, at its top or inside functions."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            submodules = {f"{base}.{alias.name}" for alias in node.names} & known
            found |= submodules or {base}  # `from package import module` needs the module, not a cycle through the package
    return {target for target in found if target in known and target != name}


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p, REPO): p for p in CORE.rglob("*.py")}
    return {name: imported_modules(path, name, set(paths)) for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_engine_has_no_import_cycle():
    graph = import_graph()
    assert len(graph) > 80  # the walk really read the engine
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_relative_and_function_level_imports_are_followed(tmp_path: Path):
    (tmp_path / "core" / "x").mkdir(parents=True)
    module = tmp_path / "core" / "x" / "m.py"
    module.write_text("from . import n\n\ndef f():\n    from core.y import z\n")
    known = {"core.x.n", "core.y.z", "core.x.m"}
    assert imported_modules(module, "core.x.m", known) == {"core.x.n", "core.y.z"}


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, timeout=120)


def test_the_import_contracts_hold():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"Contracts: (\d+) kept, 0 broken", result.stdout)


@pytest.mark.parametrize("module, upward", [
    ("core/data/tabular.py", "from core.monitoring import alerts"),
    ("core/kernels/metrics.py", "import pandas"),
    ("core/store/refs.py", "from core.registry import versions"),
    ("core/cli/gc.py", "import tui.app"),
    ("core/serving/predict.py", "import textual"),
])
def test_an_upward_import_breaks_the_contracts(tmp_path: Path, module: str, upward: str):
    for top in ("core", "tui"):
        shutil.copytree(REPO / top, tmp_path / top, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{upward}  # noqa\n", encoding="utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout
    assert "BROKEN" in result.stdout and "0 broken" not in result.stdout


def contributing_map() -> dict[str, set[str]]:
    """Package path -> the module files CONTRIBUTING.md's map names under it."""
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    block = text.split("## Layout and the direction of imports", 1)[1].split("```", 2)[1]
    named: dict[str, set[str]] = {}
    path: list[tuple[int, str]] = []
    current = ""
    for line in block.splitlines():
        folder = re.match(r"^( *)([\w.]+)/\s", line + " ")
        if folder and not line.startswith(" " * 10):
            depth = len(folder.group(1))
            path = [(d, n) for d, n in path if d < depth] + [(depth, folder.group(2))]
            current = "/".join(n for _, n in path)
            named.setdefault(current, set())
        named.setdefault(current, set()).update(re.findall(r"\b(\w+\.py)\b", line))
    return named


def test_contributing_maps_every_package_and_module_of_the_engine():
    named = contributing_map()
    packages = {str(p.parent.relative_to(REPO)) for p in CORE.rglob("__init__.py")}
    assert {p for p in named if p.split("/")[0] == "core"} == packages
    for package in packages - {"core", "core/store/migrations"}:
        modules = {p.name for p in (REPO / package).glob("*.py") if p.name != "__init__.py"}
        listed = named[package]
        assert listed <= modules, f"{package}: the map names modules that do not exist: {sorted(listed - modules)}"
        public = {m for m in modules if not m.startswith("_")} | ({"_output.py"} if package == "core/cli" else set())
        assert public <= listed, f"{package}: the map misses {sorted(public - listed)}"


def test_every_stage_says_what_it_owns_and_has_its_tests():
    for init in CORE.glob("*/__init__.py"):
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert docstring and len(docstring) > 60, f"{init}: say what the stage owns"
        assert (REPO / "tests" / init.parent.name).is_dir(), f"tests/{init.parent.name}/ mirrors {init.parent}"
