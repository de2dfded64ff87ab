"""Real PostgreSQL clients against the pg-adapter: psycopg 3, psycopg2, asyncpg, SQLAlchemy,
pandas and psql."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import threading
import time
from decimal import Decimal

import pytest

from tavana_harness import counted, gateway_calls, parked_statements


def test_psycopg_simple_and_extended(pgconn):
    cur = pgconn.execute("SELECT 1 AS a, 'x' AS b")
    assert cur.fetchall() == [(1, "x")]
    cur = pgconn.execute("SELECT %s::INTEGER + 1 AS v, %s AS s", (41, "hé"))
    assert cur.fetchall() == [(42, "hé")]
    assert [d.name for d in cur.description] == ["v", "s"]


def _plans(pg) -> tuple[float, float]:
    """(plans the executor kept for a later call, plans it reused)."""
    executor = pg.cluster.executor
    return parked_statements(executor), counted(
        executor, "tavana_executor_parked_statements_total", "reused"
    )


def test_query_without_parameters_skips_getflightinfo(pg, pgconn):
    """A query that returns rows and takes no parameters reaches the executor in one gateway
    call (its text is the DoGet ticket), planned once. Through GetFlightInfo the executor would
    keep one more plan for the DoGet and reuse it."""
    before = _plans(pg)
    out = subprocess.run(["psql", "-X", "-At", "-c", "SELECT 7 AS seven"], env=pg.env(),
                         capture_output=True, text=True, timeout=30)
    assert (out.returncode, out.stdout.strip()) == (0, "7"), out.stderr
    # Simple protocol: nothing prepared ahead, nothing kept.
    assert _plans(pg) == before
    # Extended protocol: Parse prepares (and keeps) the plan that the DoGet then runs.
    assert pgconn.execute("SELECT 8 AS eight", prepare=True).fetchall() == [(8,)]
    assert _plans(pg) == (before[0] + 1, before[1] + 1)


def test_query_with_parameters_runs_in_one_call_after_binding(pg, pgconn):
    """A query with parameters, prepared once (psycopg prepares a statement it runs often),
    runs with each new set of values as DoPut (the binding) and one DoGet: no GetFlightInfo,
    so the executor keeps no plan for a later call and plans each run once, with its values."""
    gateway = pg.cluster.gateway
    sql = "SELECT count(*) AS n, max(i) AS top FROM range(100) t(i) WHERE i < %s AND %s"
    assert pgconn.execute(sql, (10, True), prepare=True).fetchall() == [(10, 9)]
    infos = gateway_calls(gateway, "GetFlightInfo")
    before = _plans(pg)
    for limit, expected in ((50, (50, 49)), (1, (1, 0)), (0, (0, None))):
        assert pgconn.execute(sql, (limit, True), prepare=True).fetchall() == [expected]
    assert pgconn.execute(sql, (50, False), prepare=True).fetchall() == [(0, None)]
    assert gateway_calls(gateway, "GetFlightInfo") == infos
    assert _plans(pg) == before


def test_psycopg_binary_types(pgconn):
    row = pgconn.execute(
        "SELECT true, 2::SMALLINT, 3::INTEGER, 4::BIGINT, 1.5::FLOAT, 2.25::DOUBLE, "
        "123.45::DECIMAL(10,2), 'txt', DATE '2024-02-29', TIMESTAMP '2024-02-29 12:34:56.5', "
        "TIMESTAMPTZ '2024-02-29 12:34:56+00', [1,2,NULL]::INTEGER[], NULL::INTEGER, '\\x01\\xFF'::BLOB",
        binary=True,
    ).fetchone()
    assert row[:9] == (True, 2, 3, 4, 1.5, 2.25, Decimal("123.45"), "txt", dt.date(2024, 2, 29))
    assert row[9] == dt.datetime(2024, 2, 29, 12, 34, 56, 500000)
    assert row[10] == dt.datetime(2024, 2, 29, 12, 34, 56, tzinfo=dt.timezone.utc)
    assert row[11] == [1, 2, None]
    assert row[12] is None
    assert row[13] == b"\x01\xff"


def test_a_value_larger_than_a_flight_message_reaches_psycopg_whole(pgconn):
    """A 20 MB value is one Arrow message between gateway and adapter (the Flight clients'
    default receive limit is 16 MiB); the adapter takes any size, in both formats."""
    huge = 20 * 1024 * 1024
    for binary in (False, True):
        cur = pgconn.cursor(binary=binary)
        cur.execute(f"SELECT repeat('z', {huge}) AS blob, 8 AS after")
        value, after = cur.fetchone()
        assert len(value) == huge and set(value) == {"z"} and after == 8


def test_psycopg_text_types(pgconn):
    row = pgconn.execute(
        "SELECT 123.45::DECIMAL(10,2), DATE '2024-02-29', [1,2]::INTEGER[], {'a': 1} AS s, INTERVAL '1 day 2 hours'"
    ).fetchone()
    assert row[0] == Decimal("123.45")
    assert row[1] == dt.date(2024, 2, 29)
    assert row[2] == [1, 2]
    assert row[3] == {"a": 1}
    assert row[4] == dt.timedelta(days=1, hours=2)


def test_function_columns_are_named_as_postgresql_names_them(pgconn):
    cur = pgconn.execute(
        "SELECT count(*), sum(i), max(i) AS top, current_schema(), i + 1 FROM range(3) t(i) GROUP BY i + 1 ORDER BY 5"
    )
    assert [d.name for d in cur.description][:4] == ["count", "sum", "top", "current_schema"]
    assert cur.fetchone()[:4] == (1, 0, 0, "main")
    # Session facts the adapter fills in keep PostgreSQL's column names too.
    cur = pgconn.execute("SELECT current_user, session_user, user, current_database(), current_catalog, version()")
    assert [d.name for d in cur.description] == [
        "current_user", "session_user", "user", "current_database", "current_catalog", "version"
    ]
    assert cur.fetchone()[:5] == ("alice", "alice", "alice", "tavana", "tavana")


UUID_AND_JSON = (
    "SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS u, '{\"k\": [1, 2]}'::JSON AS j, "
    "NULL::UUID AS nu, [{'a': 1}] AS ls"
)


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_uuid_and_json_keep_their_types(pgconn, binary):
    import uuid

    cur = pgconn.execute(UUID_AND_JSON, binary=binary)
    assert [d.type_code for d in cur.description] == [2950, 114, 2950, 114]
    assert cur.fetchone() == (
        uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        {"k": [1, 2]},
        None,
        [{"a": 1}],
    )


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_a_union_is_the_json_of_the_member_it_holds(pgconn, binary):
    cur = pgconn.execute(
        "SELECT union_value(num := 2) AS n, union_value(word := 'two') AS w, NULL::UNION(num INT, word TEXT) AS z",
        binary=binary,
    )
    assert [d.type_code for d in cur.description] == [114, 114, 114]
    assert cur.fetchone() == (2, "two", None)


# PostgreSQL's binary infinities: the type's largest and smallest values.
BINARY_INFINITIES = {
    "DATE 'infinity'": (0x7FFFFFFF).to_bytes(4, "big"),
    "DATE '-infinity'": (0x80000000).to_bytes(4, "big"),
    "TIMESTAMP 'infinity'": (0x7FFFFFFFFFFFFFFF).to_bytes(8, "big"),
    "TIMESTAMP '-infinity'": (0x8000000000000000).to_bytes(8, "big"),
    "TIMESTAMPTZ 'infinity'": (0x7FFFFFFFFFFFFFFF).to_bytes(8, "big"),
    "DATE '2000-01-02'": (1).to_bytes(4, "big"),
}


@pytest.mark.parametrize("expr", sorted(BINARY_INFINITIES))
def test_infinite_dates_and_timestamps_are_postgresql_infinities(pgconn, expr):
    """As raw bytes, since Python's datetime has no infinity; text says `infinity` either way."""
    cur = pgconn.cursor(binary=True)
    cur.execute(f"SELECT {expr} AS v")
    assert cur.pgresult.get_value(0, 0) == BINARY_INFINITIES[expr]
    text = pgconn.cursor(binary=False)
    text.execute(f"SELECT {expr} AS v")
    raw = text.pgresult.get_value(0, 0).decode()
    assert raw == expr.split("'")[1]


