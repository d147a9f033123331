"""The HTTP prediction service: FastAPI on uvicorn, one registered model, every answer logged.

Why FastAPI: it is the ecosystem default, gives the OpenAPI document for free, and runs
on uvicorn, which handles SIGTERM with a graceful shutdown (in-flight requests finish,
then the lifespan hook flushes the prediction log and closes the deployment row).

Request bodies are parsed and checked by `core.serving.predict` rather than by pydantic models:
the checks depend on the served model's signature, which is only known at start-up (and
can change when the alias moves), and every problem must come back as a per-field 422.
The pydantic models below exist for the OpenAPI document.

Speed (issue 5: 1,000 single-row predictions/s with p99 under 50 ms on 2 cores): POST
/predict skips FastAPI's layers (`PredictEndpoint`; the other routes keep them), bodies
are parsed and answers written with orjson, concurrent requests are scored together
(`core.serving.batching`) through the pipeline's compiled preprocessing (`core.serving.fastpath`), uvicorn
runs on uvloop and httptools, and the garbage collector is kept off the long-lived heap.
`benchmarks/serving_load.py` measures it.

Following an alias: a thread polls the alias every `follow_interval` seconds; when it
moved, the new version is loaded and verified off the request path and then swapped in
with one assignment. A request reads the current model once, so it is answered entirely
by the old or entirely by the new version, and none fails during the switch.
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import json
import os
import signal
import socket
import sys
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from core.registry.versions import ModelVersion, load_estimator, resolve, version_by_id
from core.serving.batching import MicroBatcher
from core.serving.explain import ServedExplainers, answer, check_request
from core.serving.internal_errors import InternalErrors, route_error
from core.serving.predict import CheckedInput, InvalidInput, Scorer, shown, to_columns
from core.serving.predictlog import FEATURE, META, OUTPUT, PredictionLog, parse_prediction_id
from core.serving.service_errors import PREDICT_PATH, CountErrors
from core.store.clock import Clock, default_clock
from core.store.config import Range, at_least
from core.store.database import Store
from core.store.errors import PitboardError

if TYPE_CHECKING:
    from core.notify.worker import DeliveryWorker

DEFAULTS: dict[str, Any] = {
    "max_batch_rows": 1000,          # rows per /predict request
    "max_body_bytes": 10_000_000,    # larger bodies get 413 before being read
    "log_interval": 0.5,             # seconds between prediction-log flushes (the crash-loss bound)
    "log_max_rows": 5000,            # flush sooner once this many rows wait
    "follow_interval": 2.0,          # seconds between checks whether the alias moved
    "header_timeout": 10.0,          # seconds a client may take to send a request's headers
    "keep_alive_timeout": 5.0,       # seconds an idle keep-alive connection stays open
    "max_explain_rows": 1000,        # rows per /explain request, exact methods (linear, TreeSHAP)
    "max_estimate_rows": 20,         # rows per /explain request, the sampling estimate
}
# Intervals have a floor: at 0 the log writer and the alias follower would spin a core.
RANGES: dict[str, Range] = {
    "max_batch_rows": at_least(1, 10_000_000),
    "max_body_bytes": at_least(1, 2**31),
    "log_interval": at_least(0.01, 3600),
    "log_max_rows": at_least(1, 10_000_000),
    "follow_interval": at_least(0.1, 86_400),
    "header_timeout": at_least(0.1, 3600),
    "keep_alive_timeout": at_least(0.1, 3600),
    "max_explain_rows": at_least(1, 1_000_000),
    "max_estimate_rows": at_least(1, 100_000),
}


class PredictRequest(BaseModel):
    """Send exactly one of `records` or `columns`."""

    records: list[dict[str, Any]] | None = Field(None, description="one object per row: {feature: value}")
    columns: dict[str, list[Any]] | None = Field(None, description="one list per feature, all of equal length")


class Prediction(BaseModel):
    id: str = Field(description="prediction id, to send back with the true label to /feedback")
    label: Any = None
    probabilities: dict[str, float] | None = None
    prediction: float | None = None


class PredictResponse(BaseModel):
    request_id: str
    model: str
    version: int
    predictions: list[Prediction]
    unknown_categories: list[dict[str, Any]] = Field(
        default_factory=list, description="categories never seen in training and how the model handled them"
    )


class FeedbackItem(BaseModel):
    id: str
    label: Any


class FeedbackRequest(BaseModel):
    labels: list[FeedbackItem]


@dataclass(frozen=True)
class Live:
    """The version being served and its scorer; replaced as a whole when the alias moves."""

    version: ModelVersion
    scorer: Scorer


def _load(store: Store, mv: ModelVersion) -> Live:
    return Live(mv, Scorer.build(load_estimator(store, mv), mv.info))


class Service:
    """Everything one `serve` process owns: the model, the deployment row and the log.

    With `log_to`, the log is written as segments (`core.serving.segments`) and no
    deployment row is recorded; serving a bundle that way (`Service.from_bundle`) needs
    no database at all.
    """

    def __init__(self, db_path: Path, ref: str, *, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
                 clock: Clock | None = None, log_to: str | None = None) -> None:
        self.db_path = Path(db_path)
        self.store: Store | None = Store.open(self.db_path, clock=clock)  # `clock`: a simulation's virtual time
        first = resolve(self.store, ref)
        selector = ref.partition("@")[2]
        alias = selector if selector and not selector.isdigit() else None
        self._setup(ref, alias, _load(self.store, first), self.store.settings("serving", DEFAULTS, RANGES), token)
        self.local_log = log_to is None
        if self.local_log:
            self.deployment_id = self._start_deployment(first, host, port)
            self.log = PredictionLog(
                self.db_path, self.deployment_id,
                interval=float(self.settings["log_interval"]), max_rows=int(self.settings["log_max_rows"]),
            )
        else:
            self._log_to(log_to, port)
        if self.alias:
            self._follower = threading.Thread(target=self._follow, name="alias-follower", daemon=True)
            self._follower.start()

    @classmethod
    def from_bundle(cls, bundle: Path, settings: dict[str, Any], *, log_to: str, port: int = 0,
                    token: str | None = None, clock: Clock | None = None) -> Service:
        """A replica serving a verified bundle's model, logging to segments, with no database."""
        from core.registry.packaging import bundle_info, load_bundle
        from core.serving.probe import probe_model

        estimator, manifest, _ = load_bundle(bundle, probe=probe_model)
        info = bundle_info(manifest)
        version = ModelVersion(id=0, model_id=0, name=manifest["name"], version=int(manifest["version"]), run_id=None,
                               model_sha256=manifest["model_sha256"], source=f"bundle {bundle}", info=info,
                               description="", created_by="", created_at=0.0)
        service = cls.__new__(cls)
        service.db_path = None
        service.store = None
        service._clock = clock or default_clock()
        service.local_log = False
        service._setup(str(bundle), None, Live(version, Scorer.build(estimator, info)), settings, token)
        service._log_to(log_to, port)
        return service

    def now(self) -> float:
        """The service's time: its database's clock (which a simulation moves), else its own."""
        return self.store.clock() if self.store is not None else self._clock()

    def _setup(self, ref: str, alias: str | None, live: Live, settings: dict[str, Any], token: str | None) -> None:
        self.ref, self.alias, self.live, self.settings, self.token = ref, alias, live, settings, token
        self._requests = 0
        self.explainers = ServedExplainers(self.db_path, self.now)
        self.batcher = MicroBatcher(int(self.settings["max_batch_rows"]))
        self._stop = threading.Event()
        self._follower: threading.Thread | None = None
        self._closed = False

    def _log_to(self, url: str, port: int) -> None:
        from core.serving.segments import SegmentLog

        version = self.live.version
        self.log = SegmentLog(
            url, {"model": version.name, "version": version.version, "model_sha256": version.model_sha256}, port=port,
            interval=float(self.settings["log_interval"]), max_rows=int(self.settings["log_max_rows"]),
            started=self.now(),
        )
        self.deployment_id = self.log.replica_key

    def _start_deployment(self, mv: ModelVersion, host: str, port: int) -> int:
        store = self.store
        with store.transaction():
            cursor = store.conn.execute(
                "INSERT INTO deployments (model_id, version_id, alias, host, port, pid, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (mv.model_id, mv.id, self.alias, host, port, os.getpid(), store.clock()),
            )
            store.audit("serve.start", self.ref, {"version": mv.version, "host": host, "port": port, "deployment": cursor.lastrowid})
        return int(cursor.lastrowid)

    def close(self) -> None:
        """Graceful shutdown: stop following, flush the whole log, end the deployment (once)."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._follower is not None:
            self._follower.join()
        self.log.close()
        if self.store is None:
            return
        if self.local_log:
            with self.store.transaction():
                self.store.conn.execute("UPDATE deployments SET ended_at = ? WHERE id = ?", (self.store.clock(), self.deployment_id))
                self.store.audit("serve.stop", self.ref, {"deployment": self.deployment_id, "rows_logged": self.log.written_rows})
        self.store.close()

    # -- following the alias ------------------------------------------------------------

    def _follow(self) -> None:
        store = Store.open(self.db_path, clock=self.now)  # `serve.switch` on the service's own clock
        try:
            while not self._stop.wait(float(self.settings["follow_interval"])):
                try:
                    self.check_alias(store)
                except Exception as exc:  # keep serving the current version; say why once per check
                    print(f"serve: cannot switch to the new holder of {self.ref}: {exc}", file=sys.stderr, flush=True)
        finally:
            store.close()

    def check_alias(self, store: Store) -> bool:
        """Switch to the alias's current holder if it moved; True when a switch happened."""
        current = self.live.version
        version_id = store.value(
            "SELECT version_id FROM model_aliases WHERE model_id = ? AND alias = ?", (current.model_id, self.alias)
        )
        if version_id is None or version_id == current.id:
            return False
        fresh = _load(store, version_by_id(store, version_id))
        self.live = fresh
        with store.transaction():
            store.audit("serve.switch", self.ref, {"deployment": self.deployment_id, "from": current.version, "to": fresh.version.version})
        return True

    # -- answering ----------------------------------------------------------------------

    def authorised(self, header: str) -> bool:
        """Whether an Authorization header carries the bearer token (always, when no token is set)."""
        if self.token is None:
            return True
        scheme, _, given = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.token.encode())

    def check(self, payload: Any) -> tuple[Live, CheckedInput]:
        """The model to answer with and the request's validated input (or InvalidInput)."""
        live = self.live
        columns, orientation = to_columns(payload, max_rows=int(self.settings["max_batch_rows"]))
        return live, live.scorer.check(columns, orientation)

    async def predict(self, payload: Any, started: float) -> dict[str, Any]:
        """Check, score (batched with concurrent requests) and log one request."""
        live, checked = self.check(payload)
        outputs = await self.batcher.score(live, checked)
        return self.answer(live, checked, outputs, started)

    def answer(self, live: Live, checked: CheckedInput, outputs: dict[str, Any], started: float) -> dict[str, Any]:
        """Log the scored rows and build the response body with their prediction ids."""
        self._requests += 1
        request = self._requests
        latency_ms = (time.perf_counter() - started) * 1000.0
        logged: dict[str, Any] = {FEATURE + name: values for name, values in checked.columns.items()}
        logged.update({OUTPUT + name: values for name, values in outputs.items()})
        logged.update({META + "ts": self.now(), META + "request": request, META + "latency_ms": latency_ms})
        first = self.log.append(live.version.id, logged, checked.n_rows)
        return {
            "request_id": f"{self.deployment_id}-r{request}",
            "model": live.version.name,
            "version": live.version.version,
            "predictions": _rows(self.deployment_id, first, outputs, checked.n_rows),
            "unknown_categories": checked.unknown,
        }

    def explain(self, payload: Any) -> dict[str, Any]:
        """Contributions for a /explain body (as /predict's): not logged, as it predicts nothing new."""
        live = self.live
        explainable = self.explainers.get(live)
        checked = check_request(explainable, payload, self.settings)
        return {"model": live.version.name, "version": live.version.version, **answer(explainable, checked)}

    def record_error(self, status: int) -> None:
        """Count a /predict answered with an error against the live version (see core.serving.service_errors)."""
        self.log.add_error(self.live.version.id, status, self.now())

    def feedback(self, payload: Any) -> dict[str, Any]:
        """Queue true labels for logged predictions; unknown ids are reported, not fatal."""
        if not isinstance(payload, dict) or not isinstance(payload.get("labels"), list) or set(payload) != {"labels"}:
            raise InvalidInput([{"loc": ["body", "labels"], "msg": "send {\"labels\": [{\"id\": ..., \"label\": ...}, ...]}", "type": "value_error"}])
        scorer = self.live.scorer
        accepted, unknown, errors = [], [], []
        for i, item in enumerate(payload["labels"]):
            if not isinstance(item, dict) or set(item) != {"id", "label"}:
                errors.append({"loc": ["body", "labels", i], "msg": "must be an object with exactly 'id' and 'label'", "type": "value_error"})
                continue
            if not isinstance(item["id"], str):
                errors.append({"loc": ["body", "labels", i, "id"], "msg": f"expected a prediction id such as '3-17', got {shown(item['id'])}",
                               "type": "string_type"})
                continue
            label = item["label"]
            problem = _label_problem(scorer, label)
            if problem:
                errors.append({"loc": ["body", "labels", i, "label"], "msg": problem, "type": "value_error"})
                continue
            key = parse_prediction_id(item["id"])
            if key is None or not self._known(*key):
                unknown.append(item["id"])
            else:
                accepted.append((key[0], key[1], label))
        if errors:
            raise InvalidInput(errors)
        self.log.add_feedback(accepted, self.now())
        return {"accepted": len(accepted), "unknown_ids": unknown}

    def _known(self, deployment: int, seq: int) -> bool:
        if deployment == self.deployment_id:
            return 1 <= seq < self.log.next_seq
        if self.store is None or not self.local_log:
            return seq >= 1  # another replica's prediction: only the ingest can tell (it counts the unknown)
        return self.store.value(
            "SELECT 1 FROM prediction_batches WHERE deployment_id = ? AND first_seq <= ? AND first_seq + n_rows > ?",
            (deployment, seq, seq),
        ) is not None

    def metadata(self) -> dict[str, Any]:
        """What a client needs to call the service: model, signature, outputs, limits."""
        live = self.live
        info = live.version.info
        return {
            "model": live.version.name,
            "version": live.version.version,
            "alias": self.alias,
            "deployment": self.deployment_id,
            "task": info.get("task"),
            "estimator": info.get("estimator"),
            "signature": info.get("signature"),
            "classes": live.scorer.classes,
            "outputs": live.scorer.output_columns,
            "unknown_category_handling": live.scorer.handling,
            "preprocessing": live.scorer.preprocessing,
            "metrics": info.get("metrics"),
            "max_batch_rows": self.settings["max_batch_rows"],
        }


