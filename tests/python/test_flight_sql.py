"""Flight SQL through the gateway with real clients: ADBC and raw pyarrow.flight."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
import uuid

import adbc_driver_manager
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.flight as flight
import pyarrow.parquet as pq
import pytest

from tavana_harness import counted, gateway_calls, local_duckdb, parked_statements, query_table
from flight_proto import (
    _any,
    _len_field,
    close_prepared_statement_request,
    decode_fields,
    create_prepared_statement_request,
    foreign_keys_command,
    parse_create_prepared_statement_result,
    prepared_statement_query_command,
    statement_query_command,
)

Status = adbc_driver_manager.AdbcStatusCode


# --------------------------------------------------------------------------
# Plain queries


def test_simple_query(conn):
    table = query_table(conn, "SELECT 42 AS answer, 'hello' AS greeting")
    assert table.num_rows == 1
    assert table.column_names == ["answer", "greeting"]
    assert table.to_pylist() == [{"answer": 42, "greeting": "hello"}]


def test_fetchall_rows(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT i, i * i AS sq FROM range(5) t(i) ORDER BY i")
        assert cur.fetchall() == [(i, i * i) for i in range(5)]


def test_multi_batch_result_is_complete(conn):
    # Well beyond one DuckDB chunk (2,048 rows) and one Flight message.
    table = query_table(conn, "SELECT i FROM range(1000000) t(i)")
    assert table.num_rows == 1_000_000
    col = table.column("i")
    assert pc.sum(col).as_py() == sum(range(1_000_000))


def test_wide_rows_come_in_small_batches_and_a_huge_value_whole(tavana, conn):
    """Rows of 10 KB strings: a DuckDB chunk is 20 MB, above ADBC's default 16 MiB receive
    limit, so the executor slices it; a single value above that limit cannot be sliced and
    arrives whole once the client raises its limit (the option clients/README.md names)."""
    with conn.cursor() as cur:
        cur.execute("SELECT i, repeat('x', 10000) AS doc FROM range(5000) t(i)")
        table = cur.fetch_arrow_table()
    assert table.num_rows == 5000
    assert pc.sum(table.column("i")).as_py() == sum(range(5000))
    assert {len(s) for s in table.column("doc").to_pylist()} == {10000}
    assert max(batch.nbytes for batch in table.to_batches()) < 4 * 1024 * 1024

    huge = 20 * 1024 * 1024
    option = {"adbc.flight.sql.client_option.with_max_msg_size": str(64 * 1024 * 1024)}
    with tavana.connect(db_options=option) as big, big.cursor() as cur:
        cur.execute(f"SELECT repeat('y', {huge}) AS blob, 7 AS after")
        value, after = cur.fetchone()
    assert len(value) == huge and after == 7


def test_default_dbapi_connection_works(tavana):
    """The README snippet's shape: dbapi defaults (autocommit off)."""
    import adbc_driver_flightsql.dbapi as flightsql

    with flightsql.connect(
        tavana.flight_uri,
        db_kwargs={"username": tavana.user, "password": tavana.password},
    ) as c:
        with c.cursor() as cur:
            cur.execute("SELECT 1 AS one")
            assert cur.fetchall() == [(1,)]


INTEGER_DIVISION = {"adbc.flight.sql.rpc.call_header.x-tavana-integer-division": "true"}


def test_integer_division_only_when_asked_for(tavana, conn):
    """DuckDB's `/` for Flight SQL clients; PostgreSQL's integer division for a client that sends
    `x-tavana-integer-division: true` (the pg-adapter does on every call), in plain and
    prepared statements, and nothing left behind for other clients."""
    with conn.cursor() as cur:
        cur.execute("SELECT 7 / 2 AS q")
        assert cur.fetchall() == [(3.5,)]
    with tavana.connect(db_options=INTEGER_DIVISION) as divides:
        with divides.cursor() as cur:
            cur.execute("SELECT 7 / 2 AS q, -7 / 2 AS n, 7.0 / 2 AS d, 7::DOUBLE / 2 AS f")
            assert cur.fetchall() == [(3, -3, 3.5, 3.5)]
            cur.execute("SELECT ? / 2 AS q", parameters=(7,))
            assert cur.fetchall() == [(3,)]
            # The setting is the connection's, not the user's to change beside it.
            with pytest.raises(adbc_driver_manager.Error, match="locked"):
                cur.execute("SET threads = 1")
                cur.fetchall()
    with conn.cursor() as cur:
        cur.execute("SELECT 7 / 2 AS q")
        assert cur.fetchall() == [(3.5,)]


def test_integer_division_in_statements_that_write(writable):
    """Statements run without a plan of their own (DDL, DML) divide as the caller asked too."""
    table_name = f"division_{uuid.uuid4().hex[:8]}"
    with writable.connect(db_options=INTEGER_DIVISION) as conn:
        assert _execute_update(conn, f"CREATE TABLE {table_name} AS SELECT 7 / 2 AS q") >= 0
        assert _execute_update(conn, f"INSERT INTO {table_name} VALUES (9 / 2)") == 1
        with conn.cursor() as cur:
            cur.execute(f"SELECT q FROM {table_name} ORDER BY q")
            assert cur.fetchall() == [(3,), (4,)]


# --------------------------------------------------------------------------
# Files in the allowed data directory


def _local_table(sql: str) -> pa.Table:
    con = local_duckdb()
    try:
        return con.execute(sql).to_arrow_table()
    finally:
        con.close()


