"""The adapter's connections as PostgreSQL shows its backends: `pg_backend_pid()` is the pid the
client was given (libpq's `backend_pid`, the one its CancelRequest carries), `pg_stat_activity`
lists the adapter's connections with what they run, and `pg_cancel_backend` /
`pg_terminate_backend` stop another connection's query or end it, for its own user only."""

from __future__ import annotations

import threading
import time

import pytest

from tavana_harness import wait_running_queries as wait_running

LONG_QUERY = "SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3"


def connect(pg, **extra):
    import psycopg

    return psycopg.connect(pg.dsn(**extra), autocommit=True)


def run_in_background(conn, sql):
    """Runs `sql` on `conn` in a thread; returns (thread, errors)."""
    errors: list[BaseException] = []

    def run():
        try:
            conn.execute(sql).fetchall()
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            errors.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def activity(conn, pid):
    return conn.execute(
        "SELECT state, query, application_name, usename FROM pg_stat_activity WHERE pid = %s", [pid]
    ).fetchone()


def wait_state(conn, pid, state):
    deadline = time.monotonic() + 30
    while (row := activity(conn, pid)) is None or row[0] != state:
        if time.monotonic() > deadline:
            pytest.fail(f"backend {pid} never reached state {state!r}: {row}")
        time.sleep(0.05)
    return row


def test_backend_pid_is_the_pid_the_client_was_given(pg):
    with connect(pg) as a, connect(pg) as b:
        assert a.info.backend_pid != b.info.backend_pid
        cur = a.execute("SELECT pg_backend_pid()")
        assert cur.description[0].name == "pg_backend_pid"
        assert cur.fetchone() == (a.info.backend_pid,)
        assert b.execute("SELECT pg_catalog.pg_backend_pid()").fetchone() == (b.info.backend_pid,)


def test_pg_stat_activity_shows_running_and_idle_connections(pg):
    with connect(pg, application_name="report") as a, connect(pg, application_name="watcher") as b:
        a.execute("SELECT 41 + 1").fetchone()
        idle = activity(b, a.info.backend_pid)
        assert idle == ("idle", "SELECT 41 + 1", "report", pg.user)
        thread, errors = run_in_background(a, LONG_QUERY)
        running = wait_state(b, a.info.backend_pid, "active")
        assert running[1] == LONG_QUERY
        # The watcher sees itself running the query it sends, as in PostgreSQL.
        me = b.execute(
            "SELECT state, query, backend_type, client_addr, backend_start <= now() "
            "FROM pg_catalog.pg_stat_activity WHERE pid = pg_backend_pid()"
        ).fetchone()
        assert me[0] == "active" and "pg_stat_activity" in me[1]
        assert me[2:] == ("client backend", "127.0.0.1", True)
        # A statement kept prepared (psycopg prepares from the fifth run) reads the connections
        # as they are when it runs, not as they were when it was prepared.
        for _ in range(6):
            assert activity(b, a.info.backend_pid)[0] == "active"
        assert b.execute("SELECT pg_cancel_backend(%s)", [a.info.backend_pid]).fetchone() == (True,)
        thread.join(30)
        assert not thread.is_alive()
        for _ in range(6):
            state = activity(b, a.info.backend_pid)[0]
        assert state == "idle"


def test_pg_stat_activity_hides_other_users_queries(pg):
    with connect(pg) as mine, connect(pg, user="bob", password=pg.cluster.other_users["bob"]) as bobs:
        bobs.execute("SELECT 'bob''s secret'").fetchone()
        rows = mine.execute(
            "SELECT usename, state, query FROM pg_stat_activity WHERE pid = %s", [bobs.info.backend_pid]
        ).fetchall()
        assert rows == [("bob", None, "<insufficient privilege>")]


def test_pg_cancel_backend_stops_another_connections_query(pg):
    import psycopg

    executor = pg.cluster.executor
    with connect(pg) as a, connect(pg) as b:
        thread, errors = run_in_background(a, LONG_QUERY)
        wait_state(b, a.info.backend_pid, "active")
        wait_running(executor, lambda v: v >= 1, ">= 1 while running")
        cur = b.execute("SELECT pg_cancel_backend(%s)", [a.info.backend_pid])
        assert cur.description[0].name == "pg_cancel_backend"
        assert cur.fetchone() == (True,)
        thread.join(30)
        assert len(errors) == 1 and isinstance(errors[0], psycopg.errors.QueryCanceled), errors
        wait_running(executor, lambda v: v == 0, "0 after pg_cancel_backend")
        # The cancelled connection keeps working; a pid that is no connection gives false.
        assert a.execute("SELECT 42").fetchone() == (42,)
        assert b.execute("SELECT pg_cancel_backend(1)").fetchone() == (False,)
    metrics = pg.process.metrics()
    for outcome in ("sent", "no_such_backend"):
        line = f'tavana_pg_adapter_backend_signals_total{{outcome="{outcome}",signal="pg_cancel_backend"}}'
        assert any(m.startswith(line) and float(m.split()[-1]) >= 1 for m in metrics.splitlines()), metrics


def test_pg_terminate_backend_ends_another_connection(pg):
    import psycopg

    with connect(pg) as a, connect(pg) as b, connect(pg) as idle:
        thread, errors = run_in_background(a, LONG_QUERY)
        wait_state(b, a.info.backend_pid, "active")
        assert b.execute("SELECT pg_terminate_backend(%s)", [a.info.backend_pid]).fetchone() == (True,)
        thread.join(30)
        assert len(errors) == 1 and isinstance(errors[0], psycopg.errors.AdminShutdown), errors
        assert errors[0].sqlstate == "57P01"
        # An idle connection is closed too, and told why as PostgreSQL tells it.
        assert b.execute(f"SELECT pg_terminate_backend({idle.info.backend_pid})").fetchone() == (True,)
        time.sleep(1)  # past the close's grace: the FATAL is written to the idle socket
        with pytest.raises(psycopg.errors.AdminShutdown) as closed:
            idle.execute("SELECT 1")
        assert "terminating connection due to administrator command" in str(closed.value)
        with pytest.raises(psycopg.OperationalError):
            a.execute("SELECT 1")
        deadline = time.monotonic() + 10
        while b.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid IN (%s, %s)",
            [a.info.backend_pid, idle.info.backend_pid],
        ).fetchone() != (0,):
            assert time.monotonic() < deadline, "terminated connections are still listed"
            time.sleep(0.05)


def test_signals_are_refused_for_other_users_and_inside_queries(pg):
    import psycopg

    with connect(pg) as mine, connect(pg, user="bob", password=pg.cluster.other_users["bob"]) as bobs:
        for function in ("pg_cancel_backend", "pg_terminate_backend"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
                mine.execute(f"SELECT {function}(%s)", [bobs.info.backend_pid])
            assert "bob" in str(refused.value)
        assert bobs.execute("SELECT 1").fetchone() == (1,)
        with pytest.raises(psycopg.errors.FeatureNotSupported) as inside:
            mine.execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE usename = 'x'")
        assert "SELECT pg_cancel_backend(<pid>)" in str(inside.value)


def test_psql_lists_and_cancels_backends(pg):
    """psql: the simple protocol, literal pids."""
    import subprocess

    with connect(pg, application_name="victim") as victim:
        out = subprocess.run(
            ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", pg.url(),
             "-c", "SELECT application_name, state FROM pg_stat_activity WHERE application_name = 'victim'",
             "-c", f"SELECT pg_cancel_backend({victim.info.backend_pid})"],
            capture_output=True, text=True, timeout=60, env=pg.env(),
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == ["victim|idle", "t"]
