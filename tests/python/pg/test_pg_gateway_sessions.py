"""A PostgreSQL connection outlives its gateway session: when the gateway restarts (a crashed
gateway container beside its adapter) or drops the session after TAVANA_SESSION_IDLE_SECS (a
pooled connection idle overnight), the adapter signs in again with the connection's
credentials and gives the new session what the old one held, and the client sees nothing.
Before, every later statement failed with 28000 "unknown or expired session token"."""

from __future__ import annotations

import time

import psycopg

from pg.conftest import private_pg_adapter
from tavana_harness import restart_gateway


def _renewed(adapter) -> float:
    return adapter.process.metric("tavana_pg_adapter_gateway_sessions_renewed_total") or 0


def _connection_in_schema(adapter, schema: str, value: int) -> psycopg.Connection:
    """A connection whose `search_path` is a new schema holding view `v` (one row, `value`)."""
    conn = psycopg.connect(adapter.dsn(), autocommit=True)
    conn.execute(f"CREATE SCHEMA {schema}")
    conn.execute(f"CREATE VIEW {schema}.v AS SELECT {value} AS id")
    conn.execute(f"SET search_path TO {schema}")
    assert conn.execute("SELECT id FROM v").fetchone() == (value,)
    return conn


def _connection_with_secret(adapter, name: str) -> psycopg.Connection:
    """A connection that ran a credential statement (its session holds a secret)."""
    conn = psycopg.connect(adapter.dsn(), autocommit=True)
    conn.execute(f"CREATE SECRET {name} (TYPE s3, KEY_ID 'a', SECRET 'b')")
    return conn


SECRETS = "SELECT name FROM duckdb_secrets()"


def test_connections_survive_a_gateway_restart(cluster_factory, tmp_path):
    cluster = cluster_factory(extra_executor_args=("--allow-writes",))
    with private_pg_adapter(cluster, tmp_path / "pg") as adapter:
        conn = _connection_in_schema(adapter, "restart_s", 42)
        assert conn.execute("SELECT %s::int + 1", (1,), prepare=True).fetchone() == (2,)
        # Credentials put a session on an engine of its own (see docs/lakes.md): another one.
        with_secret = _connection_with_secret(adapter, "restart_key")
        assert ("session_restart_key",) in with_secret.execute(SECRETS).fetchall()
        in_transaction = psycopg.connect(adapter.dsn())
        assert in_transaction.execute("SELECT 5").fetchone() == (5,)

        restart_gateway(cluster)

        # The session's schema and credentials came along; so did the prepared statement.
        assert conn.execute("SELECT id FROM v").fetchone() == (42,)
        assert conn.execute("SELECT %s::int + 1", (2,), prepare=True).fetchone() == (3,)
        assert ("session_restart_key",) in with_secret.execute(SECRETS).fetchall()
        # A transaction open across the restart goes on.
        assert in_transaction.execute("SELECT 6").fetchone() == (6,)
        in_transaction.commit()
        assert _renewed(adapter) == 3
        assert "signed in again" in adapter.process.log_path.read_text()
        # New connections are plain new sessions.
        with psycopg.connect(adapter.dsn(), autocommit=True) as fresh:
            assert fresh.execute("SELECT 7").fetchone() == (7,)
        assert _renewed(adapter) == 3
        conn.close()
        with_secret.close()
        in_transaction.close()


def test_a_connection_idle_past_the_gateway_session_timeout_goes_on(cluster_factory, tmp_path):
    cluster = cluster_factory(extra_gateway_args=("--session-idle-secs", "1"))
    with private_pg_adapter(cluster, tmp_path / "pg") as adapter:
        with psycopg.connect(adapter.dsn(), autocommit=True) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            before = _renewed(adapter)
            time.sleep(2.5)  # the gateway drops the session after 1 s idle
            assert conn.execute("SELECT 2").fetchone() == (2,)
            assert _renewed(adapter) == before + 1


def test_with_a_session_key_the_gateway_opens_the_session_again_itself(cluster_factory, tmp_path):
    """Gateways sharing TAVANA_SESSION_KEY open a lost session again from its token: the adapter
    has nothing to redo, and the token it presents carries the schema it set last."""
    cluster = cluster_factory(
        extra_executor_args=("--allow-writes",),
        gateway_env={"TAVANA_SESSION_KEY": "k" * 40},
    )
    with private_pg_adapter(cluster, tmp_path / "pg") as adapter:
        conn = _connection_in_schema(adapter, "keyed_s", 43)
        with_secret = _connection_with_secret(adapter, "keyed_key")

        restart_gateway(cluster)

        assert conn.execute("SELECT id FROM v").fetchone() == (43,)
        assert _renewed(adapter) == 0
        # Credentials do not travel in tokens: that one the adapter signs in again for.
        assert ("session_keyed_key",) in with_secret.execute(SECRETS).fetchall()
        assert _renewed(adapter) == 1
        assert cluster.gateway.metric("tavana_gateway_sessions_resumed_total") == 1
        conn.close()
        with_secret.close()
