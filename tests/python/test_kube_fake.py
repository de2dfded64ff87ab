"""Self-test of the fake Kubernetes API server (kube_fake.py) the scaler's tests run against.

Plain HTTP clients only (http.client, no proxies); no tavana process, no fixtures from conftest.
Each test checks behaviour a real kube-apiserver shows, so a wrong fake fails here first.

Run alone:
    cd tests/python && ~/.cache/tavana/venv/bin/python -m pytest test_kube_fake.py -q -p no:cacheprovider
(set TAVANA_ALLOW_MISSING_BIN=1 when the tavana binary is not built).
"""

from __future__ import annotations

import http.client
import json
import threading
from typing import Any, Iterator, Optional

import pytest

from kube_fake import FakeKubeApi

TOKEN = "t0ken"
NS = "tavana"
STS = f"/apis/apps/v1/namespaces/{NS}/statefulsets/executor"
SCALE = STS + "/scale"
LEASES = f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases"
SMP = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSONP = "application/json-patch+json"


class Client:
    """One keep-alive HTTP/1.1 connection to the fake, JSON in and out."""

    def __init__(self, api: FakeKubeApi):
        self.conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=5)
        self.last_headers: Optional[http.client.HTTPMessage] = None

    def call(self, method: str, path: str, body: Any = None, ctype: str = "application/json",
             token: Optional[str] = TOKEN, chunked: bool = False) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = ctype
        if chunked:
            self.conn.request(method, path, body=iter([data[:5], data[5:]]), headers=headers,
                              encode_chunked=True)
        else:
            self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        self.last_headers = resp.headers
        assert resp.headers["Content-Type"] == "application/json"
        assert int(resp.headers["Content-Length"]) == len(raw)
        return resp.status, json.loads(raw)

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def api() -> Iterator[FakeKubeApi]:
    with FakeKubeApi(token=TOKEN) as fake:
        fake.add_statefulset(NS, "executor", replicas=2,
                             env={"MAX_MEMORY_GB": "0.75", "RUST_LOG": "info", "TAVANA_ROLE": "executor"})
        yield fake


@pytest.fixture
def client(api: FakeKubeApi) -> Iterator[Client]:
    c = Client(api)
    yield c
    c.close()


def executor(sts: dict) -> dict:
    return next(c for c in sts["spec"]["template"]["spec"]["containers"] if c["name"] == "executor")


def env_of(container: dict) -> dict:
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def assert_status(body: dict, code: int, reason: str, message: Optional[str] = None) -> None:
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure"
    assert body["metadata"] == {}
    assert body["code"] == code and body.get("reason", "") == reason, body
    if message is not None:
        assert body["message"] == message, body["message"]


# ---------------------------------------------------------------------------------------------


def test_auth_and_keepalive(api: FakeKubeApi, client: Client) -> None:
    status, body = client.call("GET", STS, token=None)
    assert status == 401
    assert_status(body, 401, "Unauthorized", "Unauthorized")
    sock = client.conn.sock
    # A refused PATCH with a body, then a chunked one: the connection stays usable and in sync.
    status, _ = client.call("PATCH", STS, {"spec": {"replicas": 9}}, MERGE, token="wrong")
    assert status == 401
    status, body = client.call("PATCH", STS, {"metadata": {"labels": {"x": "y"}}}, MERGE, chunked=True)
    assert status == 200 and body["metadata"]["labels"]["x"] == "y"
    status, _ = client.call("GET", "/apis/apps/v1/namespaces/tavana/deployments/x")
    assert status == 404
    status, body = client.call("POST", STS, {})
    assert status == 405
    assert_status(body, 405, "MethodNotAllowed")
    status, _ = client.call("GET", STS)
    assert status == 200
    assert client.conn.sock is sock, "the server closed a keep-alive connection"
    assert api.statefulset(NS, "executor")["spec"]["replicas"] == 2  # the 401 patch did nothing