def test_to_char_formats_dates_as_postgresql_does(pgconn):
    """to_char with a date/time template runs as DuckDB's strftime (expected texts are
    PostgreSQL 15's); a template strftime cannot render is an error naming it, not a wrong
    text."""
    import psycopg

    row = pgconn.execute(
        "SELECT to_char(TIMESTAMP '2024-03-05 14:07:09.25', 'YYYY-MM-DD HH24:MI:SS'), "
        "to_char(DATE '2024-03-05', 'FMMonth DD, YYYY'), "
        "to_char(TIMESTAMP '2024-03-05 14:07:09.25', 'FMDD/FMMM/YY HH12:MI:SS.MS AM'), "
        "to_char(DATE '2024-03-05', 'Dy \"the\" DDD\"th day\"')"
    ).fetchone()
    assert row == ("2024-03-05 14:07:09", "March 05, 2024", "5/3/24 02:07:09.250 PM", "Tue the 065th day")
    with pytest.raises(psycopg.Error, match="to_char: the template 'Q' has a pattern Tavana does not translate"):
        pgconn.execute("SELECT to_char(DATE '2024-03-05', 'Q')")
    with pytest.raises(psycopg.Error, match="to_date: the template 'Q YYYY' has a pattern"):
        pgconn.execute("SELECT to_date('1 2024', 'Q YYYY')")
    assert pgconn.execute("SELECT 1").fetchone() == (1,)


