"""Queries stop on the executor when a PostgreSQL client cancels or goes away.

Measured on the executor itself (`pg.cluster.executor`, whose admin address the fixture
exposes): its `tavana_executor_running_queries` gauge returns to 0 and it stops
burning CPU, whether the client sent a CancelRequest, dropped its connection while rows were
streaming, or dropped it while a long aggregate had nothing to send yet.
"""

from __future__ import annotations

import os
import socket
import time

import pytest

from tavana_harness import assert_executor_idle as assert_idle
from tavana_harness import wait_running_queries as wait_running

HUGE_STREAM = "SELECT i, i * 2 AS j FROM range(1000000000) t(i)"
HUGE_AGGREGATE = "SELECT count(*) AS n FROM range(1000000000000) t(i) WHERE i % 7 = 3"
# The same with a value bound to a placeholder (extended protocol: DoPut, then one DoGet).
BOUND_STREAM = "SELECT i, i + $1 AS j FROM range(1000000000) t(i)"
BOUND_AGGREGATE = "SELECT count(*) AS n FROM range(1000000000000) t(i) WHERE i % 7 = $1"


@pytest.fixture
def executor(pg):
    wait_running(pg.cluster.executor, lambda v: v == 0, "0 before the test")
    return pg.cluster.executor


def drop_connection(conn) -> None:
    """Resets the client's TCP connection (SO_LINGER 0: the close sends RST), as a crashed
    client or a dead network would; the adapter is not reading, so nothing it would read
    first tells it the client is leaving."""
    s = socket.socket(fileno=os.dup(conn.pgconn.socket))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    conn.close()


def test_dropped_client_mid_stream_stops_the_executor(pg, executor):
    import psycopg
    from psycopg.pq import ExecStatus

    conn = psycopg.connect(pg.dsn(), autocommit=True)
    pgconn = conn.pgconn
    pgconn.send_query(HUGE_STREAM.encode())
    pgconn.set_single_row_mode()
    rows = 0
    while rows < 10_000:
        result = pgconn.get_result()
        assert result is not None and result.status == ExecStatus.SINGLE_TUPLE, result
        rows += 1
    wait_running(executor, lambda v: v >= 1, ">= 1 while streaming")
    drop_connection(conn)
    wait_running(executor, lambda v: v == 0, "0 after the client dropped mid-stream")
    assert_idle(executor)


def test_dropped_client_during_a_long_aggregate_stops_the_executor(pg, executor):
    import psycopg

    conn = psycopg.connect(pg.dsn(), autocommit=True)
    conn.pgconn.send_query(HUGE_AGGREGATE.encode())
    wait_running(executor, lambda v: v >= 1, ">= 1 while aggregating")
    drop_connection(conn)
    wait_running(executor, lambda v: v == 0, "0 after the client dropped during the aggregate")
    assert_idle(executor)


@pytest.mark.parametrize(
    "sql",
    [HUGE_AGGREGATE, HUGE_STREAM, BOUND_AGGREGATE, BOUND_STREAM],
    ids=["aggregate", "stream", "bound-aggregate", "bound-stream"],
)
def test_cancel_request_stops_the_executor(pg, executor, sql):
    import psycopg

    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        if "$1" in sql:
            conn.pgconn.send_query_params(sql.encode(), [b"3"])
        else:
            conn.pgconn.send_query(sql.encode())
        # Single-row mode: libpq hands over each row as it arrives instead of collecting the
        # whole (billion-row) result in client memory while the cancel travels.
        conn.pgconn.set_single_row_mode()
        wait_running(executor, lambda v: v >= 1, ">= 1 while running")
        if sql in (HUGE_STREAM, BOUND_STREAM):
            # A client slower than the executor: every buffer between them fills, so the
            # adapter always has a next row ready. The cancel must still be seen (it once was
            # only noticed while waiting for a batch, which a slow reader never lets happen).
            time.sleep(1)
        conn.cancel()
        errors = []
        deadline = time.monotonic() + 60
        while (result := conn.pgconn.get_result()) is not None:
            if result.error_field(psycopg.pq.DiagnosticField.SQLSTATE):
                errors.append(result.error_field(psycopg.pq.DiagnosticField.SQLSTATE).decode())
            if time.monotonic() > deadline:
                pytest.fail("the CancelRequest did not stop the query within 60 s")
        assert errors == ["57014"], errors
        wait_running(executor, lambda v: v == 0, "0 after the CancelRequest")
        assert_idle(executor)
        # The connection keeps working.
        assert conn.execute("SELECT 42").fetchone() == (42,)
