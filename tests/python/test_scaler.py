"""The gateway's executor scaler, against a Kubernetes API server on loopback.

No real kube-apiserver can run on this machine, so the API is `kube_fake.FakeKubeApi`: the
documented behaviour of the endpoints the scaler uses (Leases with optimistic concurrency,
the StatefulSet `scale` subresource, strategic merge patches of the pod template), with
bearer-token authentication and error Status objects. Everything else is real: executors and
gateways are `tavana` processes, the scaler is the gateway's kube-rs client reading a
kubeconfig, the load is real queries from ADBC.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import adbc_driver_manager
import pytest

from kube_fake import FakeKubeApi
from tavana_harness import (
    Process,
    counted,
    make_test_certificate,
    open_paused_stream,
    tavana_bin,
    wait_for,
    wait_running_queries,
)

NAMESPACE = "data"
STATEFULSET = "tv-executor"
LEASE = "tv-scaler"
# Builds one list of 30M BIGINTs: more than a 0.1 GB DuckDB may hold (and lists do not spill).
OUT_OF_MEMORY = "SELECT length(list(i)) AS n FROM range(30000000) t(i)"


def scaler_flags(identity: str, *extra: str) -> list[str]:
    return [
        "--scaler", "kubernetes",
        "--scaler-namespace", NAMESPACE,
        "--scaler-statefulset", STATEFULSET,
        "--scaler-lease", LEASE,
        "--scaler-identity", identity,
        "--scaler-interval-secs", "1",
        "--scaler-lease-secs", "3",
        *extra,
    ]


@pytest.fixture
def kube(tmp_path):
    with FakeKubeApi(token="scaler-test-token") as api:
        api.add_statefulset(
            NAMESPACE,
            STATEFULSET,
            replicas=1,
            memory="1Gi",
            env={"MAX_MEMORY_GB": "0.75", "TAVANA_MAX_CONCURRENT_QUERIES": "16"},
        )
        kubeconfig = tmp_path / "kubeconfig"
        api.write_kubeconfig(kubeconfig, namespace=NAMESPACE)
        api.kubeconfig = kubeconfig
        yield api


def holder(kube) -> str | None:
    lease = kube.lease(NAMESPACE, LEASE)
    return (lease or {}).get("spec", {}).get("holderIdentity") or None


def replicas(kube) -> int:
    return kube.statefulset(NAMESPACE, STATEFULSET)["spec"]["replicas"]


def executor_container(kube) -> dict:
    pod = kube.statefulset(NAMESPACE, STATEFULSET)["spec"]["template"]["spec"]
    return next(c for c in pod["containers"] if c["name"] == "executor")


def changes(gateway: Process, resource: str, outcome: str) -> float:
    wanted = [f'resource="{resource}"', f'outcome="{outcome}"']
    total = 0.0
    for line in gateway.metrics().splitlines():
        if line.startswith("tavana_gateway_scaler_changes_total{") and all(w in line for w in wanted):
            total += float(line.rsplit(" ", 1)[1])
    return total


def scaling_cluster(cluster_factory, kube, *flags: str, **options):
    """A cluster whose gateway (Lease identity gw-a) runs the scaler against `kube` with
    `flags`, returned once it leads."""
    cluster = cluster_factory(
        extra_gateway_args=tuple(scaler_flags("gw-a", *flags)),
        gateway_env={"KUBECONFIG": str(kube.kubeconfig)},
        **options,
    )
    wait_for(lambda: cluster.gateway.metric("tavana_gateway_scaler_leader") == 1, "the gateway leads", 20)
    return cluster


def fail_out_of_memory(conn) -> None:
    """Runs a query the executor's memory limit cannot hold; it fails with Out of Memory."""
    with pytest.raises(adbc_driver_manager.Error, match="Out of Memory"):
        with conn.cursor() as cur:
            cur.execute(OUT_OF_MEMORY)
            cur.fetchall()


