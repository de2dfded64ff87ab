"""Projection and filter pushdown, counted at the S3 server: a query that needs two
columns of one partition reads a small part of what a full scan of a partition
reads, and never touches the other partitions' files (Parquet with hive
partitions and Delta partitions)."""

from __future__ import annotations

import lake_data
from tavana_harness import query_table


def data_requests(proxy, prefix: str):
    return [r for r in proxy.requests(prefix) if r.method == "GET" and r.status in (200, 206)]


def test_parquet_projection_and_partition_pruning(lake_cluster):
    proxy = lake_cluster.lake.proxy
    conn = lake_cluster.connect()
    try:
        proxy.reset()
        # Two of three columns, one partition, and a predicate row-group statistics prune.
        narrow = query_table(
            conn,
            "SELECT sum(amount) AS s FROM sales.regions WHERE region = 'eu' AND id < 5000",
        ).to_pylist()
        assert narrow == [{"s": float(sum(i % 1000 for i in range(5000)))}]
        narrow_requests = data_requests(proxy, "/lake/parquet/sales/")
        assert narrow_requests, "no Parquet reads seen at the S3 server"
        assert all("region=eu" in r.path for r in narrow_requests), [
            r.path for r in narrow_requests
        ]
        narrow_bytes = sum(r.response_bytes for r in narrow_requests)

        # A full scan of a partition of the same size (another one: nothing cached).
        proxy.reset()
        full = query_table(
            conn, "SELECT * FROM sales.regions WHERE region = 'us'"
        )
        assert full.num_rows == lake_data.SALES_ROWS_PER_REGION
        full_requests = data_requests(proxy, "/lake/parquet/sales/")
        assert all("region=us" in r.path for r in full_requests)
        full_bytes = sum(r.response_bytes for r in full_requests)
        # Ranged reads, not whole objects.
        assert any(r.range for r in narrow_requests)
        assert narrow_bytes * 8 < full_bytes, (narrow_bytes, full_bytes)
    finally:
        conn.close()


def test_delta_partition_pruning(lake_cluster):
    proxy = lake_cluster.lake.proxy
    conn = lake_cluster.connect()
    try:
        proxy.reset()
        rows = query_table(
            conn,
            "SELECT count(*) AS n FROM sales.events WHERE day = '2024-01-02'",
        ).to_pylist()
        assert rows == [{"n": lake_data.EVENTS_PER_DAY}]
        files = {
            r.path
            for r in data_requests(proxy, "/lake/delta/events/")
            if r.path.endswith(".parquet")
        }
        assert files, "no Delta data files read"
        assert all("day=2024-01-02" in f for f in files), files
    finally:
        conn.close()
