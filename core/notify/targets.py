"""`[notify]` in pitboard.toml: delivery settings and the targets events are sent to.

A target is a table under `[notify.targets.NAME]` with a `type`:

- `webhook`: POST the event as JSON to `url`; with `secret_env`, the body is signed with
  HMAC-SHA256 under the secret read from that environment variable.
- `slack`: POST `{"text": ...}` to a Slack-compatible incoming webhook `url`.
- `exec`: run `command` (a list: program and arguments, no shell) with the event's JSON
  on stdin; exit status 0 is a delivery.

Filters: `kinds` (event kinds, or a prefix such as `alert`), `models`, `min_severity`.
Everything is checked when the file is read, secrets included: a target whose secret is
missing from the environment is one error at start, not a failure at the first event.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from core.store.config import at_least
from core.store.database import Store
from core.store.errors import PitboardError, shown
from core.store.outbox import KINDS, SEVERITIES, severity_rank

DEFAULTS: dict[str, Any] = {
    "max_attempts": 5,            # tries per event and target before it is marked failed
    "backoff_seconds": 30.0,      # wait after the first failed try; doubled after each next one
    "max_backoff_seconds": 3600.0,
    "timeout_seconds": 10.0,      # per HTTP request or command
    "poll_seconds": 5.0,          # how often long-lived processes look for due deliveries
    "targets": None,              # [notify.targets.NAME] tables, checked by `load`
}
RANGES = {
    "max_attempts": at_least(1, 100),
    "backoff_seconds": at_least(0, 86_400),
    "max_backoff_seconds": at_least(0, 7 * 86_400),
    "timeout_seconds": at_least(0.1, 600),
    "poll_seconds": at_least(0.1, 3600),
}
TYPES = ("webhook", "slack", "exec")
TARGET_KEYS = {"type", "url", "secret_env", "command", "kinds", "models", "min_severity"}
MAX_TARGETS = 50
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


@dataclass(frozen=True)
class Target:
    """One place events go, with its filters; `secret` is resolved from the environment."""

    name: str
    type: str
    url: str = ""
    secret: bytes | None = None
    command: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    min_severity: str = "info"
    describe: str = field(default="", compare=False)

    def wants(self, kind: str, model: str | None, severity: str) -> bool:
        """Whether an event passes this target's filters (an empty filter passes everything)."""
        if self.kinds and not any(kind == k or kind.startswith(k + ".") for k in self.kinds):
            return False
        if self.models and model not in self.models:
            return False
        return severity_rank(severity) >= severity_rank(self.min_severity)


@dataclass(frozen=True)
class NotifySettings:
    """The `[notify]` section, targets parsed."""

    max_attempts: int
    backoff_seconds: float
    max_backoff_seconds: float
    timeout_seconds: float
    poll_seconds: float
    targets: dict[str, Target]

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed try: doubling, capped."""
        return min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempts - 1))


def load(store: Store, environ: dict[str, str] | None = None) -> NotifySettings:
    """The checked `[notify]` section of the store's pitboard.toml."""
    raw = store.settings("notify", DEFAULTS, RANGES)
    path = store.config_path
    tables = raw["targets"] or {}
    if not isinstance(tables, dict):
        raise PitboardError(f"{path}: [notify] targets must be tables, one per target ([notify.targets.NAME])")
    if len(tables) > MAX_TARGETS:
        raise PitboardError(f"{path}: [notify.targets] has {len(tables)} targets; at most {MAX_TARGETS}")
    env = os.environ if environ is None else environ
    targets = {name: _target(name, table, path, env) for name, table in tables.items()}
    return NotifySettings(int(raw["max_attempts"]), float(raw["backoff_seconds"]), float(raw["max_backoff_seconds"]),
                          float(raw["timeout_seconds"]), float(raw["poll_seconds"]), targets)


def _target(name: str, table: Any, path: Any, env: Any) -> Target:
    where = f"{path}: [notify.targets.{name}]"
    if not _NAME.match(name):
        raise PitboardError(f"{path}: [notify.targets] name {shown(name)}: use letters, digits, '.', '_', '-'")
    if not isinstance(table, dict):
        raise PitboardError(f"{where} must be a table")
    unknown = sorted(set(table) - TARGET_KEYS)
    if unknown:
        raise PitboardError(f"{where}: unknown key {unknown[0]!r}; valid keys: {', '.join(sorted(TARGET_KEYS))}")
    kind = table.get("type")
    if kind not in TYPES:
        raise PitboardError(f"{where} type = {shown(kind)}: must be one of {', '.join(TYPES)}")
    kinds = _strings(table, "kinds", where)
    for k in kinds:
        if k not in KINDS and not any(known.startswith(k + ".") for known in KINDS):
            raise PitboardError(f"{where} kinds: unknown event kind {shown(k)}; known: {', '.join(KINDS)}")
    severity = table.get("min_severity", "info")
    if severity not in SEVERITIES:
        raise PitboardError(f"{where} min_severity = {shown(severity)}: must be one of {', '.join(SEVERITIES)}")
    common = {"name": name, "type": kind, "kinds": kinds, "models": _strings(table, "models", where),
              "min_severity": severity}
    if kind == "exec":
        command = _strings(table, "command", where)
        if not command:
            raise PitboardError(f"{where}: an exec target needs command = [\"program\", \"arg\", ...]")
        for key in ("url", "secret_env"):
            if key in table:
                raise PitboardError(f"{where}: {key} is for webhook targets, not exec")
        return Target(**common, command=command, describe=" ".join(command))
    if "command" in table:
        raise PitboardError(f"{where}: command is for exec targets, not {kind}")
    url = table.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise PitboardError(f"{where} url = {shown(url)}: must be an http:// or https:// URL")
    secret = None
    if "secret_env" in table:
        if kind == "slack":
            raise PitboardError(f"{where}: slack webhooks are not signed; remove secret_env")
        variable = table["secret_env"]
        if not isinstance(variable, str) or not _ENV.match(variable):
            raise PitboardError(f"{where} secret_env = {shown(variable)}: must name an environment variable")
        if not env.get(variable):
            raise PitboardError(f"{where} secret_env: ${variable} is not set; export the signing secret"
                                f" or remove secret_env")
        secret = env[variable].encode()
    host = urlsplit(url)
    return Target(**common, url=url, secret=secret, describe=f"{host.scheme}://{host.netloc}{host.path}")


def _strings(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value) or len(value) > 100:
        raise PitboardError(f"{where} {key} = {shown(value)}: must be a list of up to 100 non-empty strings")
    return tuple(value)