def assert_serves(cluster) -> None:
    """The gateway answers a query."""
    conn = cluster.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 6 * 7 AS answer")
            assert cur.fetchall() == [(42,)]
    finally:
        conn.close()


def wait_evaluated(gateway: Process) -> None:
    """Waits until the leading gateway has evaluated the executor's load once (its first
    reading of an executor is the baseline of that executor's counters)."""
    wait_for(
        lambda: (gateway.metric("tavana_gateway_scaler_evaluations_total") or 0) >= 1
        and gateway.metric("tavana_gateway_scaler_executors_reporting") == 1,
        "the scaler read the executor's load once",
        20,
    )


def start_gateway_like(cluster, identity: str, workdir: Path) -> Process:
    """A second gateway over the same executors, differing only in its Lease identity."""
    args = list(cluster.gateway.args)
    args[args.index("--scaler-identity") + 1] = identity
    workdir.mkdir(parents=True, exist_ok=True)
    gateway = Process(role="gateway", args=args, workdir=workdir, env=dict(cluster.gateway.env))
    gateway.start()
    gateway.wait_ready()
    return gateway


def test_one_gateway_leads_and_another_takes_over(cluster_factory, kube, tmp_path):
    cluster = cluster_factory(
        extra_gateway_args=tuple(scaler_flags("gw-a", "--scaler-max-replicas", "1")),
        gateway_env={"KUBECONFIG": str(kube.kubeconfig)},
    )
    first = cluster.gateway
    wait_for(lambda: holder(kube) == "gw-a", "gw-a holds the lease", 20)
    second = start_gateway_like(cluster, "gw-b", tmp_path / "gw-b")
    # While gw-a renews, gw-b never takes the Lease (several of its lease periods).
    for _ in range(12):
        assert holder(kube) == "gw-a"
        assert second.metric("tavana_gateway_scaler_leader") == 0
        time.sleep(0.5)
    assert first.metric("tavana_gateway_scaler_leader") == 1
    renewals = kube.requests_matching(method="PUT", path_contains=f"/leases/{LEASE}")
    assert len(renewals) >= 3, "the holder renews its Lease"
    transitions = kube.lease(NAMESPACE, LEASE)["spec"].get("leaseTransitions", 0)

    # A gateway that stops releases the Lease: the other takes over without waiting it out.
    assert first.stop(signal.SIGTERM) == 0
    lease = kube.lease(NAMESPACE, LEASE)
    assert lease["spec"].get("holderIdentity") in (None, "", "gw-b"), lease
    wait_for(lambda: holder(kube) == "gw-b", "gw-b takes over the released lease", 10)
    wait_for(lambda: second.metric("tavana_gateway_scaler_leader") == 1, "gw-b reports leading", 10)
    assert kube.lease(NAMESPACE, LEASE)["spec"]["leaseTransitions"] > transitions

    # A leader that dies without releasing is replaced once its Lease expires.
    third = start_gateway_like(cluster, "gw-c", tmp_path / "gw-c")
    second.kill()
    wait_for(lambda: holder(kube) == "gw-c", "gw-c takes over the expired lease", 20)
    wait_for(lambda: third.metric("tavana_gateway_scaler_leader") == 1, "gw-c reports leading", 10)
    third.stop()
    for process in (first, second, third):
        process.retired = True


