"""Catalog tables held in memory (`cache = "memory"`): loaded from the object store once,
after which queries make no requests to it; reloaded on SIGHUP and every `refresh_secs`
when the object changed (an unchanged one is not fetched again); a refresh that fails keeps
serving the last copy."""

from __future__ import annotations

import signal
import time

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lake_data
from lake_settings import CATALOG_POLL_SECS, catalog_text
import tavana_harness
from tavana_harness import query_table

WAIT_S = CATALOG_POLL_SECS * 10 + 20
KEY = "memory/prices.parquet"
LOCATION = f"s3://lake/{KEY}"


def wait_for(predicate, what: str):
    tavana_harness.wait_for(predicate, what, WAIT_S)


def s3(lake):
    admin = lake.data.admin
    return boto3.client(
        "s3",
        endpoint_url=lake.data.moto_endpoint,
        aws_access_key_id=admin.access_key_id,
        aws_secret_access_key=admin.secret_access_key,
        region_name=lake_data.REGION,
    )


def put_prices(lake, prices: list[float]) -> None:
    table = pa.table({"id": list(range(1, len(prices) + 1)), "price": prices})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    s3(lake).put_object(Bucket="lake", Key=KEY, Body=sink.getvalue().to_pybytes())


def prices(conn) -> list[float]:
    rows = query_table(conn, "SELECT price FROM mem.prices ORDER BY id").to_pylist()
    return [row["price"] for row in rows]


def prices_are(conn, expected: list[float]) -> bool:
    try:
        return prices(conn) == expected
    except Exception:  # noqa: BLE001 - mid-reload; the deadline reports failure
        return False


def memory_loads(executor, outcome: str) -> float:
    return tavana_harness.counted(executor, "tavana_executor_lake_memory_loads_total", outcome)


def catalog_with_prices(lake, fields: str = "") -> str:
    return catalog_text(
        lake,
        f'\n[mem]\nprices = {{ format = "parquet", location = "{LOCATION}", '
        f'cache = "memory"{fields} }}\n',
    )


