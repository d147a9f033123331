"""`pitboard monitor`: ingest traffic into windows, and the state of a served model."""

from __future__ import annotations

import click

from core.cli._output import emit, json_option
from core.store.clock import iso
from core.store.errors import PitboardError


@click.group("monitor")
def monitor() -> None:
    """Drift and performance of served models: ingest, status, windows."""


@monitor.command("ingest")
@click.argument("model_ref", metavar="[NAME[@REF]]", required=False)
@click.argument("files", nargs=-1)
@click.option("--labels", "labels", metavar="COL", help="Batch files: the column holding the true labels.")
@click.option("--time-column", metavar="COL", help="Batch files: the column holding each row's time (else rows windows).")
@click.option("--cluster", metavar="tcp://HOST:8786", help="Reduce batch files (read --from segments) on this Dask cluster.")
@click.option("--from", "source", metavar="URL", help="Segments written by `serve --log-to URL` replicas (folder or s3://).")
@json_option
@click.pass_obj
def ingest(obj, model_ref: str | None, files: tuple[str, ...], labels: str | None, time_column: str | None,
           cluster: str | None, source: str | None, as_json: bool) -> None:
    """Reduce new traffic into windows and raise alerts.

    Without FILES: the prediction log of every deployment (of NAME), plus feedback labels.
    With FILES (CSV or Parquet, globs allowed): batch files scored by NAME@REF.
    With --from URL: the new segments of NAME's replicas, exactly once (safe from cron).
    Alerts whose kind is in a model's `retrain_on` policy start a retrain job.
    """
    from core.monitoring.ingest import ingest_files, ingest_log
    from core.monitoring.retraining import on_alerts
    from core.store.errors import PitboardError
    from core.store.refs import parse_ref

    store = obj.store
    if source is not None:
        _ingest_fleet(store, model_ref, files, labels, time_column, source, cluster, as_json)
        return
    if model_ref and not files and (any(c in model_ref for c in "/*?") or model_ref.endswith((".csv", ".parquet"))):
        raise PitboardError(f"{model_ref}: looks like a file; name the model first: monitor ingest NAME@REF FILES...")
    if files:
        if model_ref is None or parse_ref(model_ref).selector is None:
            raise PitboardError("monitor ingest FILES: name the model version that scores them, e.g. credit-risk@champion")
        reports = [ingest_files(store, model_ref, files, labels=labels, time_column=time_column, cluster=cluster)]
        model = parse_ref(model_ref).name
    else:
        if labels or time_column or cluster:
            raise PitboardError("--labels, --time-column and --cluster apply to batch FILES only")
        model = parse_ref(model_ref).name if model_ref else None
        reports = ingest_log(store, model)
    jobs = []
    for report in reports:
        if report.alerts:
            owner = model or store.value("SELECT m.name FROM alerts a JOIN models m ON m.id = a.model_id WHERE a.id = ?",
                                         (report.alerts[0],))
            started = on_alerts(store, owner, report.alerts)
            if started is not None:
                jobs.append(started)
    rows = [report.to_dict() for report in reports]
    if as_json:
        emit({"ingests": rows, "retrain_jobs": jobs}, True)
        return
    for report in reports:
        if report.relabelled:
            click.echo(f"feedback: {len(report.relabelled)} windows rescored with new labels, "
                       f"{len(report.alerts)} alerts raised")
            continue
        line = f"{report.source}: {report.rows} rows -> {len(report.windows)} windows, {len(report.alerts)} alerts raised"
        extras = [f"{n} {what}" for n, what in ((report.waiting_rows, f"rows wait for {report.waiting_for}"),
                                                (report.late_rows, "late rows"), (report.late_errors, "late errors"),
                                                (report.future_rows, "rows from the future"))
                  if n]
        click.echo(line + (f" ({'; '.join(extras)})" if extras else ""))
        if report.skipped:
            click.echo(f"skipped: {report.skipped}")
        for note in report.notes:
            click.echo(f"  note: {note}")
    for job in jobs:
        click.echo(f"retraining started as job {job} (pitboard jobs show {job})")
    if not reports:
        click.echo("no deployments to ingest")


