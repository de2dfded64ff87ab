"""TLS for PostgreSQL clients (SSLRequest, rustls): psql and psycopg with sslmode=require and
verify-full against a self-signed certificate made for the test, and with --require-tls a
plaintext client is refused."""

from __future__ import annotations

import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI missing")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


def tls_adapter(pg_factory, certificate, *extra: str):
    cert, key = certificate
    return pg_factory("--tls-enabled", "--tls-cert", str(cert), "--tls-key", str(key), *extra)


def psql(pg, sslmode: str, sql: str, **env) -> subprocess.CompletedProcess:
    e = pg.env()
    e.update(PGSSLMODE=sslmode, **env)
    return subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-c", "\\conninfo", "-c", sql],
                          env=e, capture_output=True, text=True, timeout=30)


def test_psql_over_tls(pg_factory, certificate):
    pg = tls_adapter(pg_factory, certificate, "--require-tls")
    out = psql(pg, "require", "SELECT 40 + 2 AS answer")
    assert out.returncode == 0, out.stderr
    assert "SSL connection (protocol: TLSv1." in out.stdout, out.stdout
    assert "42" in out.stdout
    # The client can verify the certificate and the host name.
    out = psql(pg, "verify-full", "SELECT 1", PGSSLROOTCERT=str(certificate[0]))
    assert out.returncode == 0, out.stderr
    assert "SSL connection" in out.stdout


def test_plaintext_refused_when_tls_required(pg_factory, certificate):
    import psycopg

    pg = tls_adapter(pg_factory, certificate, "--require-tls")
    out = psql(pg, "disable", "SELECT 1")
    assert out.returncode != 0
    assert "SSL connection is required" in out.stderr, out.stderr
    with pytest.raises(psycopg.OperationalError) as err:
        psycopg.connect(pg.dsn(sslmode="disable"))
    assert "SSL connection is required" in str(err.value)
    # A TLS client on the same adapter is served.
    with psycopg.connect(pg.dsn(sslmode="require")) as conn:
        assert conn.info.pgconn.ssl_in_use
        assert conn.execute("SELECT 7").fetchone() == (7,)


def test_tls_optional_without_require(pg_factory, certificate):
    import psycopg

    pg = tls_adapter(pg_factory, certificate)
    with psycopg.connect(pg.dsn(sslmode="require")) as conn:
        assert conn.info.pgconn.ssl_in_use
    with psycopg.connect(pg.dsn(sslmode="disable")) as conn:
        assert not conn.info.pgconn.ssl_in_use
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_require_tls_without_a_certificate_does_not_start(pg_factory):
    with pytest.raises(RuntimeError) as err:
        pg_factory("--require-tls")
    assert "require-tls" in str(err.value)