def test_read_parquet_glob(conn, data):
    sql = f"SELECT * FROM read_parquet('{data['parquet_glob']}') ORDER BY id"
    table = query_table(conn, sql)
    assert table.num_rows == 300
    schema = table.schema
    assert schema.field("id").type == pa.int32()
    assert schema.field("i8").type == pa.int8()
    assert schema.field("i16").type == pa.int16()
    assert schema.field("i64").type == pa.int64()
    assert schema.field("f32").type == pa.float32()
    assert schema.field("f64").type == pa.float64()
    assert schema.field("dec18").type == pa.decimal128(18, 3)
    assert schema.field("dec38").type == pa.decimal128(38, 10)
    assert schema.field("day").type == pa.date32()
    assert schema.field("ts").type == pa.timestamp("us")
    assert schema.field("flag").type == pa.bool_()
    assert schema.field("ints").type == pa.list_(pa.int32())
    assert pa.types.is_struct(schema.field("kv").type)
    expected = _local_table(sql)
    assert table.to_pylist() == expected.to_pylist()


def test_read_parquet_glob_filename_and_count(conn, data):
    table = query_table(
        conn,
        f"SELECT count(*) AS n, count(DISTINCT filename) AS files "
        f"FROM read_parquet('{data['parquet_glob']}', filename = true)",
    )
    assert table.to_pylist() == [{"n": 300, "files": 3}]


def test_parquet_footers_are_cached_yet_a_rewritten_file_is_read_as_it_is_now(conn, data):
    """The executor keeps Parquet footers between queries (parquet_metadata_cache, set with
    the lake settings) and checks each against the file before using it: a file rewritten in
    place is read anew, never through its old footer."""
    setting = "SELECT current_setting('parquet_metadata_cache') AS cached"
    assert query_table(conn, setting).to_pylist() == [{"cached": True}]
    path = data["data_dir"] / "rewritten_in_place.parquet"
    total = f"SELECT count(*) AS n, sum(v) AS s FROM read_parquet('{path}')"
    # Modification times well in the past: DuckDB trusts a time only once it is 10 s old.
    now = time.time()
    pq.write_table(pa.table({"v": pa.array([1, 2, 3], pa.int64())}), path)
    os.utime(path, (now - 120, now - 120))
    for _ in range(2):  # the second query uses the cached footer
        assert query_table(conn, total).to_pylist() == [{"n": 3, "s": 6}]
    pq.write_table(pa.table({"v": pa.array([10, 20], pa.int64())}), path)
    os.utime(path, (now - 60, now - 60))
    assert query_table(conn, total).to_pylist() == [{"n": 2, "s": 30}]


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_read_text_formats_match_duckdb(conn, data, kind):
    reader = "read_csv" if kind == "csv" else "read_json"
    sql = f"SELECT * FROM {reader}('{data[kind]}') ORDER BY id"
    table = query_table(conn, sql)
    expected = _local_table(sql)
    assert table.num_rows == 300
    # Same engine version on both sides: the sniffed types must be identical.
    assert table.schema.remove_metadata() == expected.schema.remove_metadata(), (
        f"service schema:\n{table.schema}\nlocal duckdb schema:\n{expected.schema}"
    )
    assert table.to_pylist() == expected.to_pylist()


def test_csv_sniffed_types(conn, data):
    table = query_table(conn, f"SELECT * FROM read_csv('{data['csv']}') LIMIT 1")
    types = {f.name: f.type for f in table.schema}
    assert types["id"] == pa.int64()
    assert types["f64"] == pa.float64()
    assert types["name"] == pa.string()
    assert types["day"] == pa.date32()
    assert types["ts"] == pa.timestamp("us")
    assert types["flag"] == pa.bool_()


# --------------------------------------------------------------------------
# Prepared statements with parameters


def test_prepared_statement_parameters_of_several_types(conn):
    sql = (
        "SELECT CAST(? AS BIGINT) + 1 AS i, CAST(? AS DOUBLE) * 2 AS f, "
        "upper(CAST(? AS VARCHAR)) AS s, CAST(? AS DATE) + 1 AS d, "
        "CAST(? AS TIMESTAMP) + INTERVAL 1 HOUR AS ts, NOT CAST(? AS BOOLEAN) AS b"
    )
    params = (41, 1.25, "abc", dt.date(2024, 2, 28), dt.datetime(2024, 1, 1, 12, 30, 0), True)
    with conn.cursor() as cur:
        cur.execute(sql, params)
        table = cur.fetch_arrow_table()
    assert table.to_pylist() == [
        {
            "i": 42,
            "f": 2.5,
            "s": "ABC",
            "d": dt.date(2024, 2, 29),
            "ts": dt.datetime(2024, 1, 1, 13, 30, 0),
            "b": False,
        }
    ]
    assert table.schema.field("i").type == pa.int64()
    assert table.schema.field("f").type == pa.float64()
    assert table.schema.field("d").type == pa.date32()
    assert table.schema.field("b").type == pa.bool_()


def test_prepared_statement_reexecuted_with_new_parameters(conn, data):
    sql = f"SELECT count(*) AS n FROM read_parquet('{data['parquet_glob']}') WHERE id < ?"
    with conn.cursor() as cur:
        for limit in (0, 10, 299, 1000):
            cur.execute(sql, (limit,))
            assert cur.fetchall() == [(min(limit, 300),)]