def _ingest_fleet(store, model_ref: str | None, files: tuple[str, ...], labels: str | None, time_column: str | None,
                  source: str, cluster: str | None, as_json: bool) -> None:
    from core.monitoring.fleet import ingest_fleet
    from core.monitoring.retraining import on_alerts
    from core.store.refs import parse_ref

    if model_ref is None or files or labels or time_column:
        raise PitboardError("monitor ingest NAME --from URL: name the model only (no FILES, --labels or --time-column)")
    model = parse_ref(model_ref).name
    report = ingest_fleet(store, model, source, cluster=cluster)
    alerts = [alert for window in report.windows for alert in window.alerts]
    job = on_alerts(store, model, alerts) if alerts else None
    if as_json:
        emit({**report.to_dict(), "retrain_jobs": [] if job is None else [job]}, True)
        return
    rows = sum(window.rows for window in report.windows)
    windows = sum(len(window.windows) for window in report.windows)
    click.echo(f"{source}: {report.segments} new segments ({report.rows} predictions, {report.labels} labels,"
               f" {report.errors} failed requests) -> {rows} rows into {windows} windows, {len(alerts)} alerts raised")
    if report.replicas:
        click.echo(f"  new replicas: {', '.join(report.replicas)}")
    for what, names in (("corrupt, skipped", report.corrupt), ("duplicate, skipped", report.duplicates),
                        ("waiting", report.waiting)):
        if names:
            click.echo(f"  {len(names)} {what}:")
            for name in names:
                click.echo(f"    {name}")
    for count, what in ((report.unknown_feedback, "labels for predictions no replica logged (kept, retried next time)"),
                        (report.invalid_labels, "labels the model cannot take (dropped)"),
                        (report.other_models, "segments of other models (left alone)")):
        if count:
            click.echo(f"  {count} {what}")
    for window in report.windows:
        if window.waiting_rows:
            click.echo(f"  {window.waiting_rows} rows wait for {window.waiting_for}")
        if window.late_rows:
            click.echo(f"  {window.late_rows} late rows (their window had closed)")
    if job is not None:
        click.echo(f"retraining started as job {job} (pitboard jobs show {job})")


@monitor.command("status")
@click.argument("model")
@json_option
@click.pass_obj
@click.pass_context
def status(ctx, obj, model: str, as_json: bool) -> None:
    """The state of MODEL, as a monitoring plugin: exits 0 ok, 1 warning, 2 alert (critical),
    3 unknown (no windows yet, unknown model, unreadable database or settings)."""
    from core.cli._crash import internal_error
    from core.monitoring.alerts import EXIT_CODES
    from core.monitoring.status import status as model_status

    try:
        found = model_status(obj.store, model)
    except PitboardError as error:  # whatever stops us from knowing is UNKNOWN, never a false alert
        click.echo(f"Error: {error}", err=True)
        ctx.exit(EXIT_CODES["unknown"])
    except Exception as error:  # a fault of pitboard itself: still UNKNOWN to cron, with a crash log
        click.echo(f"Error: {internal_error(error, 'monitor status')}", err=True)
        ctx.exit(EXIT_CODES["unknown"])
    if as_json:
        emit(found, True)
    else:
        click.echo(f"{model}: {found['state'].upper()}  (champion v{found['champion']}, {found['windows']} windows)")
        if not found["windows"]:
            click.echo(f"no windows yet: serve {model} or run `pitboard monitor ingest {model}@REF FILES`")
        window = found["latest_window"]
        if window:
            metrics = metrics_text(window["metrics"], found["primary_metric"])
            estimated = metrics_text(window["estimated"], found["primary_metric"], "~")
            errors = "" if window["error_rate"] is None else f", {window['errors']} errors ({window['error_rate']:.1%})"
            click.echo(f"latest window {window['id']} (v{window['version']}, {iso(window['start'])} .. {iso(window['end'])}): "
                       f"{window['rows']} rows{errors}, drift share {window['drift_share']:.2f}"
                       + (f", drifted: {', '.join(window['drifted'])}" if window["drifted"] else "")
                       + (f"; {metrics}" if metrics else "") + (f"; estimated {estimated}" if estimated else ""))
        for alert in found["alerts"]:
            held = f", {alert['windows']} windows" if alert["windows"] > 1 else ""
            click.echo(f"  [{alert['severity'].upper()}] alert {alert['id']} ({alert['state']}{held}) {alert['rule']}:"
                       f" {alert['message']}")
        if found["challenger_waiting"]:
            waiting = found["challenger_waiting"]
            click.echo(f"challenger v{waiting['version']} waits for promotion (retrain {waiting['retrain']})")
    ctx.exit(found["exit_code"])


