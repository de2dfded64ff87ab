"""SQLSTATEs for refusals that need their own set-up: the sandbox (42501) and an overloaded
service (53300, which clients treat as retriable)."""

from __future__ import annotations

import threading

import pytest

from pg.conftest import start_pg_adapter
from tavana_harness import wait_running_queries

LONG_AGGREGATE = "SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "INSTALL spatial",
        "ATTACH '/tmp/other.duckdb' AS other",
        "SELECT * FROM read_parquet('/root/*.parquet')",
    ],
    ids=["local-file", "install", "attach", "glob-outside"],
)
def test_sandbox_refusal_is_42501(pgconn, sql):
    import psycopg

    with pytest.raises(psycopg.Error) as err:
        pgconn.execute(sql)
    assert err.value.sqlstate == "42501", (sql, err.value.sqlstate, str(err.value))
    assert pgconn.execute("SELECT 1").fetchone() == (1,)


def test_engine_limits_cannot_be_set_but_postgres_settings_can(pgconn):
    """`SET` is answered by the adapter, as PostgreSQL would; a SET of one of DuckDB's resource
    or access settings fails as PostgreSQL fails a server-start parameter (55P02) instead of
    appearing to take effect, and the real limit is unchanged."""
    import psycopg

    (before,) = pgconn.execute("SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'").fetchone()
    for sql in ["SET memory_limit = '100GB'", "SET threads TO 64", "SET enable_external_access = true"]:
        with pytest.raises(psycopg.Error) as err:
            pgconn.execute(sql)
        assert err.value.sqlstate == "55P02", (sql, err.value.sqlstate, str(err.value))
        assert "cannot be changed" in str(err.value)
    (after,) = pgconn.execute("SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'").fetchone()
    assert after == before
    pgconn.execute("SET work_mem = '64MB'")
    assert pgconn.execute("SHOW work_mem").fetchone() == ("64MB",)


def test_overload_is_53300_and_the_connection_survives(cluster_factory, tmp_path):
    """One query may run, the queue waits one second: a second query is refused as overloaded."""
    import psycopg

    cluster = cluster_factory(extra_gateway_args=("--max-running-queries", "1", "--queue-timeout-secs", "1"))
    adapter = start_pg_adapter(cluster, tmp_path / "pg")
    try:
        busy = psycopg.connect(adapter.dsn(), autocommit=True)
        running = threading.Thread(target=lambda: _run_until_cancelled(busy), daemon=True)
        running.start()
        wait_running_queries(cluster.executors[0], lambda v: v >= 1, ">= 1 while the first query runs")
        with psycopg.connect(adapter.dsn(), autocommit=True) as second:
            with pytest.raises(psycopg.Error) as err:
                second.execute("SELECT 42").fetchall()
            assert err.value.sqlstate == "53300", (err.value.sqlstate, str(err.value))
            busy.cancel()
            running.join(timeout=30)
            assert not running.is_alive()
            # Retrying once the service has room succeeds on the same connection.
            assert second.execute("SELECT 42").fetchone() == (42,)
        busy.close()
    finally:
        adapter.process.stop()
        adapter.process.retired = True


def _run_until_cancelled(conn) -> None:
    import psycopg

    try:
        conn.execute(LONG_AGGREGATE).fetchall()
    except psycopg.Error:
        pass
