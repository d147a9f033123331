"""`pitboard serve`: the HTTP prediction service for a registered version, alias or bundle."""

from __future__ import annotations

import click

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@click.command()
@click.argument("model_ref")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind; loopback unless you say otherwise.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option("--token", envvar="PITBOARD_TOKEN", default=None,
              help="Require `Authorization: Bearer TOKEN` (or set $PITBOARD_TOKEN).")
@click.pass_obj
def serve(obj, model_ref: str, host: str, port: int, token: str | None) -> None:
    """Serve MODEL_REF (NAME@ALIAS follows the alias; NAME@VERSION or a bundle path stay fixed).

    POST /predict, POST /feedback, GET /health, GET /metadata and /docs. Every prediction
    is logged in the database; SIGTERM or Ctrl-C stop gracefully, flushing the log.
    """
    from core.serving.offline import is_bundle_path
    from core.serving.service import DEFAULTS, RANGES
    from core.serving.service import serve as run_service

    obj.store.settings("serving", DEFAULTS, RANGES)  # a bad [serving] section fails before a bundle is imported
    if is_bundle_path(model_ref):
        from pathlib import Path

        from core.registry.packaging import import_bundle
        from core.serving.probe import probe_model

        model_ref = import_bundle(obj.store, Path(model_ref), probe=probe_model).ref
    if host not in LOOPBACK and not token:
        click.echo(f"warning: serving on {host} without --token: anyone who can reach it can use it", err=True)
    run_service(obj.store.path, model_ref, host=host, port=port, token=token)


COMMANDS = [serve]