def metrics_text(values: dict[str, float], primary: str | None, mark: str = "") -> str:
    """Metrics as `name value`, the model's primary metric first: it is the one its gates judge."""
    ordered = sorted(values, key=lambda name: name != primary)
    return ", ".join(f"{name} {mark}{values[name]:.3f}" for name in ordered)


@monitor.command("windows")
@click.argument("model")
@click.option("--limit", type=int, default=20, show_default=True, help="Show at most N windows.")
@json_option
@click.pass_obj
def windows(obj, model: str, limit: int, as_json: bool) -> None:
    """The latest windows of MODEL, newest first."""
    from core.monitoring.status import list_windows

    found = list_windows(obj.store, model, limit=limit)
    if as_json:
        emit(found, True)
        return
    emit([{
        "window": w["id"], "version": w["version"], "kind": w["kind"], "start": iso(w["start"]), "rows": w["n_rows"],
        "errors": "" if w["error_rate"] is None else f"{w['error_rate']:.1%}", "drift": f"{w['n_drifted']}/{w['n_features']}", "pred_psi": w["prediction_psi"], "labelled": w["n_labelled"],
        "metric": _headline(w["metrics"]), "estimated": _headline(w["estimated"]),
        "multivariate": _multivariate_cell(w["multivariate"]), "drifted": ", ".join(w["drifted_features"])[:40],
    } for w in found], False)
    if not found:
        click.echo(f"no windows for {model} yet: run `pitboard monitor ingest {model}`")


def _multivariate_cell(found: dict | None) -> str:
    """`1.31 DRIFT` / `0.92 ok`: the window's reconstruction error and its verdict."""
    if found is None or found["error"] is None:
        return ""
    return f"{found['error']:.3f} {'DRIFT' if found['drifted'] else 'ok'}"


def multivariate_line(found: dict | None) -> str:
    """The multivariate verdict of a window in one sentence, naming the features behind it."""
    if found is None or found["error"] is None:
        return "multivariate: not measured for this window"
    where = "outside" if found["drifted"] else "within"
    top = ", ".join(f"{t['feature']} (+{t['rise']:.3f})" for t in found["top"])
    return (f"multivariate: reconstruction error {found['error']:.3f}, {where} the reference band"
            f" {found['lower']:.3f} .. {found['upper']:.3f}: {'DRIFT' if found['drifted'] else 'ok'}"
            + (f"; most error added by {top}" if top else ""))


def _headline(metrics: dict) -> str:
    for name in ("roc_auc", "accuracy", "rmse"):
        if name in metrics:
            return f"{name} {metrics[name]:.3f}"
    return ""


