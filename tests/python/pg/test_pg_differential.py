"""The pg-adapter against a real PostgreSQL 15: the same SQL through psycopg to both, the same
Python values back. Each expression here is one a PostgreSQL client could send expecting
PostgreSQL's answer; those where Tavana answers in DuckDB's dialect on purpose (`1/0` is NULL,
numeric division is floating point, see the README's "PostgreSQL behaviour worth knowing") are
not in the list.

The PostgreSQL server is started by this module (Debian's postgresql-15, installed by
scripts/setup-system.sh), in a private data directory on a loopback port."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")

pytestmark = pytest.mark.skipif(
    not (PG_BIN / "postgres").exists() or shutil.which("runuser") is None,
    reason="PostgreSQL 15 server (postgresql-15) or runuser missing",
)

VALUES = "(VALUES (1, 'b', 2.5), (NULL, 'a', NULL), (3, NULL, -1.25), (2, 'B', 0)) t(i, s, d)"

EXPRESSIONS = [
    # Sorting and aggregates
    f"SELECT i FROM {VALUES} ORDER BY s",
    f"SELECT i FROM {VALUES} ORDER BY s DESC",
    f"SELECT i FROM {VALUES} ORDER BY i DESC, s",
    f"SELECT i, d FROM {VALUES} ORDER BY d DESC NULLS LAST",
    SUM_OF_INTEGERS := f"SELECT max(s), min(s), count(s), count(*), sum(i) FROM {VALUES}",
    f"SELECT string_agg(s, '|' ORDER BY s DESC), array_agg(i ORDER BY i DESC) FROM {VALUES}",
    f"SELECT i, row_number() OVER (ORDER BY i DESC) FROM {VALUES} ORDER BY 2",
    f"SELECT i, lag(i) OVER (ORDER BY i), first_value(i) OVER (ORDER BY i DESC) FROM {VALUES} ORDER BY i",
    f"SELECT count(DISTINCT s), bool_and(i > 0), bool_or(i > 2), every(i > 0) FROM {VALUES}",
    f"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY i), mode() WITHIN GROUP (ORDER BY s) FROM {VALUES}",
    # Numbers
    "SELECT 7 % 3, -7 % 3, round(2.5), round(-2.5), round(3.14159, 2), trunc(-2.7), ceil(-2.5), floor(-2.5)",
    "SELECT 2 ^ 10, sqrt(16), abs(-3), 1e3::int, '3'::int + 1, 2.5::int, (-2.5)::int",
    # Integers divide as integers (DuckDB's `/` alone would give 3.5, -3.5, 0.333...)
    "SELECT 7 / 2, -7 / 2, 7 / -2, 7::bigint / 2::smallint, 7 / 2 * 2, 9 / 3, 7::float8 / 2, 7 / 2::real",
    "SELECT interval '1 day' / 2, interval '3 hours' / 1.5, interval '1 day 2 hours' * 2",
    # `numeric` without a precision keeps its digits (DuckDB's DECIMAL(18,3) would round them)
    f"SELECT 1.23456::numeric, CAST('2.718281828' AS decimal), 12345678901234567890::numeric, "
    f"round(d::float8::numeric, 2), sum(d::numeric) FROM {VALUES} GROUP BY d ORDER BY d",
    "SELECT sum(x::numeric), round(avg(x)::numeric, 4) FROM (VALUES (0.00001::float8), (0.00002)) t(x)",
    # `float` is double precision, `float(p)` real up to 24 bits
    f"SELECT count(*) FILTER (WHERE i > 1)::float / count(*), CAST(1 AS float) / 3, 1::float(53) / 3, "
    f"1::float(24), '{{1.5,2}}'::float[] FROM {VALUES}",
    "SELECT div(10, 4), div(-7, 2), div(10.5, 4), div(7::bigint, 7), make_interval(days => 3, hours => 2), "
    "make_interval(secs => 1.5), make_interval(1, 2)",
    DIVIDED_SUM := f"SELECT i / 2, count(*) / 3, sum(i) / count(i), i % 2 FROM {VALUES} GROUP BY i ORDER BY i",
    "SELECT |/ 25, |/ 25 + 11, |/ 2, ||/ 8, ||/ 1000.0",
    "SELECT 5 BETWEEN 1 AND 10, 'b' BETWEEN 'a' AND 'c', 5 NOT BETWEEN 6 AND 1",
    # Strings
    "SELECT 'abc' || NULL, concat('a', NULL, 'b'), concat_ws(',', 'a', NULL, 'b')",
    "SELECT length('héllo'), upper('héllo'), initcap('hello wORLD-o''neil'), reverse('abc')",
    "SELECT octet_length('héllo'), octet_length('abc'::bytea), octet_length(NULL::text)",
    "SELECT substr('hello', 2, 3), substring('hello' from 2 for 3), left('hello', -2), right('hello', 2)",
    "SELECT position('l' in 'hello'), strpos('hello', 'l'), split_part('a,b,c', ',', 2)",
    "SELECT trim('  x  '), ltrim('xxay', 'x'), rtrim('ayxx', 'x'), btrim('xyx', 'x')",
    "SELECT replace('aaa', 'a', 'b'), translate('abc', 'ab', 'xy'), repeat('ab', 3), lpad('7', 3, '0')",
    "SELECT overlay('Txxxxas' placing 'hom' from 2 for 4), to_hex(255), chr(65), ascii('A')",
    "SELECT 'a' < 'B', 'a' < 'b', 'Z' < 'a', '10'::text < '9'::text",
    "SELECT format('%s-%s: %L %I %I', 1, 2.5, 'it''s', 'plain', 'Mixed Case'), quote_nullable(NULL)",
    "SELECT quote_literal('it''s'), quote_ident('Foo'), quote_ident('foo')",
    # Pattern matching
    r"SELECT 'a_b' LIKE 'a\_b', 'axb' LIKE 'a\_b', 'A_B' ILIKE 'a\_b', 'a%' LIKE 'a\%'",
    r"SELECT 'a_b' LIKE 'a\_b' = true, 'a_b' NOT LIKE 'a\_b' <> true, CASE WHEN 'a_b' LIKE 'a\_%' THEN 1 END",
    "SELECT 'abc' ~ '^a', 'abc' ~* 'B', 'abc' !~ 'z', 'abc' LIKE 'A%', 'abc' ILIKE 'A%'",
    "SELECT 'abc' !~* 'B', 'abc' !~* 'z', 'abc' ~* 'b' AND 'x' !~ 'y', 'a.c' ~ $$a\\.c$$",
    # LIKE ANY / ALL over an array (DuckDB's parser refuses them)
    "SELECT s FROM (VALUES ('apple'), ('Banana'), ('cherry'), (NULL)) t(s) WHERE s ILIKE ANY (ARRAY['a%', 'b%']) ORDER BY 1",
    "SELECT s FROM (VALUES ('apple'), ('Banana'), ('cherry')) t(s) WHERE s NOT LIKE ALL (ARRAY['a%', 'c%']) ORDER BY 1",
    r"SELECT s FROM (VALUES ('a_b'), ('axb')) t(s) WHERE lower(s) LIKE ANY (ARRAY['a\_b', 'z%']) ORDER BY 1",
    "SELECT 'abc' ILIKE ANY (ARRAY['A%', 'x']), 'abc' LIKE ALL (ARRAY['a%', '%c']), 'abc' LIKE SOME (ARRAY['z'])",
    # Parsing dates and times with a template
    "SELECT to_date('17/05/2024', 'DD/MM/YYYY'), to_date('2024-5-7', 'YYYY-MM-DD'), to_date('May 07, 2024', 'Month DD, YYYY')",
    "SELECT to_timestamp('2024-05-17 13:14:15', 'YYYY-MM-DD HH24:MI:SS'), to_timestamp('07/05/24 01:14 PM', 'DD/MM/YY HH12:MI AM')",
        # Lexical rules: escapes, Unicode escapes, dollar quoting, nested comments, `$` in names
    "SELECT E'a\\tb\\n' AS e, U&'d\\0061t\\+000061' AS u, $q$it's; $$ b$q$ AS d /* a /* ; */ c */",
    "SELECT x$1 FROM (SELECT 1 AS x$1) AS t WHERE x$1 <> 2 -- a comment ending the query",
    "SELECT 'abc' SIMILAR TO 'a%', 'abc' SIMILAR TO 'a_c', 'abc' SIMILAR TO 'a.c', 'abc' SIMILAR TO '(abc|x)'",
    "SELECT regexp_replace('aXbXc', 'X', '-'), regexp_replace('aXbXc', 'x', '-', 'gi')",
    # NULL logic
    "SELECT coalesce(NULL, 1), nullif(1, 1), greatest(1, NULL, 3), least(1, NULL, 3), CASE WHEN NULL THEN 1 ELSE 2 END",
    "SELECT NULL = NULL, NULL IS NULL, 1 IS DISTINCT FROM NULL, true AND NULL, false AND NULL, true OR NULL",
    "SELECT 'x' IN ('x', NULL), 'y' IN ('x', NULL), 'y' NOT IN ('x', NULL)",
    # Dates and times
    "SELECT '2024-02-29'::date + 1, '2024-03-31'::date - interval '1 month', date '2024-01-31' + interval '1 month'",
    "SELECT extract(dow from date '2024-01-07'), extract(isodow from date '2024-01-07'), extract(doy from date '2024-12-31')",
    "SELECT extract(week from date '2024-01-01'), extract(quarter from date '2024-05-01'), extract(year from date '2024-01-01')",
    "SELECT date_trunc('week', timestamp '2024-01-10 10:00'), date_trunc('quarter', timestamp '2024-05-10')",
    "SELECT age(timestamp '2024-03-01', timestamp '2024-01-31'), timestamp '2024-03-01' - timestamp '2024-01-31'",
    "SELECT date '2024-03-01' - date '2024-01-31', to_char(date '2024-01-05', 'YYYY-MM-DD')",
    # Month and day names: blank-padded to 9 characters unless FM, in the template's case
    "SELECT to_char(date '2024-03-05', 'Month DD YYYY'), to_char(date '2024-09-04', 'Day'), "
    "to_char(date '2024-03-05', 'MON-DD'), to_char(timestamp '2024-09-04 10:00', 'FMDAY, dy mon'), "
    "to_char(date '2024-05-01', 'FMMonth month'), to_char(NULL::date, 'Month')",
    "SELECT to_char(1234.5, '9999.99'), to_char(12, '000'), to_char(1234567.891, 'FM9,999,999.00'), "
    "to_char(NULL::numeric, '999'), to_char(-3::bigint, 'FM999.00')",
    "SELECT interval '1 day 2 hours' * 2, interval '90 minutes', make_date(2024, 2, 29)",
    "SELECT date_trunc('month', DATE '2024-05-17'), date_trunc('month', TIMESTAMP '2024-05-17 10:00')",
    "SELECT extract(year from DATE '2024-05-17'), extract(epoch from TIMESTAMP '2024-05-17 10:00:00.5'), "
    "extract(second from TIMESTAMP '2024-05-17 10:00:01.5'), extract(milliseconds from TIME '10:00:01.5')",
    "SELECT date_part('year', DATE '2024-05-17'), date_part('second', TIMESTAMP '2024-05-17 10:00:01.5'), "
    "date_part('epoch', TIMESTAMP '2024-05-17 10:00:00.5'), date_part('DOW', TIMESTAMP '2024-05-19 10:00')",
    "SELECT TIMESTAMPTZ '2024-05-17 10:00+00', '2024-05-17 10:00+02'::timestamptz, "
    "TIMESTAMP WITH TIME ZONE '2024-05-17 10:00:00.5 -05', CAST('2024-05-17 10:00+0530' AS timestamptz), "
    "'2024-05-17T10:00Z'::timestamptz",
    # Arrays, series, JSON
    "SELECT array_length(ARRAY[1,2,3], 1), 3 = ANY(ARRAY[1,2,3]), (ARRAY[10,20,30])[2], array_position(ARRAY['a','b'], 'b')",
    "SELECT string_to_array('a,b,,c', ','), array_to_string(ARRAY['a', 'c'], ',')",
    "SELECT generate_series(1, 3)",
    "SELECT * FROM generate_series(1, 10, 4)",
    "SELECT * FROM unnest(ARRAY['a', 'b']) WITH ORDINALITY AS t(x, n)",
    "SELECT * FROM generate_series(5, 7) WITH ORDINALITY",
    "SELECT t.id, e.v, e.i FROM (VALUES (1, ARRAY['p', 'q'])) t(id, a), unnest(t.a) WITH ORDINALITY e(v, i) ORDER BY 3",
    "VALUES (1, 'a'), (2, 'b') ORDER BY 1 DESC",
    "SELECT column2, v.column1 FROM (VALUES (1, 'a')) v",
    "SELECT json_build_object('a', 1)->>'a', '{\"a\": {\"b\": 2}}'::json->'a'->>'b', '[1,2,3]'::json->>1",
    "SELECT jsonb_build_object('a', 1, 'b', 'x'), jsonb_build_array(1, 'x')",
    "SELECT '{\"a\": {\"b\": [10, 20]}}'::json #> '{a,b,1}', '{\"a\": {\"b\": [10, 20]}}'::jsonb #>> '{a,b,0}', "
    "'{\"a\": {\"b c\": \"x/y\"}}'::json #>> '{a,\"b c\"}', '{\"a\": 1}'::json #>> '{zz}', '{\"a\": 1}'::json #> '{}'",
    "SELECT cardinality(ARRAY[1, 2, 3]), cardinality(ARRAY[]::int[]), cardinality(NULL::int[])",
    # JSON set-returning functions, in a select list and in FROM, and json_typeof
    "SELECT json_array_elements('[1, \"a\", {\"k\":[2]}]'::json), 0 AS z",
    "SELECT jsonb_array_elements_text('[\"a\", 2, null]'::jsonb) AS v",
    "SELECT * FROM json_array_elements_text('[\"a\", 2, {\"k\":1}]'::json)",
    "SELECT value ->> 'n' FROM jsonb_array_elements('[{\"n\": 2}, {\"n\": 1}]'::jsonb) ORDER BY 1",
    "SELECT t.id, e.value ->> 'n' FROM (VALUES (1, '[{\"n\":\"x\"},{\"n\":\"y\"}]'::json)) t(id, j), "
    "json_array_elements(t.j) e ORDER BY 2",
    "SELECT * FROM jsonb_each_text('{\"a\": 1, \"b\": \"x\", \"c\": null}'::jsonb) ORDER BY key",
    "SELECT json_object_keys('{\"a\": 1, \"b\": 2}'::json)",
    "SELECT k FROM jsonb_object_keys('{\"b\": 1, \"a\": 2}'::jsonb) AS k ORDER BY k",
    "SELECT jsonb_typeof('1'::jsonb), json_typeof('\"a\"'::json), jsonb_typeof('{}'::jsonb), json_typeof('[]'), "
    "json_typeof('null'), json_typeof(NULL::json), jsonb_typeof('true'), json_typeof('1.5')",
    "SELECT regexp_split_to_table('a1b22c', '[0-9]+')",
    "SELECT w FROM regexp_split_to_table('b,a', ',') AS w ORDER BY w",
    "SELECT e.value, e.ordinality FROM json_array_elements('[10, 20]'::json) WITH ORDINALITY e",
    "SELECT v, i FROM jsonb_array_elements_text('[\"x\", \"y\"]'::jsonb) WITH ORDINALITY AS e(v, i) ORDER BY i",
    "SELECT * FROM json_array_elements_text('[\"x\", \"y\"]'::json) WITH ORDINALITY",
    "SELECT k, ordinality FROM json_object_keys('{\"b\": 1, \"a\": 2}'::json) WITH ORDINALITY AS k ORDER BY 2",
    "SELECT * FROM regexp_split_to_table('a,b', ',') WITH ORDINALITY AS p(part, n)",
    "SELECT array_remove(ARRAY[1, 2, 1], 1), array_remove(ARRAY[1, NULL], NULL), array_remove(NULL::int[], 1)",
    "SELECT pg_typeof(1), pg_typeof(1.5), pg_typeof('a'::text), pg_typeof(now()), pg_typeof(1::bigint), "
    "pg_typeof(true), pg_typeof(1.5::float8), pg_typeof(1::real), pg_typeof(ARRAY[1]), pg_typeof(ARRAY['a']), "
    "pg_typeof('a'::bytea), pg_typeof(timestamp '2024-01-01'), pg_typeof(1::smallint)",
    # Bytes and digests
    "SELECT md5('abc'), encode(sha256('abc'::bytea), 'hex'), encode('abc'::bytea, 'base64'), decode('YWJj', 'base64')",
    "SELECT '\\x0102'::bytea, decode('0102', 'hex'), 'abc'::bytea",
    # Set operations and subqueries
    "SELECT 1 UNION SELECT 1 UNION ALL SELECT 1",
    "SELECT EXISTS (SELECT 1 WHERE false), (SELECT 1 WHERE false) IS NULL",
    "SELECT 0.1::float8 + 0.2::float8 = 0.3::float8, 'NaN'::float8 > 1, 'Infinity'::float8 > 1e308",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A private PostgreSQL 15 server, run as the `postgres` OS user when started as root (in
    /var/tmp: pytest's own temporary folders are private to root)."""
    import psycopg

    root = Path(tempfile.mkdtemp(prefix="tavana-pg-differential-", dir="/var/tmp"))
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(root, "postgres")
    data = root / "data"
    password = secrets.token_hex(8)
    pwfile = root / "pw"
    pwfile.write_text(password)
    if as_user:
        shutil.chown(pwfile, "postgres")
    subprocess.run(
        [*as_user, str(PG_BIN / "initdb"), "-D", str(data), "-U", "tester", f"--pwfile={pwfile}",
         "-A", "scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"],
        check=True, capture_output=True, cwd="/",
    )
    port = _free_port()
    server = subprocess.Popen(
        [*as_user, str(PG_BIN / "postgres"), "-D", str(data), "-p", str(port),
         "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off",
         "-c", "TimeZone=UTC"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/",
    )
    dsn = f"host=127.0.0.1 port={port} user=tester password={password} dbname=postgres sslmode=disable"
    deadline = time.monotonic() + 60
    while True:
        try:
            psycopg.connect(dsn).close()
            break
        except psycopg.OperationalError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise
            time.sleep(0.2)
    try:
        yield dsn
    finally:
        subprocess.run(
            [*as_user, str(PG_BIN / "pg_ctl"), "-D", str(data), "stop", "-m", "fast", "-w"],
            capture_output=True, cwd="/",
        )
        server.wait(timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def both(pg, postgres):
    import psycopg

    real = psycopg.connect(postgres, autocommit=True)
    tavana = psycopg.connect(pg.dsn(), autocommit=True)
    try:
        yield real, tavana
    finally:
        real.close()
        tavana.close()


@pytest.mark.parametrize("sql", EXPRESSIONS, ids=range(len(EXPRESSIONS)))
def test_same_answer_as_postgresql(both, sql):
    real, tavana = both
    expected = real.execute(sql).fetchall()
    got = tavana.execute(sql).fetchall()
    assert got == expected, sql
    # The same Python types too (2024 == Decimal('2024'), but a client sees an int).
    if sql not in TYPES_DIFFER:
        assert _types(got) == _types(expected), sql


# Same values, other types: the sum of integers is numeric (DuckDB's HUGEINT), not bigint.
TYPES_DIFFER = {SUM_OF_INTEGERS, DIVIDED_SUM}


def _types(rows):
    return [[type(value).__name__ for value in row] for row in rows]


# to_char of numbers with the templates clients format amounts with (digits, zeros, group
# separators, a decimal point, FM), each over values that round, overflow, are negative or
# below 1; literals and a numeric column.
TO_CHAR_TEMPLATES = [
    "9999.99", "000", "FM9,999,999.00", "999.9", "0.99", "99", "9.99", "FM9.99", "FM999",
    "9,999", "0,000.0", "FM0.00", "990.99", "9G999D99", "99.", "FM99.", "0999", "FM9,990.9999",
]
TO_CHAR_VALUES = [
    "0", "0.5", "-0.5", "1", "1.5", "-12.5", "12", "123", "1234.5", "-1234.567", "1234567.891",
    "0.001", "-0.001", "99.995", "9.995", "-9999.999", "100",
]


@pytest.mark.parametrize("template", TO_CHAR_TEMPLATES)
def test_to_char_of_numbers_as_postgresql(both, template):
    real, tavana = both
    literals = "SELECT " + ", ".join(f"to_char({v}, '{template}')" for v in TO_CHAR_VALUES)
    column = (
        f"SELECT to_char(x, '{template}') FROM (VALUES "
        + ", ".join(f"({v}::numeric)" for v in TO_CHAR_VALUES) + ") t(x) ORDER BY x"
    )
    for sql in (literals, column):
        expected = real.execute(sql).fetchall()
        assert tavana.execute(sql).fetchall() == expected, sql
    names = [[c.name for c in conn.execute(literals).description] for conn in both]
    assert names[1] == names[0]


# Time settings as psql's SHOW prints them: PostgreSQL picks the largest unit that divides the
# value.
TIME_SETTINGS = [
    ("statement_timeout", "1500"),
    ("statement_timeout", "2000"),
    ("statement_timeout", "'60s'"),
    ("statement_timeout", "'90s'"),
    ("statement_timeout", "3600000"),
    ("statement_timeout", "'1.5s'"),
    ("statement_timeout", "0"),
    ("idle_in_transaction_session_timeout", "'10min'"),
    ("idle_session_timeout", "'1d'"),
    ("lock_timeout", "250"),
]


@pytest.mark.parametrize("name, value", TIME_SETTINGS, ids=[f"{n}={v}" for n, v in TIME_SETTINGS])
def test_time_settings_show_as_postgresql_shows_them(both, name, value):
    shown = []
    for conn in both:
        conn.execute(f"SET {name} = {value}")
        shown.append(conn.execute(f"SHOW {name}").fetchone()[0])
        conn.execute(f"RESET {name}")
    assert shown[1] == shown[0], (name, value, shown)


# Savepoints (and cursors' tags), step by step: each statement's command tag or SQLSTATE, its rows, and the
# transaction status after it, as PostgreSQL gives them (pgJDBC's autosave, psycopg's nested
# transactions and SQLAlchemy's begin_nested() rely on ROLLBACK TO leaving a failed block
# usable).
SAVEPOINT_SCRIPT = [
    "SAVEPOINT outside",
    "BEGIN",
    "SAVEPOINT sp1",
    "SELECT 2",
    "RELEASE SAVEPOINT sp1",
    "RELEASE SAVEPOINT sp1",
    "ROLLBACK",
    "BEGIN",
    "SAVEPOINT sp2",
    "SAVEPOINT sp3",
    "SELECT 'x'::int",
    "SELECT 3",
    "ROLLBACK TO SAVEPOINT sp3",
    "SELECT 4",
    "ROLLBACK TO sp2",
    "RELEASE sp3",
    "ROLLBACK TO nosuch",
    "ROLLBACK WORK TO SAVEPOINT sp2",
    "SAVEPOINT sp2",
    "RELEASE sp2",
    "ROLLBACK TO sp2",
    "SELECT 5",
    "COMMIT",
    "ROLLBACK TO sp2",
    "RELEASE x",
    "START TRANSACTION",
    "COMMIT",
    "START WORK",
    "START",
    "BEGIN",
    "DECLARE c1 CURSOR FOR SELECT 1",
    "DECLARE c2 CURSOR FOR SELECT 2",
    "CLOSE c1",
    "CLOSE ALL",
    "COMMIT",
]


def _step(conn, sql):
    import psycopg

    try:
        cur = conn.execute(sql)
        outcome = (cur.statusmessage, cur.fetchall() if cur.description else None)
    except psycopg.Error as error:
        outcome = (error.sqlstate, None)
    return sql, outcome, conn.info.transaction_status.name


def test_savepoints_behave_as_in_postgresql(both):
    real, tavana = both
    expected = [_step(real, sql) for sql in SAVEPOINT_SCRIPT]
    got = [_step(tavana, sql) for sql in SAVEPOINT_SCRIPT]
    assert got == expected


def test_nested_psycopg_transactions_as_in_postgresql(both):
    """psycopg's conn.transaction() inside another is a savepoint; an error inside rolls back
    to it and the outer transaction commits."""
    import psycopg

    answers = []
    for conn in both:
        steps = []
        with conn.transaction():
            steps.append(conn.execute("SELECT 1").fetchone())
            with pytest.raises(psycopg.errors.InvalidTextRepresentation):
                with conn.transaction():
                    conn.execute("SELECT 'x'::int")
            steps.append(conn.execute("SELECT 2").fetchone())
            steps.append(conn.info.transaction_status.name)
        steps.append(conn.info.transaction_status.name)
        answers.append(steps)
    assert answers[1] == answers[0] == [(1,), (2,), "INTRANS", "IDLE"]


# Transaction modes, step by step as the savepoints above, with the warnings: SET TRANSACTION
# and BEGIN's modes set the block's isolation level and read-only mode (shown by SHOW and
# current_setting), only before its first query and outside a savepoint; outside a block SET
# TRANSACTION warns and lasts for itself; the defaults start each transaction.
TRANSACTION_MODES_SCRIPT = [
    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    "SHOW transaction_isolation",
    "BEGIN",
    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    "SHOW transaction_isolation",
    "SELECT current_setting('transaction_isolation')",
    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
    "ROLLBACK",
    "SHOW transaction_isolation",
    "BEGIN ISOLATION LEVEL SERIALIZABLE",
    "SHOW transaction_isolation",
    "SAVEPOINT a",
    "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
    "ROLLBACK",
    "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
    "SHOW transaction_isolation",
    "SHOW transaction_read_only",
    "SELECT 1 AS one",
    "SET TRANSACTION READ WRITE",
    "ROLLBACK",
    "BEGIN READ ONLY",
    "SAVEPOINT s",
    "SET TRANSACTION READ WRITE",
    "ROLLBACK",
    "SET default_transaction_isolation = 'serializable'",
    "SHOW transaction_isolation",
    "BEGIN",
    "SHOW transaction_isolation",
    "DECLARE c CURSOR FOR SELECT 1",
    "SET transaction_isolation = 'read committed'",
    "ROLLBACK",
    "RESET default_transaction_isolation",
    "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    "SHOW transaction_isolation",
    "RESET default_transaction_isolation",
    "SET transaction_isolation = 'bogus'",
    "BEGIN",
    "SET TRANSACTION ISOLATION LEVEL bogus",
    "ROLLBACK",
    "SHOW transaction_isolation",
    "START TRANSACTION READ ONLY, ISOLATION LEVEL SERIALIZABLE",
    "SHOW transaction_read_only",
    "SHOW transaction_isolation",
    "COMMIT",
]


def test_transaction_modes_as_in_postgresql(both):
    answers = []
    for conn in both:
        warnings = []

        def warned(diagnostic, warnings=warnings):
            warnings.append((diagnostic.severity, diagnostic.sqlstate, diagnostic.message_primary))

        conn.add_notice_handler(warned)
        try:
            steps = []
            for sql in TRANSACTION_MODES_SCRIPT:
                steps.append((*_step(conn, sql), list(warnings)))
                warnings.clear()
        finally:
            conn.remove_notice_handler(warned)
        answers.append(steps)
    assert answers[1] == answers[0]


# Result column names of unaliased expressions, as PostgreSQL names them (clients read columns
# by name: pandas, pgJDBC's getString("count")). Bare numbers and NULL keep DuckDB's names on
# purpose (a Parquet column may be called 2024), so they are not here.
NAMED = "(VALUES (1), (2)) t(x)"
COLUMN_NAMES = [
    f"SELECT count(*), sum(x), max(x) AS top FROM {NAMED}",
    "SELECT nullif(1, 1), coalesce(NULL, 2), greatest(1, 5), least(4, 2)",
    "SELECT position('b' in 'abc'), substring('abcdef' from 2 for 3), replace('aaa', 'a', 'b'), trim(' a ')",
    f"SELECT x, row_number() OVER (ORDER BY x), sum(x) OVER () FROM {NAMED}",
    f"SELECT count(*) FILTER (WHERE x > 1) FROM {NAMED}",
    f"SELECT 1 + 1, 'a' || 'b', x * 2, -x, NOT true FROM {NAMED}",
    "SELECT 'x'::text, 1::boolean, 'Infinity'::float8, '1 day'::interval, 2.5::numeric, "
    "'2024-01-01'::date, 1::bigint, 1::int, 1::smallint, 1.5::real",
    f"SELECT x::text, now()::date, CAST(x AS bigint) FROM {NAMED}",
    f"SELECT CASE WHEN x > 1 THEN 1 ELSE 2 END FROM {NAMED}",
    "SELECT 'hello', 'it''s', 1 IN (1, 2), 3 BETWEEN 1 AND 5, 'a' LIKE 'a', NULL IS NULL",
    "SELECT upper('a'), length('abc'), abs(-1), round(1.5), date_trunc('day', now())",
    "SELECT current_date, current_user, current_schema(), json_build_object('a', 1)",
    "SELECT current_setting('search_path'), current_setting('max_identifier_length')::int",
    "SELECT octet_length('abc'), |/ 4, date_trunc('day', DATE '2024-01-01'), extract(year from DATE '2024-01-01')",
    "SELECT date_part('year', DATE '2024-01-01'), TIMESTAMPTZ '2024-05-17 10:00+02'",
    "SELECT * FROM (VALUES (1, 'a')) v",
    "SELECT * FROM (VALUES (1, 'a')) AS v(x)",
    "VALUES (1, 'a')",
    "SHOW timezone",
    "SHOW datestyle",
    # Names of what DuckDB renders in its own words, or the adapter rewrote
    f"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), percentile_disc(0.5) WITHIN GROUP (ORDER BY x), "
    f"mode() WITHIN GROUP (ORDER BY x) FROM {NAMED}",
    f"SELECT x::text ~ '1', x::text ~* 'a', x::text !~ '1', x::text SIMILAR TO '1%' FROM {NAMED}",
    f"SELECT ARRAY[1, 2], ARRAY[x, x], (ARRAY[1, 2, 3])[2], (ARRAY[x])[1], (array_agg(x))[1] FROM {NAMED} GROUP BY x",
    "SELECT generate_series(1, 2), unnest(ARRAY[1, 2])",
    "SELECT to_char(DATE '2024-01-01', 'YYYY'), to_char(DATE '2024-01-01', 'Month'), to_char(12, '999'), to_date('2024', 'YYYY'), "
    "to_timestamp('2024', 'YYYY'), cardinality(ARRAY[1])",
    "SELECT '{1.5,2}'::float[], '{a}'::text[], 1::float",
    "SELECT 'abc' ILIKE ANY (ARRAY['A%']), 'abc' NOT LIKE ALL (ARRAY['x'])",
    "SELECT json_array_elements('[1]'), json_array_elements_text('[1]'), json_object_keys('{\"a\": 1}'), "
    "regexp_split_to_table('a', ','), pg_typeof(1), json_typeof('1')",
    "SELECT '\\x4142'::bytea, decode('4142', 'hex'), sha256('a'::bytea), encode('a'::bytea, 'hex'), "
    "encode('a'::bytea, 'base64'), to_hex(255), 'a'::varchar(10)",
]


@pytest.mark.parametrize("sql", COLUMN_NAMES, ids=range(len(COLUMN_NAMES)))
def test_column_names_as_postgresql_names_them(both, sql):
    real, tavana = both
    expected = [column.name for column in real.execute(sql).description]
    got = [column.name for column in tavana.execute(sql).description]
    assert got == expected, sql


# Errors a client may branch on: the same SQLSTATE as PostgreSQL's. (Where the dialects differ
# on whether something is an error at all, `1/0` is NULL here, the statement is not listed.)
TWO = "(VALUES (1, 2), (2, 3))"
ERRORS = [
    "SELECT nope",
    "SELECT * FROM no_such_table",
    "SELECT no_such_fn(1)",
    f"SELECT x, count(*) FROM {TWO} t(x, y)",
    f"SELECT x FROM {TWO} t(x, y), {TWO} u(x, y)",
    "SELECT 'a'::int",
    "SELECT 2147483647::int + 1",
    "SELECT '2024-13-01'::date",
    "SELECT '2024-02-30'::date",
    "SELECT 'x'::timestamp",
    "SELECT sqrt(-1)",
    "SELECT ln(0)",
    "SELECT log(-1)",
    "SELECT (SELECT 1 UNION SELECT 2)",
    "SELECT * FROM (SELECT 1) s WHERE",
    "SELECT CAST('x' AS nosuchtype)",
]


@pytest.mark.parametrize("sql", [
    "SELECT json_object_keys('[1, 2]'::json)",
    "SELECT * FROM json_object_keys('1'::json)",
])
def test_json_object_keys_of_a_non_object_is_an_error_as_in_postgresql(both, sql):
    """PostgreSQL's message (DuckDB's json_keys would give no keys); both data exceptions (22xxx)."""
    real, tavana = _errors(both, sql)
    assert str(real).split("\n")[0] in str(tavana), (real, tavana)
    assert tavana.sqlstate.startswith("22"), tavana.sqlstate


def _errors(both, sql: str) -> list:
    """The psycopg error `sql` raises on each server (PostgreSQL first)."""
    import psycopg

    errors = []
    for conn in both:
        with pytest.raises(psycopg.Error) as error:
            conn.execute(sql).fetchall()
        errors.append(error.value)
    return errors


@pytest.mark.parametrize("sql", ERRORS, ids=range(len(ERRORS)))
def test_errors_have_postgresql_sqlstates(both, sql):
    states = [error.sqlstate for error in _errors(both, sql)]
    assert states[1] == states[0], (sql, states)


# SET with a value the setting does not take: PostgreSQL's SQLSTATE and message (clients show
# the message; a boolean setting's says it wants a Boolean).
SETTING_ERRORS = [
    "SET transaction_read_only = 'maybe'",
    "SET default_transaction_read_only TO o",
]


@pytest.mark.parametrize("sql", SETTING_ERRORS, ids=range(len(SETTING_ERRORS)))
def test_setting_errors_as_in_postgresql(both, sql):
    errors = [(error.sqlstate, error.diag.message_primary) for error in _errors(both, sql)]
    assert errors[1] == errors[0], sql
