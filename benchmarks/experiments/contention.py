"""Experiment, not product code: does the executor need more CPU for the same rows when a
busy process shares the machine's cores? (It does, ~10%: see benchmarks/results/2026-11-24.md,
"Findings". That is why the executor uses more CPU under psycopg, whose Python client keeps a
core busy, than under an Arrow fetch.)

Starts one executor, then fetches the same 3M `lineitem` rows from it straight over Flight SQL
(ADBC) with a consumer that sleeps 2 ms per batch, so the fetch itself is the same every run.
Runs alternate between "alone" and "beside" a process spinning on one core, and each pair prints
the executor's CPU seconds. In-process DuckDB gets the same treatment.

    ~/.cache/tavana/bench-venv/bin/python benchmarks/experiments/contention.py \\
        --tavana ~/.cache/tavana/target/release/tavana --parquet ~/.cache/tavana/bench-data/sf2/lineitem.parquet \\
        --extension-dir ~/.cache/tavana/extensions
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import adbc_driver_flightsql.dbapi as flight_sql
import duckdb

TOKEN = "contention-experiment"


def cpu_seconds(pid: int) -> float:
    """CPU seconds `pid` (all its threads) has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spinner() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tavana", type=Path, required=True)
    ap.add_argument("--parquet", type=Path, required=True)
    ap.add_argument("--extension-dir", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--port", type=int, default=17901)
    args = ap.parse_args()
    sql = f"SELECT * FROM read_parquet('{args.parquet}') LIMIT 3000000"

    executor = subprocess.Popen(
        [args.tavana, "executor", "--host", "127.0.0.1", "--grpc-port", str(args.port),
         "--admin-port", str(args.port + 1), "--internal-token", TOKEN,
         "--allowed-path", str(args.parquet.parent), "--threads", "2", "--max-memory-gb", "8",
         "--extension-dir", str(args.extension_dir), "--log-level", "warn"])
    try:
        conn = None
        for _ in range(100):
            try:
                conn = flight_sql.connect(
                    f"grpc://127.0.0.1:{args.port}", autocommit=True,
                    db_kwargs={"adbc.flight.sql.rpc.call_header.x-tavana-internal-token": TOKEN})
                conn.cursor().execute("SELECT 1")
                break
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.2)
        cursor = conn.cursor()

        def executor_fetch() -> float:
            before = cpu_seconds(executor.pid)
            cursor.execute(sql)
            for _batch in cursor.fetch_record_batch():
                time.sleep(0.002)
            return cpu_seconds(executor.pid) - before

        def in_process_fetch() -> float:
            db = duckdb.connect(config={"threads": 2})
            before = os.times()
            for _batch in db.execute(sql).to_arrow_reader(8192):
                time.sleep(0.002)
            after = os.times()
            db.close()
            return after.user + after.system - before.user - before.system

        executor_fetch()  # warm-up: page cache, the executor's session engine
        for label, fetch in (("executor", executor_fetch), ("in-process DuckDB", in_process_fetch)):
            for _ in range(args.rounds):
                alone = fetch()
                spin = spinner()
                time.sleep(0.2)
                try:
                    beside = fetch()
                finally:
                    spin.kill()
                    spin.wait()
                print(f"{label:18s} CPU alone {alone:.2f} s, beside a spinning process {beside:.2f} s: "
                      f"{beside / alone:.2f}x", flush=True)
        cursor.close()
        conn.close()
    finally:
        executor.terminate()
        executor.wait(20)


if __name__ == "__main__":
    main()