def test_result_typed_by_the_bound_values(conn):
    """A placeholder without a type of its own (`SELECT ? AS x`) takes the type of the value
    bound to it: GetFlightInfo after DoPut describes the result the DoGet streams (ADBC
    refuses a stream whose schema differs from the FlightInfo's)."""
    with conn.cursor() as cur:
        for value, arrow_type in ((5, pa.int64()), ("five", pa.string()), (2.5, pa.float64()),
                                  (dt.date(2024, 1, 2), pa.date32())):
            cur.execute("SELECT ? AS x", (value,))
            table = cur.fetch_arrow_table()
            assert table.to_pylist() == [{"x": value}]
            assert table.schema.field("x").type == arrow_type


def test_parameter_of_an_unsupported_type_is_invalid_argument(conn):
    """A STRUCT value bound to a placeholder: a clear INVALID_ARGUMENT, and the connection
    keeps working."""
    with conn.cursor() as cur:
        values = pa.record_batch([pa.array([{"a": 1}])], names=["p"])
        with pytest.raises(adbc_driver_manager.ProgrammingError, match="parameters of Arrow type Struct.* are not supported"):
            cur.execute("SELECT ? AS s", values)
        cur.execute("SELECT 1 AS one")
        assert cur.fetchall() == [(1,)]


def test_list_parameters(conn):
    """A LIST bound to a placeholder (`WHERE id = ANY(?)`), with NULL items, nested, empty."""
    with conn.cursor() as cur:
        ids = pa.record_batch([pa.array([[1, 3, None]])], names=["p"])
        cur.execute("SELECT i FROM range(5) t(i) WHERE i = ANY(?) ORDER BY i", ids)
        assert cur.fetchall() == [(1,), (3,)]
        cases = pa.record_batch(
            [pa.array([[["a"], ["b", None]]]), pa.array([[]], pa.list_(pa.int32())), pa.array([[None]], pa.list_(pa.int64()))],
            names=["nested", "empty", "nulls"],
        )
        cur.execute("SELECT ? AS nested, len(?) AS empty, ?::BIGINT[] AS nulls", cases)
        assert cur.fetchall() == [([["a"], ["b", None]], 0, [None])]