def test_statefulset_get(client: Client) -> None:
    status, sts = client.call("GET", STS + "?")
    assert status == 200
    assert (sts["apiVersion"], sts["kind"]) == ("apps/v1", "StatefulSet")
    meta = sts["metadata"]
    assert meta["name"] == "executor" and meta["namespace"] == NS and meta["generation"] == 1
    assert meta["uid"] and meta["resourceVersion"].isdigit()
    assert len(meta["creationTimestamp"]) == 20 and meta["creationTimestamp"].endswith("Z")
    spec = sts["spec"]
    assert spec["replicas"] == 2 and spec["serviceName"] == "executor"
    assert spec["podManagementPolicy"] == "Parallel"
    assert spec["selector"] == {"matchLabels": {"app.kubernetes.io/name": "executor"}}
    c = executor(sts)
    assert c["image"] == "tavana:test" and c["imagePullPolicy"] == "IfNotPresent"  # defaulted
    assert c["resources"] == {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}
    assert env_of(c)["MAX_MEMORY_GB"] == "0.75"
    st = sts["status"]
    assert (st["replicas"], st["readyReplicas"], st["currentReplicas"], st["updatedReplicas"]) == (2, 2, 2, 2)
    assert st["observedGeneration"] == 1 and st["updateRevision"] == st["currentRevision"]
    status, body = client.call("GET", STS.replace("executor", "nope"))
    assert_status(body, 404, "NotFound", 'statefulsets.apps "nope" not found')
    assert body["details"] == {"name": "nope", "group": "apps", "kind": "statefulsets"}


