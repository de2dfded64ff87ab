"""Benchmark data: TPC-H tables as Parquet, generated with DuckDB's own `dbgen`.

Generated once per scale factor into a cache directory (a finished directory is
renamed into place, so an interrupted generation never leaves half a data set).
The Tavana executor, ROAPI and in-process DuckDB all read these same files.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

TPCH_TABLES = ("customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier")


def sf_label(sf: float) -> str:
    return f"sf{sf:g}".replace(".", "_")


def local_duckdb(extension_dir: Path, threads: int | None = None, memory_gb: int | None = None,
                 executor_caches: bool = False):
    """Python duckdb loading extensions from the provisioned directory only (no downloads).
    `executor_caches`: keep Parquet footers and file blocks between queries, validated
    against each file, as the executor does (executor/src/lake/mod.rs)."""
    import duckdb

    config: dict[str, object] = {
        "extension_directory": str(extension_dir),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads:
        config["threads"] = threads
    if memory_gb:
        config["memory_limit"] = f"{memory_gb}GB"
    con = duckdb.connect(config=config)
    if executor_caches:
        # Settings of the parquet extension: known once the database is open.
        con.execute("SET parquet_metadata_cache = true")
        con.execute("SET enable_external_file_cache = true")
    return con


def ensure_tpch(data_root: Path, sf: float, tables: tuple[str, ...], extension_dir: Path) -> Path:
    """`data_root/sf<sf>/` holding `<table>.parquet` for each of `tables` (generated if missing)."""
    target = data_root / sf_label(sf)
    if all((target / f"{t}.parquet").exists() for t in tables):
        return target
    started = time.monotonic()
    tmp = data_root / f".{sf_label(sf)}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    # Keep any tables a previous generation of this scale already wrote.
    if target.exists():
        for existing in target.glob("*.parquet"):
            shutil.copy2(existing, tmp / existing.name)
    con = local_duckdb(extension_dir)
    con.execute("LOAD tpch")
    con.execute(f"CALL dbgen(sf = {sf})")
    for table in tables:
        if not (tmp / f"{table}.parquet").exists():
            con.execute(f"COPY {table} TO '{tmp}/{table}.parquet' (FORMAT parquet)")
    con.close()
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    print(f"bench: generated TPC-H sf={sf:g} ({', '.join(tables)}) in {time.monotonic() - started:.0f}s")
    return target


def tpch_queries(extension_dir: Path) -> dict[int, str]:
    con = local_duckdb(extension_dir)
    try:
        con.execute("LOAD tpch")
        return dict(con.execute("SELECT query_nr, query FROM tpch_queries()").fetchall())
    finally:
        con.close()


def over_parquet(query: str, tpch_dir: Path) -> str:
    """A TPC-H query reading the Parquet files: one CTE per table, named like the table.

    The Tavana service keeps no tables of its own (it is read-only and sandboxed), so
    this is how its users query files; in-process DuckDB runs the very same text.
    """
    ctes = ",\n".join(
        f"{t} AS (SELECT * FROM read_parquet('{tpch_dir / (t + '.parquet')}'))" for t in TPCH_TABLES
    )
    body = query.strip().rstrip(";").strip()
    if re.match(r"(?i)^with\s", body):  # Q15 has a WITH clause of its own
        return f"WITH {ctes},\n{body[4:].lstrip()}"
    return f"WITH {ctes}\n{body}"


def lineitem_keys(parquet: Path, count: int, extension_dir: Path) -> list[int]:
    """`count` existing order keys spread over the table, for point lookups."""
    con = local_duckdb(extension_dir)
    try:
        rows = con.execute(
            f"SELECT DISTINCT l_orderkey FROM read_parquet('{parquet}') "
            f"USING SAMPLE reservoir({count} ROWS) REPEATABLE (42)"
        ).fetchall()
    finally:
        con.close()
    keys = sorted(r[0] for r in rows)
    if not keys:
        raise RuntimeError(f"no order keys in {parquet}")
    return keys


def lineitem_stats(parquet: Path, extension_dir: Path) -> dict[str, int]:
    con = local_duckdb(extension_dir)
    try:
        rows, max_key = con.execute(
            f"SELECT count(*), max(l_orderkey) FROM read_parquet('{parquet}')"
        ).fetchone()
    finally:
        con.close()
    return {"rows": int(rows), "max_orderkey": int(max_key), "file_bytes": parquet.stat().st_size}