@monitor.command("window")
@click.argument("window_id", metavar="ID", type=int)
@json_option
@click.pass_obj
def window(obj, window_id: int, as_json: bool) -> None:
    """Per-feature statistics of one window."""
    from core.monitoring.status import window_features
    from core.store.errors import NotFound

    found = window_features(obj.store, window_id)
    if not found:
        raise NotFound(f"window {window_id}: no such window")
    if as_json:
        emit(found, True)
        return
    emit([{"feature": f["feature"], "count": f["count"], "missing": f["missing"], "test": f["test"],
           "statistic": f["statistic"], "p_value": f["p_value"], "psi": f["psi"],
           "verdict": "DRIFT" if f["drifted"] else "ok"} for f in found], False)
    from core.monitoring.status import window_multivariate

    click.echo(multivariate_line(window_multivariate(obj.store, window_id)))


@monitor.command("segments")
@click.argument("model")
@click.argument("window_id", metavar="[WINDOW]", type=int, required=False)
@json_option
@click.pass_obj
def segments(obj, model: str, window_id: int | None, as_json: bool) -> None:
    """The segments of WINDOW (default: the newest with segments) ranked by how far they
    moved: largest feature PSI against the same segment of the reference, the features
    flagged under false discovery control, row counts and labelled metrics."""
    from core.monitoring.status import segment_report

    found = segment_report(obj.store, model, window_id)
    if as_json:
        emit(found, True)
        return
    click.echo(f"window {found['window']} of {model}: {found['rows']} rows; flagged at false discovery rate {found['fdr']:g},"
               f" segments under {found['min_rows']} rows not judged")
    emit([segment_row(r) for r in found["segments"]], False)


def segment_row(row: dict) -> dict:
    """One ranked segment as a table row (the CLI's and the app's)."""
    change = row.get("metric_change") or {}
    metric = _headline(row["metrics"])
    if metric and change:
        name = metric.split()[0]
        metric += f" ({change.get(name, 0.0):+.3f})" if name in change else ""
    return {"column": row["column"], "segment": row["segment"], "rows": row["rows"],
            "moved": "" if row["moved"] is None else f"{row['moved']:.3f}",
            "verdict": ("DRIFT" if row["flagged"] else "ok") if row["judged"] else row["why"],
            "flagged": ", ".join(row["flagged"]), "metric": metric}


@monitor.command("explain")
@click.argument("model")
@click.argument("window_id", metavar="WINDOW", type=int)
@json_option
@click.pass_obj
def explain(obj, model: str, window_id: int, as_json: bool) -> None:
    """Which features tell WINDOW apart from MODEL's reference: a domain classifier's ROC AUC
    (cross-validated; 0.5 = indistinguishable) and permutation importances."""
    from core.monitoring.explain import explain_window

    found = explain_window(obj.store, model, window_id)
    if as_json:
        emit(found, True)
        return
    click.echo(f"window {window_id} of {model} v{found['version']}: domain classifier ROC AUC {found['auc']:.3f}"
               f" +/- {found['auc_std']:.3f} ({found['folds']}-fold, {found['window_rows']} window rows against"
               f" {found['reference_rows']} reference rows; 0.5 = indistinguishable)")
    emit([{"feature": f["feature"], "importance": round(f["importance"], 4), "std": round(f["std"], 4)}
          for f in found["features"]], False)


@monitor.command("retrains")
@click.argument("model", required=False)
@json_option
@click.pass_obj
def retrains(obj, model: str | None, as_json: bool) -> None:
    """Retraining attempts (newest first): promoted, waiting, rejected or failed."""
    from core.monitoring.retraining import list_retrains

    found = list_retrains(obj.store, model)
    if as_json:
        emit(found, True)
        return
    emit([{"retrain": r["id"], "model": r["model"], "state": r["state"], "champion": r["champion"],
           "challenger": r["challenger"], "metric": r["metric"], "champion_score": r["champion_score"],
           "challenger_score": r["challenger_score"], "when": iso(r["created_at"])} for r in found], False)
    if not found:
        click.echo("no retrains yet")


COMMANDS = [monitor]
