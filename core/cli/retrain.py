"""`pitboard retrain NAME`: retrain on recent labelled traffic, by hand."""

from __future__ import annotations

import click

from core.cli._output import emit, json_option


@click.command("retrain")
@click.argument("model")
@click.option("--detach", is_flag=True, help="Run as a background job and print its id.")
@json_option
@click.pass_obj
def retrain(obj, model: str, detach: bool, as_json: bool) -> None:
    """Retrain MODEL's champion spec on its training data plus recent labelled windows.

    Registers the result with alias `challenger`, scores champion and challenger on the
    latest labelled window, and promotes through the gates when the policy says
    auto_promote (else the challenger waits). Exits 1 when the challenger is rejected.
    """
    from core.monitoring.retraining import retrain as run_retrain
    from core.store.errors import CheckFailed

    store = obj.store
    if detach:
        from core.jobs.runner import start_job
        from core.registry.versions import model_id

        model_id(store, model)
        job = start_job(store, "retrain", {"model": model}, title=f"retrain {model} (by hand)")
        if as_json:
            emit({"job": job}, True)
        else:
            click.echo(f"retraining {model} as job {job} (pitboard jobs show {job})")
        return
    result = run_retrain(store, model, progress=None if as_json else lambda f, m: click.echo(f"[{f:4.0%}] {m}", err=True))
    if as_json:
        emit(result, True)
    else:
        click.echo(f"retrain {result['retrain']}: {result['state']}: {result['message']}")
    if result["state"] == "rejected":
        raise CheckFailed(f"retrain {result['retrain']}: challenger rejected")


COMMANDS = [retrain]