def test_prepared_statement_null_parameter(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT CAST(? AS INTEGER) IS NULL AS isnull", (None,))
        assert cur.fetchall() == [(True,)]


def test_prepare_reports_parameter_schema(conn):
    with conn.cursor() as cur:
        schema = cur.adbc_prepare("SELECT CAST(? AS INTEGER) AS x, 'a' AS y")
    assert schema is not None and len(schema) == 1, schema


def test_plain_query_through_prepared_statement(conn):
    # The Flight SQL JDBC driver runs every statement this way.
    with conn.cursor() as cur:
        cur.adbc_prepare("SELECT 7 AS seven")
        cur.execute("SELECT 7 AS seven")
        assert cur.fetchall() == [(7,)]


# --------------------------------------------------------------------------
# Updates (DDL/DML on the executor's in-memory catalog)
#
# The executor is read-only unless started with --allow-writes, so these run on
# a private cluster that allows writes; the shared one must refuse them.


def test_writes_refused_by_default(conn):
    with conn.cursor() as cur:
        with pytest.raises(adbc_driver_manager.Error) as info:
            cur.execute("CREATE TABLE should_not_exist (i INTEGER)")
    assert re.search(r"write|read.only|not allowed|refus", str(info.value), re.I), str(info.value)


@pytest.fixture(scope="module")
def writable(tmp_path_factory, data):
    from tavana_harness import start_cluster

    cluster = start_cluster(
        tmp_path_factory.mktemp("writable"), data["data_dir"], data,
        extra_executor_args=("--allow-writes",),
    )
    try:
        yield cluster
    finally:
        cluster.retire()


def _execute_update(conn, sql: str) -> int:
    """CommandStatementUpdate: ADBC's ExecuteUpdate, returning the affected row count."""
    with conn.cursor() as cur:
        cur.adbc_statement.set_sql_query(sql)
        return cur.adbc_statement.execute_update()


def test_statement_update_and_catalog_metadata(writable):
    table_name = f"objects_{uuid.uuid4().hex[:8]}"
    conn = writable.connect()
    try:
        _execute_update(
            conn,
            f"CREATE TABLE {table_name} (id INTEGER, name VARCHAR, amount DECIMAL(18,3), day DATE)",
        )
        inserted = _execute_update(
            conn,
            f"INSERT INTO {table_name} VALUES (1, 'a', 1.5, DATE '2024-01-01'), "
            f"(2, 'b', 2.5, DATE '2024-01-02')",
        )
        assert inserted == 2
        assert query_table(conn, f"SELECT count(*) AS n FROM {table_name}").to_pylist() == [
            {"n": 2}
        ]

        schema = conn.adbc_get_table_schema(table_name)
        assert schema.names == ["id", "name", "amount", "day"]
        assert schema.field("id").type == pa.int32()
        assert schema.field("name").type == pa.string()
        assert schema.field("amount").type == pa.decimal128(18, 3)
        assert schema.field("day").type == pa.date32()

        objects = conn.adbc_get_objects(table_name_filter=table_name).read_all().to_pylist()
        found = [
            (sch["db_schema_name"], tbl["table_name"], tbl["table_type"],
             [c["column_name"] for c in tbl["table_columns"] or []])
            for cat in objects
            for sch in cat["catalog_db_schemas"] or []
            for tbl in sch["db_schema_tables"] or []
        ]
        assert len(found) == 1, found
        schema_name, name, table_type, columns = found[0]
        assert (schema_name, name) == ("main", table_name)
        assert table_type.upper() in ("TABLE", "BASE TABLE")
        assert columns == ["id", "name", "amount", "day"]

        _execute_update(conn, f"DROP TABLE {table_name}")
    finally:
        conn.close()


def test_dbapi_execute_runs_statement_without_fetch(writable):
    """DB-API users run DDL/DML with cursor.execute() and never fetch its (empty) result.

    The ADBC driver sends those as CommandStatementQuery; the statement must
    take effect even though the client never reads the result stream."""
    table_name = f"dbapi_{uuid.uuid4().hex[:8]}"
    conn = writable.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE TABLE {table_name} AS SELECT 1 AS i")
            cur.execute(f"INSERT INTO {table_name} VALUES (2)")
            cur.execute(f"SELECT count(*) FROM {table_name}")
            assert cur.fetchall() == [(2,)]
    finally:
        conn.close()


# --------------------------------------------------------------------------
# Metadata


def test_get_objects_lists_catalog_and_schema(conn):
    current = query_table(conn, "SELECT current_database() AS c, current_schema() AS s").to_pylist()[0]
    objects = conn.adbc_get_objects(depth="db_schemas").read_all().to_pylist()
    catalogs = {cat["catalog_name"]: cat for cat in objects}
    assert current["c"] in catalogs, f"catalogs: {sorted(catalogs)}"
    schemas = {s["db_schema_name"] for s in catalogs[current["c"]]["catalog_db_schemas"] or []}
    assert current["s"] in schemas


def test_get_table_types(conn):
    types = conn.adbc_get_table_types()
    assert types, "no table types"
    assert any(t.upper() in ("TABLE", "BASE TABLE") for t in types), types


def test_get_info(conn):
    info = conn.adbc_get_info()
    assert info.get("vendor_name"), info
    assert info.get("vendor_version"), info
    assert "Flight SQL" in info.get("driver_name", ""), info


def test_current_catalog_and_schema(conn):
    current = query_table(conn, "SELECT current_database() AS c, current_schema() AS s").to_pylist()[0]
    assert conn.adbc_current_catalog == current["c"]
    assert conn.adbc_current_db_schema == current["s"]


# --------------------------------------------------------------------------
# Errors keep their meaning


def _error_of(conn, sql: str) -> adbc_driver_manager.Error:
    with conn.cursor() as cur:
        with pytest.raises(adbc_driver_manager.Error) as info:
            cur.execute(sql)
            cur.fetchall()
    return info.value


def test_syntax_error_is_invalid_argument(conn):
    err = _error_of(conn, "SELEC 1")
    assert err.status_code == Status.INVALID_ARGUMENT, f"{err.status_code}: {err}"
    assert "syntax error" in str(err).lower(), str(err)


def test_missing_table_is_not_found(conn):
    err = _error_of(conn, "SELECT * FROM no_such_table_xyz")
    assert err.status_code == Status.NOT_FOUND, f"{err.status_code}: {err}"
    assert "no_such_table_xyz" in str(err), str(err)


def test_runtime_error_keeps_duckdb_message(conn):
    err = _error_of(conn, "SELECT CAST('abc' AS INTEGER)")
    assert err.status_code == Status.INVALID_ARGUMENT, f"{err.status_code}: {err}"
    assert "abc" in str(err) and "INT" in str(err).upper(), str(err)


def test_connection_usable_after_error(conn):
    _error_of(conn, "SELEC 1")
    assert query_table(conn, "SELECT 1 AS x").to_pylist() == [{"x": 1}]


# --------------------------------------------------------------------------
# Authentication


def test_second_user_with_padded_basic_credentials(tavana):
    """bob:<9 chars> base64-encodes with '==' padding; grpc-go (inside the ADBC
    driver) sends Basic credentials unpadded, pyarrow sends them padded: the
    gateway must accept both encodings."""
    import base64

    password = tavana.other_users["bob"]
    assert base64.b64encode(f"bob:{password}".encode()).endswith(b"=")
    conn = tavana.connect(user="bob", password=password)
    try:
        assert query_table(conn, "SELECT 3 AS x").to_pylist() == [{"x": 3}]
    finally:
        conn.close()
    client = flight.FlightClient(tavana.flight_uri)
    try:
        key, value = client.authenticate_basic_token("bob", password)
        assert value.startswith(b"Bearer ")
    finally:
        client.close()


def test_wrong_password_is_refused(tavana):
    with pytest.raises(adbc_driver_manager.Error) as info:
        c = tavana.connect(password="not-the-password")
        try:
            with c.cursor() as cur:
                cur.execute("SELECT 1")
                cur.fetchall()
        finally:
            c.close()
    assert info.value.status_code == Status.UNAUTHENTICATED, f"{info.value.status_code}: {info.value}"


def test_unknown_user_is_refused(tavana):
    with pytest.raises(adbc_driver_manager.Error) as info:
        c = tavana.connect(user="mallory", password=tavana.password)
        try:
            with c.cursor() as cur:
                cur.execute("SELECT 1")
        finally:
            c.close()
    assert info.value.status_code == Status.UNAUTHENTICATED, f"{info.value.status_code}: {info.value}"


def test_no_credentials_is_unauthenticated_adbc(tavana):
    import adbc_driver_flightsql.dbapi as flightsql

    with pytest.raises(adbc_driver_manager.Error) as info:
        c = flightsql.connect(tavana.flight_uri, autocommit=True)
        try:
            with c.cursor() as cur:
                cur.execute("SELECT 1")
                cur.fetchall()
        finally:
            c.close()
    assert info.value.status_code == Status.UNAUTHENTICATED, f"{info.value.status_code}: {info.value}"


def test_no_credentials_is_unauthenticated_raw(tavana):
    client = flight.FlightClient(tavana.flight_uri)
    try:
        with pytest.raises(flight.FlightUnauthenticatedError):
            client.get_flight_info(
                flight.FlightDescriptor.for_command(statement_query_command("SELECT 1"))
            )
    finally:
        client.close()


def test_forged_bearer_token_is_refused(tavana):
    client = flight.FlightClient(tavana.flight_uri)
    options = flight.FlightCallOptions(headers=[(b"authorization", b"Bearer forged-token")])
    try:
        with pytest.raises(flight.FlightUnauthenticatedError):
            client.get_flight_info(
                flight.FlightDescriptor.for_command(statement_query_command("SELECT 1")),
                options,
            )
    finally:
        client.close()


# --------------------------------------------------------------------------
# Raw pyarrow.flight: handshake, GetFlightInfo(CommandStatementQuery), DoGet


def test_raw_flight_statement_query(tavana):
    client, options = tavana.flight_client()
    try:
        descriptor = flight.FlightDescriptor.for_command(
            statement_query_command("SELECT i, i * 2 AS twice FROM range(10000) t(i)")
        )
        info = client.get_flight_info(descriptor, options)
        assert info.schema.names == ["i", "twice"]
        assert info.schema.field("i").type == pa.int64()
        assert info.endpoints, "FlightInfo without endpoints"
        tables = [client.do_get(ep.ticket, options).read_all() for ep in info.endpoints]
        table = pa.concat_tables(tables)
        assert table.num_rows == 10000
        assert pc.sum(table.column("twice")).as_py() == 2 * sum(range(10000))
    finally:
        client.close()


@pytest.mark.parametrize("kind", ["CommandGetImportedKeys", "CommandGetExportedKeys", "CommandGetCrossReference"])
def test_foreign_key_metadata_is_empty_not_unimplemented(tavana, kind):
    """JDBC's getImportedKeys / getExportedKeys / getCrossReference (DBeaver asks for them when
    a table is opened): lake tables declare no keys, so the answer is no rows, with the schema
    Flight SQL defines."""
    client, options = tavana.flight_client()
    try:
        info = client.get_flight_info(
            flight.FlightDescriptor.for_command(foreign_keys_command(kind, "trips")), options
        )
        assert info.schema.names[:4] == ["pk_catalog_name", "pk_db_schema_name", "pk_table_name", "pk_column_name"]
        assert info.schema.field("key_sequence").type == pa.int32()
        assert info.schema.field("delete_rule").type == pa.uint8()
        table = client.do_get(info.endpoints[0].ticket, options).read_all()
        assert table.num_rows == 0 and table.schema == info.schema
    finally:
        client.close()
    anonymous = flight.FlightClient(tavana.flight_uri)
    try:
        with pytest.raises(flight.FlightUnauthenticatedError):
            anonymous.get_flight_info(flight.FlightDescriptor.for_command(foreign_keys_command(kind, "trips")))
    finally:
        anonymous.close()


def test_bulk_ingest_is_refused_with_a_reason(conn):
    with pytest.raises(adbc_driver_manager.Error) as info:
        with conn.cursor() as cur:
            cur.adbc_ingest("new_table", pa.table({"a": [1, 2]}), mode="create")
    assert info.value.status_code == Status.NOT_IMPLEMENTED, f"{info.value.status_code}: {info.value}"
    assert "bulk ingestion is not supported" in str(info.value)


def _parked(tavana, outcome: str) -> float:
    return counted(tavana.executor, "tavana_executor_parked_statements_total", outcome)


def test_query_is_planned_once_and_a_ticket_can_be_fetched_again(tavana):
    """The executor runs at DoGet the statement it prepared for GetFlightInfo (one plan per
    query); fetching the same ticket again plans it again and gives the same rows."""
    client, options = tavana.flight_client()
    try:
        descriptor = flight.FlightDescriptor.for_command(
            statement_query_command("SELECT i, i % 7 AS r FROM range(20000) t(i) ORDER BY i")
        )
        reused = _parked(tavana, "reused")
        info = client.get_flight_info(descriptor, options)
        first = client.do_get(info.endpoints[0].ticket, options).read_all()
        assert _parked(tavana, "reused") == reused + 1
        again = client.do_get(info.endpoints[0].ticket, options).read_all()
        assert _parked(tavana, "reused") == reused + 1
    finally:
        client.close()
    assert first.num_rows == 20000
    assert again.equals(first)
    assert first.schema.equals(info.schema)


def test_adbc_query_is_planned_once_and_the_executor_called_twice(tavana):
    """ADBC prepares every new query text (CreatePreparedStatement), then runs it
    (GetFlightInfo, DoGet). The gateway answers the GetFlightInfo of a prepared query
    itself, and the DoGet runs the plan made for CreatePreparedStatement."""
    conn = tavana.connect()
    try:
        cur = conn.cursor()
        reused, parked = _parked(tavana, "reused"), _parked(tavana, "parked")
        cur.execute("SELECT 42 AS answer, 'planned once' AS how")
        assert cur.fetchall() == [(42, "planned once")]
        # One plan kept (at CreatePreparedStatement) and used (at DoGet): the executor
        # never saw the GetFlightInfo, which would have kept it again for the DoGet.
        assert _parked(tavana, "reused") == reused + 1
        assert _parked(tavana, "parked") == parked + 1
        # The same statement run again: planned anew at its DoGet, same rows.
        cur.execute("SELECT 42 AS answer, 'planned once' AS how")
        assert cur.fetchall() == [(42, "planned once")]
        assert _parked(tavana, "parked") == parked + 1
        cur.close()
    finally:
        conn.close()


def _create_prepared(client, options, sql: str):
    """CreatePreparedStatement through raw Flight: (handle, dataset_schema, parameter_schema)."""
    action = flight.Action("CreatePreparedStatement", create_prepared_statement_request(sql))
    results = list(client.do_action(action, options))
    assert len(results) == 1, results
    return parse_create_prepared_statement_result(results[0].body.to_pybytes())


def test_raw_flight_prepared_query_info_from_the_gateway(tavana):
    """GetFlightInfo of a prepared query without parameters: the schema is the one
    CreatePreparedStatement gave, and its ticket can be fetched more than once."""
    client, options = tavana.flight_client()
    try:
        handle, dataset, _ = _create_prepared(client, options, "SELECT 7 AS n, 'seven' AS word")
        parked = _parked(tavana, "parked")
        descriptor = flight.FlightDescriptor.for_command(prepared_statement_query_command(handle))
        info = client.get_flight_info(descriptor, options)
        assert _parked(tavana, "parked") == parked, "GetFlightInfo went to the executor"
        assert info.schema == dataset
        assert len(info.endpoints) == 1
        ticket = info.endpoints[0].ticket
        for _ in range(2):
            table = client.do_get(ticket, options).read_all()
            assert table.to_pylist() == [{"n": 7, "word": "seven"}]
        # Closed, the statement is no longer answered from the session: the executor
        # plans it from the handle, which carries the SQL.
        list(client.do_action(
            flight.Action("ClosePreparedStatement", close_prepared_statement_request(handle)),
            options,
        ))
        info = client.get_flight_info(descriptor, options)
        assert _parked(tavana, "parked") == parked + 1
        table = client.do_get(info.endpoints[0].ticket, options).read_all()
        assert table.to_pylist() == [{"n": 7, "word": "seven"}]
    finally:
        client.close()


def test_raw_flight_prepared_query_with_parameters_goes_to_the_executor(tavana):
    """A prepared statement that takes parameters is described by the executor, which
    knows what was bound (here nothing, which the DoGet reports)."""
    client, options = tavana.flight_client()
    try:
        parked = _parked(tavana, "parked")
        handle, _, parameters = _create_prepared(client, options, "SELECT CAST(? AS INTEGER) AS x")
        assert len(parameters) == 1
        # Not kept at prepare time: it runs with its parameters bound, planned anew.
        assert _parked(tavana, "parked") == parked
        descriptor = flight.FlightDescriptor.for_command(prepared_statement_query_command(handle))
        info = client.get_flight_info(descriptor, options)
        assert _parked(tavana, "parked") == parked + 1, "GetFlightInfo did not reach the executor"
        with pytest.raises(pa.ArrowInvalid, match="Values were not provided"):
            client.do_get(info.endpoints[0].ticket, options).read_all()
    finally:
        client.close()


def test_gateway_relays_the_stream_and_counts_it(tavana):
    """The gateway passes the executor's stream through untouched: every byte counted,
    the query counted as ok, no stream left open."""
    gateway = tavana.gateway
    ok = counted(gateway, "tavana_gateway_queries_total", "ok")
    relayed = gateway.metric("tavana_gateway_relayed_bytes_total") or 0.0
    client, options = tavana.flight_client()
    try:
        descriptor = flight.FlightDescriptor.for_command(
            statement_query_command("SELECT i, repeat('x', 100) AS s FROM range(50000) t(i)")
        )
        info = client.get_flight_info(descriptor, options)
        table = client.do_get(info.endpoints[0].ticket, options).read_all()
    finally:
        client.close()
    assert table.num_rows == 50000
    assert table.column("s")[49999].as_py() == "x" * 100
    assert counted(gateway, "tavana_gateway_queries_total", "ok") == ok + 1
    assert gateway.metric("tavana_gateway_relayed_bytes_total") - relayed >= table.nbytes
    assert gateway.metric("tavana_gateway_active_streams") == 0


def test_gateway_counts_and_times_every_call_by_method_and_status(tavana):
    """An operator sees each Flight call on the gateway's /metrics: a raw query's
    GetFlightInfo and DoGet as OK, a call without credentials as UNAUTHENTICATED, and
    how long each method took to answer."""
    gateway = tavana.gateway
    before = {
        "info_ok": gateway_calls(gateway, "GetFlightInfo", "OK"),
        "get_ok": gateway_calls(gateway, "DoGet", "OK"),
        "info_unauthenticated": gateway_calls(gateway, "GetFlightInfo", "UNAUTHENTICATED"),
        "get_timed": gateway_calls(gateway, "DoGet"),
    }
    client, options = tavana.flight_client()
    try:
        descriptor = flight.FlightDescriptor.for_command(statement_query_command("SELECT 7 AS n"))
        info = client.get_flight_info(descriptor, options)
        assert client.do_get(info.endpoints[0].ticket, options).read_all().to_pylist() == [{"n": 7}]
    finally:
        client.close()
    anonymous = flight.FlightClient(tavana.flight_uri)
    try:
        with pytest.raises(flight.FlightUnauthenticatedError):
            anonymous.get_flight_info(descriptor)
    finally:
        anonymous.close()
    assert gateway_calls(gateway, "GetFlightInfo", "OK") == before["info_ok"] + 1
    assert gateway_calls(gateway, "DoGet", "OK") == before["get_ok"] + 1
    assert gateway_calls(gateway, "GetFlightInfo", "UNAUTHENTICATED") == before["info_unauthenticated"] + 1
    assert gateway_calls(gateway, "DoGet") == before["get_timed"] + 1


def _assert_unauthenticated_do_get(tavana, ticket: bytes) -> None:
    anonymous = flight.FlightClient(tavana.flight_uri)
    try:
        with pytest.raises(flight.FlightUnauthenticatedError):
            anonymous.do_get(flight.Ticket(ticket)).read_all()
    finally:
        anonymous.close()


def _gateway_ticket(executor: str) -> bytes:
    """Any{TicketStatementQuery{GatewayTicket{version 1, executor, query id}}}."""
    envelope = bytes([0x08, 0x01]) + _len_field(2, executor.encode()) + _len_field(3, b"q-1")
    return _any("TicketStatementQuery", _len_field(1, envelope))


def test_tickets_the_gateway_did_not_hand_out_are_refused(tavana):
    """Foreign or malformed tickets get a status saying so; a ticket naming an executor the
    gateway was not configured with never makes it connect there."""
    client, options = tavana.flight_client()
    try:
        for ticket in (b"\xff\xfe", _any("TicketStatementQuery", _len_field(1, b"\xff\xff"))):
            with pytest.raises(pa.ArrowInvalid, match="malformed"):
                client.do_get(flight.Ticket(ticket), options).read_all()
        with pytest.raises(pa.lib.ArrowKeyError, match="no longer known"):
            client.do_get(flight.Ticket(_gateway_ticket("http://10.255.255.1:1")), options).read_all()
    finally:
        client.close()
    _assert_unauthenticated_do_get(tavana, _gateway_ticket("http://10.255.255.1:1"))


def test_query_given_as_ticket_runs_in_one_call(tavana):
    """A DoGet whose ticket is a CommandStatementQuery runs the query at once (the pg-adapter's
    path): rows and schema as through GetFlightInfo, still checked by the sandbox, still
    authenticated, and never a credential statement (those change the session)."""
    gateway = tavana.gateway
    ok = counted(gateway, "tavana_gateway_queries_total", "ok")
    parked = parked_statements(tavana.executor)
    client, options = tavana.flight_client()
    try:
        ticket = flight.Ticket(statement_query_command(
            "SELECT i, i::VARCHAR AS s FROM range(3000) t(i) ORDER BY i"
        ))
        table = client.do_get(ticket, options).read_all()
        assert table.schema.names == ["i", "s"]
        assert table.column("s").to_pylist() == [str(i) for i in range(3000)]
        assert counted(gateway, "tavana_gateway_queries_total", "ok") == ok + 1
        # No GetFlightInfo: nothing was prepared ahead and kept for the DoGet.
        assert parked_statements(tavana.executor) == parked

        refused = flight.Ticket(statement_query_command("SELECT * FROM read_csv('/etc/passwd')"))
        with pytest.raises(flight.FlightUnauthorizedError):
            client.do_get(refused, options).read_all()
        secret = flight.Ticket(statement_query_command(
            "CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')"
        ))
        with pytest.raises(pa.ArrowInvalid, match="GetFlightInfo"):
            client.do_get(secret, options).read_all()
    finally:
        client.close()
    _assert_unauthenticated_do_get(tavana, statement_query_command("SELECT 1"))


def _bind(client, options, handle: bytes, parameters: pa.Table) -> bytes:
    """DoPut of `parameters` to a prepared statement; returns the handle the server gave back."""
    descriptor = flight.FlightDescriptor.for_command(prepared_statement_query_command(handle))
    writer, reader = client.do_put(descriptor, parameters.schema, options)
    writer.write_table(parameters)
    writer.done_writing()
    result = reader.read()
    writer.close()
    bound = decode_fields(result.to_pybytes()).get(1) if result is not None else None
    return bound or handle


def test_prepared_query_with_parameters_given_as_ticket_runs_in_one_call(tavana):
    """After DoPut binds its parameters, a DoGet whose ticket is the prepared statement's
    CommandPreparedStatementQuery runs it at once with those values (the pg-adapter's path),
    the executor planning it once; rebinding runs it with the new values. Credential
    statements still need GetFlightInfo, and the call needs credentials."""
    gateway = tavana.gateway
    client, options = tavana.flight_client()
    try:
        handle, _, parameters = _create_prepared(
            client, options, "SELECT i, $2 AS label FROM range(10) t(i) WHERE i >= $1"
        )
        assert len(parameters) == 2
        infos, parked = gateway_calls(gateway, "GetFlightInfo"), _parked(tavana, "parked")
        ok = counted(gateway, "tavana_gateway_queries_total", "ok")
        for low, label in ((7, "seven up"), (8, "eight up")):
            # Text for the integer placeholder: cast as a literal would be.
            values = pa.table({"low": [str(low)], "label": [label]})
            bound = _bind(client, options, handle, values)
            ticket = flight.Ticket(prepared_statement_query_command(bound))
            table = client.do_get(ticket, options).read_all()
            assert table.to_pylist() == [{"i": i, "label": label} for i in range(low, 10)]
        assert counted(gateway, "tavana_gateway_queries_total", "ok") == ok + 2
        assert gateway_calls(gateway, "GetFlightInfo") == infos
        assert _parked(tavana, "parked") == parked, "a plan was kept for a call that never came"

        # Bound values of the wrong kind get the engine's error, as a status.
        bound = _bind(client, options, handle, pa.table({"low": ["many"], "label": ["x"]}))
        with pytest.raises(pa.ArrowInvalid, match="many"):
            client.do_get(flight.Ticket(prepared_statement_query_command(bound)), options).read_all()

        secret, _, _ = _create_prepared(
            client, options, "CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')"
        )
        with pytest.raises(pa.ArrowInvalid, match="GetFlightInfo"):
            client.do_get(flight.Ticket(prepared_statement_query_command(secret)), options).read_all()
    finally:
        client.close()
    _assert_unauthenticated_do_get(tavana, prepared_statement_query_command(handle))


def test_raw_flight_prepared_statement_schemas(tavana):
    """CreatePreparedStatement answers dataset_schema and parameter_schema at prepare time."""
    client, options = tavana.flight_client()
    try:
        handle, dataset, parameters = _create_prepared(
            client, options, "SELECT CAST(? AS INTEGER) AS x, 'a' AS y"
        )
        assert handle, "empty prepared statement handle"
        assert dataset.names == ["x", "y"]
        assert dataset.field("x").type == pa.int32()
        assert dataset.field("y").type == pa.string()
        assert len(parameters) == 1, parameters
        assert parameters.field(0).type == pa.int32()
        list(client.do_action(
            flight.Action("ClosePreparedStatement", close_prepared_statement_request(handle)),
            options,
        ))
    finally:
        client.close()


def test_raw_flight_list_actions(tavana):
    client, options = tavana.flight_client()
    try:
        actions = {a.type for a in client.list_actions(options)}
    finally:
        client.close()
    assert "CreatePreparedStatement" in actions, actions
    assert "ClosePreparedStatement" in actions, actions


def test_raw_flight_handshake_returns_bearer(tavana):
    client = flight.FlightClient(tavana.flight_uri)
    try:
        key, value = client.authenticate_basic_token(tavana.user, tavana.password)
    finally:
        client.close()
    assert key.lower() == b"authorization"
    assert value.startswith(b"Bearer "), value


# --------------------------------------------------------------------------
# Admin endpoints


@pytest.mark.parametrize("which", ["executor", "gateway"])
def test_admin_endpoints(tavana, which):
    import urllib.request

    proc = tavana.executor if which == "executor" else tavana.gateway
    for path in ("/healthz", "/readyz", "/metrics"):
        with urllib.request.urlopen(proc.admin_url + path, timeout=5) as resp:
            assert resp.status == 200, (path, resp.status)
    assert "tavana_" in proc.metrics()


def test_executor_exposes_running_queries_gauge(tavana):
    assert tavana.executor.metric("tavana_executor_running_queries") is not None


def test_traceparent_names_the_trace_in_gateway_and_executor_logs(tmp_path_factory, data):
    """A client's W3C traceparent reaches both processes: the log lines of its calls carry
    its trace id, so they can be joined with the client's trace. A malformed one is
    ignored."""
    from tavana_harness import start_cluster

    cluster = start_cluster(
        tmp_path_factory.mktemp("traced"), data["data_dir"], data,
        extra_executor_args=("--log-level", "info,tavana_executor=debug"),
        extra_gateway_args=("--log-level", "info,tavana_flight_server=debug"),
    )
    trace_id = uuid.uuid4().hex
    try:
        client = flight.FlightClient(cluster.flight_uri)
        try:
            bearer = client.authenticate_basic_token(cluster.user, cluster.password)
            traced = flight.FlightCallOptions(headers=[
                bearer, (b"traceparent", f"00-{trace_id}-00f067aa0ba902b7-01".encode()),
            ])
            descriptor = flight.FlightDescriptor.for_command(
                statement_query_command("SELECT 'traced' AS t")
            )
            info = client.get_flight_info(descriptor, traced)
            table = client.do_get(info.endpoints[0].ticket, traced).read_all()
            assert table.to_pylist() == [{"t": "traced"}]
            malformed = flight.FlightCallOptions(headers=[
                bearer, (b"traceparent", b"00-not-a-trace-01"),
            ])
            info = client.get_flight_info(descriptor, malformed)
            assert client.do_get(info.endpoints[0].ticket, malformed).read_all().num_rows == 1
        finally:
            client.close()
        executor_lines = [
            line for line in cluster.executor.log_path.read_text().splitlines()
            if f"trace_id={trace_id}" in line or f'trace_id="{trace_id}"' in line
        ]
        gateway_lines = [
            line for line in cluster.gateway.log_path.read_text().splitlines()
            if trace_id in line
        ]
        assert any("query finished" in line for line in executor_lines), executor_lines
        assert any("stream ended" in line for line in gateway_lines), gateway_lines
        # The call with a malformed traceparent is logged too, without a trace id.
        finished = [
            line for line in cluster.executor.log_path.read_text().splitlines()
            if "query finished" in line
        ]
        assert len(finished) == 2, finished
        assert sum("trace_id" in line for line in finished) == 1, finished
    finally:
        cluster.retire()