def _label_problem(scorer: Scorer, label: Any) -> str | None:
    if scorer.task == "classification":
        if label not in scorer.classes or isinstance(label, bool) != any(isinstance(c, bool) for c in scorer.classes):
            return f"{shown(label)} is not one of the model's classes {scorer.classes}"
        return None
    if isinstance(label, bool) or not isinstance(label, (int, float)) or label != label:
        return f"expected a number, got {shown(label)}"
    return None


def _rows(deployment: int, first: int, outputs: dict[str, Any], n: int) -> list[dict[str, Any]]:
    ids = [f"{deployment}-{seq}" for seq in range(first, first + n)]
    if "prediction" in outputs:
        return [{"id": i, "prediction": p} for i, p in zip(ids, outputs["prediction"].tolist())]
    probas = {name[len("proba_"):]: values.tolist() for name, values in outputs.items() if name.startswith("proba_")}
    labels = outputs["label"].tolist()
    return [
        {"id": ids[r], "label": labels[r], "probabilities": {c: values[r] for c, values in probas.items()}}
        for r in range(n)
    ]


class BodyLimit:
    """ASGI middleware: refuse bodies over `limit` bytes with 413, before and while reading."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(send, self.limit)
            return
        seen = 0

        async def limited() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await _too_large(send, self.limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps({"detail": f"request body larger than {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


UNAUTHORISED = {"detail": "missing or wrong bearer token"}


def _unauthorised() -> JSONResponse:
    return JSONResponse(UNAUTHORISED, status_code=401, headers={"WWW-Authenticate": "Bearer"})


def _invalid(exc: InvalidInput) -> JSONResponse:
    return JSONResponse({"detail": exc.errors}, status_code=422)


def _parse_json(raw: bytes) -> Any:
    """A request body as Python values; malformed JSON is a 422 naming the problem.

    orjson first (several times faster); what it refuses goes through the standard
    library, which also accepts the NaN and Infinity literals Python clients write, as
    the service always has (a NaN then meets the signature's null check). Nesting is
    bounded by both parsers (orjson refuses more than 1,024 levels, the standard library
    raises RecursionError near 1,000): too deep is malformed, never a 500.
    """
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(raw)
    except RecursionError as exc:
        raise InvalidInput([{"loc": ["body"], "msg": "malformed JSON: nested too deeply", "type": "json_invalid"}]) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput([{"loc": ["body"], "msg": f"malformed JSON: {exc}", "type": "json_invalid"}]) from exc


async def _json_body(request: Request) -> Any:
    return _parse_json(await request.body())


class _Disconnected(Exception):
    """The client went away before sending its whole body."""


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send_json(send: Any, status: int, content: Any, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


class PredictEndpoint:
    """POST /predict as a bare ASGI app: the hot path, without the framework's layers.

    Profiled under `benchmarks/serving_load.py`, FastAPI's routing, dependency solving,
    exception and exit-stack middlewares and response classes took about a third of the
    service's CPU; with scoring made cheap (`core.serving.fastpath`), more than the work itself. This endpoint does what the route did --
    bearer token (401), body read (under `BodyLimit`'s 413), JSON parse, per-field 422s,
    scoring through the micro-batcher, logging -- in a few awaits. An exception escapes
    to `InternalErrors`, which answers 500 with a request id (and `CountErrors` counts it).
    """

    def __init__(self, service: Service) -> None:
        self.service = service

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = time.perf_counter()
        service = self.service
        if not service.authorised(_header(scope, b"authorization")):
            await _send_json(send, 401, UNAUTHORISED, ((b"www-authenticate", b"Bearer"),))
            return
        try:
            payload = _parse_json(await _read_body(receive))
            status, content = 200, await service.predict(payload, started)
        except _Disconnected:
            return
        except InvalidInput as exc:
            status, content = 422, {"detail": exc.errors}
        await _send_json(send, status, content)


class _Lanes:
    """Sends /predict to its bare endpoint and everything else (and the lifespan) to FastAPI."""

    def __init__(self, app: FastAPI, predict: Any) -> None:
        self.app = app
        self.predict = predict

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != PREDICT_PATH:
            await self.app(scope, receive, send)
        elif scope["method"] == "POST":
            await self.predict(scope, receive, send)
        else:
            await _send_json(send, 405, {"detail": "Method Not Allowed"}, ((b"allow", b"POST"),))


def _document_predict(app: FastAPI) -> None:
    """Describe POST /predict in the OpenAPI document (`PredictEndpoint` answers it, not a route)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            response = PredictResponse.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(response.pop("$defs", {}))
            components["PredictResponse"] = response
            schema["paths"][PREDICT_PATH] = {"post": {
                "summary": "Predict",
                "operationId": "predict",
                "requestBody": {"required": True, "content": {"application/json": {"schema": PredictRequest.model_json_schema()}}},
                "responses": {
                    "200": {"description": "one prediction per row, each with the id to send back to /feedback",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictResponse"}}}},
                    "401": {"description": "missing or wrong bearer token (when the service has one)"},
                    "413": {"description": "body larger than [serving] max_body_bytes"},
                    "422": {"description": "every field at fault: {\"detail\": [{\"loc\", \"msg\", \"type\"}, ...]}"},
                },
            }}
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign] - FastAPI's documented way to extend the document


def create_app(service: Service) -> Any:
    """The ASGI app for `service`; its shutdown closes the service (flushing the log)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202 - FastAPI's lifespan protocol
        yield
        await service.batcher.close()
        service.close()

    app = FastAPI(
        title=f"pitboard: {service.live.version.name}",
        description=f"Predictions from {service.ref}; every answer is written to the prediction log.",
        lifespan=lifespan,
    )

    @app.post("/feedback", openapi_extra={"requestBody": {
        "required": True, "content": {"application/json": {"schema": FeedbackRequest.model_json_schema()}}}})
    async def feedback(request: Request) -> JSONResponse:
        if not service.authorised(request.headers.get("authorization", "")):
            return _unauthorised()
        try:
            return JSONResponse(service.feedback(await _json_body(request)))
        except InvalidInput as exc:
            return _invalid(exc)

    @app.post("/explain", openapi_extra={"requestBody": {
        "required": True, "content": {"application/json": {"schema": PredictRequest.model_json_schema()}}}})
    async def explain(request: Request) -> JSONResponse:
        """Each feature's contribution to each row's prediction; exact, or an estimate said to be one."""
        if not service.authorised(request.headers.get("authorization", "")):
            return _unauthorised()
        try:
            payload = await _json_body(request)
            return JSONResponse(await asyncio.to_thread(service.explain, payload))
        except InvalidInput as exc:
            return _invalid(exc)
        except PitboardError as exc:
            return JSONResponse({"detail": [{"loc": ["body"], "msg": str(exc), "type": "value_error"}]}, status_code=422)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        live = service.live.version
        return {"status": "ok", "model": live.name, "version": live.version, "deployment": service.deployment_id}

    @app.get("/metadata")
    async def metadata(request: Request) -> JSONResponse:
        if not service.authorised(request.headers.get("authorization", "")):
            return _unauthorised()
        return JSONResponse(service.metadata())

    limit = int(service.settings["max_body_bytes"])
    app.add_middleware(BodyLimit, limit=limit)
    prefix = str(service.deployment_id)
    app.add_exception_handler(Exception, route_error(prefix))
    _document_predict(app)
    # CountErrors outermost on /predict, so it sees the 413s of the body limit too.
    lanes = _Lanes(app, CountErrors(BodyLimit(PredictEndpoint(service), limit), record=service.record_error))
    return InternalErrors(lanes, prefix)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, bound before anything is recorded, so a busy port fails cleanly."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PitboardError(f"--host {host} --port {port}: cannot listen there ({exc.strerror})") from exc
    sock.listen(2048)
    return sock


def serve(db_path: Path, ref: str, *, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
          log_to: str | None = None) -> None:
    """Run the service until SIGTERM/SIGINT; the log is flushed before returning."""
    from core.notify.worker import DeliveryWorker

    notifier = DeliveryWorker(db_path)  # a missing webhook secret stops here, before the port is taken
    sock = bind(host, port)
    try:
        service = Service(db_path, ref, host=host, port=sock.getsockname()[1], token=token, log_to=log_to)
    except BaseException:
        sock.close()
        raise
    run(service, sock, host, notifier)


def serve_bundle(bundle: Path, settings: dict[str, Any], *, log_to: str, host: str = "127.0.0.1", port: int = 8000,
                 token: str | None = None) -> None:
    """Serve a verified bundle as one replica of a fleet: no database, the log goes to `log_to` as segments."""
    sock = bind(host, port)
    try:
        service = Service.from_bundle(bundle, settings, log_to=log_to, port=sock.getsockname()[1], token=token)
    except BaseException:
        sock.close()
        raise
    run(service, sock, host)


def run(service: Service, sock: socket.socket, host: str, notifier: DeliveryWorker | None = None) -> None:
    """Answer on `sock` until SIGTERM/SIGINT, then close the service (flushing its log).

    `notifier` delivers the database's notifications meanwhile; a bundle served without a
    database has none to deliver."""
    import uvicorn

    from core.serving.slow_clients import with_header_timeout

    port = sock.getsockname()[1]
    version = service.live.version
    where = "as deployment" if service.local_log else f"logging to {service.log.url} as replica"
    print(f"serving {service.ref} ({version.ref}) on http://{host}:{port} {where} {service.deployment_id}", flush=True)
    # loop "auto" picks uvloop (a dependency of pitboard where the platform has it), and
    # httptools parses HTTP: measured at about twice the requests/s of asyncio and h11.
    # The protocol is uvicorn's httptools one with a deadline on request headers (slow clients).
    config = uvicorn.Config(create_app(service), log_level="warning", lifespan="on", timeout_graceful_shutdown=30,
                            loop="auto", http=with_header_timeout(float(service.settings["header_timeout"])),
                            timeout_keep_alive=float(service.settings["keep_alive_timeout"]))
    # uvicorn handles SIGTERM/SIGINT during run() (graceful shutdown, then our lifespan
    # flushes the log) and re-raises the signal afterwards to the previous handler; a no-op
    # handler there lets the process finish closing and exit 0, as service managers expect.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    # Everything alive now (the libraries, the model) lives as long as the process: moved
    # out of the collector's sight, so a full collection no longer walks it (measured: 50
    # to 250 ms pauses, every few seconds under load, each a stall of every request). The
    # cost: a model replaced by an alias switch is freed by reference counting only, so
    # whatever of it sits in reference cycles stays in memory.
    gc.freeze()
    if notifier is not None:
        notifier.start()
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        if notifier is not None:
            notifier.stop()
        service.close()
        sock.close()
