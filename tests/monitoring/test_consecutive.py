"""`[alerts] consecutive`: a rule raises an alert only after failing that many windows in a row."""

from __future__ import annotations

from core.monitoring.alerts import Finding, unconfirmed
from core.monitoring.ingest import ingest_files
from tests.monitoring.conftest import MODEL, PRODUCTION

REF = f"{MODEL}@champion"


def _finding(rule: str, severity: str | None) -> Finding:
    return Finding(rule, "drift", severity, 1.0, 0.5, "")


def test_a_streak_counts_failures_skips_windows_without_a_verdict_and_breaks_on_a_pass():
    now = [_finding("drift_share", "critical"), _finding("prediction_psi", "warning"), _finding("top_features", None)]
    earlier = [[_finding("drift_share", "warning")], [], [_finding("drift_share", "critical"), _finding("prediction_psi", None)]]
    assert unconfirmed(now, earlier, 1) == set()
    assert unconfirmed(now, earlier, 2) == {"prediction_psi"}  # drift_share failed the window before too
    assert unconfirmed(now, earlier, 3) == {"prediction_psi"}  # the empty window is skipped, not a break
    assert unconfirmed(now, earlier, 4) == {"drift_share", "prediction_psi"}  # only three failures in a row
    assert unconfirmed(now, [], 2) == {"drift_share", "prediction_psi"}


def _drift_alerts(store):
    return store.rows("SELECT rule, window_id FROM alerts WHERE kind = 'drift' ORDER BY id")


def _ingest_months(served, config: str, months: list[int]) -> list[list[str]]:
    (served.db.parent / "pitboard.toml").write_text("[monitoring]\nwindow_rows = 5000\n" + config)  # a month per window
    store = served.open()
    raised = []
    for n in months:
        report = ingest_files(store, REF, [str(PRODUCTION / f"month_{n:02d}.csv")])
        raised.append(sorted(r["rule"] for r in store.rows(
            f"SELECT rule FROM alerts WHERE id IN ({', '.join('?' * len(report.alerts))})", report.alerts)))
    return raised


def test_by_default_the_first_drifted_month_raises_its_alerts(served):
    raised = _ingest_months(served, "", [1, 6, 7])
    assert raised[0] == []
    assert "top_features" in raised[1]


def test_two_consecutive_windows_wait_for_the_second_drifted_month(served):
    raised = _ingest_months(served, "[alerts]\nconsecutive = 2\n", [1, 6, 7])
    assert raised[:2] == [[], []]  # month 6 fails the drift rules once: not yet an alert
    assert "top_features" in raised[2]


def test_a_calm_month_between_two_drifted_ones_breaks_the_streak(served):
    raised = _ingest_months(served, "[alerts]\nconsecutive = 2\n", [6, 1, 7])
    assert raised == [[], [], []]


def test_consecutive_is_range_checked(served, pitboard):
    (served.db.parent / "pitboard.toml").write_text("[alerts]\nconsecutive = 0\n")
    result = pitboard("monitor", "status", MODEL)
    assert result.exit_code == 3
    assert "consecutive" in result.stderr
