"""PostgreSQL clients that hold a cursor open without fetching do not stall the others.

The pg-adapter reaches the gateway over one HTTP/2 connection for all its clients, and fetches
cursor-sized batches as each client asks (DECLARE/FETCH, a portal's `max_rows`). A client that
stops fetching leaves its result stream's window full of unread data; those windows must never
add up to the connection's window, or every other client's query waits.
"""

from __future__ import annotations

import threading

import psycopg


def _answers_within(pg, sql: str, timeout: float) -> bool:
    answered = threading.Event()

    def run() -> None:
        with psycopg.connect(pg.dsn(), autocommit=True) as conn:
            conn.execute(sql).fetchall()
            answered.set()

    threading.Thread(target=run, daemon=True).start()
    return answered.wait(timeout)


def test_open_cursors_that_are_not_fetched_do_not_stall_other_clients(pg):
    held = []
    try:
        for n in range(6):
            conn = psycopg.connect(pg.dsn())
            # A named cursor is DECLARE ... CURSOR + FETCH: the adapter streams on demand.
            cur = conn.cursor(name=f"paused_{n}")
            cur.itersize = 1000
            cur.execute("SELECT i, repeat('x', 200) AS pad FROM range(100000000) t(i)")
            assert len(cur.fetchmany(1000)) == 1000
            held.append((conn, cur))
            assert _answers_within(pg, "SELECT 1", 30), (
                f"SELECT 1 hung while {n + 1} clients held cursors unread"
            )
    finally:
        for conn, cur in held:
            cur.close()
            conn.close()
    assert _answers_within(pg, "SELECT 2", 30)
