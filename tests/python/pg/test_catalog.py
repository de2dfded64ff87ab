"""Catalog emulation seen through real clients: psql's backslash commands (their actual
output), SQLAlchemy's inspector, information_schema, and the agreement between what the
catalog says a column's type is and what a query over that column returns."""

from __future__ import annotations

import subprocess

import pytest


def psql(pg, *commands: str, extra: tuple[str, ...] = ()) -> str:
    """Runs psql with each command as its own -c; returns stdout (fails on any error)."""
    args = ["psql", "-X", "-v", "ON_ERROR_STOP=1", *extra]
    for c in commands:
        args += ["-c", c]
    out = subprocess.run(args, env=pg.env(), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "ERROR" not in out.stderr, (commands, out.stdout, out.stderr)
    return out.stdout


def test_psql_list_databases(pg_lake):
    out = psql(pg_lake.pg, "\\l")
    assert "List of databases" in out
    row = next(line for line in out.splitlines() if line.strip().startswith("tavana"))
    cells = [c.strip() for c in row.split("|")]
    # Name | Owner | Encoding | Collate | Ctype | ICU Locale | Locale Provider | Access privileges
    assert cells[:5] == ["tavana", pg_lake.pg.user, "UTF8", "C", "C"]
    assert cells[6] == "libc"


def test_psql_list_schemas(pg_lake):
    out = psql(pg_lake.pg, "\\dn")
    names = [line.split("|")[0].strip() for line in out.splitlines() if "|" in line][1:]
    assert names == ["main", "sales"]


def test_psql_list_tables(pg_lake):
    out = psql(pg_lake.pg, "\\dt")
    rows = [[c.strip() for c in line.split("|")] for line in out.splitlines() if "|" in line][1:]
    owner = pg_lake.pg.user
    # The lake table (a view over Parquet) is a table; the plain view is not listed.
    assert rows == [
        ["sales", "lineitem", "table", owner],
        ["sales", "orders", "table", owner],
        ["sales", "types", "table", owner],
    ]
    out = psql(pg_lake.pg, "\\dv sales.*")
    assert "| v    | view |" in out


def test_psql_describe_table(pg_lake):
    out = psql(pg_lake.pg, "\\d sales.orders")
    assert 'Table "sales.orders"' in out
    columns = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) == 5 and cells[0] not in ("Column", ""):
            columns[cells[0]] = (cells[1], cells[3])
    assert columns == {
        "id": ("integer", "not null"),
        "name": ("character varying", ""),
        "amount": ("numeric(10,2)", ""),
        "day": ("date", ""),
        "ts": ("timestamp without time zone", ""),
        "tstz": ("timestamp with time zone", ""),
        "flag": ("boolean", ""),
        "big": ("bigint", ""),
        "small": ("smallint", ""),
        "d": ("double precision", ""),
        "r": ("real", ""),
        "t": ("character varying", ""),
        "b": ("bytea", ""),
    }
    # Unqualified, found wherever it lives (every schema is visible).
    assert 'Table "sales.orders"' in psql(pg_lake.pg, "\\d orders")
    lake = psql(pg_lake.pg, "\\d sales.lineitem")
    assert 'Table "sales.lineitem"' in lake
    assert "l_shipdate" in lake and "| date" in lake
    plus = psql(pg_lake.pg, "\\d+ sales.orders")
    assert "Order total" in plus


@pytest.mark.parametrize(
    "command",
    ["\\df", "\\dT", "\\du", "\\dv", "\\di", "\\dx", "\\dp", "\\dd", "\\dD", "\\db", "\\dc", "\\dC", "\\l+", "\\dn+", "\\dt+ *.*",
     "\\dL", "\\drds"],
)
def test_psql_other_listings_run(pg_lake, command):
    """The rest of psql's listing commands run their real catalog queries without an error
    (most list nothing: a lake has no functions, indexes or constraints of its own)."""
    psql(pg_lake.pg, command)  # fails on any error


def test_psql_expanded_and_timing(pg_lake):
    out = psql(pg_lake.pg, "\\x", "SELECT id, name FROM sales.orders")
    assert "-[ RECORD 1 ]" in out
    assert "id   | 1" in out and "name | first" in out
    out = psql(pg_lake.pg, "\\timing", "SELECT 1 AS one")
    assert "Timing is on." in out
    assert "Time: " in out and " ms" in out


def test_catalog_types_match_query_results(pg_lake):
    """For every column, pg_attribute's type is the type a query over it returns."""
    import psycopg

    with psycopg.connect(pg_lake.pg.dsn(), autocommit=True) as conn:
        for table in ["orders", "types", "lineitem", "v"]:
            catalog = conn.execute(
                "SELECT a.attname, a.atttypid, a.atttypmod, format_type(a.atttypid, a.atttypmod) "
                "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'sales' AND c.relname = %s AND a.attnum > 0 ORDER BY a.attnum",
                (table,),
            ).fetchall()
            assert catalog, table
            cur = conn.execute(f"SELECT * FROM sales.{table} LIMIT 0")
            described = [(d.name, d.type_code) for d in cur.description]
            assert [(name, oid) for name, oid, _, _ in catalog] == described, table
            # Every type has a PostgreSQL name (no '???' from an unknown OID).
            assert all(fmt and fmt != "???" for *_, fmt in catalog), catalog


