"""Lake tables through the PostgreSQL adapter with the real psql: rows, time travel,
and the catalog in \\dt and information_schema."""

from __future__ import annotations

import subprocess
from typing import Iterator

import pytest

import lake_data
from lake_settings import catalog_text
from tavana_harness import Process, wait_for


@pytest.fixture(scope="module")
def pg(lake_cluster, tmp_path_factory) -> Iterator[dict[str, str]]:
    cluster = lake_cluster.cluster
    proc = Process(
        role="pg-adapter",
        args=[
            "--host", "127.0.0.1",
            "--pg-port", "0",
            "--admin-port", "0",
            "--gateway-addr", f"http://{cluster.gateway.listen}",
            "--users", f"{cluster.user}:{cluster.password}",
        ],
        workdir=tmp_path_factory.mktemp("lake-pg"),
        env=dict(cluster.gateway.env),
    )
    proc.start()
    try:
        proc.wait_ready()
        host, port = proc.listen.rsplit(":", 1)
        yield {
            "PGHOST": host,
            "PGPORT": port,
            "PGUSER": cluster.user,
            "PGPASSWORD": cluster.password,
            "PGDATABASE": "tavana",
            "PGSSLMODE": "disable",
        }
    finally:
        proc.stop()
        proc.retired = True


def psql(env: dict[str, str], *args: str) -> list[list[str]]:
    """Runs psql unaligned, tuples only; returns the rows split on '|'."""
    done = subprocess.run(
        ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return [line.split("|") for line in done.stdout.splitlines() if line]


def test_rows_and_versions_through_psql(pg):
    expected = [[str(i), c, f"{a:g}"] for i, c, a in lake_data.ORDERS_VERSIONS[-1]]
    rows = psql(pg, "-c", "SELECT id, customer, amount FROM sales.orders ORDER BY id")
    assert [[r[0], r[1], f"{float(r[2]):g}"] for r in rows] == expected
    first = psql(pg, "-c", "SELECT id FROM sales.orders_at_version(0) ORDER BY id")
    assert [r[0] for r in first] == [str(r[0]) for r in lake_data.ORDERS_VERSIONS[0]]


def test_catalog_through_psql(pg):
    tables = psql(
        pg,
        "-c",
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('sales', 'web') ORDER BY 1, 2",
    )
    assert ["sales", "orders"] in tables and ["web", "visits"] in tables
    listed = psql(pg, "-c", r"\dt sales.*")
    names = {row[1] for row in listed if len(row) > 1}
    # \dt lists tables; lake tables are views, so \dv is where psql shows them, and
    # either listing must name them.
    if "orders" not in names:
        listed = psql(pg, "-c", r"\dv sales.*")
        names = {row[1] for row in listed if len(row) > 1}
    assert "orders" in names, listed


def test_table_held_in_memory_through_psql(pg, lake_cluster):
    """A catalog table held in memory answers psql like any other and lists as a view."""
    lake = lake_cluster.lake
    executor = lake_cluster.cluster.executor
    lake_cluster.write_catalog(
        catalog_text(
            lake,
            '\n[mem]\norders = { format = "delta", location = "s3://lake/delta/orders", '
            'cache = "memory" }\n',
        )
    )
    try:
        wait_for(
            lambda: executor.metric("tavana_executor_lake_tables_in_memory") == 1,
            "mem.orders loaded into memory",
            timeout=60,
        )
        query = "SELECT id, customer, amount FROM {} ORDER BY id"
        assert psql(pg, "-c", query.format("mem.orders")) == psql(pg, "-c", query.format("sales.orders"))
        listed = psql(pg, "-c", r"\dv mem.*")
        assert any(row[:3] == ["mem", "orders", "view"] for row in listed), listed
        # The database holding the copy is not a schema psql shows.
        schemas = {row[0] for row in psql(pg, "-c", r"\dn")}
        assert not any(s.startswith("tavana_copy_") for s in schemas), schemas
    finally:
        lake_cluster.write_catalog(catalog_text(lake))
        wait_for(
            lambda: executor.metric("tavana_executor_lake_tables_in_memory") == 0,
            "mem.orders removed",
            timeout=60,
        )
