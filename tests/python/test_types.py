"""Type fidelity: DuckDB types arrive as the right Arrow types, values intact."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from tavana_harness import query_table

UTC_NAMES = {"UTC", "Etc/UTC", "+00:00", "GMT", "Etc/GMT"}

# (SQL expression, expected Arrow type, expected Python value)
CASES = {
    "tinyint": ("CAST(-8 AS TINYINT)", pa.int8(), -8),
    "smallint": ("CAST(-16000 AS SMALLINT)", pa.int16(), -16000),
    "integer": ("CAST(2000000000 AS INTEGER)", pa.int32(), 2_000_000_000),
    "bigint": ("CAST(9000000000000000000 AS BIGINT)", pa.int64(), 9_000_000_000_000_000_000),
    "float": ("CAST(1.5 AS FLOAT)", pa.float32(), 1.5),
    "double": ("CAST(2.25 AS DOUBLE)", pa.float64(), 2.25),
    "decimal_18_3": ("CAST(123456789012345.678 AS DECIMAL(18,3))", pa.decimal128(18, 3),
                     Decimal("123456789012345.678")),
    "decimal_38_10": ("CAST('1234567890123456789012345678.0123456789' AS DECIMAL(38,10))",
                      pa.decimal128(38, 10), Decimal("1234567890123456789012345678.0123456789")),
    "varchar": ("'héllo, wörld'", pa.string(), "héllo, wörld"),
    "date": ("DATE '2024-02-29'", pa.date32(), dt.date(2024, 2, 29)),
    "timestamp": ("TIMESTAMP '2024-02-29 12:34:56.123456'", pa.timestamp("us"),
                  dt.datetime(2024, 2, 29, 12, 34, 56, 123456)),
    "boolean": ("true", pa.bool_(), True),
    "integer_list": ("[1, 2, NULL, 4]::INTEGER[]", pa.list_(pa.int32()), [1, 2, None, 4]),
    "struct": ("{'a': 1::INTEGER, 'b': 'x'}",
               pa.struct([("a", pa.int32()), ("b", pa.string())]), {"a": 1, "b": "x"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_type(conn, name):
    expr, arrow_type, value = CASES[name]
    table = query_table(conn, f"SELECT {expr} AS v UNION ALL SELECT NULL")
    field = table.schema.field("v")
    assert field.type == arrow_type, f"{name}: got {field.type}, want {arrow_type}"
    assert field.nullable
    assert table.column("v").to_pylist() == [value, None]


def test_timestamp_with_time_zone(conn):
    table = query_table(conn, "SELECT TIMESTAMPTZ '2024-02-29 12:34:56.5+00' AS v")
    t = table.schema.field("v").type
    assert pa.types.is_timestamp(t), t
    assert t.unit == "us", t
    assert t.tz in UTC_NAMES, f"timestamptz arrived with tz={t.tz!r}"
    got = table.column("v").to_pylist()[0]
    assert got == dt.datetime(2024, 2, 29, 12, 34, 56, 500000, tzinfo=dt.timezone.utc)


def test_time_zone_functions_work_and_compute_in_utc(conn):
    """ICU is loaded: AT TIME ZONE, date_trunc on timestamptz and ICU collations work, and the
    engine's zone is UTC whatever the host's."""
    table = query_table(
        conn,
        "SELECT TIMESTAMPTZ '2024-07-01 12:00:00+00' AT TIME ZONE 'America/New_York' AS local_time, "
        "date_trunc('day', TIMESTAMPTZ '2024-03-10 23:30:00-05') AS utc_day, "
        "current_setting('TimeZone') AS zone",
    )
    row = table.to_pylist()[0]
    assert row["local_time"] == dt.datetime(2024, 7, 1, 8, 0)
    assert row["utc_day"] == dt.datetime(2024, 3, 11, tzinfo=dt.timezone.utc)
    assert row["zone"] == "UTC"
    collated = query_table(conn, "SELECT v FROM (VALUES ('b'), ('ä'), ('a')) t(v) ORDER BY v COLLATE de")
    assert collated.column("v").to_pylist() == ["a", "ä", "b"]


def test_all_types_in_one_row(conn):
    """One result carrying every column type at once (schema built in one go)."""
    exprs = ", ".join(f"{expr} AS {name}" for name, (expr, _, _) in sorted(CASES.items()))
    table = query_table(conn, f"SELECT {exprs}, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS tstz")
    for name, (_, arrow_type, value) in CASES.items():
        assert table.schema.field(name).type == arrow_type, name
        assert table.column(name).to_pylist() == [value], name
    assert pa.types.is_timestamp(table.schema.field("tstz").type)


def test_enum_and_union_schemas_match_their_streams(conn):
    """An ENUM arrives as its strings and a UNION as a union; the schema announced before the
    stream (FlightInfo, prepared statement) is the one the stream carries, or ADBC refuses the
    result ("endpoint 0 returned inconsistent schema")."""
    sql = (
        "SELECT 'y'::ENUM('x', 'y') AS e, ['x']::ENUM('x', 'y')[] AS le, "
        "{'k': 'x'::ENUM('x', 'y')} AS se, union_value(num := 2) AS u"
    )
    with conn.cursor() as cur:
        described = cur.adbc_execute_schema(sql)
    table = query_table(conn, sql)
    assert table.schema == described
    assert table.schema.field("e").type == pa.string()
    assert table.schema.field("le").type == pa.list_(pa.string())
    assert pa.types.is_union(table.schema.field("u").type)
    assert table.to_pylist() == [{"e": "y", "le": ["x"], "se": {"k": "x"}, "u": 2}]
    with conn.cursor() as cur:
        cur.execute("SELECT CAST(? AS ENUM('x', 'y')) AS e", ("x",))
        assert cur.fetchall() == [("x",)]


def test_types_through_prepared_statement(conn):
    """A parameterised query yields the same types as a plain one."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT CAST(? AS TINYINT) AS a, CAST(? AS DECIMAL(18,3)) AS b, "
            "CAST(? AS DATE) AS c, [CAST(? AS INTEGER)] AS d",
            (3, "1.250", dt.date(2024, 1, 2), 7),
        )
        table = cur.fetch_arrow_table()
    assert table.schema.field("a").type == pa.int8()
    assert table.schema.field("b").type == pa.decimal128(18, 3)
    assert table.schema.field("c").type == pa.date32()
    assert table.schema.field("d").type == pa.list_(pa.int32())
    assert table.to_pylist() == [
        {"a": 3, "b": Decimal("1.250"), "c": dt.date(2024, 1, 2), "d": [7]}
    ]


def test_uuid_and_json_are_strings_marked_with_their_sql_type(conn):
    """DuckDB exports UUID and JSON as strings (as in-process DuckDB does); the field says which:
    JSON as the canonical arrow.json extension, UUID under `tavana.sql_type` (arrow.uuid needs
    16-byte storage). Both the prepared schema and the stream carry it."""
    sql = "SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS u, '{\"k\": 1}'::JSON AS j, 'x' AS s"
    with conn.cursor() as cur:
        described = cur.adbc_execute_schema(sql)
    table = query_table(conn, sql)
    for schema in (described, table.schema):
        assert schema.field("u").type == pa.string()
        assert schema.field("u").metadata == {b"tavana.sql_type": b"uuid"}
        assert schema.field("j").type.extension_name == "arrow.json"
        assert schema.field("j").type.storage_type == pa.string()
        assert not schema.field("s").metadata
    assert table.column("u").to_pylist() == ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]
    assert table.column("j").to_pylist() == ['{"k": 1}']