def test_information_schema(pg_lake):
    import psycopg

    with psycopg.connect(pg_lake.pg.dsn(), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_schema = 'sales' ORDER BY 1"
        ).fetchall()
        assert tables == [
            ("lineitem", "BASE TABLE"),
            ("orders", "BASE TABLE"),
            ("types", "BASE TABLE"),
            ("v", "VIEW"),
        ]
        cols = conn.execute(
            "SELECT column_name, data_type, udt_name, numeric_precision, numeric_scale, is_nullable "
            "FROM information_schema.columns WHERE table_schema = 'sales' AND table_name = 'orders' "
            "ORDER BY ordinal_position"
        ).fetchall()
        assert cols[:4] == [
            ("id", "integer", "int4", 32, 0, "NO"),
            ("name", "character varying", "varchar", None, None, "YES"),
            ("amount", "numeric", "numeric", 10, 2, "YES"),
            ("day", "date", "date", None, None, "YES"),
        ]
        schemata = [r[0] for r in conn.execute("SELECT schema_name FROM information_schema.schemata")]
        assert "sales" in schemata and "pg_catalog" in schemata


def test_catalog_functions(pg_lake):
    import psycopg

    with psycopg.connect(pg_lake.pg.dsn(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT 'sales.orders'::regclass::oid = c.oid, c.oid::regclass::text, "
            "format_type('int4[]'::regtype, NULL), pg_catalog.pg_get_userbyid(c.relowner), "
            "obj_description(c.oid, 'pg_class'), col_description(c.oid, 3), "
            "pg_table_is_visible(c.oid), has_table_privilege(c.oid, 'SELECT'), "
            "has_schema_privilege('sales', 'USAGE'), current_database(), current_user, "
            "pg_encoding_to_char(6), current_setting('server_version_num') "
            "FROM pg_catalog.pg_class c WHERE c.relname = 'orders'"
        ).fetchone()
        assert row == (
            True, "orders", "integer[]", pg_lake.pg.user, "Orders from the lake", "Order total",
            True, True, True, "tavana", pg_lake.pg.user, "UTF8", "150000",
        )
        # pg_catalog relations found without the schema, too.
        n = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'sales'").fetchone()
        assert n == (1,)
        # PostgreSQL's partial-match regular expressions.
        assert conn.execute("SELECT 'pg_catalog' ~ '^pg_', 'abc' ~ 'b', 'ABC' ~* 'b', 'abc' !~ 'z'").fetchone() == (
            True, True, True, True,
        )
        keywords = conn.execute("SELECT count(*) FROM pg_get_keywords()").fetchone()[0]
        assert keywords > 100


def test_sqlalchemy_inspector(pg_lake):
    import sqlalchemy as sa

    engine = sa.create_engine(pg_lake.pg.url("postgresql+psycopg"))
    try:
        insp = sa.inspect(engine)
        assert "sales" in insp.get_schema_names()
        assert sorted(insp.get_table_names(schema="sales")) == ["lineitem", "orders", "types"]
        assert insp.get_view_names(schema="sales") == ["v"]
        cols = {c["name"]: c for c in insp.get_columns("orders", schema="sales")}
        assert list(cols) == ["id", "name", "amount", "day", "ts", "tstz", "flag", "big", "small", "d", "r", "t", "b"]
        types = {name: type(c["type"]).__name__ for name, c in cols.items()}
        assert types == {
            "id": "INTEGER", "name": "VARCHAR", "amount": "NUMERIC", "day": "DATE",
            "ts": "TIMESTAMP", "tstz": "TIMESTAMP", "flag": "BOOLEAN", "big": "BIGINT",
            "small": "SMALLINT", "d": "DOUBLE_PRECISION", "r": "REAL", "t": "VARCHAR",
            "b": "BYTEA",
        }
        assert cols["tstz"]["type"].timezone is True
        assert (cols["amount"]["type"].precision, cols["amount"]["type"].scale) == (10, 2)
        assert cols["id"]["nullable"] is False and cols["name"]["nullable"] is True
        assert cols["amount"]["comment"] == "Order total"
        assert insp.get_table_comment("orders", schema="sales") == {"text": "Orders from the lake"}
        assert insp.has_table("lineitem", schema="sales")
        assert insp.get_pk_constraint("orders", schema="sales")["constrained_columns"] == []
        assert insp.get_foreign_keys("orders", schema="sales") == []
        assert insp.get_indexes("orders", schema="sales") == []
        assert "orders" in insp.get_view_definition("v", schema="sales")
        lake_cols = [c["name"] for c in insp.get_columns("lineitem", schema="sales")]
        assert lake_cols[:2] == ["l_orderkey", "l_partkey"]
    finally:
        engine.dispose()


def test_pandas_read_sql_table(pg_lake):
    import pandas as pd
    import sqlalchemy as sa

    engine = sa.create_engine(pg_lake.pg.url("postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            df = pd.read_sql_table("orders", conn, schema="sales")
        assert list(df["name"]) == ["first"]
        assert float(df["amount"][0]) == 12.5
    finally:
        engine.dispose()
