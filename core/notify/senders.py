"""Sending one event to one target: the exact bytes, the signature, and what came back.

The body of a webhook is the event's JSON, serialised the same way on every try, so a
receiver that verifies the signature of a retry sees the very bytes it was signed over.
Headers: `X-Pitboard-Event` (the kind), `Idempotency-Key` (the event's key, the same on
every try and for every target) and, with a secret, `X-Pitboard-Signature:
sha256=<hex HMAC-SHA256 of the body>`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import subprocess
from dataclasses import dataclass
from typing import Any

from core.notify.targets import Target

SIGNATURE_HEADER = "X-Pitboard-Signature"
MAX_ERROR = 300


@dataclass(frozen=True)
class Outcome:
    """How one try ended: delivered or not, the HTTP status or exit code, and why not."""

    ok: bool
    status: int | None = None
    error: str | None = None


def body(event: dict[str, Any]) -> bytes:
    """The event as the bytes sent (and signed): sorted keys, compact, UTF-8."""
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: bytes, payload: bytes) -> str:
    """The value of the signature header for `payload`."""
    return "sha256=" + hmac.new(secret, payload, hashlib.sha256).hexdigest()


def slack_text(event: dict[str, Any]) -> str:
    """The one message a Slack-compatible webhook shows for an event."""
    text = f"*[{event['severity'].upper()}]* {event['kind']}: {event['subject']}"
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def send(target: Target, event: dict[str, Any], timeout: float) -> Outcome:
    """Try once; never raises for a failure of the receiver."""
    if target.type == "exec":
        return _run(target, body(event), timeout)
    if target.type == "slack":
        payload = json.dumps({"text": slack_text(event)}).encode()
        return _post(target.url, payload, {"Content-Type": "application/json"}, timeout)
    payload = body(event)
    headers = {"Content-Type": "application/json", "X-Pitboard-Event": event["kind"], "Idempotency-Key": event["key"]}
    if target.secret is not None:
        headers[SIGNATURE_HEADER] = signature(target.secret, payload)
    return _post(target.url, payload, headers, timeout)


@functools.cache
def _client() -> Any:
    """One HTTP client per process: building one loads the CA bundle, a few hundred ms each time."""
    import httpx

    return httpx.Client(follow_redirects=False)


def _post(url: str, payload: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    import httpx

    try:
        response = _client().post(url, content=payload, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        return Outcome(False, None, f"timed out after {timeout:g} s")
    except httpx.HTTPError as exc:
        return Outcome(False, None, _short(f"{type(exc).__name__}: {exc}"))
    if 200 <= response.status_code < 300:
        return Outcome(True, response.status_code)
    return Outcome(False, response.status_code, _short(f"HTTP {response.status_code}: {response.text.strip()}"))


def _run(target: Target, payload: bytes, timeout: float) -> Outcome:
    try:
        done = subprocess.run(list(target.command), input=payload, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return Outcome(False, None, f"{target.command[0]}: timed out after {timeout:g} s")
    except OSError as exc:
        return Outcome(False, None, _short(f"{target.command[0]}: cannot run ({exc.strerror or exc})"))
    if done.returncode == 0:
        return Outcome(True, 0)
    said = done.stderr.decode(errors="replace").strip().splitlines()
    return Outcome(False, done.returncode, _short(f"exit status {done.returncode}" + (f": {said[-1]}" if said else "")))


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_ERROR else line[:MAX_ERROR] + "..."
