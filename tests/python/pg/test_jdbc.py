"""pgJDBC (Debian libpostgresql-jdbc-java, Java 17) against the pg-adapter: queries,
parameters, fetch-size paging over 10,001 and 2,000 rows, DatabaseMetaData (schemas, tables,
columns with their names and types), SQLSTATEs, and a 10-million-row result paged with
setFetchSize(1000) while the adapter's memory is sampled."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

JAR = Path("/usr/share/java/postgresql.jar")
SOURCE = Path(__file__).resolve().parents[2] / "jdbc" / "PgJdbcTest.java"

pytestmark = pytest.mark.skipif(
    not JAR.exists() or shutil.which("java") is None, reason="pgJDBC jar or java missing"
)


def java(pg, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    url = f"jdbc:postgresql://{pg.host}:{pg.port}/tavana"
    return subprocess.run(
        ["java", "-cp", str(JAR), str(SOURCE), url, pg.user, pg.password, *args],
        capture_output=True, text=True, timeout=timeout,
    )


def test_pgjdbc(pg_lake):
    out = java(pg_lake.pg)
    assert out.returncode == 0 and "OK" in out.stdout, out.stdout + out.stderr


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_pgjdbc_pages_ten_million_rows_in_constant_memory(pg_lake):
    rows = 10_000_000
    pid = pg_lake.pg.process.popen.pid
    samples: list[int] = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            samples.append(rss_bytes(pid))
            time.sleep(0.2)

    before = rss_bytes(pid)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out = java(pg_lake.pg, "page", str(rows), timeout=900)
    finally:
        done.set()
        sampler.join()
    assert out.returncode == 0, out.stdout + out.stderr
    # The Java side checked every row's value and order, and the sum.
    assert f"paged {rows}" in out.stdout, out.stdout
    peak = max(samples)
    print(f"pg-adapter RSS: {before / 2**20:.1f} MiB before, peak {peak / 2**20:.1f} MiB over {len(samples)} samples")
    assert len(samples) >= 5
    assert peak < 300 * 2**20, f"pg-adapter RSS peaked at {peak / 2**20:.0f} MiB while paging {rows} rows"
