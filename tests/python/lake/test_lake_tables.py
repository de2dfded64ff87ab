"""Named lake tables and table functions on S3 (moto), Azure (Azurite), GCS and local
disk, through the gateway with ADBC Flight SQL: exactly the rows the writers wrote,
for the latest and older versions; the catalog in Flight SQL metadata; settings and
secrets as users can see them."""

from __future__ import annotations

import pytest

import lake_data
from tavana_harness import query_table


def rows(conn, sql: str) -> list[tuple]:
    table = query_table(conn, sql)
    return [tuple(r.values()) for r in table.to_pylist()]


@pytest.fixture
def conn(lake_cluster):
    connection = lake_cluster.connect()
    try:
        yield connection
    finally:
        connection.close()


def test_delta_latest_and_every_version(conn):
    assert rows(conn, "SELECT * FROM sales.orders ORDER BY id") == lake_data.ORDERS_VERSIONS[-1]
    for version, expected in enumerate(lake_data.ORDERS_VERSIONS):
        assert (
            rows(conn, f"SELECT * FROM sales.orders_at_version({version}) ORDER BY id")
            == expected
        ), f"version {version}"
    # The documented table-function form.
    assert (
        rows(conn, "SELECT * FROM delta_scan('s3://lake/delta/orders', version => 1) ORDER BY id")
        == lake_data.ORDERS_VERSIONS[1]
    )


def test_local_delta_and_csv(conn, lake_cluster):
    assert rows(conn, "SELECT * FROM local.orders ORDER BY id") == lake_data.ORDERS_VERSIONS[-1]
    assert (
        rows(conn, "SELECT * FROM local.orders_at_version(2) ORDER BY id")
        == lake_data.ORDERS_VERSIONS[2]
    )
    assert rows(conn, "SELECT * FROM local.items ORDER BY id") == lake_data.ITEMS
    local = lake_cluster.lake.data.local_dir
    assert (
        rows(conn, f"SELECT * FROM delta_scan('{local}/delta/orders', version => 0) ORDER BY id")
        == lake_data.ORDERS_VERSIONS[0]
    )


def test_iceberg_latest_and_first_snapshot(conn, lake_cluster):
    data = lake_cluster.lake.data
    assert rows(conn, "SELECT * FROM web.visits ORDER BY id") == lake_data.VISITS_SNAPSHOTS[-1]
    first, second = data.visits_snapshots
    assert (
        rows(conn, f"SELECT * FROM web.visits_at_snapshot({first}) ORDER BY id")
        == lake_data.VISITS_SNAPSHOTS[0]
    )
    assert (
        rows(conn, f"SELECT * FROM web.visits_at_snapshot({second}) ORDER BY id")
        == lake_data.VISITS_SNAPSHOTS[1]
    )
    # Table functions: the folder (version hint) and a snapshot.
    assert (
        rows(
            conn,
            f"SELECT * FROM iceberg_scan('{data.visits_location}', snapshot_from_id => {first}) ORDER BY id",
        )
        == lake_data.VISITS_SNAPSHOTS[0]
    )
    snapshots = rows(
        conn, f"SELECT snapshot_id FROM iceberg_snapshots('{data.visits_location}') ORDER BY sequence_number"
    )
    assert [s[0] for s in snapshots] == [first, second]


def test_hive_partitioned_parquet(conn):
    expected = []
    for region in lake_data.SALES_REGIONS:
        n = lake_data.SALES_ROWS_PER_REGION
        expected.append((region, n, float(sum(i % 1000 for i in range(n)))))
    assert (
        rows(
            conn,
            "SELECT region, count(*), sum(amount) FROM sales.regions GROUP BY region ORDER BY region",
        )
        == expected
    )
    assert rows(
        conn,
        "SELECT count(*) FROM read_parquet('s3://lake/parquet/sales/*/*.parquet', hive_partitioning => true) "
        "WHERE region = 'eu'",
    ) == [(lake_data.SALES_ROWS_PER_REGION,)]


