"""Session statements that change what later queries see: search_path (the gateway session's
schema, so unqualified names resolve on every executor) and per-session object-store
credentials (routed to the gateway, which keeps them in the session)."""

from __future__ import annotations

import pytest


def test_search_path_resolves_unqualified_names(pg_lake):
    import psycopg

    with psycopg.connect(pg_lake.pg.dsn(), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute("SELECT id FROM orders")
        conn.execute("SET search_path TO sales, public")
        assert conn.execute("SHOW search_path").fetchone() == ("sales, public",)
        assert conn.execute("SELECT id, name FROM orders").fetchall() == [(1, "first")]
        # Catalog queries keep working inside the schema.
        assert conn.execute("SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = 'sales'").fetchone() == (1,)
        # A schema that does not exist is skipped, as in PostgreSQL.
        conn.execute("SET search_path = nowhere, sales")
        assert conn.execute("SELECT count(*) FROM lineitem").fetchone()[0] > 0
        conn.execute("RESET search_path")
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute("SELECT id FROM orders")


def test_pgjdbc_style_set_schema(pg_lake):
    """pgJDBC's Connection.setSchema sends SET SESSION search_path TO '<schema>'."""
    import psycopg

    with psycopg.connect(pg_lake.pg.dsn(), autocommit=True) as conn:
        conn.execute("SET SESSION search_path TO 'sales'")
        assert conn.execute("SELECT id FROM v").fetchall() == [(1,)]
        conn.execute("DISCARD ALL")
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute("SELECT id FROM v")


def test_credential_statements_reach_the_gateway(pg):
    import psycopg

    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        cur = conn.execute("SET s3_region = 'us-east-1'")
        assert cur.statusmessage == "SET"
        # The executor validates session secrets: an unknown parameter is refused there,
        # which shows the statement was not answered by the adapter.
        with pytest.raises(psycopg.Error) as err:
            conn.execute("CREATE SECRET (TYPE s3, KEY_ID 'a', SECRET 'b', BOGUS 'x')")
        assert "BOGUS" in str(err.value)
        assert "'b'" not in str(err.value)
        cur = conn.execute("CREATE SECRET session_key (TYPE s3, KEY_ID 'a', SECRET 'b')")
        assert cur.statusmessage == "CREATE SECRET"
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_closed_connection_closes_its_gateway_session(pg):
    """Each PostgreSQL connection has a gateway session; when the client goes (cleanly or by
    dropping the socket), the adapter closes it, so the gateway does not keep sessions for
    hours (its idle limit) after a connection-per-request client."""
    import os
    import socket

    import psycopg

    from tavana_harness import wait_for

    gateway = pg.cluster.gateway
    before = gateway.metric("tavana_gateway_sessions")
    conns = [psycopg.connect(pg.dsn(), autocommit=True) for _ in range(20)]
    for conn in conns:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    # (Not `before + 20`: a session counted in `before` may be closing as this runs.)
    assert gateway.metric("tavana_gateway_sessions") >= 20
    for conn in conns[:10]:
        conn.close()
    for conn in conns[10:]:
        # No Terminate message: the connection is shut down under libpq (on a duplicate of its
        # descriptor, so libpq still closes its own), as when a client process dies.
        dropped = socket.socket(fileno=os.dup(conn.pgconn.socket))
        dropped.shutdown(socket.SHUT_RDWR)
        dropped.close()
        conn.pgconn.finish()
    wait_for(
        lambda: gateway.metric("tavana_gateway_sessions") <= before,
        "the gateway sessions of closed connections to be closed",
        timeout=10,
    )
