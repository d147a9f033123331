"""Kubernetes manifests for a bundle: the fleet path beside the Dockerfile (`model package` writes them).

Why these objects: a Deployment of N replicas of the bundle's image, each running
`pitboard serve /bundle --log-to URL` (no database inside the container: the prediction
log goes to the object store as segments, `core.serving.segments`), behind a Service;
a ConfigMap holding the model's `[serving]` section of pitboard.toml, mounted where
`serve` reads it; the bearer token and the object-store credentials from Secrets the
operator creates (never written here). The replica count and the log URL are the two
parameters, set in `kustomization.yaml` (`replicas:` and the `configMapGenerator`).

Written as YAML by hand (every value through `json.dumps`, which YAML reads as a
string or number), so pitboard needs no YAML library at run time.
"""

from __future__ import annotations

import json
import re
from typing import Any

PORT = 8000
IMAGE_PORT_NAME = "http"


def object_name(model: str) -> str:
    """A DNS-1123 name for the model's objects (lowercase letters, digits and '-')."""
    return re.sub(r"[^a-z0-9-]+", "-", model.lower()).strip("-")[:50] or "model"


def _q(value: Any) -> str:
    return json.dumps(value)


def serving_toml(section: dict[str, Any]) -> str:
    """The `[serving]` table of pitboard.toml as TOML text (its values are numbers)."""
    lines = ["[serving]"] + [f"{key} = {_q(value)}" for key, value in sorted(section.items())]
    return "\n".join(lines) + "\n"


def manifests(manifest: dict[str, Any], *, replicas: int, log_to: str, serving: dict[str, Any]) -> dict[str, str]:
    """File name -> YAML text of the k8s/ folder for a bundle's model."""
    name = object_name(manifest["name"])
    image = f"{name}:{manifest['version']}"
    labels = f"app.kubernetes.io/name: {_q(name)}\n"
    toml = serving_toml(serving)
    config = "\n".join("    " + line for line in toml.splitlines())
    deployment = f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {_q(name)}
  labels:
    {labels}spec:
  replicas: {replicas}
  selector:
    matchLabels:
      {labels}  template:
    metadata:
      labels:
        {labels}    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        fsGroup: 10001
      containers:
        - name: serve
          image: {_q(image)}
          command: ["pitboard", "--db", "/config/pitboard.db", "serve", "/bundle", "--host", "0.0.0.0", "--port", "{PORT}"]
          ports:
            - name: {IMAGE_PORT_NAME}
              containerPort: {PORT}
          env:
            - name: PITBOARD_LOG_TO
              valueFrom:
                configMapKeyRef:
                  name: {_q(name + "-fleet")}
                  key: PITBOARD_LOG_TO
            - name: PITBOARD_TOKEN
              valueFrom:
                secretKeyRef:
                  name: {_q(name + "-token")}
                  key: token
            - name: NUMBA_CACHE_DIR
              value: "/tmp/numba"
          envFrom:
            - secretRef:
                name: {_q(name + "-object-store")}
                optional: true
          readinessProbe:
            httpGet:
              path: /health
              port: {IMAGE_PORT_NAME}
            initialDelaySeconds: 5
            periodSeconds: 5
          livenessProbe:
            httpGet:
              path: /health
              port: {IMAGE_PORT_NAME}
            initialDelaySeconds: 30
            periodSeconds: 10
            failureThreshold: 3
          resources:
            requests:
              cpu: "500m"
              memory: "512Mi"
            limits:
              cpu: "2"
              memory: "2Gi"
          securityContext:
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
            capabilities:
              drop: ["ALL"]
          volumeMounts:
            - name: config
              mountPath: /config
              readOnly: true
            - name: tmp
              mountPath: /tmp
      terminationGracePeriodSeconds: 45
      volumes:
        - name: config
          configMap:
            name: {_q(name + "-config")}
        - name: tmp
          emptyDir: {{}}
"""
    service = f"""apiVersion: v1
kind: Service
metadata:
  name: {_q(name)}
  labels:
    {labels}spec:
  selector:
    {labels}  ports:
    - name: {IMAGE_PORT_NAME}
      port: 80
      targetPort: {IMAGE_PORT_NAME}
"""
    configmap = f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {_q(name + "-config")}
  labels:
    {labels}data:
  pitboard.toml: |
{config}
"""
    kustomization = f"""# {manifest['name']} version {manifest['version']}: `kubectl apply -k .` after building the image
# ({image}) from the bundle's Dockerfile and creating the Secrets:
#   kubectl create secret generic {name}-token --from-literal=token=...
#   kubectl create secret generic {name}-object-store --from-literal=AWS_ACCESS_KEY_ID=... \\
#     --from-literal=AWS_SECRET_ACCESS_KEY=...   (and AWS_ENDPOINT_URL for a store other than AWS)
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
  - service.yaml
  - configmap.yaml
replicas:
  - name: {_q(name)}
    count: {replicas}
configMapGenerator:
  - name: {_q(name + "-fleet")}
    literals:
      - {_q("PITBOARD_LOG_TO=" + log_to)}
generatorOptions:
  disableNameSuffixHash: true
"""
    return {"deployment.yaml": deployment, "service.yaml": service, "configmap.yaml": configmap,
            "kustomization.yaml": kustomization}
