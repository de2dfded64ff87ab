"""Process-level behaviour, each test on its own private cluster.

Executor death mid-stream and before a query, routing across several
executors, and graceful shutdown on SIGTERM.
"""

from __future__ import annotations

import re
import signal
import time
import urllib.error
import urllib.request

import pyarrow.flight as flight
import pytest

from flight_proto import statement_query_command
from tavana_harness import wait_for

HUGE_STREAM = "SELECT * FROM range(1000000000) t(i)"


def _descriptor(sql: str) -> flight.FlightDescriptor:
    return flight.FlightDescriptor.for_command(statement_query_command(sql))


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def test_executor_death_mid_stream_is_an_error_not_a_short_result(cluster_factory):
    cluster = cluster_factory()
    client, options = cluster.flight_client()
    try:
        info = client.get_flight_info(_descriptor(HUGE_STREAM), options)
        reader = client.do_get(info.endpoints[0].ticket, options)
        rows = reader.read_chunk().data.num_rows
        cluster.executor.kill()
        # Drain what was already relayed; the end must be an error status.
        with pytest.raises(flight.FlightError):
            while True:
                try:
                    rows += reader.read_chunk().data.num_rows
                except StopIteration:
                    pytest.fail(f"stream ended cleanly after {rows} rows: a short result")
    finally:
        client.close()


def test_a_long_query_logs_its_progress(cluster_factory):
    """A query running longer than --progress-log-secs gets an INFO line each period: its id,
    how long it has run and how many rows it has sent (here, a stream the client reads slowly,
    held by backpressure)."""
    cluster = cluster_factory(extra_executor_args=("--progress-log-secs", "1"))
    client, options = cluster.flight_client()
    log = cluster.executor.log_path
    try:
        info = client.get_flight_info(_descriptor(HUGE_STREAM), options)
        reader = client.do_get(info.endpoints[0].ticket, options)
        reader.read_chunk()
        wait_for(lambda: "query running" in log.read_text(), "a progress line in the executor log", timeout=15)
    finally:
        client.close()
    line = [l for l in log.read_text().splitlines() if "query running" in l][-1]
    assert re.search(r"query_id=\S+", line), line
    assert re.search(r"elapsed_s=[1-9]", line), line
    assert re.search(r"rows_sent=[1-9]", line), line


def test_executor_gone_is_unavailable(cluster_factory):
    cluster = cluster_factory()
    cluster.executor.kill()
    client, options = cluster.flight_client()
    try:
        with pytest.raises(flight.FlightUnavailableError):
            info = client.get_flight_info(_descriptor("SELECT 1"), options)
            client.do_get(info.endpoints[0].ticket, options).read_all()
    finally:
        client.close()


def test_gateway_not_ready_without_executors(cluster_factory):
    cluster = cluster_factory()
    assert _status(cluster.gateway_admin + "/readyz") == 200
    cluster.executor.kill()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _status(cluster.gateway_admin + "/readyz") != 200:
            break
        time.sleep(0.2)
    else:
        pytest.fail("gateway still ready 30s after its only executor died")
    assert _status(cluster.gateway_admin + "/healthz") == 200, "liveness should not depend on executors"


def _streams_per_executor(cluster, tickets_first: bool, streams: int) -> tuple:
    """Starts `streams` huge streams (all tickets first, or each stream right after its
    ticket) and returns the executors' running-query gauges once they settle on an even
    split (or after 15 s), then cancels the streams."""
    a, b = cluster.executors
    client, options = cluster.flight_client()
    readers = []
    even = (streams // 2, streams // 2)
    try:
        infos = []
        for _ in range(streams):
            infos.append(client.get_flight_info(_descriptor(HUGE_STREAM), options))
            if not tickets_first:
                readers.append(client.do_get(infos.pop().endpoints[0].ticket, options))
                readers[-1].read_chunk()
        for info in infos:
            readers.append(client.do_get(info.endpoints[0].ticket, options))
            readers[-1].read_chunk()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            loads = (a.metric("tavana_executor_running_queries"),
                     b.metric("tavana_executor_running_queries"))
            if loads == even:
                break
            time.sleep(0.1)
        return loads
    finally:
        for reader in readers:
            reader.cancel()
        client.close()


def test_queries_go_to_least_loaded_executor(cluster_factory):
    loads = _streams_per_executor(cluster_factory(executors=2), tickets_first=False, streams=2)
    assert loads == (1, 1), f"two streams should land on two executors, loads: {loads}"


def test_a_burst_of_tickets_spreads_over_executors(cluster_factory):
    """Tickets handed out before any stream starts (no load to compare yet) still name
    different executors: four GetFlightInfo calls, then their four streams, two per executor."""
    loads = _streams_per_executor(cluster_factory(executors=2), tickets_first=True, streams=4)
    assert loads == (2, 2), f"four tickets should name both executors evenly, loads: {loads}"


@pytest.mark.parametrize("role", ["gateway", "executor"])
def test_sigterm_exits_cleanly(cluster_factory, role):
    cluster = cluster_factory()
    proc = cluster.gateway if role == "gateway" else cluster.executor
    started = time.monotonic()
    code = proc.stop(signal.SIGTERM, timeout=30)
    took = time.monotonic() - started
    assert code == 0, f"tavana {role} exited with {code} on SIGTERM"
    assert took < 30, f"tavana {role} took {took:.1f}s to stop while idle"


def test_sigterm_lets_running_stream_finish(cluster_factory):
    """Graceful shutdown: a short stream already running completes normally."""
    cluster = cluster_factory()
    client, options = cluster.flight_client()
    try:
        info = client.get_flight_info(_descriptor("SELECT * FROM range(3000000) t(i)"), options)
        reader = client.do_get(info.endpoints[0].ticket, options)
        rows = reader.read_chunk().data.num_rows
        cluster.gateway.popen.send_signal(signal.SIGTERM)
        for chunk in reader:
            rows += chunk.data.num_rows
        assert rows == 3_000_000
    finally:
        client.close()
    assert cluster.gateway.popen.wait(timeout=30) == 0
