"""`idle_in_transaction_session_timeout` and `idle_session_timeout`, as PostgreSQL enforces
them: a connection that idles longer than the setting allows (inside a transaction block, or
outside one) is closed, which ends its transaction and frees what its open cursors hold on the
executors. A running statement is never cut short by them. Operators set server defaults with
`--idle-in-transaction-session-timeout` / `--idle-session-timeout`; sessions may SET their own."""

from __future__ import annotations

import subprocess
import time

import psycopg
import pytest

from pg.conftest import private_pg_adapter, start_pg_adapter
from tavana_harness import wait_for, wait_running_queries

HUGE = "SELECT i, repeat('x', 100) AS pad FROM range(1000000000) t(i)"
# A statement that runs for a while (a few seconds here) without sending a row.
SLOW = "SELECT count(*) FROM range(600000000) t(i) WHERE i % 7 = 3"


def _timeouts(pg, setting: str) -> float:
    wanted = f'setting="{setting}"'
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in pg.process.metrics().splitlines()
        if line.startswith("tavana_pg_adapter_idle_timeouts_total{") and wanted in line
    )


def test_an_idle_transaction_holding_a_cursor_is_closed_and_its_query_stopped(pg):
    executor = pg.cluster.executor
    before = _timeouts(pg, "idle_in_transaction_session_timeout")
    conn = psycopg.connect(pg.dsn())
    conn.execute("SET idle_in_transaction_session_timeout = '1s'")
    cur = conn.cursor(name="held")
    cur.execute(HUGE)
    assert len(cur.fetchmany(100)) == 100
    wait_running_queries(executor, lambda v: v >= 1, "the cursor's query runs")
    # Nothing is sent for longer than the timeout: the connection is closed...
    wait_for(lambda: _timeouts(pg, "idle_in_transaction_session_timeout") == before + 1, "the timeout fires", 15)
    # ... telling the client why, in PostgreSQL's words (a client that speaks within the
    # close's grace hears it from its statement) ...
    with pytest.raises(psycopg.Error) as closed:
        cur.fetchmany(100)
    assert "terminating connection due to idle-in-transaction timeout" in str(closed.value)
    assert closed.value.sqlstate == "25P03", closed.value.sqlstate
    conn.close()
    # ... and the executor stops the cursor's query.
    wait_running_queries(executor, lambda v: v == 0, "0 once the idle transaction is closed")


def test_outside_a_transaction_the_transaction_timeout_does_not_apply(pg):
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute("SET idle_in_transaction_session_timeout = '500ms'")
        time.sleep(1.5)
        assert conn.execute("SELECT 2").fetchone() == (2,)


def test_a_running_statement_is_not_an_idle_one(pg):
    with psycopg.connect(pg.dsn()) as conn:
        conn.execute("SET idle_in_transaction_session_timeout = '300ms'")
        started = time.monotonic()
        assert conn.execute(SLOW).fetchone()[0] > 0
        assert time.monotonic() - started > 0.6, "the statement was too quick to show anything"
        # Still open: the timer runs only between statements.
        assert conn.execute("SELECT 3").fetchone() == (3,)
        conn.rollback()


def test_server_default_idle_session_timeout_and_a_session_that_turns_it_off(tavana, tmp_path):
    with private_pg_adapter(tavana, tmp_path / "pg", "--idle-session-timeout", "1s") as adapter:
        idle = psycopg.connect(adapter.dsn(), autocommit=True)
        assert idle.execute("SHOW idle_session_timeout").fetchone() == ("1s",)  # as PostgreSQL shows it
        keeps = psycopg.connect(adapter.dsn(), autocommit=True)
        keeps.execute("SET idle_session_timeout = 0")
        wait_for(lambda: _timeouts(adapter, "idle_session_timeout") == 1, "the idle session is closed", 15)
        # Well after the close (the FATAL was written to the idle socket, not to a statement).
        time.sleep(1)
        with pytest.raises(psycopg.Error) as closed:
            idle.execute("SELECT 1").fetchall()
        assert closed.value.sqlstate == "57P05", str(closed.value)
        # psql says it as PostgreSQL would.
        psql = subprocess.run(
            ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-c", "SELECT 1", "-c", "\\! sleep 2", "-c", "SELECT 2"],
            env=adapter.env(), capture_output=True, text=True, timeout=60,
        )
        assert psql.returncode != 0
        assert "FATAL:  terminating connection due to idle-session timeout" in psql.stderr, psql.stderr
        time.sleep(1.5)
        assert keeps.execute("SELECT 4").fetchone() == (4,)
        keeps.close()
        idle.close()


def test_a_bad_server_timeout_is_refused_at_start(tavana, tmp_path):
    with pytest.raises(RuntimeError, match="is not a duration"):
        start_pg_adapter(tavana, tmp_path / "pg", "--idle-session-timeout", "soon")


def test_the_gateway_stream_idle_timeout_ends_an_unfetched_cursor(cluster_factory, tmp_path):
    """TAVANA_STREAM_IDLE_TIMEOUT_SECS is the gateway's: a PostgreSQL cursor whose client
    fetches nothing for that long loses its query, and its next FETCH says why."""
    cluster = cluster_factory(extra_gateway_args=("--stream-idle-timeout-secs", "1"))
    with private_pg_adapter(cluster, tmp_path / "pg") as adapter:
        with psycopg.connect(adapter.dsn()) as conn:
            cur = conn.cursor(name="unfetched")
            cur.execute(HUGE)
            assert len(cur.fetchmany(10)) == 10
            wait_running_queries(cluster.executor, lambda v: v == 0, "0 once the gateway ended it")
            with pytest.raises(psycopg.Error) as ended:
                while cur.fetchmany(10_000):
                    pass
            assert "TAVANA_STREAM_IDLE_TIMEOUT_SECS" in str(ended.value), str(ended.value)
            assert ended.value.sqlstate == "57014", ended.value.sqlstate
