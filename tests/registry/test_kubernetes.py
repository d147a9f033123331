"""`model package` writes Kubernetes manifests beside the bundle; they validate against the
Kubernetes schemas offline, render with `kubectl kustomize` where kubectl exists, and the
Dockerfile's command serves the bundle (no Docker daemon here: the test runs the same command)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

K8S_VERSION = "1.30.0"


@pytest.fixture
def packaged(reg, pitboard, tmp_path: Path) -> Path:
    assert pitboard("model", "register", str(_good_run(reg)), "--name", "scoring").exit_code == 0
    (reg.path.parent / "pitboard.toml").write_text("[serving]\nlog_interval = 0.25\nlog_max_rows = 2000\n")
    out = tmp_path / "dist" / "scoring-v1"
    out.parent.mkdir()
    result = pitboard("model", "package", "scoring@1", "-o", str(out), "--replicas", "3", "--log-to", "s3://logs/scoring")
    assert result.exit_code == 0, result.stderr
    return out


def _good_run(reg) -> int:
    return reg.value("SELECT id FROM runs WHERE estimator = 'LogisticRegression'")


def _documents(folder: Path) -> dict[str, dict]:
    return {path.name: yaml.safe_load(path.read_text()) for path in sorted(folder.glob("*.yaml"))}


def test_the_manifests_validate_and_carry_the_parameters(packaged: Path):
    import kubernetes_validate

    folder = packaged.parent / "scoring-v1.k8s"
    docs = _documents(folder)
    assert set(docs) == {"deployment.yaml", "service.yaml", "configmap.yaml", "kustomization.yaml"}
    for name in ("deployment.yaml", "service.yaml", "configmap.yaml"):
        kubernetes_validate.validate(docs[name], K8S_VERSION, strict=True)  # raises on any schema violation
    pod = docs["deployment.yaml"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert docs["deployment.yaml"]["spec"]["replicas"] == 3
    assert container["readinessProbe"]["httpGet"]["path"] == "/health" == container["livenessProbe"]["httpGet"]["path"]
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert pod["securityContext"]["runAsNonRoot"] is True and container["securityContext"]["readOnlyRootFilesystem"] is True
    env = {e["name"]: e for e in container["env"]}
    assert env["PITBOARD_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "scoring-token", "key": "token"}
    assert docs["kustomization.yaml"]["replicas"] == [{"name": "scoring", "count": 3}]
    assert docs["kustomization.yaml"]["configMapGenerator"][0]["literals"] == ["PITBOARD_LOG_TO=s3://logs/scoring"]
    assert docs["configmap.yaml"]["data"]["pitboard.toml"] == "[serving]\nlog_interval = 0.25\nlog_max_rows = 2000\n"


def test_a_broken_manifest_fails_validation(packaged: Path):
    """The validation can fail: a replica count that is no number is refused."""
    import kubernetes_validate

    doc = _documents(packaged.parent / "scoring-v1.k8s")["deployment.yaml"]
    doc["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_kubectl_kustomize_renders_the_folder(packaged: Path):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed here: `kubectl kustomize` not run (the manifests are still validated)")
    rendered = subprocess.run([kubectl, "kustomize", str(packaged.parent / "scoring-v1.k8s")],
                              capture_output=True, text=True, timeout=120)
    assert rendered.returncode == 0, rendered.stderr
    docs = {d["kind"]: d for d in yaml.safe_load_all(rendered.stdout)}
    assert set(docs) == {"Deployment", "Service", "ConfigMap"}
    assert docs["Deployment"]["spec"]["replicas"] == 3
    fleet = [d for d in yaml.safe_load_all(rendered.stdout) if d["metadata"]["name"] == "scoring-fleet"]
    assert fleet[0]["data"] == {"PITBOARD_LOG_TO": "s3://logs/scoring"}


def test_the_dockerfile_command_serves_the_bundle(packaged: Path, tmp_path: Path):
    """No Docker daemon here: run the Dockerfile's CMD itself, with /bundle and /data mapped to folders."""
    line = next(line for line in (packaged / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    command = json.loads(line[len("CMD "):])
    data = tmp_path / "data"
    data.mkdir()
    command = [str(packaged) if part == "/bundle" else part.replace("/data", str(data)) for part in command]
    command[command.index("--port") + 1] = "0"
    command[command.index("--host") + 1] = "127.0.0.1"
    command[0] = shutil.which("pitboard", path=str(Path(sys.executable).parent))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        first = process.stdout.readline()
        assert first.startswith("serving"), first + process.stderr.read()
        url = first.split(" on ")[1].split()[0]
        health = httpx.get(f"{url}/health", timeout=30).json()
        assert health["status"] == "ok" and health["model"] == "scoring"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == 0
