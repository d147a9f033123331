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
@click.option("--log-to", "log_to", metavar="URL", envvar="PITBOARD_LOG_TO", default=None,
              help="Write the prediction log as segment files to a folder or s3:// URL (or set $PITBOARD_LOG_TO);"
                   " a bundle served this way needs no database.")
@click.pass_obj
def serve(obj, model_ref: str, host: str, port: int, token: str | None, log_to: str | None) -> None:
    """Serve MODEL_REF (NAME@ALIAS follows the alias; NAME@VERSION or a bundle path stay fixed).

    POST /predict, POST /feedback, GET /health, GET /metadata and /docs. Every prediction
    is logged in the database, or with --log-to as segments that `pitboard monitor ingest
    NAME --from URL` pulls in; SIGTERM or Ctrl-C stop gracefully, flushing the log.
    """
    from pathlib import Path

    from core.serving.offline import is_bundle_path
    from core.serving.service import DEFAULTS, RANGES
    from core.serving.service import serve as run_service

    if host not in LOOPBACK and not token:
        click.echo(f"warning: serving on {host} without --token: anyone who can reach it can use it", err=True)
    if log_to and is_bundle_path(model_ref):
        from core.serving.service import serve_bundle
        from core.store.config import load_config, merge_section
        from core.store.database import resolve_db_path

        config_path = resolve_db_path(obj.db).parent / "pitboard.toml"  # the ConfigMap's file; no database opened
        settings = merge_section(load_config(config_path), "serving", DEFAULTS, config_path, RANGES)
        serve_bundle(Path(model_ref), settings, log_to=log_to, host=host, port=port, token=token)
        return
    obj.store.settings("serving", DEFAULTS, RANGES)  # a bad [serving] section fails before a bundle is imported
    if is_bundle_path(model_ref):
        from core.registry.packaging import import_bundle
        from core.serving.probe import probe_model

        model_ref = import_bundle(obj.store, Path(model_ref), probe=probe_model).ref
    run_service(obj.store.path, model_ref, host=host, port=port, token=token, log_to=log_to)


COMMANDS = [serve]
