"""How the lake tests configure the executor: settings (low on purpose: failures
must be fast), the catalog file, the credentials file and the allowed paths."""

import textwrap

import lake_data

# DuckDB http_timeout, seconds; http_retries is 1.
HTTP_TIMEOUT_SECS = 3
# Deadline for opening the lake tables of one statement.
OPEN_TIMEOUT_SECS = 8
# How often the executor checks the catalog file.
CATALOG_POLL_SECS = 1


def catalog_text(lake, extra: str = "") -> str:
    local = lake.data.local_dir
    return textwrap.dedent(
        f"""\
        # Tavana lake catalog used by the tests (format: docs/lakes.md).
        [sales]
        orders = "delta, s3://lake/delta/orders"
        events = {{ format = "delta", location = "s3://lake/delta/events" }}
        regions = {{ format = "parquet", location = "s3://lake/parquet/sales/*/*.parquet", hive_partitioning = true }}
        customers = "csv, s3://lake/csv/customers.csv"
        missing = "parquet, s3://lake/nope/*.parquet"
        corrupt = "parquet, s3://lake/corrupt/bad.parquet"

        [web]
        visits = {{ format = "iceberg", location = "{lake.data.visits_location}", comment = "Page visits" }}
        clicks = {{ format = "json", location = "s3://lake/json/clicks.ndjson", options = {{ format = "newline_delimited" }} }}

        [azure]
        items = "parquet, az://lake/parquet/items.parquet"
        items_csv = "csv, az://lake/csv/items.csv"

        [gcs]
        items = "parquet, gs://gbucket/parquet/items.parquet"
        items_json = "json, gs://gbucket/json/items.json"

        [local]
        orders = "delta, {local}/delta/orders"
        items = {{ format = "csv", location = "{local}/csv/items.csv", header = true }}
        """
    ) + extra


def credentials_text(lake) -> str:
    admin = lake.data.admin
    return textwrap.dedent(
        f"""\
        [[secret]]
        name = "lake"
        type = "s3"
        scope = ["s3://lake/", "s3://missing-bucket/"]
        key_id = "{admin.access_key_id}"
        secret = "{admin.secret_access_key}"
        region = "{lake_data.REGION}"
        endpoint = "{lake.s3_endpoint}"

        [[secret]]
        name = "hanging"
        type = "s3"
        scope = "s3://hang/"
        key_id = "x"
        secret = "y"
        region = "{lake_data.REGION}"
        endpoint = "http://127.0.0.1:{lake.hanging.port}"

        [[secret]]
        name = "refused"
        type = "s3"
        scope = "s3://refused/"
        key_id = "x"
        secret = "y"
        region = "{lake_data.REGION}"
        endpoint = "http://127.0.0.1:{lake.refused_port}"
        """
    )


ALLOWED_PATHS = [
    "s3://lake/",
    "s3://private-a/",
    "s3://private-b/",
    "s3://missing-bucket/",
    "s3://hang/",
    "s3://refused/",
    "az://lake/",
    "gs://gbucket/",
]
