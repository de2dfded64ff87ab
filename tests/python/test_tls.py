"""TLS on every hop with rustls: an ADBC client to the gateway (grpc+tls, verifying a
certificate made for the test), the gateway to its executor (https://, verified with
--executor-ca), the pg-adapter to the gateway (--gateway-ca), and every process's admin
endpoint (--admin-tls-cert). Plaintext to a TLS listener fails."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tavana_harness import make_test_certificate, start_cluster

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI missing")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate it signed for localhost/127.0.0.1."""
    return make_test_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory, data, certificate):
    ca, cert, key = certificate
    tls = ("--tls-enabled", "--tls-cert", str(cert), "--tls-key", str(key))
    cluster = start_cluster(
        tmp_path_factory.mktemp("tls-cluster"),
        data["data_dir"],
        data,
        extra_executor_args=tls,
        extra_gateway_args=(*tls, "--executor-ca", str(ca)),
        executor_scheme="https",
    )
    try:
        yield cluster
    finally:
        cluster.retire()


def test_adbc_over_tls_through_a_tls_executor(tls_cluster, certificate):
    import adbc_driver_flightsql.dbapi as flightsql

    conn = flightsql.connect(
        f"grpc+tls://{tls_cluster.gateway.listen}",
        db_kwargs={
            "username": tls_cluster.user,
            "password": tls_cluster.password,
            "adbc.flight.sql.client_option.tls_root_certs": certificate[0].read_text(),
        },
        autocommit=True,
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 40 + 2 AS answer, count(*) AS n FROM range(1000)")
            assert cur.fetchall() == [(42, 1000)]
    finally:
        conn.close()


def _select_one(uri: str, cluster, **db_kwargs) -> None:
    import adbc_driver_flightsql.dbapi as flightsql

    conn = flightsql.connect(
        uri,
        db_kwargs={"username": cluster.user, "password": cluster.password, **db_kwargs},
        autocommit=True,
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    finally:
        conn.close()


def test_plaintext_client_cannot_talk_to_a_tls_gateway(tls_cluster):
    import adbc_driver_manager

    with pytest.raises(adbc_driver_manager.Error):
        _select_one(f"grpc://{tls_cluster.gateway.listen}", tls_cluster)


def test_unverified_certificate_is_refused(tls_cluster):
    """Without the test CA the client must not trust the gateway's certificate."""
    import adbc_driver_manager

    with pytest.raises(adbc_driver_manager.Error):
        _select_one(f"grpc+tls://{tls_cluster.gateway.listen}", tls_cluster)


def test_pg_adapter_reaches_a_tls_gateway(tls_cluster, certificate, tmp_path):
    import psycopg

    from pg.conftest import start_pg_adapter

    adapter = start_pg_adapter(
        tls_cluster, tmp_path / "pg",
        f"--gateway-addr=https://localhost:{tls_cluster.gateway.listen.rsplit(':', 1)[1]}",
        "--gateway-ca", str(certificate[0]),
    )
    try:
        with psycopg.connect(adapter.dsn(), autocommit=True) as conn:
            assert conn.execute("SELECT 40 + 2").fetchone() == (42,)
    finally:
        adapter.process.stop()
        adapter.process.retired = True


@pytest.mark.parametrize("role", ["executor", "gateway", "pg-adapter"])
def test_admin_endpoint_serves_https_when_given_a_certificate(certificate, tmp_path, role):
    """--admin-tls-cert/--admin-tls-key: /healthz and /metrics over HTTPS, verified against the
    CA; a plaintext request to that port gets no answer."""
    import http.client
    import json
    import ssl
    import urllib.error
    import urllib.request

    from tavana_harness import extension_dir, tavana_bin, wait_for

    ca, cert, key = certificate
    addr_file = tmp_path / "addr.json"
    role_args = {
        "executor": ["--grpc-port", "0", "--insecure-no-internal-auth", "--extension-dir", str(extension_dir())],
        "gateway": ["--flight-sql-port", "0", "--worker-addr", "http://127.0.0.1:9", "--users", "a:b",
                    "--internal-token", "t"],
        "pg-adapter": ["--pg-port", "0", "--gateway-addr", "http://127.0.0.1:9", "--users", "a:b"],
    }[role]
    proc = subprocess.Popen(
        [str(tavana_bin()), role, "--host", "127.0.0.1", "--admin-port", "0", "--addr-file", str(addr_file),
         "--admin-tls-cert", str(cert), "--admin-tls-key", str(key), *role_args],
        stdout=subprocess.DEVNULL, stderr=(tmp_path / "log").open("w"),
    )
    try:
        wait_for(addr_file.exists, "the address file", timeout=30)
        admin = json.loads(addr_file.read_text())["admin"]
        context = ssl.create_default_context(cafile=str(ca))
        with urllib.request.urlopen(f"https://{admin}/healthz", context=context, timeout=5) as resp:
            assert resp.status == 200
        with urllib.request.urlopen(f"https://{admin}/metrics", context=context, timeout=5) as resp:
            assert b"# TYPE tavana_" in resp.read()
        with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
            urllib.request.urlopen(f"http://{admin}/healthz", timeout=5).read()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
