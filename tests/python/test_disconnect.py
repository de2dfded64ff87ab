"""A client that goes away mid-query frees the executor: the query stops.

Measured on the executor itself: its `tavana_executor_running_queries` gauge
returns to 0, and (for a CPU-bound query) the process stops burning CPU.
"""

from __future__ import annotations

import time

import pyarrow.flight as flight
import pytest

from tavana_harness import (
    assert_executor_idle as assert_idle,
    counted,
    open_paused_stream,
    query_table,
    wait_running_queries as wait_running,
)
from flight_proto import statement_query_command

HUGE_STREAM = "SELECT * FROM range(1000000000) t(i)"
# CPU-bound, returns nothing for a very long time.
HUGE_AGGREGATE = "SELECT count(*) AS n FROM range(1000000000000) t(i) WHERE i % 7 = 3"


@pytest.fixture
def idle_executor(tavana):
    wait_running(tavana.executor, lambda v: v == 0, "0 before the test")
    return tavana.executor


def _cancelled_streams(tavana) -> float:
    return counted(tavana.gateway, "tavana_gateway_queries_total", "cancelled")


def test_raw_flight_client_drops_stream(tavana, idle_executor):
    cancelled = _cancelled_streams(tavana)
    client, options = tavana.flight_client()
    info = client.get_flight_info(
        flight.FlightDescriptor.for_command(statement_query_command(HUGE_STREAM)), options
    )
    reader = client.do_get(info.endpoints[0].ticket, options)
    chunk = reader.read_chunk()
    assert chunk.data.num_rows > 0
    wait_running(idle_executor, lambda v: v >= 1, ">= 1 while streaming")
    reader.cancel()
    client.close()

    wait_running(idle_executor, lambda v: v == 0, "0 after the client dropped the stream")
    assert_idle(idle_executor)
    # The gateway counts the relayed stream as cancelled and holds nothing open.
    assert _cancelled_streams(tavana) == cancelled + 1
    assert tavana.gateway.metric("tavana_gateway_active_streams") == 0
    conn = tavana.connect()
    try:
        assert query_table(conn, "SELECT 1 AS ok").to_pylist() == [{"ok": 1}]
    finally:
        conn.close()


def test_adbc_client_closes_reader_mid_stream(tavana, idle_executor):
    conn = tavana.connect()
    cur = conn.cursor()
    cur.execute(HUGE_STREAM)
    reader = cur.fetch_record_batch()
    batch = reader.read_next_batch()
    assert batch.num_rows > 0
    wait_running(idle_executor, lambda v: v >= 1, ">= 1 while streaming")
    reader.close()
    cur.close()
    conn.close()

    wait_running(idle_executor, lambda v: v == 0, "0 after the client closed the reader")
    assert_idle(idle_executor)
    conn = tavana.connect()
    try:
        assert query_table(conn, "SELECT 2 AS ok").to_pylist() == [{"ok": 2}]
    finally:
        conn.close()


# The CPU-bound cases run on a private cluster: if the executor failed to
# interrupt the query, it would keep both cores busy for the rest of the session.


def test_client_deadline_interrupts_cpu_bound_query(cluster_factory):
    """A query still computing (no batch yet) is interrupted when the call is cancelled."""
    tavana = cluster_factory()
    idle_executor = tavana.executor
    client, short = tavana.flight_client(timeout=3.0)
    try:
        info = client.get_flight_info(
            flight.FlightDescriptor.for_command(statement_query_command(HUGE_AGGREGATE)),
            short,
        )
        started = time.monotonic()
        with pytest.raises(flight.FlightError):
            client.do_get(info.endpoints[0].ticket, short).read_all()
        assert time.monotonic() - started < 30, "deadline was not honoured"
    finally:
        client.close()

    wait_running(idle_executor, lambda v: v == 0, "0 after the call's deadline")
    assert_idle(idle_executor)


