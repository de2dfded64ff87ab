"""Users change without a restart: with TAVANA_USERS_FILE, the gateway and the pg-adapter read
the file again when it changes (the Helm chart mounts the Secret's `users` there). A user
added can sign in within about a second through Flight SQL and PostgreSQL, a changed password
replaces the old one, a removed user can no longer sign in, and a file that does not read
leaves the users as they were. Connections already open are not touched."""

from __future__ import annotations

import subprocess
import time

import adbc_driver_manager
import psycopg

from pg.conftest import private_pg_adapter
from tavana_harness import query_table, tavana_bin


def _write(cluster, users: dict[str, str]) -> None:
    staged = cluster.users_file.with_suffix(".new")
    staged.write_text("# users\n" + "".join(f"{u}:{p}\n" for u, p in users.items()))
    staged.replace(cluster.users_file)
    time.sleep(1.5)  # the files are looked at once a second at most


def _flight_ok(cluster, user: str, password: str) -> bool:
    try:
        conn = cluster.connect(user=user, password=password)
    except adbc_driver_manager.Error as error:
        assert "UNAUTHENTICATED" in str(error) or "Unauthenticated" in str(error), error
        return False
    try:
        return query_table(conn, "SELECT 1 AS ok").to_pylist() == [{"ok": 1}]
    finally:
        conn.close()


def _pg_ok(adapter, user: str, password: str) -> bool:
    try:
        with psycopg.connect(adapter.dsn(user=user, password=password), autocommit=True) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError as error:
        assert "password authentication failed" in str(error), error
        return False


def test_users_change_without_a_restart(cluster_factory, tmp_path):
    cluster = cluster_factory(users_file=True)
    alice = (cluster.user, cluster.password)
    with private_pg_adapter(cluster, tmp_path / "pg") as adapter:
        assert _flight_ok(cluster, *alice) and _pg_ok(adapter, *alice)
        assert not _flight_ok(cluster, "dana", "first-pw")
        assert not _pg_ok(adapter, "dana", "first-pw")
        open_pg = psycopg.connect(adapter.dsn(), autocommit=True)

        # Dana is added.
        _write(cluster, {**dict([alice]), "dana": "first-pw"})
        assert _flight_ok(cluster, "dana", "first-pw")
        assert _pg_ok(adapter, "dana", "first-pw")

        # Dana's password changes.
        _write(cluster, {**dict([alice]), "dana": "second-pw"})
        assert not _flight_ok(cluster, "dana", "first-pw")
        assert not _pg_ok(adapter, "dana", "first-pw")
        assert _flight_ok(cluster, "dana", "second-pw")
        assert _pg_ok(adapter, "dana", "second-pw")

        # A file that does not read changes nothing.
        cluster.users_file.write_text("dana\n")
        time.sleep(1.5)
        assert _pg_ok(adapter, "dana", "second-pw")
        assert "users file changed but does not read" in cluster.gateway.log_path.read_text()

        # Dana is removed; the connection opened at the start never noticed any of it.
        _write(cluster, dict([alice]))
        assert not _flight_ok(cluster, "dana", "second-pw")
        assert not _pg_ok(adapter, "dana", "second-pw")
        assert open_pg.execute("SELECT 2").fetchone() == (2,)
        open_pg.close()
        assert "users file changed: reloaded" in adapter.process.log_path.read_text()


def test_a_list_and_a_file_together_are_refused(tmp_path):
    users = tmp_path / "users"
    users.write_text("a:b\n")
    done = subprocess.run(
        [str(tavana_bin()), "gateway", "--worker-addr", "http://127.0.0.1:1", "--users", "a:b",
         "--users-file", str(users), "--flight-sql-port", "0", "--admin-port", "0"],
        env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=30, cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "set TAVANA_USERS (--users) or TAVANA_USERS_FILE (--users-file), not both" in (
        done.stderr + done.stdout
    )
