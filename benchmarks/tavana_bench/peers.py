"""The servers a run measures, each started on loopback in the run's work directory.

- `Tavana`: one executor, one gateway and one pg-adapter (`tavana <role>`, port 0,
  `--addr-file`, `/readyz`), the same shape as `tavana up`.
- `Postgres`: a private PostgreSQL 15 cluster holding the same `lineitem` table.
  The cluster's data directory is cached between runs (loading 12M rows costs
  minutes); the server itself is started and stopped by every run.
- `Roapi`: ROAPI serving the same Parquet file over Flight SQL and PG wire.
- `iperf3`: the loopback TCP bandwidth.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .procs import (
    HarnessError,
    Proc,
    ProcessGroup,
    free_port,
    http_ok,
    port_open,
    read_addr_file,
    wait_until,
)

USER = "bench"
# "bench:pwd" is 9 bytes, so its base64 has no padding. The ADBC Go driver sends Basic
# credentials base64-encoded *without* padding (RawStdEncoding); a gateway that decodes
# only padded base64 refuses it (see benchmarks/README.md, "Known issues").
PASSWORD = "pwd"

PG_BIN = Path(os.environ.get("TAVANA_BENCH_PG_BIN", "/usr/lib/postgresql/15/bin"))


# --------------------------------------------------------------------------
# Tavana


@dataclass
class TavanaSettings:
    threads: int = 2
    max_memory_gb: int = 8
    # The three processes share the machine's cores (see `tavana --worker-threads`).
    worker_threads: int = 1


class Tavana:
    """Executor + gateway + pg-adapter, started from one binary."""

    def __init__(self, binary: Path, workdir: Path, data_dir: Path, extension_dir: Path,
                 settings: TavanaSettings, group: ProcessGroup, env: Optional[dict[str, str]] = None) -> None:
        self.binary = binary
        self.env = {"NO_COLOR": "1", **(env or {})}
        self.workdir = workdir
        self.settings = settings
        self.token = os.urandom(16).hex()
        self.procs: dict[str, Proc] = {}
        self.addrs: dict[str, dict[str, str]] = {}
        self.pg_error: Optional[str] = None
        # The lake catalog: empty until a measure holds a table in memory (`hold_in_memory`).
        self.catalog_file = workdir / "catalog.toml"
        self.catalog_file.write_text("# tables held in memory by the benchmark, while it needs them\n")

        self._start(group, "executor", [
            "--catalog-file", str(self.catalog_file), "--catalog-poll-secs", "1",
            "--host", "127.0.0.1", "--grpc-port", "0", "--admin-port", "0",
            "--internal-token", self.token,
            "--allowed-path", f"{data_dir}/",
            "--threads", str(settings.threads),
            "--max-memory-gb", str(settings.max_memory_gb),
            "--extension-dir", str(extension_dir),
            "--log-level", "warn",
        ])
        self._start(group, "gateway", [
            "--host", "127.0.0.1", "--flight-sql-port", "0", "--admin-port", "0",
            "--worker-addr", f"http://{self.addrs['executor']['listen']}",
            "--users", f"{USER}:{PASSWORD}",
            "--internal-token", self.token,
            "--log-level", "warn",
        ])
        # The pg-adapter is measured where it works; its failure to start is a
        # result (recorded in the report), not the end of the run.
        try:
            self._start(group, "pg-adapter", [
                "--host", "127.0.0.1", "--pg-port", "0", "--admin-port", "0",
                "--gateway-addr", f"http://{self.addrs['gateway']['listen']}",
                "--users", f"{USER}:{PASSWORD}",
                "--log-level", "warn",
            ])
        except HarnessError as err:
            self.pg_error = str(err).splitlines()[0]
            print(f"bench: pg-adapter did not start: {err}")

    def _start(self, group: ProcessGroup, role: str, args: list[str]) -> None:
        addr_file = self.workdir / f"{role}.addr.json"
        addr_file.unlink(missing_ok=True)
        args = [*args, "--worker-threads", str(self.settings.worker_threads)]
        proc = group.add(Proc(role, [self.binary, role, *args, "--addr-file", addr_file],
                              self.workdir, env=self.env))
        self.procs[role] = proc
        holder: dict[str, dict[str, str]] = {}

        def ready() -> bool:
            holder["addrs"] = read_addr_file(addr_file)
            return http_ok(f"http://{holder['addrs']['admin']}/readyz")

        wait_until(f"tavana {role}", ready, timeout=120, proc=proc)
        self.addrs[role] = holder["addrs"]

    @property
    def flight_uri(self) -> str:
        return f"grpc://{self.addrs['gateway']['listen']}"

    @property
    def pg_dsn(self) -> Optional[str]:
        if "pg-adapter" not in self.addrs:
            return None
        host, port = self.addrs["pg-adapter"]["listen"].rsplit(":", 1)
        return f"host={host} port={port} user={USER} password={PASSWORD} dbname=tavana sslmode=disable"

    def pids(self) -> dict[str, int]:
        return {role: p.pid for role, p in self.procs.items() if not p.exited()}

    def _write_catalog(self, text: str) -> None:
        tmp = self.catalog_file.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.catalog_file)

    def _tables_in_memory(self) -> float:
        url = f"http://{self.addrs['executor']['admin']}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        for line in text.splitlines():
            if line.startswith("tavana_executor_lake_tables_in_memory "):
                return float(line.split()[-1])
        return 0.0

    def hold_in_memory(self, table: str, parquet: Path) -> float:
        """Names `bench.<table>` in the catalog with `cache = "memory"` and waits until the
        executor has loaded it; returns the seconds that took."""
        started = time.monotonic()
        self._write_catalog(
            f'[bench]\n{table} = {{ format = "parquet", location = "{parquet}", cache = "memory" }}\n')
        wait_until(f"bench.{table} loaded into memory", lambda: self._tables_in_memory() == 1,
                   timeout=600, proc=self.procs["executor"])
        return time.monotonic() - started

    def release_memory(self) -> None:
        """Empties the catalog again: the copy in memory is dropped."""
        self._write_catalog("# nothing held in memory\n")
        wait_until("tables released from memory", lambda: self._tables_in_memory() == 0,
                   timeout=60, proc=self.procs["executor"])

    def version(self) -> str:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True, check=False)
        return out.stdout.strip() or out.stderr.strip()


# --------------------------------------------------------------------------
# PostgreSQL 15


LINEITEM_DDL = """
CREATE TABLE lineitem (
    l_orderkey      BIGINT NOT NULL,
    l_partkey       BIGINT NOT NULL,
    l_suppkey       BIGINT NOT NULL,
    l_linenumber    BIGINT NOT NULL,
    l_quantity      NUMERIC(15, 2) NOT NULL,
    l_extendedprice NUMERIC(15, 2) NOT NULL,
    l_discount      NUMERIC(15, 2) NOT NULL,
    l_tax           NUMERIC(15, 2) NOT NULL,
    l_returnflag    VARCHAR NOT NULL,
    l_linestatus    VARCHAR NOT NULL,
    l_shipdate      DATE NOT NULL,
    l_commitdate    DATE NOT NULL,
    l_receiptdate   DATE NOT NULL,
    l_shipinstruct  VARCHAR NOT NULL,
    l_shipmode      VARCHAR NOT NULL,
    l_comment       VARCHAR NOT NULL
)
"""

# Settings of the private cluster (reported with the results). Durability is off
# because nothing here is worth keeping and it only speeds up the one-off load;
# reads, which is all the benchmark does, are unaffected.
PG_SETTINGS = {
    "shared_buffers": "3GB",
    "work_mem": "64MB",
    "max_connections": "100",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_wal_size": "8GB",
}


def _pg_os_user() -> Optional[str]:
    """PostgreSQL refuses to run as root: as root, run it as `postgres`."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError as err:
        raise HarnessError("running as root but there is no `postgres` OS user") from err
    return "postgres"