def test_executors_scale_out_with_load_and_back_in_after_the_delay(cluster_factory, kube):
    cluster = scaling_cluster(
        cluster_factory,
        kube,
        "--scaler-min-replicas", "1",
        "--scaler-max-replicas", "3",
        "--scaler-queries-per-executor", "1",
        "--scaler-scale-down-delay-secs", "4",
    )
    gateway = cluster.gateway
    # Idle at the minimum: nothing to change.
    time.sleep(2)
    assert replicas(kube) == 1
    assert kube.requests_matching(method="PATCH", path_contains="/scale") == []

    opened = [open_paused_stream(cluster), open_paused_stream(cluster)]
    try:
        wait_running_queries(cluster.executor, lambda v: v == 2, "2 while streaming")
        wait_for(lambda: replicas(kube) == 2, "two running queries ask for two executors", 15)
        assert gateway.metric("tavana_gateway_scaler_demand_queries") == 2
        assert gateway.metric("tavana_gateway_scaler_desired_executors") == 2
        patch = kube.requests_matching(method="PATCH", path_contains="/scale")[-1]
        assert patch["content_type"].startswith("application/merge-patch+json")
        assert patch["body"] == {"spec": {"replicas": 2}}
        assert patch["path"] == f"/apis/apps/v1/namespaces/{NAMESPACE}/statefulsets/{STATEFULSET}/scale"
        # Never above the maximum, whatever the load.
        opened.append(open_paused_stream(cluster))
        opened.append(open_paused_stream(cluster))
        wait_for(lambda: replicas(kube) == 3, "four queries, capped at three executors", 15)
    finally:
        for stream in opened:
            stream.close()
    # A fall is applied only once it has lasted the whole delay (4 s; three was wanted until
    # the streams closed just now).
    time.sleep(1.5)
    assert replicas(kube) == 3, "scaled in before the scale-down delay"
    wait_running_queries(cluster.executor, lambda v: v == 0, "0 after the clients closed")
    wait_for(lambda: replicas(kube) == 1, "back to the minimum after the delay", 20)
    assert changes(gateway, "replicas", "applied") == 3
    assert changes(gateway, "replicas", "failed") == 0
    assert "scaled executors" in gateway.log_path.read_text()


def test_queries_waiting_in_the_queue_count_as_demand(cluster_factory, kube):
    """The gateway admits one query at a time here: a second waits in its queue, which the
    executors do not see, and still asks for a second executor."""
    import threading

    cluster = scaling_cluster(
        cluster_factory,
        kube,
        "--scaler-max-replicas", "3",
        "--scaler-queries-per-executor", "1",
        "--max-running-queries", "1",
        "--queue-timeout-secs", "60",
    )
    gateway = cluster.gateway
    held = open_paused_stream(cluster)
    answered = {}

    def queued() -> None:
        conn = cluster.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 8 AS x")
                answered["rows"] = cur.fetchall()
        finally:
            conn.close()

    waiter = threading.Thread(target=queued, daemon=True)
    try:
        waiter.start()
        wait_for(lambda: gateway.metric("tavana_gateway_queued_queries") == 1, "one query queued", 10)
        assert cluster.executor.metric("tavana_executor_running_queries") == 1
        wait_for(lambda: replicas(kube) == 2, "one running plus one queued ask for two executors", 15)
        assert gateway.metric("tavana_gateway_scaler_demand_queries") == 2
    finally:
        held.close()
    waiter.join(30)
    assert answered.get("rows") == [(8,)]