def test_uuid_and_json_with_asyncpg(pg):
    import asyncpg
    import uuid

    async def run():
        conn = await asyncpg.connect(host=pg.host, port=pg.port, user=pg.user, password=pg.password, database="tavana", ssl=False)
        try:
            row = await conn.fetchrow(UUID_AND_JSON)
        finally:
            await conn.close()
        return row

    row = asyncio.run(run())
    assert row["u"] == uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
    assert row["j"] == '{"k": [1, 2]}'
    assert row["nu"] is None


def test_errors_have_sqlstates(pgconn):
    import psycopg

    cases = {
        "SELEC 1": "42601",
        "SELECT * FROM no_such_table": "42P01",
        "SELECT no_such_column FROM (SELECT 1 AS a)": "42703",
        "SELECT 'abc'::INTEGER": "22P02",
        "SELECT 2147483647::INTEGER + 1::INTEGER": "22003",
    }
    for sql, state in cases.items():
        with pytest.raises(psycopg.Error) as err:
            pgconn.execute(sql)
        assert err.value.sqlstate == state, (sql, err.value)
    assert pgconn.execute("SELECT 1").fetchone() == (1,)


def test_session_statements(pgconn):
    pgconn.execute("SET application_name = 'tests'")
    assert pgconn.execute("SHOW application_name").fetchone() == ("tests",)
    assert pgconn.execute("SHOW TRANSACTION ISOLATION LEVEL").fetchone() == ("read committed",)
    assert pgconn.execute("SELECT current_setting('application_name')").fetchone() == ("tests",)
    pgconn.execute("RESET ALL")
    assert pgconn.info.parameter_status("server_version") is not None
    assert pgconn.info.parameter_status("integer_datetimes") == "on"


def test_transactions(pg):
    import psycopg

    with psycopg.connect(pg.dsn()) as conn:  # not autocommit: psycopg sends BEGIN
        assert conn.execute("SELECT 1").fetchone() == (1,)
        conn.commit()
        with pytest.raises(psycopg.Error):
            conn.execute("SELECT * FROM nope")
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            conn.execute("SELECT 1")
        conn.rollback()
        assert conn.execute("SELECT 2").fetchone() == (2,)


def test_server_side_cursor_psycopg(pg):
    import psycopg

    with psycopg.connect(pg.dsn()) as conn:
        with conn.cursor(name="big") as cur:
            cur.itersize = 1000
            cur.execute("SELECT range AS i FROM range(10001)")
            total = 0
            count = 0
            for (i,) in cur:
                total += i
                count += 1
        assert count == 10001
        assert total == sum(range(10001))


def test_declare_fetch_close_tableau_style(pgconn):
    pgconn.execute('BEGIN')
    pgconn.execute('declare "SQL_CUR0x1" cursor with hold for select range AS i from range(2500)')
    seen = []
    while True:
        rows = pgconn.execute('fetch 1000 in "SQL_CUR0x1"').fetchall()
        if not rows:
            break
        seen.extend(r[0] for r in rows)
    pgconn.execute('COMMIT')
    pgconn.execute('close "SQL_CUR0x1"')
    assert seen == list(range(2500))
    pgconn.execute("DECLARE c2 CURSOR FOR SELECT range FROM range(10)")
    pgconn.execute("MOVE 5 IN c2")
    assert pgconn.execute("FETCH ALL FROM c2").fetchall() == [(i,) for i in range(5, 10)]
    pgconn.execute("CLOSE ALL")
    import psycopg

    with pytest.raises(psycopg.Error) as err:
        pgconn.execute("FETCH 1 FROM c2")
    assert err.value.sqlstate == "34000"


