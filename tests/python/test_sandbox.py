"""The executor's sandbox: every forbidden operation is refused, with a reason.

The executor may read only its allowed paths (here: the generated data
directory), writes nothing, attaches nothing, installs or loads no extension
by itself on a query's behalf, and its configuration is locked after start-up.
"""

from __future__ import annotations

import re

import adbc_driver_manager
import pytest

from tavana_harness import query_table

# A refusal must say why: some word that names the rule that was hit.
REASON = re.compile(
    r"permission|not allowed|disabled|denied|forbidden|refus|read.only|lock|sandbox|"
    r"cannot|not permitted|prohibit|external access|allowed_directories",
    re.IGNORECASE,
)


def refused(conn, sql: str) -> adbc_driver_manager.Error:
    with conn.cursor() as cur:
        with pytest.raises(adbc_driver_manager.Error) as info:
            cur.execute(sql)
            cur.fetchall()
    message = str(info.value)
    assert REASON.search(message), f"refusal without a reason for {sql!r}: {message}"
    return info.value


def test_allowed_path_is_readable(conn, data):
    # The control: the sandbox lets the configured data through.
    table = query_table(conn, f"SELECT count(*) AS n FROM read_csv('{data['csv']}')")
    assert table.to_pylist() == [{"n": 300}]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_text('/proc/self/environ')",
        "SELECT * FROM read_csv('/etc/*')",
        "SELECT * FROM glob('/etc/*')",
    ],
    ids=["read_csv_passwd", "read_text_passwd", "proc_environ", "glob_etc_read", "glob_etc"],
)
def test_read_outside_allowed_paths_refused(conn, sql):
    refused(conn, sql)


def test_path_traversal_out_of_allowed_dir_refused(conn, data):
    refused(conn, f"SELECT * FROM read_text('{data['data_dir']}/../../../../etc/passwd')")


def test_copy_to_allowed_dir_refused(conn, data):
    target = data["data_dir"] / "x.csv"
    refused(conn, f"COPY (SELECT 1 AS a) TO '{target}'")
    assert not target.exists(), "COPY TO wrote a file despite the refusal"


def test_copy_to_parquet_in_allowed_dir_refused(conn, data):
    target = data["data_dir"] / "x.parquet"
    refused(conn, f"COPY (SELECT 1 AS a) TO '{target}' (FORMAT parquet)")
    assert not target.exists()


@pytest.mark.parametrize(
    "before",
    ["", "-- a note\n", "/* a /* nested */ comment */ ", "( "],
    ids=["bare", "line_comment", "nested_comment", "parenthesis"],
)
def test_export_database_refused(conn, data, before):
    # DuckDB creates the target directory while it binds EXPORT, before any check of the
    # prepared statement could refuse it: the statement is refused by its text first.
    target = data["data_dir"] / "export"
    refused(conn, f"{before}EXPORT DATABASE '{target}'")
    assert not target.exists()


@pytest.mark.parametrize(
    "sql",
    ["ATTACH ':memory:' AS x", "ATTACH '/tmp/tavana-sandbox-test.duckdb' AS y"],
    ids=["memory", "file"],
)
def test_attach_refused(conn, sql):
    refused(conn, sql)


def test_attach_file_in_allowed_dir_refused(conn, data):
    # allowed_directories alone would let this create and write a database file.
    target = data["data_dir"] / "attached.duckdb"
    refused(conn, f"ATTACH '{target}' AS z")
    assert not target.exists(), "ATTACH created a database file in the data directory"


def test_install_refused(conn):
    refused(conn, "INSTALL httpfs")


def test_sql_level_prepare_refused_with_the_alternative(conn):
    """A SQL PREPARE would live on one engine connection, and a session's statements move
    between connections: refused, naming what to use instead."""
    error = refused(conn, "PREPARE p AS SELECT 42")
    assert "client's prepared statements" in str(error), str(error)


def test_load_extension_file_refused(conn):
    refused(conn, "LOAD '/tmp/x.duckdb_extension'")


@pytest.mark.parametrize(
    "sql",
    [
        "SET memory_limit = '100GB'",
        "SET threads = 64",
        "SET enable_external_access = true",
        "SET allowed_directories = ['/']",
        "SET lock_configuration = false",
        "SET autoinstall_known_extensions = true",
        "RESET memory_limit",
    ],
    ids=["memory_limit", "threads", "external_access", "allowed_directories",
         "lock_configuration", "autoinstall", "reset_memory_limit"],
)
def test_settings_locked(conn, sql):
    refused(conn, sql)


def test_limits_unchanged_after_attempts(conn):
    with conn.cursor() as cur:
        try:
            cur.execute("SET memory_limit = '100GB'")
        except adbc_driver_manager.Error:
            pass
    table = query_table(
        conn,
        "SELECT current_setting('memory_limit') AS mem, "
        "current_setting('enable_external_access') AS ext, "
        "current_setting('lock_configuration') AS locked",
    )
    row = table.to_pylist()[0]
    assert "100" not in str(row["mem"]), row
    assert row["ext"] in (False, "false"), row
    assert row["locked"] in (True, "true"), row


def test_persistent_secret_refused(conn):
    refused(
        conn,
        "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')",
    )


def test_user_secret_never_reaches_other_sessions(tavana):
    """DuckDB keeps temporary secrets per database instance: a user's secret with
    a narrow SCOPE would win over the operator's for every session's reads of
    that prefix. CREATE SECRET is either refused with a reason, or kept to the
    session that created it."""
    name = "tavana_test_secret"
    sql = (
        f"CREATE SECRET {name} (TYPE s3, KEY_ID 'AKIAEXAMPLE', SECRET 'hunter2', "
        "SCOPE 's3://bucket/prefix')"
    )
    owner = tavana.connect()
    other = tavana.connect()
    try:
        with owner.cursor() as cur:
            try:
                cur.execute(sql)
                cur.fetchall()
            except adbc_driver_manager.Error as err:
                assert REASON.search(str(err)), f"CREATE SECRET failed without a reason: {err}"
                return
        seen = query_table(other, "SELECT name FROM duckdb_secrets()").column("name").to_pylist()
        assert name not in seen, "a user's secret is visible to another session"
        values = query_table(owner, "SELECT secret_string FROM duckdb_secrets()")
        assert "hunter2" not in str(values.to_pylist()), "secret value readable by queries"
    finally:
        owner.close()
        other.close()


def test_secrets_stay_redacted(conn):
    # redact := false must not reveal anything: either refused, or still redacted.
    with conn.cursor() as cur:
        try:
            cur.execute("SELECT secret_string FROM duckdb_secrets(redact := false)")
            rows = cur.fetchall()
        except adbc_driver_manager.Error:
            return
    for (text,) in rows:
        assert "redacted" in text.lower(), text
