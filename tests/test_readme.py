"""The README's configuration example must stay true: every key it shows is a real one."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest

from core.store.database import Store

from tests.conftest import REPO

SECTIONS = {
    "validation": "core.data.validation",
    "training": "core.experiments.training",
    "jobs": "core.jobs.runner",
    "models": "core.registry.gates",
    "serving": "core.serving.service",
    "monitoring": "core.monitoring.settings",
    "alerts": "core.monitoring.alerts",
    "retraining": "core.monitoring.retraining",
    "notify": "core.notify.targets",
}


def _readme_config() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"## Configuration.*?```toml\n(.*?)```", text, re.S)
    assert found, "README.md has no toml block under ## Configuration"
    return found.group(1)


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_readme_configuration_shows_every_key_with_its_real_default(section: str, tmp_path: Path) -> None:
    shown = tomllib.loads(_readme_config())[section]
    module = importlib.import_module(SECTIONS[section])
    defaults = module.DEFAULTS
    (tmp_path / "pitboard.toml").write_text(_readme_config(), encoding="utf-8")
    with Store.open(tmp_path / "pitboard.db") as store:
        store.settings(section, defaults, getattr(module, "RANGES", None))  # raises on an unknown key, wrong type or range
    for key, value in defaults.items():
        if isinstance(value, dict) and key not in shown:
            continue  # sub-tables such as [validation.severity] are described in a comment
        assert key in shown, f"[{section}] {key} is missing from the README"
        expected = {} if value is None else value  # TOML has no null: an empty table means "none"
        assert shown[key] == expected, f"[{section}] {key}: README shows {shown[key]!r}, the default is {value!r}"
