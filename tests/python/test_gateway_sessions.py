"""Flight SQL sessions outlive their gateway when the gateways share a session key
(TAVANA_SESSION_KEY): a gateway restarted under an ADBC connection (a crash, a rolling upgrade)
or another gateway the client reconnects to opens the session again from its token, with its
catalog and schema options. Without a key, or for a session that brought its own object-store
credentials, the client is told to authenticate again, as before."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import adbc_driver_manager
import pyarrow.flight as flight
import pytest

from tavana_harness import Cluster, Process, restart_gateway, tavana_bin


def _key() -> str:
    return secrets.token_urlsafe(36)


def _resumed(gateway: Process) -> float:
    return gateway.metric("tavana_gateway_sessions_resumed_total") or 0


def _one(conn, sql: str, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _set_schema(conn, schema: str) -> None:
    """What ADBC does for a schema: SetSessionOptions on the gateway."""
    conn.adbc_connection.set_options(**{"adbc.connection.db_schema": schema})


def _session_options(client: flight.FlightClient, options: flight.FlightCallOptions) -> list:
    """GetSessionOptions: a call that needs the caller's session."""
    return list(client.do_action(flight.Action("GetSessionOptions", b""), options))


def _another_gateway(cluster: Cluster, name: str, key: str | None) -> Process:
    """A second gateway in front of the same executors, as a second replica would be."""
    args = list(cluster.gateway.args)
    args[args.index("--flight-sql-port") + 1] = "0"
    workdir: Path = cluster.workdir / name
    workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in cluster.gateway.env.items() if k != "TAVANA_SESSION_KEY"}
    if key is not None:
        env["TAVANA_SESSION_KEY"] = key
    gateway = Process(role="gateway", args=args, workdir=workdir, env=env)
    gateway.start()
    gateway.wait_ready()
    return gateway


def test_adbc_connections_survive_a_gateway_restart(cluster_factory):
    cluster = cluster_factory(
        extra_executor_args=("--allow-writes",),
        gateway_env={"TAVANA_SESSION_KEY": _key()},
    )
    with cluster.connect() as conn:
        _one(conn, "CREATE SCHEMA restart_s")
        _one(conn, "CREATE VIEW restart_s.v AS SELECT 42 AS id")
    in_schema = cluster.connect()
    _set_schema(in_schema, "restart_s")
    assert _one(in_schema, "SELECT id FROM v") == [(42,)]
    plain = cluster.connect()
    assert _one(plain, "SELECT ? + 1", (1,)) == [(2,)]
    with_secret = cluster.connect()
    _one(with_secret, "CREATE SECRET restart_key (TYPE s3, KEY_ID 'a', SECRET 'b')")

    restart_gateway(cluster)

    # The same connections go on; the schema came back from the token.
    assert _one(in_schema, "SELECT id FROM v") == [(42,)]
    assert in_schema.adbc_current_db_schema == "restart_s"
    assert _one(plain, "SELECT ? + 1", (2,)) == [(3,)]
    assert _resumed(cluster.gateway) == 2
    assert cluster.gateway.metric("tavana_gateway_sessions") == 2
    assert "session opened again from its token" in cluster.gateway.log_path.read_text()
    # Credentials never travel in a token: that session must start over, and is told so.
    with pytest.raises(adbc_driver_manager.Error) as refused:
        _one(with_secret, "SELECT 1")
    assert "UNAUTHENTICATED" in str(refused.value), refused.value
    assert "credential statements again" in str(refused.value), refused.value
    assert _resumed(cluster.gateway) == 2
    for conn in (in_schema, plain, with_secret):
        conn.close()


def test_a_token_opens_its_session_on_any_gateway_with_the_key(cluster_factory):
    key = _key()
    cluster = cluster_factory(gateway_env={"TAVANA_SESSION_KEY": key})
    client = flight.FlightClient(cluster.flight_uri)
    header = client.authenticate_basic_token(cluster.user, cluster.password)
    options = flight.FlightCallOptions(headers=[header])
    same_key = _another_gateway(cluster, "replica", key)
    other_key = _another_gateway(cluster, "other-deployment", _key())
    no_key = _another_gateway(cluster, "no-key", None)
    # Mid-rotation: a new key signs, the old one still verifies.
    rotating = _another_gateway(cluster, "rotating", f"{_key()},{key}")
    try:
        replica = flight.FlightClient(f"grpc://{same_key.listen}")
        assert _session_options(replica, options), "no session options"
        assert _resumed(same_key) == 1
        rotated = flight.FlightClient(f"grpc://{rotating.listen}")
        assert _session_options(rotated, options), "no session options"
        assert _resumed(rotating) == 1
        for gateway in (other_key, no_key):
            stranger = flight.FlightClient(f"grpc://{gateway.listen}")
            with pytest.raises(flight.FlightUnauthenticatedError, match="authenticate again"):
                _session_options(stranger, options)
            assert _resumed(gateway) == 0
        # Closing the session on the replica ends it there for good.
        closed = list(replica.do_action(flight.Action("CloseSession", b""), options))
        assert closed, "CloseSession answered nothing"
        with pytest.raises(flight.FlightUnauthenticatedError, match="closed"):
            _session_options(replica, options)
    finally:
        for gateway in (same_key, other_key, no_key, rotating):
            gateway.kill()
            gateway.retired = True


def test_without_a_key_sessions_end_with_their_gateway(cluster_factory):
    cluster = cluster_factory()
    conn = cluster.connect()
    assert _one(conn, "SELECT 1") == [(1,)]
    restart_gateway(cluster)
    with pytest.raises(adbc_driver_manager.Error, match="UNAUTHENTICATED"):
        _one(conn, "SELECT 1")
    assert _resumed(cluster.gateway) == 0
    conn.close()


def test_a_short_session_key_is_refused_at_start(tmp_path):
    done = subprocess.run(
        [str(tavana_bin()), "gateway", "--worker-addr", "http://127.0.0.1:1",
         "--users", "a:b", "--flight-sql-port", "0", "--admin-port", "0"],
        env={"TAVANA_SESSION_KEY": "too short", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=30, cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "TAVANA_SESSION_KEY must be at least 32 bytes (it is 9)" in done.stderr + done.stdout