def test_out_of_memory_failures_raise_executor_memory(cluster_factory, kube):
    cluster = scaling_cluster(
        cluster_factory,
        kube,
        "--scaler-replicas", "false",
        "--scaler-memory-max", "2Gi",
        "--scaler-memory-cooldown-secs", "3600",
        max_memory_gb="0.1",
    )
    gateway = cluster.gateway
    wait_evaluated(gateway)  # the executors' counters are now the baseline
    before = kube.statefulset(NAMESPACE, STATEFULSET)

    conn = cluster.connect()
    try:
        fail_out_of_memory(conn)
        wait_for(
            lambda: executor_container(kube)["resources"]["limits"]["memory"] == "1536Mi",
            "memory limit raised by one step (1Gi x 1.5)",
            15,
        )
        container = executor_container(kube)
        assert container["resources"]["requests"]["memory"] == "1536Mi"
        env = {e["name"]: e.get("value") for e in container["env"]}
        # DuckDB's share follows the limit (0.75 x 1.5 GiB, two decimals down); the rest stays.
        assert env == {"MAX_MEMORY_GB": "1.12", "TAVANA_MAX_CONCURRENT_QUERIES": "16"}
        assert container["resources"]["requests"]["cpu"] == "1"
        after = kube.statefulset(NAMESPACE, STATEFULSET)
        assert after["spec"]["replicas"] == before["spec"]["replicas"], "replicas are not the scaler's here"
        assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1
        patch = kube.requests_matching(method="PATCH", path_contains=f"/statefulsets/{STATEFULSET}")[-1]
        assert patch["content_type"].startswith("application/strategic-merge-patch+json")
        assert changes(gateway, "memory", "applied") == 1

        # A second failure inside the cooldown changes nothing: the restart must finish first.
        fail_out_of_memory(conn)
        wait_for(
            lambda: "raised recently, waiting" in gateway.log_path.read_text(),
            "the scaler notes the failure and waits",
            15,
        )
        assert executor_container(kube)["resources"]["limits"]["memory"] == "1536Mi"
        assert changes(gateway, "memory", "applied") == 1
        assert kube.requests_matching(method="PATCH", path_contains="/scale") == []
        # Both failures are counted as such by the executor (they fail before any row).
        assert counted(cluster.executor, "tavana_executor_queries_total", "error") == 2
    finally:
        conn.close()


def test_memory_at_its_maximum_is_said_and_left_alone(cluster_factory, kube):
    cluster = scaling_cluster(
        cluster_factory,
        kube,
        "--scaler-replicas", "false",
        "--scaler-memory-max", "1Gi",
        max_memory_gb="0.1",
    )
    gateway = cluster.gateway
    wait_evaluated(gateway)  # the baseline
    conn = cluster.connect()
    try:
        fail_out_of_memory(conn)
    finally:
        conn.close()
    wait_for(
        lambda: "executor memory is at its maximum" in gateway.log_path.read_text(),
        "the scaler says it cannot raise memory further",
        15,
    )
    assert executor_container(kube)["resources"]["limits"]["memory"] == "1Gi"
    assert kube.requests_matching(method="PATCH") == []
    assert changes(gateway, "memory", "applied") == 0


def test_kubernetes_refusal_is_counted_and_queries_still_run(cluster_factory, kube):
    kube.fail("PATCH", r"/scale$", 403, reason="Forbidden")
    cluster = scaling_cluster(
        cluster_factory,
        kube,
        "--scaler-max-replicas", "2",
        "--scaler-queries-per-executor", "1",
    )
    gateway = cluster.gateway
    opened = [open_paused_stream(cluster), open_paused_stream(cluster)]
    try:
        wait_for(
            lambda: changes(gateway, "replicas", "failed") >= 2,
            "refused scale changes are counted (and retried)",
            15,
        )
        text = gateway.metrics()
        assert 'tavana_gateway_scaler_api_errors_total{operation="scale"}' in text
        assert replicas(kube) == 1
        log = gateway.log_path.read_text()
        assert "executor scaler call failed" in log and "forbidden" in log.lower()
        # The gateway serves on.
        assert_serves(cluster)
    finally:
        for stream in opened:
            stream.close()
    # Once the API accepts, the pending change goes through.
    kube.clear_failures()
    opened = [open_paused_stream(cluster), open_paused_stream(cluster)]
    try:
        wait_for(lambda: replicas(kube) == 2, "the change applies once allowed", 15)
    finally:
        for stream in opened:
            stream.close()


def _run_gateway(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(tavana_bin()), "gateway", "--host", "127.0.0.1", "--flight-sql-port", "0",
         "--admin-port", "0", "--worker-addr", "http://127.0.0.1:1", "--users", "u:p", *args],
        capture_output=True, text=True, timeout=30, env=env, cwd=tmp_path,
    )