def test_strategic_merge_patch_merges_by_key(api: FakeKubeApi, client: Client) -> None:
    # A new container: appended to the merge-keyed list (the server puts it first).
    sidecar = {"name": "sidecar", "image": "busybox:1", "env": [{"name": "A", "value": "1"}]}
    status, sts = client.call("PATCH", STS, {"spec": {"template": {"spec": {"containers": [sidecar]}}}}, SMP)
    assert status == 200, sts
    names = [c["name"] for c in sts["spec"]["template"]["spec"]["containers"]]
    assert names == ["sidecar", "executor"]
    before = sts
    # Raise memory and one env var; everything else in the list and the container stays.
    patch = {"spec": {"template": {"spec": {"containers": [{
        "name": "executor",
        "resources": {"requests": {"memory": "1.5Gi"}, "limits": {"memory": "1536Mi"}},
        "env": [{"name": "MAX_MEMORY_GB", "value": "1.125"}]}]}}}}
    status, sts = client.call("PATCH", STS + "?fieldManager=tavana-scaler", patch, SMP)
    assert status == 200, sts
    c = executor(sts)
    assert c["resources"] == {"requests": {"cpu": "1", "memory": "1536Mi"}, "limits": {"memory": "1536Mi"}}
    assert [e["name"] for e in c["env"]] == ["MAX_MEMORY_GB", "RUST_LOG", "TAVANA_ROLE"]  # order kept
    assert env_of(c) == {"MAX_MEMORY_GB": "1.125", "RUST_LOG": "info", "TAVANA_ROLE": "executor"}
    assert c["image"] == "tavana:test"
    side = sts["spec"]["template"]["spec"]["containers"][0]
    assert side["name"] == "sidecar" and side["env"] == [{"name": "A", "value": "1"}]
    assert side["imagePullPolicy"] == "IfNotPresent" and side["terminationMessagePolicy"] == "File"
    assert sts["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert int(sts["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    assert sts["status"]["updateRevision"] != before["status"]["updateRevision"]
    assert api.statefulset(NS, "executor") == sts
    # The same patch again is a no-op: no new resourceVersion, generation or revision.
    status, again = client.call("PATCH", STS, patch, SMP)
    assert status == 200 and again == sts
    # "$patch: delete" removes one env var, null removes a key; apimachinery's order rule holds.
    patch = {"spec": {"template": {"spec": {"containers": [{
        "name": "executor", "resources": {"requests": {"cpu": None}},
        "env": [{"name": "TAVANA_ROLE", "value": "x"}, {"name": "MAX_MEMORY_GB", "value": "2"},
                {"name": "RUST_LOG", "$patch": "delete"}]}]}}}}
    status, sts = client.call("PATCH", STS, patch, SMP)
    assert status == 200, sts
    c = executor(sts)
    assert c["env"] == [{"name": "TAVANA_ROLE", "value": "x"}, {"name": "MAX_MEMORY_GB", "value": "2"}]
    assert c["resources"]["requests"] == {"memory": "1536Mi"}
    # Ports merge by containerPort; a non-merging list (args) is replaced.
    for ports in ([{"containerPort": 8815, "name": "flight"}], [{"containerPort": 9090, "name": "metrics"}]):
        patch = {"spec": {"template": {"spec": {"containers": [{"name": "executor", "args": ["--x"], "ports": ports}]}}}}
        status, sts = client.call("PATCH", STS, patch, SMP)
        assert status == 200, sts
    assert sorted(p["containerPort"] for p in executor(sts)["ports"]) == [8815, 9090]
    assert all(p["protocol"] == "TCP" for p in executor(sts)["ports"])
    assert executor(sts)["args"] == ["--x"]


def test_merge_patch_and_json_patch(api: FakeKubeApi, client: Client) -> None:
    # RFC 7386: lists are replaced wholesale, null deletes.
    patch = {"metadata": {"labels": {"team": "data", "app.kubernetes.io/name": None}},
             "spec": {"template": {"spec": {"containers": [{"name": "executor", "image": "tavana:2"}]}}}}
    status, sts = client.call("PATCH", STS, patch, MERGE)
    assert status == 200, sts
    assert sts["metadata"]["labels"] == {"team": "data"}
    c = executor(sts)
    assert "env" not in c and "resources" not in c and c["image"] == "tavana:2"
    # RFC 6902 with ~1 escapes, "-" append and a passing test.
    ops = [{"op": "test", "path": "/spec/replicas", "value": 2},
           {"op": "replace", "path": "/spec/replicas", "value": 4},
           {"op": "add", "path": "/spec/template/metadata/labels/example.com~1tier", "value": "b"},
           {"op": "add", "path": "/spec/template/spec/containers/0/env", "value": []},
           {"op": "add", "path": "/spec/template/spec/containers/0/env/-", "value": {"name": "K", "value": "v"}}]
    status, sts = client.call("PATCH", STS, ops, JSONP)
    assert status == 200, sts
    assert sts["spec"]["replicas"] == 4 and sts["status"]["replicas"] == 4
    assert sts["spec"]["template"]["metadata"]["labels"]["example.com/tier"] == "b"
    assert executor(sts)["env"] == [{"name": "K", "value": "v"}]
    # A failing test op: 422, nothing stored.
    rv = sts["metadata"]["resourceVersion"]
    status, body = client.call("PATCH", STS, [{"op": "test", "path": "/spec/replicas", "value": 1},
                                              {"op": "replace", "path": "/spec/replicas", "value": 0}], JSONP)
    assert_status(body, 422, "Invalid", "the server rejected our request due to an error in our request")
    assert api.statefulset(NS, "executor")["metadata"]["resourceVersion"] == rv


def test_statefulset_patch_errors(api: FakeKubeApi, client: Client) -> None:
    rv = api.statefulset(NS, "executor")["metadata"]["resourceVersion"]
    status, body = client.call("PATCH", STS, {"spec": {"replicas": 3}}, "application/apply-patch+yaml")
    assert status == 415
    assert_status(body, 415, "UnsupportedMediaType")
    assert "application/strategic-merge-patch+json" in body["message"]
    status, body = client.call("PATCH", STS, b"{not json", MERGE)
    assert_status(body, 400, "BadRequest")
    # Optimistic concurrency on PATCH: a stale resourceVersion conflicts.
    status, body = client.call("PATCH", STS, {"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 3}}, MERGE)
    assert_status(body, 409, "Conflict", 'Operation cannot be fulfilled on statefulsets.apps "executor": '
                  "the object has been modified; please apply your changes to the latest version and try again")
    status, _ = client.call("PATCH", STS, {"metadata": {"resourceVersion": rv}, "spec": {"replicas": 3}}, MERGE)
    assert status == 200
    # Validation as the apps strategy does it.
    status, body = client.call("PATCH", STS, {"spec": {"template": {"spec": {"containers": [
        {"name": "executor", "resources": {"requests": {"memory": "2Gi"}}}]}}}}, SMP)
    assert_status(body, 422, "Invalid", 'StatefulSet.apps "executor" is invalid: spec.template.spec.'
                  'containers[0].resources.requests: Invalid value: "2Gi": must be less than or equal '
                  "to memory limit of 1Gi")
    assert body["details"]["causes"][0]["field"] == "spec.template.spec.containers[0].resources.requests"
    status, body = client.call("PATCH", STS, {"spec": {"serviceName": "other"}}, MERGE)
    assert_status(body, 422, "Invalid")
    assert "spec: Forbidden: updates to statefulset spec for fields other than 'replicas'" in body["message"]
    status, body = client.call("PATCH", STS, {"spec": {"replicas": "3"}}, MERGE)
    assert_status(body, 422, "Invalid")
    assert "cannot unmarshal string into Go struct field StatefulSetSpec.spec.replicas of type int32" in body["message"]
    # dryRun=All answers but persists nothing.
    status, body = client.call("PATCH", STS + "?dryRun=All", {"spec": {"replicas": 7}}, MERGE)
    assert status == 200 and body["spec"]["replicas"] == 7
    assert api.statefulset(NS, "executor")["spec"]["replicas"] == 3
    # Unknown fields are dropped with a warning, as the real decoder does.
    status, sts = client.call("PATCH", STS, {"spec": {"template": {"spec": {"containers": [
        {"name": "executor", "resource": {"limits": {"memory": "9Gi"}}}]}}}}, SMP)
    assert status == 200 and "resource" not in executor(sts)
    assert 'unknown field \\"spec.template.spec.containers[0].resource\\"' in client.last_headers["Warning"]


def test_scale_subresource(api: FakeKubeApi, client: Client) -> None:
    status, scale = client.call("GET", SCALE)
    assert status == 200
    sts = api.statefulset(NS, "executor")
    assert scale == {"kind": "Scale", "apiVersion": "autoscaling/v1",
                     "metadata": {k: sts["metadata"][k] for k in ("name", "namespace", "uid",
                                                                   "resourceVersion", "creationTimestamp")},
                     "spec": {"replicas": 2},
                     "status": {"replicas": 2, "selector": "app.kubernetes.io/name=executor"}}
    stale = scale["metadata"]["resourceVersion"]
    status, scale = client.call("PATCH", SCALE + "?fieldManager=tavana", {"spec": {"replicas": 5}}, MERGE)
    assert status == 200 and scale["spec"]["replicas"] == 5 and scale["status"]["replicas"] == 5
    sts = api.statefulset(NS, "executor")
    assert sts["spec"]["replicas"] == 5 and sts["metadata"]["generation"] == 2
    assert sts["metadata"]["resourceVersion"] == scale["metadata"]["resourceVersion"] != stale
    status, scale = client.call("PATCH", SCALE, {"spec": {"replicas": 4}}, SMP)
    assert status == 200 and scale["spec"]["replicas"] == 4
    # PUT with a stale resourceVersion conflicts; with the current one it applies.
    put = {"apiVersion": "autoscaling/v1", "kind": "Scale",
           "metadata": {"name": "executor", "namespace": NS, "resourceVersion": stale},
           "spec": {"replicas": 1}}
    status, body = client.call("PUT", SCALE, put)
    assert_status(body, 409, "Conflict")
    assert body["message"].startswith('Operation cannot be fulfilled on statefulsets.apps "executor"')
    put["metadata"]["resourceVersion"] = scale["metadata"]["resourceVersion"]
    status, scale = client.call("PUT", SCALE, put)
    assert status == 200 and scale["spec"]["replicas"] == 1
    assert api.statefulset(NS, "executor")["spec"]["replicas"] == 1
    for bad in (-1, "2", 1.5):
        status, body = client.call("PATCH", SCALE, {"spec": {"replicas": bad}}, MERGE)
        assert_status(body, 422, "Invalid")
    assert body["message"].startswith(' "" is invalid: patch: Invalid value:')
    status, body = client.call("PATCH", SCALE, {"spec": {"replicas": -1}}, MERGE)
    assert body["message"] == ('Scale.autoscaling "executor" is invalid: spec.replicas: Invalid value: -1: '
                               "must be greater than or equal to 0")
    assert api.statefulset(NS, "executor")["spec"]["replicas"] == 1
    # As in Go, an omitted spec.replicas is 0 (kube-rs omits ScaleSpec.replicas when None).
    status, scale = client.call("PUT", SCALE, {"metadata": {"name": "executor"}, "spec": {}})
    assert status == 200 and scale["spec"]["replicas"] == 0
    assert "readyReplicas" not in api.statefulset(NS, "executor")["status"]  # omitempty at 0


def test_statefulset_put(api: FakeKubeApi, client: Client) -> None:
    sts = api.statefulset(NS, "executor")
    sts["spec"]["replicas"] = 3
    sts["status"]["replicas"] = 99  # status is ignored on the main resource
    stale = {**sts, "metadata": {**sts["metadata"], "resourceVersion": "1"}}
    status, body = client.call("PUT", STS, stale)
    assert_status(body, 409, "Conflict")
    status, body = client.call("PUT", STS, {**sts, "metadata": {**sts["metadata"], "name": "other"}})
    assert_status(body, 400, "BadRequest",
                  "the name of the object (other) does not match the name on the URL (executor)")
    del sts["metadata"]["resourceVersion"]  # StatefulSets allow unconditional updates
    status, body = client.call("PUT", STS, sts)
    assert status == 200, body
    assert body["spec"]["replicas"] == 3 and body["status"]["replicas"] == 3
    assert body["metadata"]["generation"] == 2


def test_concurrent_creates_have_one_winner(api: FakeKubeApi) -> None:
    lease = {"metadata": {"name": "race"}, "spec": {"holderIdentity": "gw"}}
    results: list[int] = []

    def create() -> None:
        c = Client(api)
        results.append(c.call("POST", LEASES, lease)[0])
        c.close()

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201] + [409] * 7


def test_lease_lifecycle(api: FakeKubeApi, client: Client) -> None:
    spec = {"holderIdentity": "gw-0", "leaseDurationSeconds": 15,
            "acquireTime": "2026-11-25T01:02:03.123456Z", "renewTime": "2026-11-25T01:02:03.123456Z",
            "leaseTransitions": 0}
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "tavana-scaler", "namespace": NS}, "spec": spec}
    status, created = client.call("POST", LEASES + "?", lease)
    assert status == 201, created
    assert created["spec"] == spec and created["metadata"]["uid"]
    assert (created["kind"], created["apiVersion"]) == ("Lease", "coordination.k8s.io/v1")
    assert created == api.lease(NS, "tavana-scaler")
    status, body = client.call("POST", LEASES, lease)
    assert_status(body, 409, "AlreadyExists", 'leases.coordination.k8s.io "tavana-scaler" already exists')
    assert body["details"] == {"name": "tavana-scaler", "group": "coordination.k8s.io", "kind": "leases"}
    status, body = client.call("POST", LEASES, {**lease, "metadata": {"name": "x", "namespace": "other"}})
    assert_status(body, 400, "BadRequest")
    # MicroTime must carry exactly six fractional digits (Go's RFC3339Micro).
    bad_time = {**lease, "metadata": {"name": "y"}, "spec": {**spec, "renewTime": "2026-11-25T01:02:03Z"}}
    status, body = client.call("POST", LEASES, bad_time)
    assert_status(body, 400, "BadRequest")
    # Replace: resourceVersion is required, must be current; then it moves on.
    path = LEASES + "/tavana-scaler"
    taken = {**created, "spec": {**spec, "holderIdentity": "gw-1", "leaseTransitions": 1}}
    no_rv = {**taken, "metadata": {k: v for k, v in created["metadata"].items() if k != "resourceVersion"}}
    status, body = client.call("PUT", path, no_rv)
    assert_status(body, 422, "Invalid", 'Lease.coordination.k8s.io "tavana-scaler" is invalid: '
                  "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update")
    stale = {**taken, "metadata": {**created["metadata"], "resourceVersion": "1"}}
    status, body = client.call("PUT", path, stale)
    assert_status(body, 409, "Conflict", 'Operation cannot be fulfilled on leases.coordination.k8s.io '
                  '"tavana-scaler": the object has been modified; please apply your changes to the '
                  "latest version and try again")
    status, replaced = client.call("PUT", path, taken)
    assert status == 200, replaced
    assert replaced["spec"]["holderIdentity"] == "gw-1" and replaced["spec"]["leaseTransitions"] == 1
    assert int(replaced["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert replaced["metadata"]["uid"] == created["metadata"]["uid"]
    status, body = client.call("PUT", path, taken)  # the old resourceVersion is stale now
    assert_status(body, 409, "Conflict")
    status, got = client.call("GET", path)
    assert status == 200 and got == replaced
    status, body = client.call("DELETE", path)
    assert status == 200 and body["status"] == "Success" and body["details"]["name"] == "tavana-scaler"
    status, body = client.call("GET", path)
    assert_status(body, 404, "NotFound", 'leases.coordination.k8s.io "tavana-scaler" not found')
    status, body = client.call("PUT", path, taken)
    assert_status(body, 404, "NotFound")
    assert api.set_lease(NS, "pre", {"holderIdentity": "gw-9"})["metadata"]["resourceVersion"]
    status, got = client.call("GET", LEASES + "/pre")
    assert status == 200 and got["spec"] == {"holderIdentity": "gw-9"}


def test_failure_injection_and_request_log(api: FakeKubeApi, client: Client) -> None:
    api.fail("PATCH", r"/statefulsets/[^/]+/scale$", 403, times=1)
    status, body = client.call("PATCH", SCALE + "?fieldManager=tavana", {"spec": {"replicas": 3}}, MERGE)
    assert_status(body, 403, "Forbidden",
                  'statefulsets.apps "executor" is forbidden: User "system:serviceaccount:default:tavana" '
                  'cannot patch resource "statefulsets/scale" in API group "apps" in the namespace "tavana"')
    assert api.statefulset(NS, "executor")["spec"]["replicas"] == 2
    status, _ = client.call("GET", SCALE)  # other methods are not affected
    assert status == 200
    status, scale = client.call("PATCH", SCALE + "?fieldManager=tavana", {"spec": {"replicas": 3}}, MERGE)
    assert status == 200 and scale["spec"]["replicas"] == 3  # times=1: only the first one failed
    api.fail(None, r"/leases", 503)
    for _ in range(2):
        status, body = client.call("GET", LEASES + "/any")
        assert_status(body, 503, "ServiceUnavailable")
    api.clear_failures()
    status, _ = client.call("GET", LEASES + "/any")
    assert status == 404

    patches = api.requests_matching(method="PATCH", path_contains="/scale")
    assert [r["status"] for r in patches] == [403, 200]
    last = patches[-1]
    assert last["path"] == SCALE and last["query"] == {"fieldManager": "tavana"}
    assert last["content_type"] == MERGE and last["body"] == {"spec": {"replicas": 3}}
    assert last["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert last["response"]["spec"]["replicas"] == 3
    assert [r["status"] for r in api.requests] == [403, 200, 200, 503, 503, 404]
    api.clear_requests()
    assert api.requests == []


def test_kubeconfig_and_stop(tmp_path) -> None:
    api = FakeKubeApi(token="s3cret")
    path = api.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)
    config = json.loads(path.read_text())
    assert config["current-context"] == "kube-fake"
    assert config["clusters"][0]["cluster"]["server"] == api.url
    assert config["users"][0]["user"]["token"] == "s3cret"
    assert config["contexts"][0]["context"] == {"cluster": "kube-fake", "user": "kube-fake", "namespace": NS}
    client = Client(api)
    status, version = client.call("GET", "/version", token="s3cret")
    assert status == 200 and version["major"] == "1"
    api.stop()
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        client.call("GET", "/version", token="s3cret")
    api.stop()  # idempotent
