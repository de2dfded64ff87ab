"""A renewed TLS certificate is served without a restart: cert-manager (or an operator) rewrites
the certificate and key files, and every TLS listener (the gateway's Flight SQL port and the
pg-adapter's PostgreSQL port here; executors and admin endpoints share the code) hands the new certificate to new
connections within about a second. Connections already open go on. Files that do not read
(half written, a key that does not match) leave the previous certificate in service.

The CA bundles the clients verify with (the gateway's --executor-ca, the pg-adapter's
--gateway-ca) are read again in the same way: after a CA rotation, a peer that restarts with a
certificate from the new CA is trusted by the processes that kept running."""

from __future__ import annotations

import hashlib
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from pg.conftest import private_pg_adapter
from tavana_harness import make_test_certificate, restart_executor, restart_gateway, tavana_bin

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI missing")


def _renewed_certificate(directory: Path, ca: Path) -> tuple[Path, Path]:
    """A new key and certificate for localhost, signed by the same CA (as a renewal is)."""
    directory.mkdir()
    key, csr, cert = directory / "key.pem", directory / "server.csr", directory / "cert.pem"
    ext = directory / "server.ext"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    for args in (
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
         "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca.parent / "ca.key"),
         "-CAcreateserial", "-days", "2", "-out", str(cert), "-extfile", str(ext)],
    ):
        subprocess.run(["openssl", *args], check=True, capture_output=True)
    return cert, key


def _fingerprint(pem: Path) -> str:
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem.read_text())).hexdigest()


def _served(address: str, ca: Path) -> str:
    """The fingerprint of the certificate a TLS listener serves (verified against the CA)."""
    host, port = address.rsplit(":", 1)
    context = ssl.create_default_context(cafile=str(ca))
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def _served_to_postgres_clients(address: str) -> str:
    """The same for a PostgreSQL port, after its SSLRequest (openssl's -starttls postgres)."""
    shown = subprocess.run(
        ["openssl", "s_client", "-starttls", "postgres", "-connect", address],
        input="", capture_output=True, text=True, timeout=30,
    ).stdout
    begin = shown.index("-----BEGIN CERTIFICATE-----")
    end = shown.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(shown[begin:end])).hexdigest()


def _replace(source: Path, target: Path) -> None:
    """Writes `target` whole at once, as Kubernetes swaps a mounted Secret's files."""
    staged = target.with_suffix(".new")
    shutil.copyfile(source, staged)
    staged.replace(target)


def test_a_renewed_certificate_serves_new_connections_without_a_restart(cluster_factory, tmp_path):
    ca, first_cert, first_key = make_test_certificate(tmp_path)
    second_cert, second_key = _renewed_certificate(tmp_path / "renewed", ca)
    live = tmp_path / "live"
    live.mkdir()
    cert, key = live / "tls.crt", live / "tls.key"
    _replace(first_cert, cert)
    _replace(first_key, key)
    # (The admin endpoints read their certificate the same way; the harness polls them over
    # plain HTTP, so they stay plain here.)
    tls = ("--tls-enabled", "--tls-cert", str(cert), "--tls-key", str(key))
    cluster = cluster_factory(extra_gateway_args=tls)
    gateway = cluster.gateway.listen
    with private_pg_adapter(
        cluster, tmp_path / "pg", *tls,
        f"--gateway-addr=https://localhost:{gateway.rsplit(':', 1)[1]}", "--gateway-ca", str(ca),
    ) as adapter:
        postgres = f"127.0.0.1:{adapter.port}"
        first, second = _fingerprint(first_cert), _fingerprint(second_cert)
        assert _served(gateway, ca) == first
        assert _served_to_postgres_clients(postgres) == first
        dsn = adapter.dsn(sslmode="verify-full", sslrootcert=ca, host="localhost")
        open_before = psycopg.connect(dsn, autocommit=True)
        assert open_before.execute("SELECT 1").fetchone() == (1,)

        # A certificate file half written: the listeners keep the certificate they have.
        cert.write_text(first_cert.read_text()[:200])
        time.sleep(1.5)
        assert _served(gateway, ca) == first
        assert _served_to_postgres_clients(postgres) == first
        assert "do not read" in cluster.gateway.log_path.read_text()

        # The renewal lands: new connections get the new certificate.
        _replace(second_key, key)
        _replace(second_cert, cert)
        time.sleep(1.5)
        assert _served(gateway, ca) == second
        assert _served_to_postgres_clients(postgres) == second
        assert "TLS certificate changed: reloaded" in cluster.gateway.log_path.read_text()
        with psycopg.connect(dsn, autocommit=True) as renewed:
            assert renewed.execute("SELECT 2").fetchone() == (2,)
        # The connection opened before the renewal goes on.
        assert open_before.execute("SELECT 3").fetchone() == (3,)
        open_before.close()


