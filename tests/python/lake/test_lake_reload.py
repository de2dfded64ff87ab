"""The catalog file reloads without a restart: on change (polled) and on SIGHUP."""

from __future__ import annotations

import signal
import time

from lake_settings import CATALOG_POLL_SECS, catalog_text
import tavana_harness
from tavana_harness import query_table

WAIT_S = CATALOG_POLL_SECS * 10 + 10


def tables(conn) -> set[tuple[str, str]]:
    return {
        (s["db_schema_name"], t["table_name"])
        for c in conn.adbc_get_objects(depth="tables").read_all().to_pylist()
        for s in c["catalog_db_schemas"] or []
        for t in s["db_schema_tables"] or []
    }


def wait_for(predicate, what: str):
    tavana_harness.wait_for(predicate, what, WAIT_S)


def failed_reloads(executor) -> float:
    prefix = 'tavana_executor_lake_catalog_reloads_total{outcome="error"} '
    lines = [line for line in executor.metrics().splitlines() if line.startswith(prefix)]
    return float(lines[0].split()[-1]) if lines else 0.0


def test_catalog_reloads_on_change_and_on_sighup(lake_cluster):
    lake = lake_cluster.lake
    conn = lake_cluster.connect()
    executor = lake_cluster.cluster.executor
    try:
        original = catalog_text(lake)
        listed = tables(conn)
        gcs_tables = sum(1 for schema, _ in listed if schema == "gcs")
        defined = executor.metric("tavana_executor_lake_tables")
        assert defined is not None and defined >= len(listed) > 0, (defined, listed)
        assert executor.metric("tavana_executor_lake_tables_unavailable") is not None
        # Add a schema and a table, re-point one, drop the GCS schema.
        changed = original.replace(
            'customers = "csv, s3://lake/csv/customers.csv"',
            'customers = "json, s3://lake/json/clicks.ndjson"',
        )
        before_gcs, _, rest = changed.partition("[gcs]")
        changed = before_gcs + "[local]" + rest.partition("[local]")[2]
        changed += '\n[extra]\nclicks = "json, s3://lake/json/clicks.ndjson"\n'
        lake_cluster.write_catalog(changed)
        wait_for(lambda: ("extra", "clicks") in tables(conn), "extra.clicks listed")
        assert ("gcs", "items") not in tables(conn)
        # The gauge follows the file: one table more, the GCS schema's tables fewer. It is set
        # once the whole catalog is applied, just after the new tables list.
        wait_for(
            lambda: executor.metric("tavana_executor_lake_tables") == defined + 1 - gcs_tables,
            f"tavana_executor_lake_tables at {defined + 1 - gcs_tables}",
        )
        assert ("local", "orders") in tables(conn)
        assert query_table(conn, "SELECT count(*) AS n FROM extra.clicks").to_pylist() == [{"n": 2}]
        assert query_table(conn, "SELECT count(*) AS n FROM sales.customers").to_pylist() == [{"n": 2}]
        schemas = [
            r["schema_name"]
            for r in query_table(conn, "SELECT schema_name FROM information_schema.schemata").to_pylist()
        ]
        assert "gcs" not in schemas

        # A broken file leaves the tables as they are.
        errors_before = failed_reloads(executor)
        lake_cluster.write_catalog("[sales\nthis is not TOML")
        time.sleep(CATALOG_POLL_SECS * 3)
        assert ("extra", "clicks") in tables(conn)
        assert "lake catalog not reloaded" in executor.log_path.read_text()
        assert failed_reloads(executor) > errors_before

        # Back to the original; SIGHUP applies it at once (and forces a full refresh).
        lake_cluster.write_catalog(original)
        executor.popen.send_signal(signal.SIGHUP)
        wait_for(lambda: ("gcs", "items") in tables(conn), "gcs.items back")
        assert ("extra", "clicks") not in tables(conn)
        assert "SIGHUP: reloading the lake catalog" in executor.log_path.read_text()
        # Tables are re-created one by one: wait for this one rather than racing the reload.
        def customers_back() -> bool:
            try:
                rows = query_table(conn, "SELECT count(*) AS n FROM sales.customers").to_pylist()
            except Exception:  # noqa: BLE001 - mid-reload; the deadline reports failure
                return False
            return rows == [{"n": 3}]

        wait_for(customers_back, "sales.customers back on its CSV file")
    finally:
        lake_cluster.write_catalog(catalog_text(lake))
        conn.close()
