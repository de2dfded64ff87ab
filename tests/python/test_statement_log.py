"""The executors' statement log (as PostgreSQL's log_min_error_statement and
log_min_duration_statement): every failed statement is logged with its user, error and text;
with TAVANA_LOG_MIN_DURATION_MS, every statement that ran at least that long is too, with its
rows. Credential statements never appear. Read here as an operator would ship them: JSON
lines (LOG_FORMAT=json)."""

from __future__ import annotations

import json
import time

import adbc_driver_manager
import psycopg
import pytest

from pg.conftest import private_pg_adapter
from tavana_harness import query_table, wait_for


def _statement_lines(cluster) -> list[dict]:
    lines = []
    for line in cluster.executor.log_path.read_text().splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        if entry.get("target") == "tavana_statements":
            lines.append({**entry.get("fields", {}), **{k: v for k, v in entry.items() if k != "fields"}})
    return lines


def _logged(cluster, predicate, what: str) -> dict:
    found: list[dict] = []

    def seen() -> bool:
        found[:] = [line for line in _statement_lines(cluster) if predicate(line)]
        return bool(found)

    wait_for(seen, what, timeout=10)
    return found[-1]


def _logging_cluster(cluster_factory, *executor_args: str):
    """A cluster whose executor logs JSON lines, with `executor_args`."""
    return cluster_factory(extra_executor_args=("--log-format", "json", *executor_args))


def _fails(conn, sql: str) -> None:
    with pytest.raises(adbc_driver_manager.Error):
        query_table(conn, sql)


def test_failed_statements_are_logged_and_others_are_not(cluster_factory, tmp_path):
    cluster = _logging_cluster(cluster_factory)
    conn = cluster.connect()
    try:
        assert query_table(conn, "SELECT 41 + 1 AS fine").to_pylist() == [{"fine": 42}]
        _fails(conn, "SELECT * FROM no_such_table_here")
        failed = _logged(cluster, lambda l: "no_such_table_here" in l.get("statement", ""),
                         "the failed statement's line")
        assert failed["message"] == "statement failed"
        assert failed["user"] == cluster.user
        assert "no_such_table_here" in failed["error"], failed
        assert failed["elapsed_ms"] >= 0
        # A statement that fails while running (after its plan) is logged too.
        _fails(conn, "SELECT CAST('x' || i AS INTEGER) FROM range(3) t(i)")
        _logged(cluster, lambda l: "CAST('x'" in l.get("statement", ""), "the run-time failure")
    finally:
        conn.close()
    with private_pg_adapter(cluster, tmp_path / "pg") as adapter:
        with psycopg.connect(adapter.dsn(), user="bob",
                             password=cluster.other_users["bob"], autocommit=True) as pg:
            with pytest.raises(psycopg.errors.Error):
                pg.execute("SELECT nope_column FROM range(1)")
        through_pg = _logged(cluster, lambda l: "nope_column" in l.get("statement", ""),
                             "the PostgreSQL client's failure")
        assert through_pg["user"] == "bob"
    assert not any("41 + 1" in l.get("statement", "") for l in _statement_lines(cluster))


def test_statements_past_the_minimum_duration_are_logged(cluster_factory):
    cluster = _logging_cluster(cluster_factory, "--log-min-duration-ms", "300")
    conn = cluster.connect()
    try:
        query_table(conn, "SELECT 'quick' AS q")
        slow = "SELECT count(*) AS n FROM range(400000000) t(i) WHERE i % 7 = 3"
        started = time.monotonic()
        query_table(conn, slow)
        if time.monotonic() - started < 0.3:
            pytest.skip("the machine ran the slow query in under 300 ms")
        line = _logged(cluster, lambda l: l.get("statement") == slow, "the slow statement's line")
        assert line["message"] == "statement finished"
        assert line["rows"] == 1 and line["elapsed_ms"] >= 300
        assert not any("'quick'" in l.get("statement", "") for l in _statement_lines(cluster))
    finally:
        conn.close()


def test_every_statement_with_zero_and_never_a_credential(cluster_factory):
    cluster = _logging_cluster(cluster_factory, "--log-min-duration-ms", "0")
    conn = cluster.connect()
    try:
        query_table(conn, "SELECT 'each' AS e FROM range(5)")
        line = _logged(cluster, lambda l: "'each'" in l.get("statement", ""), "the statement")
        assert line["rows"] == 5
        query_table(conn, "CREATE SECRET logged_key (TYPE s3, KEY_ID 'AKIAXX', SECRET 'hidden-value')")
        # After a comment, too: it is still the session's own secret, never a logged statement.
        query_table(
            conn,
            "/* rotate */ -- key\nCREATE OR REPLACE SECRET logged_key "
            "(TYPE s3, KEY_ID 'AKIAXX', SECRET 'commented-value')",
        )
        query_table(conn, "SELECT 1 AS after_secret")
        _logged(cluster, lambda l: "after_secret" in l.get("statement", ""), "the next statement")
        log = cluster.executor.log_path.read_text()
        assert "hidden-value" not in log and "commented-value" not in log
        secrets = query_table(conn, "SELECT name FROM duckdb_secrets()").column("name").to_pylist()
        assert secrets == ["session_logged_key"]
    finally:
        conn.close()
