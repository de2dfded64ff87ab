"""The examples in clients/ run as a user runs them, against real Tavana processes, and print
what the sample data holds (checked against DuckDB's own answer over the same files)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CLIENTS = ROOT / "clients"
JAR = Path("/usr/share/java/postgresql.jar")


@pytest.fixture(scope="module")
def sample(tavana):
    """trips_*.parquet as `tavana up` writes them, inside the cluster's readable folder."""
    import duckdb

    folder = tavana.data_dir / "client-sample"
    folder.mkdir(exist_ok=True)
    con = duckdb.connect()
    trips = (
        "SELECT i AS trip_id, DATE '2026-01-01' + (i % 365)::INTEGER AS trip_date, "
        "TIMESTAMP '2026-01-01' + to_seconds(i * 37) AS started_at, "
        "['Amsterdam', 'Berlin', 'Lisbon', 'Oslo', 'Tehran'][(i % 5) + 1] AS city, "
        "(1.5 + (i * 37 % 4000) / 100.0)::DECIMAL(10, 2) AS distance_km, i % 3 = 0 AS shared "
        "FROM range(10000) t(i)"
    )
    for part, rows in enumerate(("trip_id < 5000", "trip_id >= 5000")):
        con.execute(
            f"COPY (SELECT * FROM ({trips}) WHERE {rows}) TO '{folder}/trips_{part}.parquet' (FORMAT parquet)"
        )
    glob = f"read_parquet('{folder}/trips_*.parquet')"
    expected = {
        "by_city": con.execute(f"SELECT city, count(*) FROM {glob} GROUP BY city ORDER BY 2 DESC, 1").fetchall(),
        "berlin_5km": con.execute(f"SELECT count(*) FROM {glob} WHERE city = 'Berlin' AND distance_km >= 5").fetchone()[0],
        "berlin_paris": con.execute(f"SELECT count(*) FROM {glob} WHERE city IN ('Berlin', 'Paris')").fetchone()[0],
    }
    return folder, expected


def run(command, pg, tavana, folder, timeout=180):
    env = dict(os.environ)
    env.update(
        TAVANA_FLIGHT_URI=tavana.flight_uri,
        TAVANA_PG_HOST=pg.host,
        TAVANA_PG_PORT=str(pg.port),
        TAVANA_JDBC_URL=f"jdbc:postgresql://{pg.host}:{pg.port}/tavana",
        TAVANA_USER=tavana.user,
        TAVANA_PASSWORD=tavana.password,
        TAVANA_SAMPLE=str(folder),
    )
    out = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_flight_sql_adbc_example(pg, tavana, sample):
    folder, expected = sample
    out = run([sys.executable, str(CLIENTS / "python" / "flight_sql_adbc.py")], pg, tavana, folder)
    for city, n in expected["by_city"]:
        assert f"{city:<12} {n:>6} trips" in out, out
    assert f"Berlin trips of 5 km or more: {expected['berlin_5km']}\n" in out, out
    assert "streamed 10000 rows in " in out, out
    assert "error, as expected: NOT_FOUND" in out, out


def test_postgres_psycopg_example(pg, tavana, sample):
    folder, expected = sample
    out = run([sys.executable, str(CLIENTS / "python" / "postgres_psycopg.py")], pg, tavana, folder)
    assert f"Berlin and Paris trips: {expected['berlin_paris']}\n" in out, out
    assert "read 10000 rows through a server-side cursor" in out, out
    assert "trip_id,trip_date,started_at,city,distance_km,shared\n0,2026-01-01,2026-01-01 00:00:00,Amsterdam,1.50,t" in out, out
    assert "error, as expected: SQLSTATE 42P01" in out, out


@pytest.mark.skipif(not JAR.exists() or shutil.which("java") is None, reason="pgJDBC jar or java missing")
def test_pgjdbc_example(pg, tavana, sample):
    folder, _ = sample
    out = run(["java", "-cp", str(JAR), str(CLIENTS / "java" / "PgJdbcExample.java")], pg, tavana, folder)
    assert "read 10000 rows 1000 at a time" in out, out
    assert "error, as expected: SQLSTATE 42P01" in out, out
