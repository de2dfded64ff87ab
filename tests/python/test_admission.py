"""Admission at the gateway: a bounded number of queries stream at once, and at most
`--max-running-queries-per-user` per user; the rest queue, and are refused with
RESOURCE_EXHAUSTED (SQLSTATE 53300 through the pg-adapter) after the queue timeout. A user at
their limit waits without taking a gateway slot, so other users are not held up."""

from __future__ import annotations

import threading
import time

import adbc_driver_manager
import psycopg
import pytest

from pg.conftest import start_pg_adapter
from tavana_harness import HUGE_STREAM, open_paused_stream, wait_for, wait_running_queries

def _scalar(cluster, sql, user=None, password=None):
    conn = cluster.connect(user=user, password=password)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()[0][0]
    finally:
        conn.close()


def test_a_user_at_their_limit_queues_while_others_run(cluster_factory):
    cluster = cluster_factory(
        extra_gateway_args=(
            "--max-running-queries", "3",
            "--max-running-queries-per-user", "2",
            "--queue-timeout-secs", "2",
        )
    )
    bob, bob_password = next(iter(cluster.other_users.items()))
    gateway = cluster.gateway
    mine = [open_paused_stream(cluster), open_paused_stream(cluster)]
    try:
        wait_running_queries(cluster.executor, lambda v: v == 2, "alice's two streams")
        # Alice's third query waits for one of her own slots, not for the gateway's third.
        waited = {}

        def third() -> None:
            started = time.monotonic()
            try:
                _scalar(cluster, "SELECT 3")
            except adbc_driver_manager.Error as error:
                waited["error"] = error
            waited["seconds"] = time.monotonic() - started

        thread = threading.Thread(target=third, daemon=True)
        thread.start()
        wait_for(lambda: gateway.metric("tavana_gateway_user_queued_queries") == 1, "alice's third queues", 10)
        assert gateway.metric("tavana_gateway_queued_queries") == 0, "a user's wait is not the gateway's"
        # Bob is not held up: the gateway still has a slot.
        assert _scalar(cluster, "SELECT 42", bob, bob_password) == 42
        thread.join(30)
        assert "error" in waited, "alice's third query ran beyond her limit"
        message = str(waited["error"])
        assert "ResourceExhausted" in message, message  # the gRPC status, as ADBC reports it
        assert "already runs 2 queries at once" in message and "alice" in message, message
        text = gateway.metrics()
        assert 'tavana_gateway_queue_timeouts_total{limit="user"} 1' in text, text
        # Once one of hers ends, her next query runs.
        mine.pop().close()
        assert _scalar(cluster, "SELECT 4") == 4
    finally:
        for opened in mine:
            opened.close()


def test_a_queued_query_runs_as_soon_as_its_user_has_room(cluster_factory):
    cluster = cluster_factory(
        extra_gateway_args=("--max-running-queries-per-user", "1", "--queue-timeout-secs", "30")
    )
    first = open_paused_stream(cluster)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", _scalar(cluster, "SELECT 7")), daemon=True)
    try:
        thread.start()
        wait_for(lambda: cluster.gateway.metric("tavana_gateway_user_queued_queries") == 1, "queued", 10)
        assert "value" not in result
    finally:
        first.close()
    thread.join(30)
    assert result.get("value") == 7
    assert cluster.gateway.metric("tavana_gateway_user_queued_queries") == 0


def test_postgres_clients_get_53300_at_their_user_limit(cluster_factory, tmp_path):
    cluster = cluster_factory(
        extra_gateway_args=("--max-running-queries-per-user", "1", "--queue-timeout-secs", "1")
    )
    adapter = start_pg_adapter(cluster, tmp_path / "pg")
    held = psycopg.connect(adapter.dsn())
    try:
        cur = held.cursor(name="held")
        cur.execute(HUGE_STREAM)
        assert len(cur.fetchmany(10)) == 10
        wait_running_queries(cluster.executor, lambda v: v == 1, "the held cursor's stream")
        with psycopg.connect(adapter.dsn(), autocommit=True) as second:
            with pytest.raises(psycopg.Error) as err:
                second.execute("SELECT 42").fetchall()
            assert err.value.sqlstate == "53300", (err.value.sqlstate, str(err.value))
            assert "TAVANA_MAX_RUNNING_QUERIES_PER_USER" in str(err.value)
        # Another user is not affected.
        bob, bob_password = next(iter(cluster.other_users.items()))
        with psycopg.connect(adapter.dsn(user=bob, password=bob_password), autocommit=True) as other:
            assert other.execute("SELECT 43").fetchone() == (43,)
    finally:
        held.close()
        adapter.process.kill()
        adapter.process.retired = True


def test_a_client_that_gives_up_in_the_queue_leaves_it(cluster_factory):
    """The queue gauge is the scaler's demand signal: a query whose client cancels while it
    waits must leave it (it stayed counted for good before)."""
    import pyarrow.flight as flight

    from flight_proto import statement_query_command

    cluster = cluster_factory(extra_gateway_args=("--max-running-queries", "1", "--queue-timeout-secs", "60"))
    gateway = cluster.gateway
    held = open_paused_stream(cluster)
    try:
        client, impatient = cluster.flight_client(timeout=1.0)
        info = client.get_flight_info(
            flight.FlightDescriptor.for_command(statement_query_command("SELECT 5")), impatient
        )
        with pytest.raises(flight.FlightError):
            client.do_get(info.endpoints[0].ticket, impatient).read_all()
        client.close()
        wait_for(lambda: gateway.metric("tavana_gateway_queued_queries") == 0, "the queue is empty again", 10)
    finally:
        held.close()
    assert _scalar(cluster, "SELECT 6") == 6