def _as_pg_user(cmd: list[str], os_user: Optional[str]) -> list[str]:
    return ["runuser", "-u", os_user, "--", *cmd] if os_user else cmd


class Postgres:
    """A private PostgreSQL 15 server on a loopback port, with `lineitem` loaded."""

    def __init__(self, cluster_dir: Path, workdir: Path, group: ProcessGroup) -> None:
        if not (PG_BIN / "postgres").exists():
            raise HarnessError(f"PostgreSQL 15 not installed ({PG_BIN}/postgres missing)")
        self.cluster_dir = cluster_dir
        self.workdir = workdir
        self.os_user = _pg_os_user()
        self.port = free_port()
        self.group = group
        self.proc: Optional[Proc] = None

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={USER} password={PASSWORD} dbname=postgres sslmode=disable"

    def psql_env(self) -> dict[str, str]:
        return {"PGHOST": "127.0.0.1", "PGPORT": str(self.port), "PGUSER": USER,
                "PGPASSWORD": PASSWORD, "PGDATABASE": "postgres", "PGSSLMODE": "disable"}

    def _chown(self, path: Path) -> None:
        if self.os_user:
            shutil.chown(path, self.os_user, self.os_user)

    def ensure_cluster(self, parquet: Path, stamp: str) -> bool:
        """Create and load the cluster unless a loaded one with the same stamp exists.
        Returns True when it (re)loaded."""
        stamp = f"{stamp}:{USER}:{PASSWORD}"
        stamp_file = self.cluster_dir / "tavana-bench.stamp"
        if stamp_file.exists() and stamp_file.read_text() == stamp:
            self.start()
            return False
        if self.cluster_dir.exists():
            shutil.rmtree(self.cluster_dir)
        self.cluster_dir.mkdir(parents=True)
        self._chown(self.cluster_dir)
        pgdata = self.cluster_dir / "data"
        pwfile = self.cluster_dir / "pw"
        pwfile.write_text(PASSWORD + "\n")
        self._chown(pwfile)
        subprocess.run(
            _as_pg_user([str(PG_BIN / "initdb"), "-D", str(pgdata), "-U", USER, f"--pwfile={pwfile}",
                         "-A", "scram-sha-256", "-E", "UTF8", "--locale=C"], self.os_user),
            check=True, capture_output=True, cwd="/",
        )
        pwfile.unlink()
        self.start()
        self._load(parquet)
        stamp_file.write_text(stamp)
        return True

    def start(self) -> None:
        pgdata = self.cluster_dir / "data"
        args = [str(PG_BIN / "postgres"), "-D", str(pgdata), "-p", str(self.port),
                "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="]
        for key, value in PG_SETTINGS.items():
            args += ["-c", f"{key}={value}"]
        self.proc = Proc("postgres", _as_pg_user(args, self.os_user), self.workdir, stop_timeout=60)
        # SIGTERM to runuser is passed on to postgres (smart shutdown); use fast shutdown
        # through pg_ctl so a stop never waits on clients.
        self.group.on_stop("postgres", self.stop)
        wait_until("postgres", lambda: self._can_connect(), timeout=120, proc=self.proc)

    def _can_connect(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.dsn, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError as err:
            if "password authentication failed" in str(err):
                raise HarnessError(f"postgres refuses the benchmark's password: {err}") from err
            raise
        return True

    def stop(self) -> None:
        if self.proc is None or self.proc.exited():
            return
        subprocess.run(
            _as_pg_user([str(PG_BIN / "pg_ctl"), "-D", str(self.cluster_dir / "data"), "stop",
                         "-m", "fast", "-w", "-t", "60"], self.os_user),
            capture_output=True, check=False, cwd="/",
        )
        self.proc.stop()

    def _load(self, parquet: Path) -> None:
        """Loads `lineitem` from the Parquet file (through CSV: PostgreSQL reads it itself)."""
        import duckdb
        import psycopg

        started = time.monotonic()
        csv = self.cluster_dir / "lineitem.csv"
        con = duckdb.connect()
        con.execute(f"COPY (SELECT * FROM read_parquet('{parquet}')) TO '{csv}' (FORMAT csv, HEADER false)")
        con.close()
        os.chmod(csv, 0o644)
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(LINEITEM_DDL)
            conn.execute(f"COPY lineitem FROM '{csv}' (FORMAT csv)")
            conn.execute("ALTER TABLE lineitem ADD PRIMARY KEY (l_orderkey, l_linenumber)")
            conn.execute("VACUUM (FREEZE, ANALYZE) lineitem")
            conn.execute("CHECKPOINT")
        csv.unlink()
        print(f"bench: loaded lineitem into PostgreSQL in {time.monotonic() - started:.0f}s")

    def version(self) -> str:
        import psycopg

        with psycopg.connect(self.dsn) as conn:
            return conn.execute("SELECT version()").fetchone()[0]


# --------------------------------------------------------------------------
# ROAPI


class Roapi:
    """ROAPI serving `lineitem` from the same Parquet file (loaded into memory, its default)."""

    def __init__(self, binary: Path, parquet: Path, workdir: Path, group: ProcessGroup,
                 timeout: float = 300) -> None:
        self.flight_addr = f"127.0.0.1:{free_port()}"
        self.pg_addr = f"127.0.0.1:{free_port()}"
        self.http_addr = f"127.0.0.1:{free_port()}"
        self.binary = binary
        self.proc = group.add(Proc("roapi", [
            binary,
            "--addr-http", self.http_addr,
            "--addr-postgres", self.pg_addr,
            "--addr-flight-sql", self.flight_addr,
            "--table", f"lineitem={parquet}",
        ], workdir))
        wait_until("roapi", lambda: port_open(self.flight_addr) and port_open(self.pg_addr),
                   timeout=timeout, proc=self.proc)

    @property
    def flight_uri(self) -> str:
        return f"grpc://{self.flight_addr}"

    @property
    def pg_dsn(self) -> str:
        host, port = self.pg_addr.rsplit(":", 1)
        return f"host={host} port={port} user={USER} password={PASSWORD} dbname=roapi sslmode=disable"

    def version(self) -> str:
        out = subprocess.run([str(self.binary), "--version"], capture_output=True, text=True, check=False)
        return out.stdout.strip()


# --------------------------------------------------------------------------
# iperf3


def iperf3_loopback(workdir: Path, group: ProcessGroup, seconds: float, runs: int) -> list[float]:
    """Loopback TCP bandwidth in bytes/s, one stream (like one Flight stream), `runs` times."""
    if shutil.which("iperf3") is None:
        raise HarnessError("iperf3 not installed")
    port = free_port()
    server = group.add(Proc("iperf3-server", ["iperf3", "-s", "-B", "127.0.0.1", "-p", str(port)], workdir))
    wait_until("iperf3 server", lambda: port_open(f"127.0.0.1:{port}"), timeout=20, proc=server)
    results = []
    try:
        for _ in range(runs):
            out = subprocess.run(
                ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds), "-J"],
                capture_output=True, text=True, check=True, timeout=seconds + 30,
            )
            report = json.loads(out.stdout)
            results.append(report["end"]["sum_received"]["bits_per_second"] / 8)
    finally:
        server.stop()
    return results


def iperf3_version() -> str:
    out = subprocess.run(["iperf3", "--version"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()[0] if out.stdout else "?"
