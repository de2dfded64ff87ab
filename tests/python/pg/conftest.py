"""PostgreSQL adapter fixtures: a real `tavana pg-adapter` process on port 0 in front of the
session's executor + gateway (the ``tavana`` fixture of the parent conftest)."""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest



def _root_conftest():
    """The parent conftest module (tests/python/conftest.py). Both files are named conftest, so
    `import conftest` here would find this file; look the parent up by path instead."""
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[1] / "conftest.py"
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) and Path(module.__file__).resolve() == path:
            return module
    spec = importlib.util.spec_from_file_location("tavana_root_conftest", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_root = _root_conftest()
Cluster = _root.Cluster
Process = _root.Process


@dataclass
class PgAdapter:
    process: Process
    user: str
    password: str
    # The executors and gateway behind it (`cluster.executor.admin_url` is the executor's
    # admin address: /metrics, /readyz).
    cluster: Cluster

    @property
    def host(self) -> str:
        return self.process.listen.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.process.listen.rsplit(":", 1)[1])

    def dsn(self, **extra) -> str:
        parts = {
            "host": self.host,
            "port": str(self.port),
            "user": self.user,
            "password": self.password,
            "dbname": "tavana",
            "sslmode": "disable",
        }
        parts.update({k: str(v) for k, v in extra.items()})
        return " ".join(f"{k}={v}" for k, v in parts.items())

    def url(self, scheme: str = "postgresql") -> str:
        return f"{scheme}://{self.user}:{self.password}@{self.host}:{self.port}/tavana"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            PGHOST=self.host,
            PGPORT=str(self.port),
            PGUSER=self.user,
            PGPASSWORD=self.password,
            PGDATABASE="tavana",
            PGSSLMODE="disable",
        )
        return env


def start_pg_adapter(cluster: Cluster, workdir: Path, *extra: str) -> PgAdapter:
    workdir.mkdir(parents=True, exist_ok=True)
    proc = Process(
        role="pg-adapter",
        args=[
            "--host", "127.0.0.1",
            "--pg-port", "0",
            "--admin-port", "0",
            # A caller's own --gateway-addr (https, say) replaces the default.
            *([] if any(arg.startswith("--gateway-addr") for arg in extra)
              else ["--gateway-addr", f"http://{cluster.flight_uri.split('://', 1)[-1]}"]),
            *cluster.users_args(),
            *extra,
        ],
        workdir=workdir,
        env=dict(cluster.gateway.env),
    )
    proc.start()
    try:
        proc.wait_ready()
    except BaseException:
        proc.kill()
        raise
    return PgAdapter(process=proc, user=cluster.user, password=cluster.password, cluster=cluster)


@contextlib.contextmanager
def private_pg_adapter(cluster: Cluster, workdir: Path, *extra: str) -> Iterator[PgAdapter]:
    """An adapter of the test's own in front of `cluster`, killed when the block ends."""
    adapter = start_pg_adapter(cluster, workdir, *extra)
    try:
        yield adapter
    finally:
        adapter.process.kill()
        adapter.process.retired = True


@pytest.fixture(scope="session")
def pg(tavana, tmp_path_factory) -> Iterator[PgAdapter]:
    adapter = start_pg_adapter(tavana, tmp_path_factory.mktemp("pg-adapter"))
    try:
        yield adapter
    finally:
        adapter.process.stop()
        adapter.process.retired = True


@pytest.fixture
def pg_factory(tavana, tmp_path) -> Iterator:
    """Private adapters with extra flags (TLS, cleartext...)."""
    started: list[PgAdapter] = []

    def factory(*extra: str) -> PgAdapter:
        a = start_pg_adapter(tavana, tmp_path / f"pg{len(started)}-{secrets.token_hex(2)}", *extra)
        started.append(a)
        return a

    yield factory
    for a in started:
        a.process.kill()
        a.process.retired = True


# The catalog the catalog tests and client replays browse: a schema with a table of the usual
# types, a view, and a lake table (a view over Parquet, as the lake catalog creates them).
LAKE_SETUP = [
    "CREATE SCHEMA sales",
    "CREATE TABLE sales.orders (id INTEGER PRIMARY KEY, name VARCHAR, amount DECIMAL(10,2), "
    "day DATE, ts TIMESTAMP, tstz TIMESTAMPTZ, flag BOOLEAN, big BIGINT, small SMALLINT, "
    "d DOUBLE, r REAL, t TEXT, b BLOB)",
    "INSERT INTO sales.orders VALUES (1, 'first', 12.50, DATE '2024-01-01', "
    "TIMESTAMP '2024-01-01 10:00:00', TIMESTAMPTZ '2024-01-01 10:00:00+00', true, 10, 1, 1.5, "
    "2.5, 'text', '\\x01'::BLOB)",
    "CREATE VIEW sales.v AS SELECT id, name FROM sales.orders",
    "CREATE VIEW sales.lineitem AS SELECT * FROM read_parquet('{tpch}/lineitem.parquet')",
    "COMMENT ON TABLE sales.orders IS 'Orders from the lake'",
    "COMMENT ON COLUMN sales.orders.amount IS 'Order total'",
    "CREATE TABLE sales.types (i8 TINYINT, u8 UTINYINT, u16 USMALLINT, u32 UINTEGER, "
    "u64 UBIGINT, i128 HUGEINT, dec38 DECIMAL(38,10), f FLOAT, ts_ms TIMESTAMP_MS, "
    "tm TIME, iv INTERVAL, id UUID, js JSON, ints INTEGER[], strs VARCHAR[], "
    "nested INTEGER[][], rec STRUCT(a INTEGER, b VARCHAR), m MAP(VARCHAR, INTEGER))",
]


@dataclass
class LakeCatalog:
    """A private cluster whose executor allows writes, with LAKE_SETUP applied."""

    cluster: Cluster
    pg: PgAdapter


@pytest.fixture(scope="session")
def pg_lake(data, tmp_path_factory) -> Iterator[LakeCatalog]:
    import psycopg

    work = tmp_path_factory.mktemp("pg-lake")
    cluster = _root.start_cluster(
        work / "cluster", data["data_dir"], data, extra_executor_args=("--allow-writes",)
    )
    adapter = None
    try:
        adapter = start_pg_adapter(cluster, work / "pg-adapter")
        with psycopg.connect(adapter.dsn(), autocommit=True) as conn:
            for statement in LAKE_SETUP:
                conn.execute(statement.replace("{tpch}", str(data["tpch_dir"])))
        yield LakeCatalog(cluster=cluster, pg=adapter)
    finally:
        if adapter is not None:
            adapter.process.stop()
            adapter.process.retired = True
        cluster.retire()


@pytest.fixture
def pgconn(pg):
    import psycopg

    conn = psycopg.connect(pg.dsn(), autocommit=True)
    try:
        yield conn
    finally:
        conn.close()
