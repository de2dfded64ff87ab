"""Lake failures give a message naming the location and the cause, within a bounded
time, and the executor keeps serving: wrong credentials, missing bucket / path /
table, unreachable endpoints (refusing and hanging), a corrupt file, a bad Delta
version."""

from __future__ import annotations

import threading
import time

import pytest

from lake_settings import HTTP_TIMEOUT_SECS, OPEN_TIMEOUT_SECS
from tavana_harness import query_table

# Generous bound for failures that must not wait for any timeout.
FAST_S = 10.0


@pytest.fixture
def conn(lake_cluster):
    connection = lake_cluster.connect()
    try:
        yield connection
    finally:
        connection.close()


def failure(conn, sql: str) -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(Exception) as raised:
        query_table(conn, sql)
    return str(raised.value), time.monotonic() - started


def still_serving(conn) -> None:
    assert query_table(conn, "SELECT count(*) AS n FROM sales.orders").to_pylist() == [{"n": 5}]


CASES = [
    pytest.param(
        "SELECT * FROM sales.nope",
        ["sales.nope", "does not exist"],
        FAST_S,
        id="missing-table",
    ),
    pytest.param(
        "SELECT * FROM sales.missing",
        ["sales.missing", "s3://lake/nope/*.parquet", "No files found"],
        FAST_S,
        id="missing-path-named-table",
    ),
    pytest.param(
        "SELECT * FROM read_parquet('s3://lake/nope.parquet')",
        ["s3://lake/nope.parquet", "404"],
        FAST_S,
        id="missing-file",
    ),
    pytest.param(
        "SELECT * FROM read_parquet('s3://missing-bucket/x.parquet')",
        ["missing-bucket", "404"],
        FAST_S,
        id="missing-bucket",
    ),
    pytest.param(
        "SELECT * FROM delta_scan('s3://lake/no-such-table')",
        ["s3://lake/no-such-table"],
        FAST_S,
        id="missing-delta-table",
    ),
    pytest.param(
        "SELECT * FROM sales.corrupt",
        ["sales.corrupt", "s3://lake/corrupt/bad.parquet"],
        FAST_S,
        id="corrupt-file",
    ),
    pytest.param(
        "SELECT * FROM sales.orders_at_version(99)",
        ["no version 99", "latest version is 3", "sales.orders", "s3://lake/delta/orders"],
        FAST_S,
        id="bad-delta-version",
    ),
    pytest.param(
        "SELECT * FROM read_parquet('s3://refused/x.parquet')",
        ["s3://refused/x.parquet", "connect"],
        FAST_S,
        id="endpoint-refuses",
    ),
    pytest.param(
        "SELECT * FROM read_parquet('s3://hang/x.parquet')",
        ["hang/x.parquet", "Timeout"],
        # http_timeout per attempt, one retry, plus a margin.
        HTTP_TIMEOUT_SECS * 2 + FAST_S,
        id="endpoint-hangs-parquet",
    ),
    pytest.param(
        "SELECT * FROM delta_scan('s3://hang/table')",
        ["took longer than", "TAVANA_LAKE_OPEN_TIMEOUT_SECS"],
        # The Delta kernel's own client would retry for three minutes.
        OPEN_TIMEOUT_SECS + FAST_S,
        id="endpoint-hangs-delta",
    ),
]


@pytest.mark.parametrize("sql, needles, bound_s", CASES)
def test_failure_names_location_and_cause(conn, sql, needles, bound_s):
    message, took = failure(conn, sql)
    for needle in needles:
        assert needle in message, f"{needle!r} not in: {message}"
    assert took < bound_s, f"took {took:.1f}s: {message}"
    still_serving(conn)


def test_wrong_credentials_are_named(lake_cluster, executor_session):
    """An S3 key moto does not know: HTTP 403 with the location and the S3 error code."""
    proxy = lake_cluster.lake.s3_endpoint.removeprefix("http://")
    session = executor_session(
        "CREATE SECRET wrong (TYPE s3, KEY_ID 'AKIANOTAKEY', SECRET 'nope', "
        f"ENDPOINT '{proxy}', URL_STYLE 'path', USE_SSL false, REGION 'us-east-1', "
        "SCOPE 's3://private-a/')"
    )
    message, took = failure(session.connect(), "SELECT * FROM 's3://private-a/secret.parquet'")
    assert "s3://private-a/secret.parquet" in message or "private-a/secret.parquet" in message
    assert "403" in message and "InvalidAccessKeyId" in message, message
    assert took < FAST_S


def test_a_hanging_query_does_not_block_others(conn, lake_cluster):
    outcome = {}

    def hang():
        other = lake_cluster.connect()
        try:
            outcome["message"], outcome["took"] = failure(
                other, "SELECT * FROM delta_scan('s3://hang/another')"
            )
        finally:
            other.close()

    thread = threading.Thread(target=hang)
    thread.start()
    time.sleep(1.0)
    started = time.monotonic()
    for _ in range(5):
        still_serving(conn)
    assert time.monotonic() - started < FAST_S
    thread.join(timeout=OPEN_TIMEOUT_SECS + FAST_S + 5)
    assert not thread.is_alive()
    assert "took longer than" in outcome["message"]
