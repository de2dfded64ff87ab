"""TAVANA_MAX_QUERY_SECS: an operator's limit on how long any query runs. A query past it is
stopped on its executor (its CPU and slots freed) and its client is told why, in its own
terms: a Flight status DEADLINE_EXCEEDED, SQLSTATE 57014 through the pg-adapter. Queries
within the limit are untouched."""

from __future__ import annotations

import time

import adbc_driver_manager
import psycopg
import pytest

from pg.conftest import private_pg_adapter
from tavana_harness import (
    assert_executor_idle,
    counted,
    query_table,
    wait_running_queries,
)

LIMIT_S = 2
# CPU-bound for minutes, no row before it ends.
ENDLESS_AGGREGATE = "SELECT count(*) AS n FROM range(1000000000000) t(i) WHERE i % 7 = 3"
MESSAGE = f"ran longer than this service allows ({LIMIT_S} s, TAVANA_MAX_QUERY_SECS)"


@pytest.fixture
def limited(cluster_factory):
    return cluster_factory(
        extra_gateway_args=("--max-query-secs", str(LIMIT_S)),
        extra_executor_args=("--allow-writes", "--log-min-duration-ms", "1000"),
    )


def _timeouts(cluster) -> float:
    return cluster.gateway.metric("tavana_gateway_query_timeouts_total") or 0


def _assert_stopped(cluster) -> None:
    wait_running_queries(cluster.executor, lambda v: v == 0, "0 once the limit stopped it")
    assert_executor_idle(cluster.executor)
    assert cluster.gateway.metric("tavana_gateway_active_streams") == 0


def test_a_query_past_the_limit_is_stopped_and_the_client_told(limited):
    conn = limited.connect()
    try:
        started = time.monotonic()
        with pytest.raises(adbc_driver_manager.Error) as stopped:
            query_table(conn, ENDLESS_AGGREGATE)
        took = time.monotonic() - started
        assert MESSAGE in str(stopped.value), stopped.value
        assert "DeadlineExceeded" in str(stopped.value) or "TIMEOUT" in str(stopped.value)
        assert took >= LIMIT_S, took
        _assert_stopped(limited)
        assert _timeouts(limited) == 1
        # The connection and the service go on.
        assert query_table(conn, "SELECT 41 + 1 AS x").to_pylist() == [{"x": 42}]
    finally:
        conn.close()


def test_a_result_still_streaming_at_the_limit_is_cut_with_the_reason(limited):
    """Time reading the result counts too: the query holds its executor until then."""
    conn = limited.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT * FROM range(1000000000) t(i)")
            reader = cur.fetch_record_batch()
            assert reader.read_next_batch().num_rows > 0
            wait_running_queries(limited.executor, lambda v: v == 1, "1 while streaming")
            with pytest.raises((adbc_driver_manager.Error, OSError)) as cut:
                for _ in range(1_000_000):
                    reader.read_next_batch()
                    time.sleep(0.001)
            assert MESSAGE in str(cut.value), cut.value
        _assert_stopped(limited)
        assert counted(limited.gateway, "tavana_gateway_queries_total", "timed_out") == 1
        assert _timeouts(limited) == 1
    finally:
        conn.close()


def test_a_statement_returning_no_rows_is_bounded_too(limited):
    conn = limited.connect()
    try:
        with pytest.raises(adbc_driver_manager.Error) as stopped:
            query_table(conn, f"CREATE TABLE never AS {ENDLESS_AGGREGATE}")
        assert MESSAGE in str(stopped.value), stopped.value
        _assert_stopped(limited)
        # The statement log says it was stopped (it ran past the 1 s log threshold).
        logged = [line for line in limited.executor.log_path.read_text().splitlines()
                  if "statement cancelled" in line]
        assert any("CREATE TABLE never" in line for line in logged), logged
        tables = query_table(
            conn, "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'never'"
        )
        assert tables.to_pylist() == [{"n": 0}]
    finally:
        conn.close()


def test_postgres_clients_get_57014(limited, tmp_path):
    with private_pg_adapter(limited, tmp_path / "pg") as adapter:
        with psycopg.connect(adapter.dsn(), autocommit=True) as conn:
            with pytest.raises(psycopg.errors.QueryCanceled) as stopped:
                conn.execute(ENDLESS_AGGREGATE)
            assert stopped.value.sqlstate == "57014"
            assert "TAVANA_MAX_QUERY_SECS" in str(stopped.value), stopped.value
            _assert_stopped(limited)
            assert conn.execute("SELECT 1").fetchone() == (1,)


def test_queries_within_the_limit_are_untouched(limited):
    conn = limited.connect()
    try:
        rows = query_table(conn, "SELECT count(*) AS n FROM range(300000000) t(i) WHERE i % 7 = 3")
        assert rows.to_pylist() == [{"n": 42857143}]
    finally:
        conn.close()
    assert _timeouts(limited) == 0