def test_csv_and_json_on_s3(conn):
    assert rows(conn, "SELECT * FROM sales.customers ORDER BY id") == lake_data.CUSTOMERS
    assert rows(conn, "SELECT * FROM read_csv('s3://lake/csv/customers.csv') ORDER BY id") == lake_data.CUSTOMERS
    assert rows(conn, "SELECT id, page, ok FROM web.clicks ORDER BY id") == lake_data.CLICKS
    assert (
        rows(conn, "SELECT id, page, ok FROM read_json('s3://lake/json/clicks.ndjson') ORDER BY id")
        == lake_data.CLICKS
    )


def test_azure_blob(conn):
    assert rows(conn, "SELECT * FROM azure.items ORDER BY id") == lake_data.ITEMS
    assert rows(conn, "SELECT * FROM azure.items_csv ORDER BY id") == lake_data.ITEMS
    assert (
        rows(conn, "SELECT * FROM read_parquet('az://lake/parquet/*.parquet') ORDER BY id")
        == lake_data.ITEMS
    )


def test_gcs(conn):
    assert rows(conn, "SELECT * FROM gcs.items ORDER BY id") == lake_data.ITEMS
    assert rows(conn, "SELECT id, name, price FROM gcs.items_json ORDER BY id") == lake_data.ITEMS
    assert (
        rows(conn, "SELECT * FROM read_parquet('gs://gbucket/parquet/items.parquet') ORDER BY id")
        == lake_data.ITEMS
    )


def test_named_tables_in_flight_sql_metadata(conn):
    objects = conn.adbc_get_objects(depth="all").read_all().to_pylist()
    tables = {}
    for catalog in objects:
        for schema in catalog["catalog_db_schemas"] or []:
            for table in schema["db_schema_tables"] or []:
                tables[(schema["db_schema_name"], table["table_name"])] = [
                    c["column_name"] for c in table["table_columns"] or []
                ]
    assert tables[("sales", "orders")] == ["id", "customer", "amount"]
    assert tables[("web", "visits")] == ["id", "page"]
    assert tables[("azure", "items")] == ["id", "name", "price"]
    assert tables[("gcs", "items")] == ["id", "name", "price"]
    assert tables[("local", "orders")] == ["id", "customer", "amount"]
    assert set(tables[("sales", "regions")]) == {"id", "amount", "note", "region"}
    # A table whose files are missing still lists (with the placeholder column).
    assert ("sales", "missing") in tables
    schemas = {
        s["db_schema_name"]
        for c in conn.adbc_get_objects(depth="db_schemas").read_all().to_pylist()
        for s in c["catalog_db_schemas"] or []
    }
    assert {"sales", "web", "azure", "gcs", "local"} <= schemas
    # And through SQL, with the location in the comment.
    assert rows(
        conn,
        "SELECT comment FROM duckdb_views() WHERE schema_name = 'web' AND view_name = 'visits'",
    )[0][0].startswith("Page visits (iceberg table at s3://lake/iceberg/")


def test_settings_are_visible(conn):
    settings = dict(
        rows(
            conn,
            "SELECT name, value FROM duckdb_settings() WHERE name IN ("
            "'http_timeout', 'http_retries', 'http_keep_alive', 'enable_http_metadata_cache', "
            "'parquet_metadata_cache', 'enable_external_file_cache', 'httpfs_connection_caching')",
        )
    )
    assert settings == {
        "http_timeout": "3",
        "http_retries": "1",
        "http_keep_alive": "true",
        "enable_http_metadata_cache": "false",
        "parquet_metadata_cache": "true",
        "enable_external_file_cache": "true",
        "httpfs_connection_caching": "true",
    }


def test_deployment_secrets_are_not_readable(conn, lake_cluster):
    admin = lake_cluster.lake.data.admin
    secrets = dict(rows(conn, "SELECT name, secret_string FROM duckdb_secrets()"))
    assert {"tavana_lake", "tavana_azure", "tavana_gcs"} <= set(secrets)
    text = " ".join(secrets.values())
    assert admin.secret_access_key not in text
    assert "AccountKey" not in text and lake_data.AZURITE_KEY not in text
    assert "gcs-secret" not in text
    with pytest.raises(Exception, match="(?i)redact"):
        rows(conn, "SELECT * FROM duckdb_secrets(redact => false)")
