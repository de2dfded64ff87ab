"""pgJDBC (Debian libpostgresql-jdbc-java, Java 17) against the pg-adapter: queries,
parameters, fetch-size paging over 10,001 and 2,000 rows, DatabaseMetaData, SQLSTATEs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JAR = Path("/usr/share/java/postgresql.jar")
SOURCE = Path(__file__).resolve().parents[2] / "jdbc" / "PgJdbcTest.java"


@pytest.mark.skipif(not JAR.exists() or shutil.which("java") is None, reason="pgJDBC jar or java missing")
def test_pgjdbc(pg):
    url = f"jdbc:postgresql://{pg.host}:{pg.port}/tavana"
    out = subprocess.run(
        ["java", "-cp", str(JAR), str(SOURCE), url, pg.user, pg.password],
        capture_output=True, text=True, timeout=180,
    )
    assert out.returncode == 0 and "OK" in out.stdout, out.stdout + out.stderr
