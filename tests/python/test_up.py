"""`tavana up`: the README's first command, as a user would run it.

`tavana up` uses the fixed default ports (Flight SQL 50051, PostgreSQL 15432),
so this test is skipped when either is taken on this machine.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import adbc_driver_flightsql.dbapi as flightsql
import pyarrow as pa
import pytest

from tavana_harness import extension_dir, tavana_bin

FLIGHT_PORT = 50051
PG_PORT = 15432


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def up(tmp_path):
    for port in (FLIGHT_PORT, PG_PORT):
        if _port_taken(port):
            pytest.skip(f"port {port} in use; `tavana up` needs its default ports")
    data_dir = tmp_path / "data"
    proc = subprocess.Popen(
        [str(tavana_bin()), "up", "--data-dir", str(data_dir),
         "--extension-dir", str(extension_dir())],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []

    def pump() -> None:
        for line in proc.stdout:
            lines.append(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        yield proc, lines, data_dir
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for_connection_info(proc, lines, timeout=120.0) -> tuple[str, str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = "".join(lines)
        uri = re.search(r"grpc://127\.0\.0\.1:\d+", text)
        user = re.search(r"user(?:name)?\W+(\w+)", text, re.IGNORECASE)
        password = re.search(r"password\W+([A-Za-z0-9_\-.~+/=]{8,})", text, re.IGNORECASE)
        if uri and user and password:
            return uri.group(0), user.group(1), password.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(
        f"`tavana up` printed no ADBC URI/user/password (exit={proc.poll()}):\n" + "".join(lines)
    )


def _first(data_dir: Path, pattern: str) -> Path:
    found = sorted(data_dir.rglob(pattern))
    assert found, f"no {pattern} under {data_dir}"
    return found[0]


def test_up_serves_sample_data(up):
    proc, lines, data_dir = up
    uri, user, password = _wait_for_connection_info(proc, lines)
    assert uri == f"grpc://127.0.0.1:{FLIGHT_PORT}"

    parquet_dir = _first(data_dir, "*.parquet").parent
    csv = _first(data_dir, "*.csv")
    json_file = _first(data_dir, "*.json")

    deadline = time.monotonic() + 60
    while True:
        try:
            conn = flightsql.connect(uri, db_kwargs={"username": user, "password": password},
                                     autocommit=True)
            break
        except Exception:  # noqa: BLE001 - gateway may still be warming up
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        with conn.cursor() as cur:
            for sql in (
                f"SELECT * FROM read_parquet('{parquet_dir}/*.parquet')",
                f"SELECT * FROM read_csv('{csv}')",
                f"SELECT * FROM read_json('{json_file}')",
            ):
                cur.execute(sql)
                table = cur.fetch_arrow_table()
                assert table.num_rows > 0, sql
                assert isinstance(table.schema, pa.Schema)
                # Typed columns, not everything-as-text.
                assert any(not pa.types.is_string(f.type) for f in table.schema), (
                    sql, table.schema)
            # The sample data is also served as tables of a lake catalog `tavana up` writes.
            for table, scan in (
                ("sample.trips", f"read_parquet('{parquet_dir}/*.parquet')"),
                ("sample.trips_csv", f"read_csv('{csv}')"),
                ("sample.trips_json", f"read_json('{json_file}')"),
            ):
                cur.execute(f"SELECT (SELECT count(*) FROM {table}), (SELECT count(*) FROM {scan})")
                in_table, in_file = cur.fetchone()
                assert in_table == in_file > 0, table
    finally:
        conn.close()
    listed = subprocess.run(
        ["psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", user, "-d", "tavana",
         "-c", "\\dt sample.*"],
        capture_output=True, text=True, timeout=60, env={"PGPASSWORD": password, "PATH": "/usr/bin:/bin"},
    )
    assert listed.returncode == 0, listed.stderr
    assert [line.split("|")[1] for line in listed.stdout.split()] == ["trips", "trips_csv", "trips_json"], listed.stdout
    assert (data_dir / "catalog.toml").exists()

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0, "".join(lines)
    time.sleep(0.5)
    assert not _port_taken(FLIGHT_PORT), "Flight SQL port still open after Ctrl-C"
