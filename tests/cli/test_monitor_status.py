"""`pitboard monitor status` speaks the monitoring plugin convention (Nagios, Icinga,
Sensu): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Whatever keeps it from knowing the state
is UNKNOWN (exit 3), so a typo in cron is never read as an alert."""

from __future__ import annotations

from pathlib import Path


def test_an_unknown_model_is_unknown(pitboard):
    result = pitboard("monitor", "status", "no-such-model")
    assert result.exit_code == 3
    assert result.stderr.strip() == "Error: model 'no-such-model': not registered; models: (none yet)"


def test_a_broken_settings_file_is_unknown(pitboard, db_path: Path):
    (db_path.parent / "pitboard.toml").write_text("this is = not [toml\n")
    result = pitboard("monitor", "status", "credit-risk")
    assert result.exit_code == 3 and "pitboard.toml: invalid TOML" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unreadable_database_is_unknown(pitboard, tmp_path: Path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    result = pitboard("monitor", "status", "credit-risk", db=junk)
    assert result.exit_code == 3 and str(junk) in result.stderr


def test_other_commands_keep_exit_2_for_bad_input(pitboard):
    assert pitboard("monitor", "windows", "no-such-model").exit_code == 2


def test_metrics_are_printed_primary_first():
    from core.cli.monitor import metrics_text

    values = {"accuracy": 0.91, "precision": 0.8, "f1": 0.75}
    assert metrics_text(values, "f1") == "f1 0.750, accuracy 0.910, precision 0.800"
    assert metrics_text(values, None, "~") == "accuracy ~0.910, precision ~0.800, f1 ~0.750"


def test_a_fault_of_pitboard_itself_is_unknown_with_a_crash_log(pitboard, monkeypatch, tmp_path: Path):
    import core.monitoring.status

    def broken(store, model):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(core.monitoring.status, "status", broken)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    result = pitboard("monitor", "status", "credit-risk")
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: internal error in monitor status: ZeroDivisionError: division by zero; details in ")
    assert len(list((tmp_path / "state" / "pitboard" / "crash").iterdir())) == 1
