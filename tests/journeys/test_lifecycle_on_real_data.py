"""The whole lifecycle on data nobody here wrote, through the real `pitboard` console script.

For each of scikit-learn's bundled breast cancer (binary), diabetes (regression) and wine
(multi-class) data sets, and for a table of awkward columns (spaces, unicode and dots in
names, booleans, dates, high-cardinality text, an all-missing column): import, validate,
draft a spec, train, compare, register, promote, package, verify, predict, serve with real
HTTP requests and labels, monitor the model's own holdout (OK) and a shifted copy (not
OK), retrain from the labelled batches, and roll back. Each step asserts on values.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn import datasets

from tests.conftest import T0, wait_for

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Case:
    name: str
    frame: pd.DataFrame
    target: str
    task: str
    primary: str


def awkward_frame(n: int = 600, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.normal(50, 12, n).round(2)
    frame = pd.DataFrame({
        "annual income ($)": income,
        "größe.cm": rng.normal(170, 8, n).round(1),
        "is member": rng.random(n) < 0.4,
        "signup day": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "customer ref": [f"C{100000 + i}" for i in rng.permutation(n)],
        "always empty": [None] * n,
        "plan": rng.choice(["basic", "pro", "team"], n),
    })
    frame["churned"] = np.where(income + rng.normal(0, 6, n) < 47, "yes", "no")
    return frame


def cases() -> list[Case]:
    return [
        Case("cancer", datasets.load_breast_cancer(as_frame=True).frame, "target", "classification", "roc_auc"),
        Case("diabetes", datasets.load_diabetes(as_frame=True).frame, "target", "regression", "rmse"),
        Case("wine", datasets.load_wine(as_frame=True).frame, "target", "classification", "f1"),
        Case("awkward", awkward_frame(), "churned", "classification", "roc_auc"),
    ]


class Pitboard:
    """The console script in a real process, on one database, in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {**os.environ, "PITBOARD_DB": str(folder / "pitboard.db"), "PITBOARD_NOW": str(T0),
                    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    def __call__(self, *args: object, code: int = 0) -> str:
        done = subprocess.run(["pitboard", *map(str, args)], cwd=self.folder, env=self.env, capture_output=True,
                              text=True, timeout=600)
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == code, f"pitboard {' '.join(map(str, args))}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def json(self, *args: object) -> object:
        return json.loads(self(*args, "--json"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def shifted(frame: pd.DataFrame, target: str, rows: int = 400) -> pd.DataFrame:
    """A copy of `frame` whose numeric features moved by two standard deviations, at least `rows` long."""
    copy = pd.concat([frame] * int(np.ceil(rows / len(frame))), ignore_index=True)
    for column in copy.columns:
        if column != target and pd.api.types.is_float_dtype(copy[column]):
            copy[column] = copy[column] + 2 * copy[column].std()
    return copy


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_the_lifecycle_on_data_we_did_not_write(case: Case, tmp_path: Path) -> None:
    pb = Pitboard(tmp_path)
    (tmp_path / "pitboard.toml").write_text("[training]\nn_jobs = 1\nimportance_repeats = 2\n")
    shuffled = case.frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    cut = int(len(shuffled) * 0.75)
    shuffled.iloc[:cut].to_csv(tmp_path / "train.csv", index=False)
    holdout = shuffled.iloc[cut:].reset_index(drop=True)
    holdout.to_csv(tmp_path / "holdout.csv", index=False)

    # data
    pb("data", "add", case.name, "train.csv", "--target", case.target)
    shown = pb.json("data", "show", f"{case.name}@1")
    assert (shown["version"]["n_rows"], shown["version"]["target"]) == (cut, case.target)
    assert "0 errors" in pb("data", "validate", f"{case.name}@1")

    # experiments
    pb("spec", "init", case.name, "-o", "spec.toml")
    assert f'primary_metric = "{case.primary}"' in (tmp_path / "spec.toml").read_text()
    assert f'task = "{case.task}"' in (tmp_path / "spec.toml").read_text()
    pb("train", "spec.toml")
    runs = pb.json("runs", "list", "--sort", f"{'' if case.primary == 'rmse' else '-'}metrics.{case.primary}")
    assert len(runs) == 6 and {r["status"] for r in runs} == {"FINISHED"}
    best, second = runs[0], runs[1]
    assert best["metrics"][case.primary] == (min if case.primary == "rmse" else max)(r["metrics"][case.primary] for r in runs)
    compared = pb("runs", "compare", best["id"], second["id"])
    assert str(best["id"]) in compared and str(second["id"]) in compared

    # registry
    pb("model", "register", best["id"], "--name", case.name)
    assert "(free) -> v1" in pb("model", "promote", f"{case.name}@1", "--to", "champion")
    pb("model", "package", f"{case.name}@champion", "-o", "bundle.tar.gz")
    verified = pb.json("bundle", "verify", "bundle.tar.gz")
    assert verified["model_loads"] and verified["version"] == 1
    pb("predict", "bundle.tar.gz", "holdout.csv", "-o", "scored.csv")
    scored = pd.read_csv(tmp_path / "scored.csv")
    assert len(scored) == len(holdout)
    output = "prediction" if case.task == "regression" else "label"
    if case.task == "classification":
        accuracy = float((scored["label"].astype(str) == holdout[case.target].astype(str)).mean())
        assert accuracy > 0.7, accuracy
    else:
        assert np.corrcoef(scored["prediction"], holdout[case.target])[0, 1] > 0.5

    # serving, with labels sent back
    port = free_port()
    server = subprocess.Popen(["pitboard", "serve", f"{case.name}@champion", "--port", str(port)], cwd=tmp_path,
                              env=pb.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: _healthy(port), what="the server to answer /health", timeout=60)
        signature = httpx.get(f"http://127.0.0.1:{port}/metadata", timeout=30).json()["signature"]
        features = [f["name"] for f in signature]  # a client sends what the model takes, no more
        assert case.target not in features and set(features) <= set(holdout.columns)
        records = json.loads(holdout[features].head(5).to_json(orient="records"))
        response = httpx.post(f"http://127.0.0.1:{port}/predict", json={"records": records}, timeout=30)
        assert response.status_code == 200, response.text
        answer = response.json()
        served = [p[output] for p in answer["predictions"]]
        assert [str(v) for v in served] == [str(v) for v in scored[output].head(5)] if case.task == "classification" \
            else np.allclose(served, scored[output].head(5))
        labels = [{"id": p["id"], "label": json.loads(holdout[[case.target]].iloc[[i]].to_json(orient="records"))[0][case.target]}
                  for i, p in enumerate(answer["predictions"])]
        fed = httpx.post(f"http://127.0.0.1:{port}/feedback", json={"labels": labels}, timeout=30).json()
        assert fed == {"accepted": 5, "unknown_ids": []}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    # monitoring: the model's own data is OK, a shifted copy is not
    pb("monitor", "ingest", f"{case.name}@champion", "train.csv", "--labels", case.target)
    pb("monitor", "ingest", f"{case.name}@champion", "holdout.csv", "--labels", case.target)
    status = pb.json("monitor", "status", case.name)
    assert status["state"] == "ok", status["alerts"]
    pb("monitor", "status", case.name)  # exit 0
    assert status["primary_metric"] == case.primary and case.primary in status["latest_window"]["metrics"]
    shifted(shuffled, case.target).to_csv(tmp_path / "shifted.csv", index=False)
    pb("monitor", "ingest", f"{case.name}@champion", "shifted.csv", "--labels", case.target)
    alarmed = subprocess.run(["pitboard", "monitor", "status", case.name], cwd=tmp_path, env=pb.env, capture_output=True,
                             text=True, timeout=120)
    assert alarmed.returncode in (1, 2) and "drift" in alarmed.stdout, alarmed.stdout + alarmed.stderr

    # continuous training from the labelled batches, then back to v1 in one step
    retrained = subprocess.run(["pitboard", "retrain", case.name], cwd=tmp_path, env=pb.env, capture_output=True,
                               text=True, timeout=600)
    assert retrained.returncode in (0, 1) and "Traceback" not in retrained.stderr, retrained.stderr
    lineage = pb.json("data", "show", f"{case.name}-retrain@1")["version"]["source"]
    assert lineage.startswith(f"{case.name}@1 + windows ") and f"labelled rows kept in {case.name}-labelled@" in lineage
    assert pb.json("model", "show", f"{case.name}@2")["aliases"] == ["challenger"]
    promoted = subprocess.run(["pitboard", "model", "promote", f"{case.name}@2", "--to", "champion"], cwd=tmp_path,
                              env=pb.env, capture_output=True, text=True, timeout=120)
    if promoted.returncode != 0:  # the challenger did not beat the champion: promote it anyway, as a person could
        pb("model", "promote", f"{case.name}@2", "--to", "champion", "--force", "--reason", "journey test")
    assert "v2 -> v1" in pb("model", "rollback", case.name)
    assert pb.json("model", "show", f"{case.name}@champion")["version"] == 1


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
