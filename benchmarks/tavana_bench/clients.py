"""The peers as a client sees them, behind one small interface.

A `Peer` names a server (or in-process DuckDB), how to reach it and how its SQL
names the `lineitem` data; `open_client(peer)` gives a connection with `fetch_large`
(the whole result, as the client would really consume it) and `fetch_small`.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .peers import PASSWORD, USER


@dataclass
class Peer:
    key: str  # stable id: duckdb, tavana-flight, roapi-flight, tavana-pg, postgres, roapi-pg, ...
    name: str  # display name
    kind: str  # duckdb | adbc | psycopg
    target: str = ""  # grpc:// URI or libpq DSN
    lineitem: str = "lineitem"  # FROM-clause text naming the large table
    auth: bool = True
    error: Optional[str] = None  # why it is not available in this run
    extra: dict = field(default_factory=dict)  # "setup": SQL an in-process DuckDB runs first

    @property
    def available(self) -> bool:
        return self.error is None

    def psql_env(self) -> dict[str, str]:
        parts = dict(p.split("=", 1) for p in self.target.split())
        return {
            "PGHOST": parts["host"], "PGPORT": parts["port"], "PGUSER": parts.get("user", USER),
            "PGPASSWORD": parts.get("password", PASSWORD), "PGDATABASE": parts.get("dbname", "postgres"),
            "PGSSLMODE": "disable", "PGCONNECT_TIMEOUT": "10",
        }


class Client:
    def fetch_large(self, sql: str) -> tuple[int, int]:
        """Runs `sql` and consumes the whole result; returns (rows, bytes as Arrow or 0)."""
        raise NotImplementedError

    #: How `sql` given to `fetch_small` with `params` marks a placeholder.
    placeholder = "?"

    def fetch_small(self, sql: str, params: Optional[tuple] = None) -> list[tuple]:
        """Runs `sql`, with `params` bound to its placeholders when given, and returns its rows."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class DuckDBClient(Client):
    """In-process DuckDB: the engine's own limit (no network, no serialisation)."""

    def __init__(self, extension_dir: Path, threads: int, memory_gb: int, setup: str = "") -> None:
        from .data import local_duckdb

        # The executor's engine settings, its caches included.
        self.con = local_duckdb(extension_dir, threads=threads, memory_gb=memory_gb,
                                executor_caches=True)
        if setup:
            self.con.execute(setup)

    def fetch_large(self, sql: str) -> tuple[int, int]:
        table = self.con.execute(sql).to_arrow_table()
        return table.num_rows, table.nbytes

    def fetch_small(self, sql: str, params: Optional[tuple] = None) -> list[tuple]:
        return self.con.execute(sql, params).fetchall()

    def close(self) -> None:
        self.con.close()


class AdbcClient(Client):
    """ADBC Flight SQL (the Go driver inside the wheel)."""

    def __init__(self, uri: str, auth: bool) -> None:
        import adbc_driver_flightsql.dbapi as flightsql

        db_kwargs = {"username": USER, "password": PASSWORD} if auth else {}
        self.conn = flightsql.connect(uri, db_kwargs=db_kwargs, autocommit=True)
        self.cur = self.conn.cursor()

    def fetch_large(self, sql: str) -> tuple[int, int]:
        self.cur.execute(sql)
        table = self.cur.fetch_arrow_table()
        return table.num_rows, table.nbytes

    def fetch_small(self, sql: str, params: Optional[tuple] = None) -> list[tuple]:
        self.cur.execute(sql, params)
        return self.cur.fetchall()

    def close(self) -> None:
        try:
            self.cur.close()
        finally:
            self.conn.close()


class PsycopgClient(Client):
    """psycopg 3 (the C implementation from `psycopg[binary]`)."""

    def __init__(self, dsn: str, binary: bool = False) -> None:
        import psycopg

        self.conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
        self.binary = binary
        self.cur = self.conn.cursor(binary=binary)

    def fetch_large(self, sql: str) -> tuple[int, int]:
        # Rows arrive in chunks of 10,000 (libpq chunked-rows mode), each converted to
        # Python values and dropped: memory stays bounded on the client for any size.
        rows = 0
        for _ in self.cur.stream(sql, binary=self.binary, size=10_000):
            rows += 1
        return rows, 0

    placeholder = "%s"

    def fetch_small(self, sql: str, params: Optional[tuple] = None) -> list[tuple]:
        # With parameters: the extended protocol, the statement prepared by its fifth run
        # (psycopg's default prepare_threshold), as an application would see it.
        self.cur.execute(sql, params)
        return self.cur.fetchall()

    def close(self) -> None:
        self.conn.close()


def open_client(peer: Peer, *, binary: bool = False, extension_dir: Optional[Path] = None,
                threads: int = 2, memory_gb: int = 8) -> Client:
    if peer.kind == "duckdb":
        assert extension_dir is not None
        return DuckDBClient(extension_dir, threads, memory_gb, setup=peer.extra.get("setup", ""))
    if peer.kind == "adbc":
        return AdbcClient(peer.target, peer.auth)
    if peer.kind == "psycopg":
        return PsycopgClient(peer.target, binary=binary)
    raise ValueError(peer.kind)


def psql_copy(peer: Peer, sql: str, timeout: float = 900) -> tuple[int, int]:
    """`psql -c "COPY (...) TO STDOUT" | wc -lc`: returns (lines, bytes) of the COPY stream.

    `wc` counts at memory speed (a fraction of a CPU second per GB), the same for every peer.
    """
    env = dict(os.environ)
    env.update(peer.psql_env())
    psql = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert psql.stdout is not None
    wc = subprocess.Popen(["wc", "-lc"], stdin=psql.stdout, stdout=subprocess.PIPE)
    psql.stdout.close()  # wc holds the pipe now: psql gets SIGPIPE if wc dies
    try:
        counted, _ = wc.communicate(timeout=timeout)
        err = psql.stderr.read() if psql.stderr else b""
        rc = psql.wait(timeout=60)
    except subprocess.TimeoutExpired:
        psql.kill()
        wc.kill()
        raise
    finally:
        if psql.stderr:
            psql.stderr.close()
    if rc != 0 or err.strip():
        raise RuntimeError(f"psql exit {rc}: {err.decode(errors='replace').strip()}")
    lines, nbytes = (int(x) for x in counted.split()[:2])
    return lines, nbytes