def test_table_held_in_memory_answers_without_the_object_store_and_refreshes(lake_cluster):
    lake = lake_cluster.lake
    executor = lake_cluster.cluster.executor
    conn = lake_cluster.connect()
    put_prices(lake, [1.5, 2.5, 3.5])
    try:
        loaded_before = memory_loads(executor, "loaded")
        lake_cluster.write_catalog(catalog_with_prices(lake))
        wait_for(
            lambda: memory_loads(executor, "loaded") > loaded_before
            and executor.metric("tavana_executor_lake_tables_in_memory") == 1,
            "mem.prices loaded into memory",
        )
        assert executor.metric("tavana_executor_lake_memory_bytes") > 0
        assert "catalog table loaded into memory" in executor.log_path.read_text()

        # Queries read the copy: no request reaches the object store. A table read from its
        # location (sales.customers) shows what the proxy would have seen.
        lake.proxy.reset()
        for _ in range(3):
            assert prices(conn) == [1.5, 2.5, 3.5]
        assert query_table(conn, "SELECT count(*) AS n FROM sales.customers").to_pylist() == [
            {"n": 3}
        ]
        assert lake.proxy.requests("/lake/csv/"), "the control table was not read from S3"
        assert lake.proxy.requests(f"/lake/{KEY}") == []
        comment = query_table(
            conn,
            "SELECT comment FROM duckdb_views() WHERE schema_name = 'mem' "
            "AND view_name = 'prices'",
        ).to_pylist()
        assert comment == [{"comment": f"parquet table at {LOCATION}, held in memory"}]
        # Listed like every catalog table; the database holding the copy is not listed.
        objects = conn.adbc_get_objects(depth="tables").read_all().to_pylist()
        assert [c["catalog_name"] for c in objects] == ["memory"]
        listed = {
            (s["db_schema_name"], t["table_name"], t["table_type"])
            for s in objects[0]["catalog_db_schemas"]
            for t in s["db_schema_tables"] or []
        }
        assert ("mem", "prices", "VIEW") in listed

        # A read-only executor refuses to change the copy or let it go.
        [copy_db] = [
            row["database_name"]
            for row in query_table(
                conn,
                "SELECT database_name FROM duckdb_databases() "
                "WHERE starts_with(database_name, 'tavana_copy_')",
            ).to_pylist()
        ]
        for statement in (f"DELETE FROM {copy_db}.main.prices", f"DETACH {copy_db}"):
            with pytest.raises(Exception, match="not allowed on this Tavana executor"):
                query_table(conn, statement)
        assert prices(conn) == [1.5, 2.5, 3.5]

        # The copy does not follow the object until a SIGHUP reloads it.
        put_prices(lake, [10.0, 20.0, 30.0, 40.0])
        time.sleep(CATALOG_POLL_SECS * 2)
        assert prices(conn) == [1.5, 2.5, 3.5]
        executor.popen.send_signal(signal.SIGHUP)
        wait_for(
            lambda: executor.metric("tavana_executor_lake_tables_in_memory") == 1
            and prices_are(conn, [10.0, 20.0, 30.0, 40.0]),
            "the new object loaded after SIGHUP",
        )

        # Refreshed every second; a refresh that fails keeps the last copy.
        lake_cluster.write_catalog(catalog_with_prices(lake, ", refresh_secs = 1"))
        put_prices(lake, [7.0])
        wait_for(lambda: prices_are(conn, [7.0]), "the refreshed copy")
        # While the object stays as it is, a refresh only looks at its size and time: the
        # copy stays, and the object's content is not fetched again.
        unchanged_before = memory_loads(executor, "unchanged")
        lake.proxy.reset()
        wait_for(
            lambda: memory_loads(executor, "unchanged") >= unchanged_before + 2,
            "two refreshes that found the object unchanged",
        )
        fetched = [r for r in lake.proxy.requests(f"/lake/{KEY}") if r.method == "GET"]
        assert fetched == []
        assert lake.proxy.requests(f"/lake/{KEY}"), "the refreshes did not look at the object"
        assert prices(conn) == [7.0]
        errors_before = memory_loads(executor, "error")
        s3(lake).delete_object(Bucket="lake", Key=KEY)
        wait_for(
            lambda: memory_loads(executor, "error") > errors_before,
            "a failed refresh counted",
        )
        assert prices(conn) == [7.0]
        assert executor.metric("tavana_executor_lake_tables_in_memory") == 1
        assert "it answers from its last copy" in executor.log_path.read_text()
    finally:
        lake_cluster.write_catalog(catalog_text(lake))
        wait_for(
            lambda: executor.metric("tavana_executor_lake_tables_in_memory") == 0,
            "mem.prices removed",
        )
        s3(lake).delete_object(Bucket="lake", Key=KEY)
        conn.close()
    # Its memory is given back.
    wait_for(
        lambda: executor.metric("tavana_executor_lake_memory_bytes") == 0,
        "the copy's memory freed",
    )


def test_delta_table_held_in_memory_is_refreshed_from_its_log(lake_cluster):
    """A Delta table's refresh looks at its log: unchanged, no data file is read again."""
    lake = lake_cluster.lake
    executor = lake_cluster.cluster.executor
    conn = lake_cluster.connect()
    try:
        want = query_table(conn, "SELECT count(*) AS n FROM sales.orders").to_pylist()
        loaded_before = memory_loads(executor, "loaded")
        lake_cluster.write_catalog(
            catalog_text(
                lake,
                '\n[mem]\norders = { format = "delta", location = "s3://lake/delta/orders", '
                'cache = "memory", refresh_secs = 1 }\n',
            )
        )
        wait_for(
            lambda: memory_loads(executor, "loaded") > loaded_before
            and executor.metric("tavana_executor_lake_tables_in_memory") == 1,
            "mem.orders loaded into memory",
        )
        unchanged_before = memory_loads(executor, "unchanged")
        lake.proxy.reset()
        wait_for(
            lambda: memory_loads(executor, "unchanged") >= unchanged_before + 2,
            "two refreshes that found the Delta log unchanged",
        )
        data_reads = [
            r
            for r in lake.proxy.requests("/lake/delta/orders/")
            if r.method == "GET" and "_delta_log" not in r.path and r.status in (200, 206)
        ]
        assert data_reads == []
        assert query_table(conn, "SELECT count(*) AS n FROM mem.orders").to_pylist() == want
    finally:
        lake_cluster.write_catalog(catalog_text(lake))
        wait_for(
            lambda: executor.metric("tavana_executor_lake_tables_in_memory") == 0,
            "mem.orders removed",
        )
        conn.close()