def test_copy_to_stdout(pgconn):
    with pgconn.cursor() as cur:
        with cur.copy("COPY (SELECT range AS i, 'a,b' AS s FROM range(3)) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
            data = b"".join(bytes(b) for b in copy)
    assert data.decode().splitlines() == ["i,s", '0,"a,b"', '1,"a,b"', '2,"a,b"']
    with pgconn.cursor() as cur:
        with cur.copy("COPY (SELECT range::INTEGER AS i FROM range(3)) TO STDOUT (FORMAT binary)") as copy:
            copy.set_types(["int4"])
            rows = list(copy.rows())
    assert rows == [(0,), (1,), (2,)]


TRICKY = (
    "SELECT * FROM (VALUES (1, 'tab\there', 'a|b'), (2, 'line\nbreak\r', 'back\\slash'), "
    "(3, '', NULL), (4, 'say \"hi\", ok', 'é,ü')) t(n, s, u) ORDER BY n"
)
TRICKY_ROWS = [
    (1, "tab\there", "a|b"),
    (2, "line\nbreak\r", "back\\slash"),
    (3, "", None),
    (4, 'say "hi", ok', "é,ü"),
]


def test_copy_escapes_as_postgresql_does(pgconn):
    """Expected bytes follow PostgreSQL's COPY rules (backslash escapes in text, quoting in CSV)."""
    # DuckDB string literals keep backslashes: build the values with chr() instead.
    sql = TRICKY.replace("\\t", "' || chr(9) || '").replace("\\n", "' || chr(10) || '")
    sql = sql.replace("\\r", "' || chr(13) || '")

    def copy_out(options: str) -> bytes:
        with pgconn.cursor() as cur:
            with cur.copy(f"COPY ({sql}) TO STDOUT {options}") as copy:
                return b"".join(bytes(b) for b in copy)

    assert copy_out("").decode() == (
        "1\ttab\\there\ta|b\n"
        "2\tline\\nbreak\\r\tback\\\\slash\n"
        "3\t\t\\N\n"
        '4\tsay "hi", ok\té,ü\n'
    )
    assert copy_out("WITH (DELIMITER '|', NULL 'nil')").decode() == (
        "1|tab\\there|a\\|b\n"
        "2|line\\nbreak\\r|back\\\\slash\n"
        "3||nil\n"
        '4|say "hi", ok|é,ü\n'
    )
    assert copy_out("WITH (FORMAT csv, HEADER)").decode() == (
        "n,s,u\n"
        "1,tab\there,a|b\n"
        '2,"line\nbreak\r",back\\slash\n'
        '3,"",\n'
        '4,"say ""hi"", ok","é,ü"\n'
    )
    # Every row reads back exactly through psycopg's own COPY parser, text and binary.
    for options in ("", "(FORMAT binary)"):
        with pgconn.cursor() as cur:
            with cur.copy(f"COPY ({sql}) TO STDOUT {options}") as copy:
                copy.set_types(["int4", "text", "text"])
                assert list(copy.rows()) == TRICKY_ROWS, options
    with pytest.raises(Exception) as err:
        copy_out("WITH (DELIMITER '||')")
    assert getattr(err.value, "sqlstate", None) == "0A000"


def test_statement_timeout(pgconn):
    import psycopg

    pgconn.execute("SET statement_timeout = '300ms'")
    started = time.monotonic()
    with pytest.raises(psycopg.Error) as err:
        pgconn.execute("SELECT count(*) FROM range(100000000000) a")
    assert err.value.sqlstate == "57014"
    assert time.monotonic() - started < 10
    pgconn.execute("SET statement_timeout = 0")
    assert pgconn.execute("SELECT 1").fetchone() == (1,)


def test_cancel(pg):
    import psycopg

    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        timer = threading.Timer(0.5, conn.cancel)
        timer.start()
        started = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT count(*) FROM range(100000000000) a")
        assert time.monotonic() - started < 10
        assert conn.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_array_parameters_psycopg(pgconn, binary):
    """`WHERE id = ANY(%s)` with a Python list, psycopg's recommended IN-list: the list goes as
    a PostgreSQL array (text `{1,3}`), reaches DuckDB as a LIST, and elements keep their values,
    NULLs, quotes and empty strings."""
    cur = pgconn.cursor(binary=binary)
    assert cur.execute("SELECT i FROM range(6) t(i) WHERE i = ANY(%s) ORDER BY i", ([1, 3, 5],)).fetchall() == [(1,), (3,), (5,)]
    assert cur.execute("SELECT count(*) FROM range(6) t(i) WHERE i <> ALL(%s)", ([0, 1],)).fetchone() == (4,)
    # A list of strings (psycopg leaves their type to the server) against a text column.
    words = "SELECT x FROM (VALUES ('a'), ('b'), ('c')) t(x) WHERE x = ANY(%s) ORDER BY x"
    assert cur.execute(words, (["a", "c"],)).fetchall() == [("a",), ("c",)]
    assert cur.execute("SELECT count(*) FROM (VALUES ('a'), ('b')) t(x) WHERE x IN (SELECT unnest(%s))", (["b", "z"],)).fetchone() == (1,)
    # Patterns matched against each element: `ILIKE ANY (%s)`, `NOT LIKE ALL (%s)`.
    names = "SELECT x FROM (VALUES ('Apple'), ('banana'), ('cherry')) t(x) WHERE x {} (%s) ORDER BY x"
    assert cur.execute(names.format("ILIKE ANY"), (["a%", "B%"],)).fetchall() == [("Apple",), ("banana",)]
    assert cur.execute(names.format("NOT LIKE ALL"), (["A%", "c%"],)).fetchall() == [("banana",)]
    words = ["a", None, "", "NULL", 'q"x', "c,d"]
    assert cur.execute("SELECT list_transform(%s::VARCHAR[], w -> coalesce(w, '<null>')) AS w", (words,)).fetchone() == (
        ["a", "<null>", "", "NULL", 'q"x', "c,d"],
    )
    # (DuckDB's array_length of an empty list is 0; PostgreSQL's is NULL.)
    assert cur.execute("SELECT array_length(%s::INTEGER[], 1), %s::DATE[]", ([], [dt.date(2024, 2, 29)])).fetchone() == (
        0,
        [dt.date(2024, 2, 29)],
    )
    assert cur.execute("SELECT %s::INTEGER[][]", ([[1, 2], [3, 4]],)).fetchone() == ([[1, 2], [3, 4]],)
    # A malformed int4[] (OID 1007) is refused with PostgreSQL's SQLSTATE, and the connection
    # goes on.
    from psycopg.pq import DiagnosticField, ExecStatus

    result = pgconn.pgconn.exec_params(b"SELECT $1::INTEGER[]", [b"{1,x}"], [1007])
    assert result.status == ExecStatus.FATAL_ERROR
    assert result.error_field(DiagnosticField.SQLSTATE) == b"22P02", result.error_message
    assert pgconn.execute("SELECT 1").fetchone() == (1,)


def test_array_parameters_asyncpg(pg):
    """asyncpg sends every parameter in binary (arrays in PostgreSQL's binary array format),
    encoded as the statement's ParameterDescription says."""
    import asyncpg

    async def run():
        conn = await asyncpg.connect(host=pg.host, port=pg.port, user=pg.user, password=pg.password, database="tavana", ssl=False)
        try:
            rows = await conn.fetch("SELECT i FROM range(6) t(i) WHERE i = ANY($1::BIGINT[]) ORDER BY i", [2, 4])
            assert [r["i"] for r in rows] == [2, 4]
            assert await conn.fetchval("SELECT list_count($1::VARCHAR[])", ["x", None, "y"]) == 2
            # Without a cast: `= ANY($n)` takes an array of the column's type, as in PostgreSQL
            # (DuckDB describes the element type), so asyncpg is told to send one.
            words = "SELECT x FROM (VALUES ('a'), ('b'), ('c')) t(x) WHERE x = ANY($1) ORDER BY x"
            assert [r["x"] for r in await conn.fetch(words, ["a", "c"])] == ["a", "c"]
            assert await conn.fetchval("SELECT count(*) FROM range(6) t(i) WHERE i = ANY($1)", [1, 2]) == 2
            # Array results: asyncpg looks their element types up in the catalog emulation.
            row = await conn.fetchrow("SELECT [1, 2] AS a, ['x', NULL] AS b, [DATE '2024-01-01'] AS c")
            assert (row["a"], row["b"], row["c"]) == ([1, 2], ["x", None], [dt.date(2024, 1, 1)])
        finally:
            await conn.close()

    asyncio.run(run())


def test_psycopg2(pg):
    import psycopg2

    conn = psycopg2.connect(pg.dsn())
    try:
        cur = conn.cursor()
        cur.execute("SELECT %s::INTEGER * 2, %s", (21, "x"))
        assert cur.fetchall() == [(42, "x")]
        named = conn.cursor("named")
        named.itersize = 500
        named.execute("SELECT range FROM range(2000)")
        assert sum(1 for _ in named) == 2000
        conn.rollback()
    finally:
        conn.close()


def test_asyncpg(pg):
    import asyncpg

    async def run():
        conn = await asyncpg.connect(host=pg.host, port=pg.port, user=pg.user, password=pg.password, database="tavana", ssl=False)
        try:
            assert await conn.fetchval("SELECT $1::INTEGER + 1", 41) == 42
            rows = await conn.fetch("SELECT range AS i FROM range(5)")
            assert [r["i"] for r in rows] == list(range(5))
            async with conn.transaction():
                got = [r["i"] async for r in conn.cursor("SELECT range AS i FROM range(3000)", prefetch=500)]
            assert len(got) == 3000
        finally:
            await conn.close()

    asyncio.run(run())


def test_sqlalchemy_and_pandas(pg, tavana):
    import pandas as pd
    import sqlalchemy as sa

    engine = sa.create_engine(pg.url("postgresql+psycopg"))
    with engine.connect() as conn:
        df = pd.read_sql(sa.text("SELECT range AS i, range * 2 AS j FROM range(10) WHERE range >= :lo"), conn, params={"lo": 5})
    assert list(df["i"]) == [5, 6, 7, 8, 9]
    engine.dispose()


def test_wrong_password_is_28p01(pg):
    import psycopg

    with pytest.raises(psycopg.OperationalError) as err:
        psycopg.connect(pg.dsn(password="wrong"))
    # PostgreSQL's words, naming the user who tried.
    assert f'FATAL:  password authentication failed for user "{pg.user}"' in str(err.value), str(err.value)
    psql = subprocess.run(
        ["psql", "-X", "-c", "SELECT 1"], env={**pg.env(), "PGPASSWORD": "wrong"},
        capture_output=True, text=True, timeout=30,
    )
    assert psql.returncode == 2
    assert f'password authentication failed for user "{pg.user}"' in psql.stderr, psql.stderr


def _scram_salt(pg, user: str) -> str:
    """The salt the adapter's SCRAM server-first-message gives `user`: the protocol by hand up
    to that message (a client library hides it), then the connection is dropped."""
    import socket
    import struct

    def read_message(sock) -> tuple[bytes, bytes]:
        header = b""
        while len(header) < 5:
            header += sock.recv(5 - len(header))
        length = struct.unpack("!i", header[1:5])[0] - 4
        body = b""
        while len(body) < length:
            body += sock.recv(length - len(body))
        return header[:1], body

    with socket.create_connection((pg.host, pg.port), timeout=10) as sock:
        params = b"user\0" + user.encode() + b"\0database\0tavana\0\0"
        sock.sendall(struct.pack("!ii", 8 + len(params), 196608) + params)
        kind, body = read_message(sock)
        assert kind == b"R" and struct.unpack("!i", body[:4])[0] == 10, (kind, body)
        assert b"SCRAM-SHA-256" in body
        first = b"n,,n=,r=tavana-probe-nonce"
        payload = b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first
        sock.sendall(b"p" + struct.pack("!i", 4 + len(payload)) + payload)
        kind, body = read_message(sock)
        assert kind == b"R" and struct.unpack("!i", body[:4])[0] == 11, (kind, body)
        fields = dict(part.split("=", 1) for part in body[4:].decode().split(","))
        return fields["s"]


def test_unknown_users_cannot_be_told_from_known_ones_by_their_salt(pg):
    """An unknown user's SCRAM exchange looks like a known one's: the same salt at every attempt
    (a fresh salt per attempt gave unknown names away), a different salt per name."""
    import psycopg

    assert _scram_salt(pg, pg.user) == _scram_salt(pg, pg.user)
    assert _scram_salt(pg, "nobody") == _scram_salt(pg, "nobody")
    assert _scram_salt(pg, "nobody") != _scram_salt(pg, "somebody-else")
    with pytest.raises(psycopg.OperationalError, match='password authentication failed for user "nobody"'):
        psycopg.connect(pg.dsn(user="nobody"))
    # The adapter is still fine for everyone else.
    with psycopg.connect(pg.dsn()) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_psql_meta_commands(pg):
    for cmd in ["SELECT 1 AS one", "\\dt", "\\dn", "\\x\nSELECT 1 AS a, 2 AS b", "\\timing\nSELECT 1"]:
        out = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-c", cmd] if "\n" not in cmd else ["psql", "-X", "-v", "ON_ERROR_STOP=1"],
                             input=cmd if "\n" in cmd else None, env=pg.env(), capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, (cmd, out.stdout, out.stderr)


def test_explain_is_a_query_plan_column_of_lines(pg, pgconn):
    """EXPLAIN answers as PostgreSQL's does: one text column `QUERY PLAN`, a row per line (not
    DuckDB's explain_key/explain_value pair with the plan in one cell), through psql and
    psycopg, with and without parameters, and EXPLAIN ANALYZE too."""
    out = subprocess.run(
        ["psql", "-X", "-A", "-v", "ON_ERROR_STOP=1", "-c",
         "EXPLAIN SELECT i % 7 AS k, count(*) FROM range(1000) t(i) GROUP BY k"],
        env=pg.env(), capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "QUERY PLAN", lines
    assert any("HASH_GROUP_BY" in line for line in lines) and len(lines) > 10, lines
    cur = pgconn.execute("EXPLAIN SELECT count(*) FROM range(1000) t(i) WHERE i > %s", (5,))
    assert [d.name for d in cur.description] == ["QUERY PLAN"]
    plan = [row[0] for row in cur.fetchall()]
    assert all("\n" not in line for line in plan) and any("FILTER" in line or "Filters" in line for line in plan), plan
    cur = pgconn.execute("EXPLAIN ANALYZE SELECT count(*) FROM range(1000)")
    assert [d.name for d in cur.description] == ["QUERY PLAN"]
    assert any("Total Time" in row[0] for row in cur.fetchall())


def test_malformed_packets_do_not_hurt_others(pg, pgconn):
    import socket

    for payload in [b"\x00\x00\x00\x08\x04\xd2\x16\x2f" * 3, b"garbage" * 100, b"\x00\x00\x00\x04", b"\xff" * 64]:
        s = socket.create_connection((pg.host, pg.port), timeout=5)
        try:
            s.sendall(payload)
            s.settimeout(2)
            try:
                s.recv(1024)
            except OSError:
                pass
        finally:
            s.close()
    assert pgconn.execute("SELECT 42").fetchone() == (42,)


def test_pipelined_statements_before_one_sync(pg):
    """psycopg's pipeline mode sends several Parse/Bind/Execute before a single Sync; an error
    inside it aborts the rest of that pipeline, as in PostgreSQL, and the connection goes on."""
    import psycopg

    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        with conn.pipeline():
            cursors = [conn.execute("SELECT %s::INTEGER * 2 AS v", (i,)) for i in range(5)]
            named = conn.execute("SELECT count(*) FROM range(%s)", (1000,), prepare=True)
        assert [c.fetchone() for c in cursors] == [(0,), (2,), (4,), (6,), (8,)]
        assert named.fetchone() == (1000,)

        with pytest.raises(psycopg.errors.UndefinedTable):
            with conn.pipeline():
                conn.execute("SELECT 1")
                conn.execute("SELECT * FROM no_such_table")
                conn.execute("SELECT 3")
        assert conn.execute("SELECT 4").fetchone() == (4,)


def test_postgres_functions_duckdb_lacks(pgconn):
    """PostgreSQL functions clients use that DuckDB lacks or spells differently, with
    PostgreSQL's results."""
    cur = pgconn.cursor()
    # A set-returning function in the select list gives rows, not a list.
    assert cur.execute("SELECT generate_series(1, 3) AS g").fetchall() == [(1,), (2,), (3,)]
    assert cur.description[0].name == "g"
    assert cur.execute(
        "SELECT count(*) FROM range(10) t(i) WHERE i IN (SELECT generate_series(2, 4))"
    ).fetchone() == (3,)
    assert cur.execute("SELECT count(*) FROM generate_series(1, 5)").fetchone() == (5,)
    # format() prints any type with %s, and takes argument positions.
    assert cur.execute("SELECT format('%s-%s: %L, 100%%', 1, 2.5, 'x')").fetchone() == ("1-2.5: 'x', 100%",)
    assert cur.execute("SELECT format('%2$s %1$s', 'a', 'b')").fetchone() == ("b a",)
    # %I quotes an identifier where needed and %L a literal (NULL unquoted), so the text is SQL.
    assert cur.execute(
        "SELECT format('SELECT %I, %I FROM t WHERE x = %L AND y = %L', 'plain', 'My Col', 'it''s', NULL)"
    ).fetchone() == ("""SELECT plain, "My Col" FROM t WHERE x = 'it''s' AND y = NULL""",)
    assert cur.execute(
        "SELECT initcap('hello wORLD-émile o''neil'), width_bucket(5.35, 0.024, 10.06, 5), "
        "width_bucket(-1, 0, 10, 5), width_bucket(10, 0, 10, 5), "
        "overlay('Txxxxas' placing 'hom' from 2 for 4), overlay('abc' placing 'X' from 2)"
    ).fetchone() == ("Hello World-Émile O'Neil", 3, 0, 6, "Thomas", "aXc")
    assert cur.execute(
        "SELECT clock_timestamp() = now(), statement_timestamp() = now(), timeofday() LIKE '% UTC'"
    ).fetchone() == (True, True, True)
    # Binary conversions and digests, with PostgreSQL's values.
    assert cur.execute(
        "SELECT encode(sha256('abc'::bytea), 'hex'), encode('abc'::bytea, 'base64'), "
        "decode('YWJj', 'base64'), decode('0102', 'hex'), '\\x0102'::bytea, to_hex(255), md5('abc')"
    ).fetchone() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "YWJj", b"abc",
        b"\x01\x02", b"\x01\x02", "ff", "900150983cd24fb0d6963f7d28e17f72",
    )
    assert cur.execute(
        "SELECT btrim('xyx', 'x'), btrim('  a '), quote_nullable(NULL), quote_nullable('it''s'), "
        "every(i > 0) FROM range(1, 3) t(i)"
    ).fetchone() == ("y", "a", "NULL", "'it''s'", True)
    assert cur.execute(
        "SELECT jsonb_build_object('a', 1, 'b', 'x'), jsonb_agg(i), jsonb_array_length('[1, 2]') "
        "FROM range(3) t(i)"
    ).fetchone() == ({"a": 1, "b": "x"}, [0, 1, 2], 2)


def test_like_escapes_with_backslash_as_in_postgresql(pgconn):
    """PostgreSQL's LIKE escapes with `\\` by default (psql's tab completion sends `trips\\_c%`,
    JDBC's getTables escapes `_` so); DuckDB's LIKE has no default escape character."""
    cur = pgconn.cursor()
    assert cur.execute(
        r"SELECT 'a_b' LIKE 'a\_b', 'axb' LIKE 'a\_b', 'A_B' ILIKE 'a\_b', 'a%' LIKE 'a\%', "
        r"'a!_b' LIKE 'a!_b' ESCAPE '#'"
    ).fetchone() == (True, False, True, True, True)
    assert cur.execute("SELECT 'axb' LIKE %s, 'a_b' LIKE %s", [r"a\_b", r"a\_b"]).fetchone() == (False, True)


def test_descending_sorts_and_similar_to_as_in_postgresql(pgconn):
    """PostgreSQL sorts NULLs first when descending (DuckDB: last), and its SIMILAR TO takes
    `%` and `_` as wildcards and `.` literally (DuckDB's takes a regular expression)."""
    cur = pgconn.cursor()
    values = "(VALUES (1), (NULL), (2)) t(x)"
    assert cur.execute(f"SELECT x FROM {values} ORDER BY x DESC").fetchall() == [(None,), (2,), (1,)]
    assert cur.execute(f"SELECT x FROM {values} ORDER BY x").fetchall() == [(1,), (2,), (None,)]
    assert cur.execute(f"SELECT x FROM {values} ORDER BY x DESC NULLS LAST").fetchall() == [(2,), (1,), (None,)]
    assert cur.execute(
        f"SELECT string_agg(coalesce(x::text, 'null'), ',' ORDER BY x DESC) FROM {values}"
    ).fetchone() == ("null,2,1",)
    assert cur.execute(
        "SELECT 'abc' SIMILAR TO 'a%', 'abc' SIMILAR TO 'a_c', 'a.c' SIMILAR TO 'a.c', "
        "'abc' SIMILAR TO 'a.c', 'abc' SIMILAR TO '(abc|xyz)', 'ab' SIMILAR TO 'a'"
    ).fetchone() == (True, True, True, False, True, False)