def test_adbc_cancel_interrupts_query(cluster_factory):
    import threading

    import adbc_driver_manager

    tavana = cluster_factory()
    idle_executor = tavana.executor
    conn = tavana.connect()
    cur = conn.cursor()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            cur.execute(HUGE_AGGREGATE)
            cur.fetchall()
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        wait_running(idle_executor, lambda v: v >= 1, ">= 1 while computing")
        cur.adbc_cancel()
        worker.join(timeout=30)
        assert not worker.is_alive(), "query still running 30s after adbc_cancel()"
        assert errors, "cancelled query finished without an error"
        assert isinstance(errors[0], adbc_driver_manager.Error), repr(errors[0])
        wait_running(idle_executor, lambda v: v == 0, "0 after cancel")
        assert_idle(idle_executor)
    finally:
        for handle in (cur, conn):
            try:
                handle.close()
            except adbc_driver_manager.Error:
                pass


def _answers_within(cluster, sql: str, timeout: float) -> bool:
    """Runs `sql` on a new connection in a thread; whether it answered before `timeout` (a hang
    is a failure to report, not a test that never ends)."""
    import threading

    answered = threading.Event()

    def run() -> None:
        conn = cluster.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                cur.fetchall()
            answered.set()
        finally:
            conn.close()

    threading.Thread(target=run, daemon=True).start()
    return answered.wait(timeout)


def test_clients_that_stop_reading_do_not_stall_other_queries(cluster_factory):
    """Every query between the gateway and an executor shares one HTTP/2 connection. A client
    that stops reading a large result leaves its stream's window full of unread data; those
    windows must never add up to the connection's, or every other query, health check and
    cancel on it waits (it did, from the third paused client on)."""
    tavana = cluster_factory()
    paused = []
    try:
        for n in range(6):
            paused.append(open_paused_stream(tavana))
            assert _answers_within(tavana, "SELECT 1", 30), (
                f"SELECT 1 hung while {n + 1} clients held results unread"
            )
        wait_running(tavana.executor, lambda v: v == 6, "6 paused streams still running")
        assert tavana.gateway.metric("tavana_gateway_worker_up") == 1, "health checks get through"
    finally:
        for stream in paused:
            stream.close()
    wait_running(tavana.executor, lambda v: v == 0, "0 after the paused clients closed")


def test_a_stream_nobody_reads_ends_after_the_idle_timeout(cluster_factory):
    """With --stream-idle-timeout-secs, a client that stops reading loses its query (and its
    slots) after that long, and is told why when it reads again."""
    import adbc_driver_manager

    tavana = cluster_factory(
        extra_gateway_args=("--stream-idle-timeout-secs", "2", "--max-running-queries", "1")
    )
    gateway = tavana.gateway
    paused = open_paused_stream(tavana)
    try:
        wait_running(tavana.executor, lambda v: v == 1, "1 while the client pauses")
        wait_running(tavana.executor, lambda v: v == 0, "0 once the idle timeout stopped it")
        assert gateway.metric("tavana_gateway_idle_streams_ended_total") == 1
        # Its gateway slot is free again (the gateway runs one query at a time here).
        conn = tavana.connect()
        try:
            assert query_table(conn, "SELECT 7 AS x").to_pylist() == [{"x": 7}]
        finally:
            conn.close()
        # The paused client reads what was already on its way, then learns why it ended.
        # (pyarrow's record batch reader raises the Flight status as an OSError.)
        with pytest.raises((adbc_driver_manager.Error, OSError)) as ended:
            for _ in range(100_000):
                paused.reader.read_next_batch()
        assert "TAVANA_STREAM_IDLE_TIMEOUT_SECS" in str(ended.value), str(ended.value)
    finally:
        try:
            paused.close()
        except Exception:  # noqa: BLE001 - the stream already failed
            pass


def test_a_long_computation_is_not_an_idle_stream(cluster_factory):
    """The timeout counts only time the client leaves data unread, not time the executor
    computes before its first row."""
    tavana = cluster_factory(extra_gateway_args=("--stream-idle-timeout-secs", "1"))
    conn = tavana.connect()
    try:
        started = time.monotonic()
        rows = query_table(conn, "SELECT count(*) AS n FROM range(600000000) t(i) WHERE i % 7 = 3")
        assert rows.to_pylist() == [{"n": 85714286}]
        assert time.monotonic() - started > 1.5, "too quick to show anything"
    finally:
        conn.close()
    assert tavana.gateway.metric("tavana_gateway_idle_streams_ended_total") == 0