def test_a_rotated_ca_is_trusted_by_the_processes_that_kept_running(cluster_factory, tmp_path):
    import adbc_driver_flightsql.dbapi as flightsql

    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old_ca, old_cert, old_key = make_test_certificate(tmp_path / "old")
    new_ca, new_cert, new_key = make_test_certificate(tmp_path / "new")
    live = tmp_path / "live"
    live.mkdir()
    cert, key, ca = live / "tls.crt", live / "tls.key", live / "ca.crt"
    for source, target in ((old_cert, cert), (old_key, key), (old_ca, ca)):
        _replace(source, target)
    tls = ("--tls-enabled", "--tls-cert", str(cert), "--tls-key", str(key))
    cluster = cluster_factory(
        extra_executor_args=tls,
        extra_gateway_args=(*tls, "--executor-ca", str(ca)),
        executor_scheme="https",
    )
    gateway_port = cluster.gateway.listen.rsplit(":", 1)[1]

    def count_through_the_gateway(root: Path) -> int:
        with flightsql.connect(
            f"grpc+tls://localhost:{gateway_port}",
            db_kwargs={
                "username": cluster.user,
                "password": cluster.password,
                "adbc.flight.sql.client_option.tls_root_certs": root.read_text(),
            },
            autocommit=True,
        ) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM range(7)")
            return cur.fetchone()[0]

    with private_pg_adapter(
        cluster, tmp_path / "pg",
        f"--gateway-addr=https://localhost:{gateway_port}", "--gateway-ca", str(ca),
    ) as adapter:
        with psycopg.connect(adapter.dsn(), autocommit=True) as before:
            assert before.execute("SELECT 1").fetchone() == (1,)
        assert count_through_the_gateway(old_ca) == 7

        # The rotation: every certificate now comes from the new CA, and the bundle the clients
        # verify with holds the new CA only.
        _replace(new_key, key)
        _replace(new_cert, cert)
        _replace(new_ca, ca)
        time.sleep(1.5)

        # The executor restarts with its new certificate; the gateway, still running, trusts it.
        restart_executor(cluster)
        assert count_through_the_gateway(new_ca) == 7
        assert "CA certificates changed: reloaded" in cluster.gateway.log_path.read_text()

        # The gateway restarts; the pg-adapter, still running, trusts it.
        restart_gateway(cluster)
        with psycopg.connect(adapter.dsn(), autocommit=True) as after:
            assert after.execute("SELECT 2").fetchone() == (2,)
        assert "CA certificates changed: reloaded" in adapter.process.log_path.read_text()


def test_a_gateway_ca_needs_an_https_gateway_address(tmp_path):
    """A CA file with a plain http:// gateway address would send passwords and results in the
    clear: the pg-adapter refuses to start rather than quietly not using TLS."""
    (tmp_path / "tls").mkdir()
    ca, _, _ = make_test_certificate(tmp_path / "tls")
    done = subprocess.run(
        [str(tavana_bin()), "pg-adapter", "--gateway-addr", "http://127.0.0.1:1",
         "--gateway-ca", str(ca), "--users", "a:b", "--pg-port", "0", "--admin-port", "0"],
        env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=30, cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "--gateway-ca needs an https:// address" in done.stderr + done.stdout
