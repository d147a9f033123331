"""Every numeric setting of pitboard.toml has a range, checked when the file is read.

`[serving] log_interval = -5.0` once made an idle server spin a core; a negative
`[jobs] heartbeat_seconds` was accepted too. Now each is an error naming the file, the
section, the key and what is allowed.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from core.store.config import Range, at_least
from core.store.database import Store
from core.store.errors import PitboardError
from core.store.model_settings import model_settings
from tests.conftest import REPO, file_bytes
from tests.test_readme import SECTIONS

# (section, key, value as TOML, what the error says after "KEY = VALUE")
OUT_OF_RANGE = [
    ("serving", "log_interval", "-5.0", "must be between 0.01 and 3600"),
    ("serving", "log_interval", "0.0", "must be between 0.01 and 3600"),
    ("serving", "follow_interval", "0.0", "must be between 0.1 and 86400"),
    ("serving", "log_interval", "nan", "must be a finite number"),
    ("serving", "follow_interval", "inf", "must be a finite number"),
    ("serving", "header_timeout", "0.0", "must be between 0.1 and 3600"),
    ("serving", "keep_alive_timeout", "7200.0", "must be between 0.1 and 3600"),
    ("serving", "max_explain_rows", "0", "must be between 1 and 1000000"),
    ("serving", "max_estimate_rows", "200000", "must be between 1 and 100000"),
    ("serving", "max_batch_rows", "0", "must be between 1 and 10000000"),
    ("serving", "max_body_bytes", "-1", "must be between 1 and 2147483648"),
    ("serving", "log_max_rows", "2.5", "must be a whole number"),
    ("jobs", "heartbeat_seconds", "-1.0", "must be between 0.1 and 3600"),
    ("jobs", "stale_after_seconds", "0", "must be between 1 and 604800"),
    ("training", "n_jobs", "0", "must be between -1 and 1024, not 0"),
    ("training", "n_jobs", "-2", "must be between -1 and 1024, not 0"),
    ("training", "importance_repeats", "0", "must be between 1 and 1000"),
    ("training", "importance_max_rows", "-5", "must be between 1 and 10000000"),
    ("training", "contribution_rows", "-1", "must be between 0 and 100000"),
    ("training", "curve_points", "1", "must be between 2 and 100000"),
    ("training", "cluster_timeout_seconds", "0.0", "must be greater than 0 and at most 3600"),
    ("monitoring", "window_rows", "0", "must be between 1 and 100000000"),
    ("monitoring", "grace_seconds", "-60.0", "must be between 0 and 604800"),
    ("monitoring", "retention_days", "-1.0", "must be between 0 and 36500"),
    ("monitoring", "label_days", "1e9", "must be between 0 and 36500"),
    ("monitoring", "band_chunk_rows", "0", "must be between 1 and 10000000"),
    ("monitoring", "min_effect", "1.5", "must be between 0 and 1"),
    ("monitoring", "pca_variance", "0", "must be greater than 0 and at most 1"),
    ("monitoring", "segment_bins", "1", "must be between 2 and 100"),
    ("monitoring", "segment_min_rows", "0", "must be between 1 and 100000000"),
    ("monitoring", "fdr", "0.0", "must be greater than 0 and at most 1"),
    ("alerts", "consecutive", "0", "must be between 1 and 1000"),
    ("monitoring", "replica_silent_seconds", "0.5", "must be between 1 and 31536000"),
    ("alerts", "min_rows", "-1", "must be at least 0"),
    ("alerts", "drift_share", "1.5", "must be between 0 and 1"),
    ("alerts", "drift_share_warning", "-0.1", "must be between 0 and 1"),
    ("alerts", "top_k", "-3", "must be between 0 and 100000"),
    ("alerts", "top_k_drifted", "-1", "must be between 0 and 100000"),
    ("alerts", "prediction_psi", "-0.2", "must be at least 0"),
    ("alerts", "prediction_psi_warning", "-0.1", "must be at least 0"),
    ("alerts", "min_metric", "-1.0", "must be at least 0"),
    ("alerts", "band_sigmas", "-3.0", "must be between 0 and 100"),
    ("alerts", "min_labelled", "-100", "must be at least 0"),
    ("alerts", "max_latency_p99_ms", "0.0", "must be greater than 0"),
    ("alerts", "min_requests", "-20", "must be at least 0"),
    ("alerts", "max_error_rate", "5.0", "must be between 0 and 1"),
    ("alerts", "max_error_rate_warning", "-0.01", "must be between 0 and 1"),
    ("retraining", "windows", "0", "must be between 1 and 1000"),
    ("retraining", "cooldown_windows", "-1", "must be between 0 and 100000"),
    ("models", "min_improvement", "-0.5", "must be at least 0"),
    ("validation", "max_missing_rate", "1.2", "must be between 0 and 1"),
    ("validation", "missing_rate_jump", "-0.05", "must be between 0 and 1"),
    ("validation", "out_of_range_share", "2.0", "must be between 0 and 1"),
    ("validation", "psi_warning", "-0.1", "must be at least 0"),
    ("validation", "psi_error", "-0.25", "must be at least 0"),
    ("validation", "psi_bins", "1", "must be between 2 and 1000"),
    ("validation", "max_duplicate_share", "-0.1", "must be between 0 and 1"),
    ("validation", "min_class_share", "1.01", "must be between 0 and 1"),
    ("validation", "leakage_score", "99.0", "must be between 0 and 1"),
    ("notify", "max_attempts", "0", "must be between 1 and 100"),
    ("notify", "backoff_seconds", "-1.0", "must be between 0 and 86400"),
    ("notify", "max_backoff_seconds", "-1.0", "must be between 0 and 604800"),
    ("notify", "timeout_seconds", "0.0", "must be between 0.1 and 600"),
    ("notify", "poll_seconds", "0.0", "must be between 0.1 and 3600"),
]


def snapshot(db: Path) -> tuple[bytes, bytes]:
    return file_bytes(db), file_bytes(db.with_name(db.name + "-wal"))


def section_module(section: str):
    return importlib.import_module(SECTIONS[section])


def read(store: Store, section: str) -> dict:
    module = section_module(section)
    return store.settings(section, module.DEFAULTS, module.RANGES)


@pytest.mark.parametrize(("section", "key", "value", "said"), OUT_OF_RANGE)
def test_an_out_of_range_setting_names_file_section_key_and_range(store: Store, section: str, key: str, value: str, said: str) -> None:
    store.config_path.write_text(f"[{section}]\n{key} = {value}\n")
    with pytest.raises(PitboardError) as caught:
        read(store, section)
    shown = {"nan": "nan", "inf": "inf", "1e9": "1000000000.0"}.get(value, value)
    assert str(caught.value) == f"{store.config_path}: [{section}] {key} = {shown} {said}"


def test_the_table_covers_every_numeric_setting_of_every_section() -> None:
    covered = {(section, key) for section, key, _, _ in OUT_OF_RANGE}
    numeric = {(section, key) for section in SECTIONS for key, value in section_module(section).DEFAULTS.items()
               if isinstance(value, (int, float)) and not isinstance(value, bool)}
    assert numeric - covered == set()


def test_every_section_in_the_engine_is_in_the_table() -> None:
    """Any module-level DEFAULTS of core/ read as a pitboard.toml section is listed in SECTIONS."""
    owners = set()
    for path in (REPO / "core").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(node, (ast.Assign, ast.AnnAssign)) and "DEFAULTS" in ast.unparse(node).split("=")[0]
               for node in tree.body):
            owners.add(".".join(path.relative_to(REPO).with_suffix("").parts))
    assert owners == set(SECTIONS.values())


def test_in_range_values_at_the_bounds_are_accepted_and_whole_floats_become_ints(store: Store) -> None:
    store.config_path.write_text("[serving]\nlog_interval = 0.01\nmax_batch_rows = 5.0\n[training]\nn_jobs = -1\n")
    serving = read(store, "serving")
    assert (serving["log_interval"], serving["max_batch_rows"]) == (0.01, 5)
    assert type(serving["max_batch_rows"]) is int
    assert read(store, "training")["n_jobs"] == -1


def test_per_model_overrides_are_range_checked_too(store: Store) -> None:
    from core.monitoring.alerts import DEFAULTS, RANGES

    store.config_path.write_text("[alerts]\ndrift_share = 0.4\n[alerts.credit-risk]\ndrift_share = 1.5\n")
    assert model_settings(store, "alerts", "fraud", DEFAULTS, RANGES)["drift_share"] == 0.4
    with pytest.raises(PitboardError, match=r"\[alerts.credit-risk\] drift_share = 1.5 must be between 0 and 1$"):
        model_settings(store, "alerts", "credit-risk", DEFAULTS, RANGES)


def test_a_numeric_default_without_a_range_is_a_programming_error(store: Store) -> None:
    with pytest.raises(TypeError, match=r"\[x\] numeric settings without a range: b"):
        store.settings("x", {"a": 1, "b": 2.0, "c": "s"}, {"a": at_least(0)})
    assert Range(0, 1).describe() == "between 0 and 1"


def test_serve_refuses_a_negative_log_interval_before_touching_the_database(pitboard, db_path: Path) -> None:
    Store.open(db_path).close()
    (db_path.parent / "pitboard.toml").write_text("[serving]\nlog_interval = -5.0\n")
    before = snapshot(db_path)
    result = pitboard("serve", "nothing@champion", "--port", "0")
    assert (result.exit_code, result.stderr) == (
        2, f"Error: {db_path.parent / 'pitboard.toml'}: [serving] log_interval = -5.0 must be between 0.01 and 3600\n")
    assert snapshot(db_path) == before


def test_a_detached_job_with_a_negative_heartbeat_is_refused_before_it_starts(pitboard, db_path: Path, tmp_path: Path) -> None:
    from tests.experiments.helpers import SMALL_SPEC, write_spec

    Store.open(db_path).close()
    (db_path.parent / "pitboard.toml").write_text("[jobs]\nheartbeat_seconds = -2.0\n")
    before = snapshot(db_path)
    result = pitboard("train", write_spec(tmp_path, SMALL_SPEC), "--detach", "--json")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: {db_path.parent / 'pitboard.toml'}: [jobs] heartbeat_seconds = -2.0 must be between 0.1 and 3600\n"
    assert snapshot(db_path) == before