def test_a_scaler_that_cannot_work_stops_the_gateway_at_start(tmp_path, kube):
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    missing = _run_gateway(tmp_path, "--scaler", "kubernetes", env=base)
    assert missing.returncode != 0
    assert "TAVANA_SCALER_STATEFULSET" in missing.stderr + missing.stdout

    # No in-cluster service account and no KUBECONFIG: said at start, not discovered later.
    nowhere = _run_gateway(tmp_path, "--scaler", "kubernetes", "--scaler-statefulset", "x", env=base)
    assert nowhere.returncode != 0
    assert "Kubernetes API" in nowhere.stderr + nowhere.stdout

    bad_memory = _run_gateway(
        tmp_path, *scaler_flags("gw"), "--scaler-memory-max", "lots",
        env={**base, "KUBECONFIG": str(kube.kubeconfig)},
    )
    assert bad_memory.returncode != 0
    assert '"lots" is not a memory quantity' in bad_memory.stderr + bad_memory.stdout


def test_a_leader_whose_api_server_hangs_stops_acting(cluster_factory, kube):
    """Every call is bounded by a third of the Lease: a leader that cannot renew steps down
    before another gateway may take over, instead of acting on a Lease it no longer holds."""
    cluster = scaling_cluster(cluster_factory, kube, "--scaler-max-replicas", "1")
    gateway = cluster.gateway
    kube.stall("*", r"/leases/", 30)
    wait_for(
        lambda: gateway.metric("tavana_gateway_scaler_leader") == 0,
        "the leader steps down while its renewals hang",
        15,
    )
    text = gateway.metrics()
    assert 'tavana_gateway_scaler_api_errors_total{operation="lease"}' in text
    assert "cannot read or renew the scaler lease" in gateway.log_path.read_text()
    # The gateway keeps serving meanwhile.
    assert_serves(cluster)
    kube.clear_failures()
    wait_for(lambda: gateway.metric("tavana_gateway_scaler_leader") == 1, "it leads again", 20)


def test_the_scaler_speaks_https_and_verifies_the_api_server(cluster_factory, tmp_path):
    """As in a cluster: the API server is HTTPS and the kubeconfig (the pod's service-account
    CA, in-cluster) says which CA vouches for it. Without that CA the scaler refuses to talk."""
    tls = make_test_certificate(tmp_path)
    with FakeKubeApi(token="scaler-test-token", tls=tls) as api:
        api.add_statefulset(NAMESPACE, STATEFULSET, replicas=1)
        trusted = api.write_kubeconfig(tmp_path / "kubeconfig", namespace=NAMESPACE)
        untrusted = api.write_kubeconfig(tmp_path / "kubeconfig-no-ca", namespace=NAMESPACE, with_ca=False)
        cluster = cluster_factory(
            extra_gateway_args=tuple(scaler_flags("gw-a", "--scaler-max-replicas", "1")),
            gateway_env={"KUBECONFIG": str(trusted)},
        )
        wait_for(lambda: holder(api) == "gw-a", "gw-a holds the lease over HTTPS", 20)
        assert cluster.gateway.metric("tavana_gateway_scaler_leader") == 1

        doubter = Process(
            role="gateway",
            args=[a if a != "gw-a" else "gw-b" for a in cluster.gateway.args],
            workdir=tmp_path / "gw-b",
            env={**cluster.gateway.env, "KUBECONFIG": str(untrusted)},
        )
        doubter.workdir.mkdir()
        doubter.start()
        doubter.wait_ready()
        wait_for(
            lambda: "tavana_gateway_scaler_api_errors_total{operation=\"lease\"}" in doubter.metrics(),
            "the unverified API server is refused",
            20,
        )
        assert doubter.metric("tavana_gateway_scaler_leader") == 0
        assert "cannot read or renew the scaler lease" in doubter.log_path.read_text()
        doubter.stop()
        cluster.gateway.stop()
        doubter.retired = cluster.gateway.retired = True
