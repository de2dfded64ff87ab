"""Per-session credentials never reach the shared engine nor another session.

moto enforces IAM here: alice's keys read only bucket private-a, bob's only
private-b, and the deployment's secret is scoped to s3://lake/. Each session's
credentials travel with its calls (as the gateway sends them) and its queries run
on an engine of its own."""

from __future__ import annotations

import json

import pytest

from tavana_harness import counted, query_table

SECRET_A = "s3://private-a/secret.parquet"
SECRET_B = "s3://private-b/secret.parquet"


def words(conn, location: str) -> list[str]:
    return [r["word"] for r in query_table(conn, f"SELECT word FROM '{location}'").to_pylist()]


def secret_sql(keys, scope: str, proxy: str, name: str = "mine") -> str:
    return (
        f"CREATE SECRET {name} (TYPE s3, KEY_ID '{keys.access_key_id}', "
        f"SECRET '{keys.secret_access_key}', ENDPOINT '{proxy}', URL_STYLE 'path', "
        f"USE_SSL false, REGION 'us-east-1', SCOPE '{scope}')"
    )


@pytest.fixture
def proxy(lake_cluster) -> str:
    return lake_cluster.lake.s3_endpoint.removeprefix("http://")


def test_two_sessions_with_different_credentials_never_see_each_others(
    lake_cluster, executor_session, proxy
):
    data = lake_cluster.lake.data
    # Alice's secret has no SCOPE (all of s3://), bob's only his bucket.
    alice = executor_session(
        secret_sql(data.alice, "s3://private-a/", proxy).replace(", SCOPE 's3://private-a/'", ""),
        user="alice",
    )
    bob = executor_session(secret_sql(data.bob, "s3://private-b/", proxy), user="bob")
    # The context carries the canonical statement, nothing runs on the shared engine.
    assert len(alice.context["credentials"]) == 1
    assert alice.context["credentials"][0].startswith(
        'CREATE OR REPLACE TEMPORARY SECRET "mine" (TYPE s3, ENDPOINT'
    )
    assert bob.context["credentials"][0].startswith(
        'CREATE OR REPLACE TEMPORARY SECRET "mine" (TYPE s3, SCOPE \'s3://private-b/\''
    )
    a, b = alice.connect(), bob.connect()
    shared = lake_cluster.connect()
    executor = lake_cluster.cluster.executor
    reused = counted(executor, "tavana_executor_session_engines_total", "reused")
    try:
        assert words(a, SECRET_A) == ["for alice"]
        assert words(b, SECRET_B) == ["for bob"]
        # Each session has an engine of its own, and a second query reuses it.
        assert words(a, SECRET_A) == ["for alice"]
        assert executor.metric("tavana_executor_session_engines") >= 2
        assert counted(executor, "tavana_executor_session_engines_total", "built") >= 2
        assert counted(executor, "tavana_executor_session_engines_total", "reused") > reused
        # Alice's key is refused for bob's bucket; bob's secret does not even apply to
        # alice's (no secret matches: DuckDB goes to AWS itself, which this sandbox cannot
        # resolve)...
        with pytest.raises(Exception, match="403"):
            words(a, SECRET_B)
        with pytest.raises(Exception, match="403|resolve hostname"):
            words(b, SECRET_A)
        # ...and a session without credentials has neither (no secret matches those
        # buckets: DuckDB goes to AWS itself, which this sandbox cannot even resolve).
        for location in (SECRET_A, SECRET_B):
            with pytest.raises(Exception, match="403|resolve hostname"):
                words(shared, location)
        # Secrets: each session sees its own (redacted), the shared engine none of them.
        def secrets(conn):
            return {
                r["name"]: r["secret_string"]
                for r in query_table(conn, "SELECT name, secret_string FROM duckdb_secrets()").to_pylist()
            }

        mine_a, mine_b, theirs = secrets(a), secrets(b), secrets(shared)
        assert "session_mine" in mine_a and "session_mine" in mine_b
        assert data.alice.access_key_id in mine_a["session_mine"]
        assert data.alice.access_key_id not in json.dumps(mine_b)
        assert not any(name.startswith("session_") for name in theirs)
        for listing in (mine_a, mine_b, theirs):
            text = json.dumps(listing)
            assert data.alice.secret_access_key not in text
            assert data.bob.secret_access_key not in text
        # The deployment's tables still work in a session with its own credentials.
        assert query_table(a, "SELECT count(*) AS n FROM sales.orders").to_pylist() == [{"n": 5}]
    finally:
        a.close()
        b.close()
        shared.close()


