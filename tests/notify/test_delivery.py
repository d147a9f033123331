"""Delivery through real loopback receivers: signatures, retries with backoff, failures, claims."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import sys

import pytest

from core.notify.delivery import claim, flush, list_events
from core.notify.targets import load
from core.store.outbox import publish
from tests.notify.conftest import open_with, payloads

SECRET = "s3cret-for-tests"


def webhook_config(url: str, **extra: object) -> str:
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in extra.items())
    return (f"[notify]\nbackoff_seconds = 30\nmax_attempts = 4\n\n[notify.targets.ops]\ntype = \"webhook\"\n"
            f"url = \"{url}\"\nsecret_env = \"PB_TEST_SECRET\"\n{lines}")


def test_a_receiver_failing_twice_gets_every_event_signed_and_acknowledged_once(
        db_path, receiver, hand_clock, monkeypatch) -> None:
    monkeypatch.setenv("PB_TEST_SECRET", SECRET)
    hook = receiver(answers=[500, 500])
    store = open_with(db_path, hand_clock, webhook_config(hook.url))
    settings = load(store)
    with store.transaction():
        ids = [publish(store, "promotion", f"credit-risk@champion promoted to v{n}", model="credit-risk",
                       details={"to": n}) for n in (1, 2, 3)]

    assert flush(store, settings) == {"new": 3, "delivered": 1, "retrying": 2, "failed": 0}
    hand_clock.now += 29  # the backoff (30 s) has not passed: nothing is tried
    assert flush(store, settings) == {"new": 0, "delivered": 0, "retrying": 0, "failed": 0}
    hand_clock.now += 1
    assert flush(store, settings) == {"new": 0, "delivered": 2, "retrying": 0, "failed": 0}

    for request in hook.got:  # every request is exactly the bytes that were signed
        expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["X-Pitboard-Signature"] == expected
        assert request.headers["Idempotency-Key"] == json.loads(request.body)["key"]
    acknowledged = [json.loads(r.body)["id"] for r in hook.got if r.status == 200]
    assert sorted(acknowledged) == ids  # each event acknowledged once
    assert [r.status for r in hook.got] == [500, 500, 200, 200, 200]
    first_tries = {p["id"]: p for p in payloads(hook)[:3]}
    for retry in payloads(hook)[3:]:
        assert retry == first_tries[retry["id"]]  # a retry sends the same event, same key
    events = {e["id"]: e for e in list_events(store)}
    for event_id in ids:
        (delivery,) = events[event_id]["deliveries"]
        assert delivery["state"] == "delivered"
    history = sorted(([a["ok"] for a in events[i]["deliveries"][0]["history"]] for i in ids), key=len)
    assert history == [[1], [0, 1], [0, 1]]
    retried = next(events[i]["deliveries"][0] for i in ids if events[i]["deliveries"][0]["attempts"] == 2)
    assert [a["status"] for a in retried["history"]] == [500, 200]
    assert [a["ts"] for a in retried["history"]] == [hand_clock.now - 30, hand_clock.now]
    store.close()


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_timeouts_500s_and_unreachable_hosts_are_retried_then_failed_without_blocking_others(
        db_path, receiver, hand_clock, tmp_path) -> None:
    broken, slow = receiver(answers=[500] * 10), receiver(hang=True)
    seen = tmp_path / "seen.jsonl"
    script = f"import sys; open({str(seen)!r}, 'ab').write(sys.stdin.buffer.read() + b'\\n')"
    config = (
        "[notify]\nmax_attempts = 3\nbackoff_seconds = 10\ntimeout_seconds = 0.3\n"
        f"[notify.targets.broken]\ntype = \"webhook\"\nurl = \"{broken.url}\"\n"
        f"[notify.targets.slow]\ntype = \"webhook\"\nurl = \"{slow.url}\"\n"
        f"[notify.targets.gone]\ntype = \"slack\"\nurl = \"http://127.0.0.1:{_closed_port()}/x\"\n"
        f"[notify.targets.local]\ntype = \"exec\"\ncommand = {json.dumps([sys.executable, '-c', script])}\n"
    )
    store = open_with(db_path, hand_clock, config)
    settings = load(store)
    with store.transaction():
        publish(store, "job.failed", "job 7 (train) failed: boom", details={"job": 7})
    assert flush(store, settings) == {"new": 4, "delivered": 1, "retrying": 3, "failed": 0}
    assert json.loads(seen.read_text().splitlines()[0])["subject"] == "job 7 (train) failed: boom"
    hand_clock.now += 10
    assert flush(store, settings)["retrying"] == 3
    hand_clock.now += 19  # the second wait is 20 s
    assert flush(store, settings)["retrying"] == 0
    hand_clock.now += 1
    assert flush(store, settings) == {"new": 0, "delivered": 0, "retrying": 0, "failed": 3}
    (event,) = list_events(store)
    states = {d["target"]: (d["state"], d["attempts"], d["last_error"]) for d in event["deliveries"]}
    assert states["local"] == ("delivered", 1, None)
    assert states["broken"][:2] == ("failed", 3) and states["broken"][2].startswith("HTTP 500")
    assert states["slow"] == ("failed", 3, "timed out after 0.3 s")
    assert states["gone"][:2] == ("failed", 3) and "ConnectError" in states["gone"][2]
    assert len(broken.got) == 3
    hand_clock.now += 3600
    assert flush(store, settings) == {"new": 0, "delivered": 0, "retrying": 0, "failed": 0}  # failed is final
    store.close()


def test_a_claimed_delivery_cannot_be_taken_twice(db_path, hand_clock, tmp_path) -> None:
    config = f"[notify.targets.local]\ntype = \"exec\"\ncommand = [{json.dumps(sys.executable)}, \"-c\", \"pass\"]\n"
    store = open_with(db_path, hand_clock, config)
    with store.transaction():
        publish(store, "rollback", "m@champion rolled back to v1", model="m")
    from core.notify.delivery import fan_out

    assert fan_out(store, load(store)) == 1
    delivery = store.value("SELECT id FROM deliveries")
    assert claim(store, delivery, "a", 60) is True
    assert claim(store, delivery, "b", 60) is False
    assert flush(store, load(store), who="b")["delivered"] == 0  # still held by a
    hand_clock.now += 60  # a died holding it: the claim expires
    assert flush(store, load(store), who="b")["delivered"] == 1
    store.close()


def test_filters_pick_kinds_models_and_minimum_severity(db_path, hand_clock) -> None:
    config = ("[notify.targets.pager]\ntype = \"exec\"\ncommand = [\"true\"]\nmin_severity = \"critical\"\n"
              "[notify.targets.credit]\ntype = \"exec\"\ncommand = [\"true\"]\nmodels = [\"credit-risk\"]\n"
              "kinds = [\"alert\", \"promotion\"]\n")
    store = open_with(db_path, hand_clock, config)
    with store.transaction():
        publish(store, "alert.opened", "credit-risk: WARNING drift", model="credit-risk", severity="warning")
        publish(store, "alert.opened", "other: CRITICAL drift", model="other", severity="critical")
        publish(store, "promotion", "credit-risk@champion promoted", model="credit-risk")
        publish(store, "job.failed", "job 3 failed")
    flush(store, load(store))
    routed = sorted((r["target"], r["subject"]) for r in store.rows(
        "SELECT d.target, o.subject FROM deliveries d JOIN outbox o ON o.id = d.event_id"))
    assert routed == [("credit", "credit-risk: WARNING drift"), ("credit", "credit-risk@champion promoted"),
                      ("pager", "other: CRITICAL drift")]
    store.close()


def test_the_slack_target_gets_one_line_of_text(db_path, receiver, hand_clock) -> None:
    hook = receiver()
    store = open_with(db_path, hand_clock, f"[notify.targets.chat]\ntype = \"slack\"\nurl = \"{hook.url}\"\n")
    with store.transaction():
        publish(store, "alert.opened", "credit-risk: CRITICAL drift share 0.6 > 0.5 <now>", model="credit-risk",
                severity="critical")
    assert flush(store, load(store))["delivered"] == 1
    assert payloads(hook) == [{"text": "*[CRITICAL]* alert.opened: credit-risk: CRITICAL drift share 0.6 &gt; 0.5 &lt;now&gt;"}]
    store.close()


@pytest.mark.parametrize(("table", "message"), [
    ('type = "webhook"\nurl = "http://127.0.0.1:1/x"\nsecret_env = "PB_MISSING_SECRET"',
     "[notify.targets.t] secret_env: $PB_MISSING_SECRET is not set"),
    ('type = "webhook"\nurl = "file:///etc/passwd"', "[notify.targets.t] url = 'file:///etc/passwd': must be an http"),
    ('type = "carrier-pigeon"', "[notify.targets.t] type = 'carrier-pigeon': must be one of webhook, slack, exec"),
    ('type = "exec"\ncommand = "rm -rf /"', "[notify.targets.t] command = 'rm -rf /': must be a list"),
    ('type = "exec"\ncommand = ["true"]\nkinds = ["alert.exploded"]', "kinds: unknown event kind 'alert.exploded'"),
    ('type = "exec"\ncommand = ["true"]\nmin_severity = "panic"', "min_severity = 'panic': must be one of info"),
    ('type = "exec"\ncommand = ["true"]\ncolour = "red"', "unknown key 'colour'"),
])
def test_bad_targets_are_one_line_at_start(pitboard, db_path, table, message, monkeypatch) -> None:
    monkeypatch.delenv("PB_MISSING_SECRET", raising=False)
    (db_path.parent / "pitboard.toml").write_text(f"[notify.targets.t]\n{table}\n", encoding="utf-8")
    result = pitboard("notify", "flush")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_the_app_refuses_a_missing_secret_before_its_screen_opens(pitboard, db_path, monkeypatch) -> None:
    monkeypatch.delenv("PB_MISSING_SECRET", raising=False)
    (db_path.parent / "pitboard.toml").write_text(
        '[notify.targets.ops]\ntype = "webhook"\nurl = "https://hooks.example/x"\nsecret_env = "PB_MISSING_SECRET"\n')
    result = pitboard()  # no sub-command: the app
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"Error: {db_path.parent / 'pitboard.toml'}: [notify.targets.ops] secret_env:"
                                          " $PB_MISSING_SECRET is not set; export the signing secret or remove secret_env"]