def test_set_s3_settings_make_a_session_secret(lake_cluster, executor_session, proxy):
    data = lake_cluster.lake.data
    session = executor_session(
        f"SET s3_access_key_id = '{data.bob.access_key_id}'",
        f"SET s3_secret_access_key = '{data.bob.secret_access_key}'",
        f"SET s3_endpoint = '{proxy}'",
        "SET s3_url_style = 'path'",
        "SET s3_use_ssl = false",
        "SET s3_region = 'us-east-1'",
    )
    conn = session.connect()
    try:
        assert words(conn, SECRET_B) == ["for bob"]
    finally:
        conn.close()
    dropped = session.apply("RESET s3_access_key_id")
    assert len(dropped.context["credentials"]) == 5


def test_session_credentials_are_checked(executor_session, lake_cluster, proxy):
    data = lake_cluster.lake.data
    with pytest.raises(Exception, match="endpoint 169.254.169.254 is not allowed"):
        executor_session(
            "CREATE SECRET (TYPE s3, KEY_ID 'a', SECRET 'b', ENDPOINT '169.254.169.254')"
        )
    with pytest.raises(Exception, match="never the executor's own identity"):
        executor_session("CREATE SECRET (TYPE s3, PROVIDER credential_chain)")
    with pytest.raises(Exception, match="persistent"):
        executor_session("CREATE PERSISTENT SECRET (TYPE s3, KEY_ID 'a', SECRET 'b')")
    with pytest.raises(Exception) as raised:
        executor_session(
            f"CREATE SECRET (TYPE s3, KEY_ID 'a', SECRET '{data.alice.secret_access_key}', BOGUS 'x')"
        )
    assert data.alice.secret_access_key not in str(raised.value)
    # DROP of what the session does not have is an error; with IF EXISTS it is not.
    session = executor_session(secret_sql(data.alice, "s3://private-a/", proxy))
    with pytest.raises(Exception, match="no secret other"):
        session.apply("DROP SECRET other")
    assert session.apply("DROP SECRET mine").context.get("credentials", []) == []


def test_secrets_sent_through_the_gateway_stay_in_their_session(lake_cluster):
    """Credential statements go to the session that sent them, never to the shared engine."""
    conn = lake_cluster.connect()
    other = lake_cluster.connect()
    try:
        query_table(conn, "CREATE SECRET x (TYPE s3, KEY_ID 'key-a', SECRET 'hush-hush')")
        own = query_table(conn, "SELECT name, secret_string FROM duckdb_secrets()").to_pylist()
        # The executor names a session's secrets apart from the operator's.
        assert "session_x" in [r["name"] for r in own]
        assert all("hush-hush" not in r["secret_string"] for r in own), own
        seen = [r["name"] for r in query_table(other, "SELECT name FROM duckdb_secrets()").to_pylist()]
        assert not [name for name in seen if "x" == name or name.startswith("session_")], seen
    finally:
        conn.close()
        other.close()


def test_credentials_through_the_gateway(lake_cluster, proxy):
    """The user-facing path: CREATE SECRET over Flight SQL, kept in the gateway session."""
    data = lake_cluster.lake.data
    conn = lake_cluster.connect()
    other = lake_cluster.connect()
    try:
        query_table(conn, secret_sql(data.alice, "s3://private-a/", proxy))
        assert words(conn, SECRET_A) == ["for alice"]
        # Without alice's secret the other session has no way in: the bucket refuses it (403)
        # or, with no secret scoped to it, the request goes to AWS, unreachable here.
        with pytest.raises(Exception, match="(?i)403|forbidden|denied|resolve"):
            words(other, SECRET_A)
    finally:
        conn.close()
        other.close()
