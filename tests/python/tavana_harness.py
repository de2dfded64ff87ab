"""Real-process harness for Tavana's Python client tests (shared by every conftest).

`start_cluster` starts real executors and a gateway from ``TAVANA_BIN`` on port
0, each writing its bound addresses to an ``--addr-file``, and waits until each
answers ``/readyz``; `generate_sample_data` writes the sample files and TPC-H
SF 0.01 with python duckdb. The pytest fixtures live in conftest.py; this is a
plain module so tests and nested conftests can import it by a unique name.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import adbc_driver_flightsql.dbapi as flightsql
import duckdb
import pyarrow as pa
import pyarrow.flight as flight
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = float(os.environ.get("TAVANA_TEST_START_TIMEOUT", "90"))
STOP_TIMEOUT_S = 15.0
LOG_TAIL_LINES = 80

# Every process started by this suite, so failing tests can show their logs.
ALL_PROCESSES: list["Process"] = []


# --------------------------------------------------------------------------
# Locations


def tavana_bin() -> Path:
    explicit = os.environ.get("TAVANA_BIN")
    if explicit:
        return Path(explicit)
    target = os.environ.get(
        "CARGO_TARGET_DIR", str(Path.home() / ".cache" / "tavana" / "target")
    )
    return Path(target) / "release" / "tavana"


def extension_dir() -> Path:
    return Path(
        os.environ.get(
            "TAVANA_EXTENSION_DIR",
            str(Path.home() / ".cache" / "tavana" / "extensions"),
        )
    )


def local_duckdb() -> duckdb.DuckDBPyConnection:
    """A python duckdb connection that loads extensions from the provisioned dir only."""
    return duckdb.connect(
        config={
            "extension_directory": str(extension_dir()),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    )


# --------------------------------------------------------------------------
# Sample data


TPCH_TABLES = (
    "customer",
    "lineitem",
    "nation",
    "orders",
    "part",
    "partsupp",
    "region",
    "supplier",
)

# One row per id; every type the type-fidelity tests care about, with NULLs.
SAMPLE_SELECT = """
SELECT
    i::INTEGER                                        AS id,
    (i % 100)::TINYINT                                AS i8,
    (i * 7)::SMALLINT                                 AS i16,
    (i * 1000)::INTEGER                               AS i32,
    (i * 1000000007)::BIGINT                          AS i64,
    (i / 4)::FLOAT                                    AS f32,
    (i / 3)::DOUBLE                                   AS f64,
    (i * 1.125)::DECIMAL(18, 3)                       AS dec18,
    (i / 7)::DECIMAL(38, 10)                          AS dec38,
    'name-' || i                                      AS name,
    DATE '2024-01-01' + i::INTEGER                    AS day,
    TIMESTAMP '2024-01-01 00:00:00' + i * INTERVAL 37 MINUTE AS ts,
    i % 2 = 0                                         AS flag,
    CASE WHEN i % 10 = 0 THEN NULL ELSE 'v' || (i % 5) END AS maybe
FROM range(300) r(i)
"""


def generate_sample_data(data_dir: Path) -> dict[str, Path]:
    parquet_dir = data_dir / "parquet"
    tpch_dir = data_dir / "tpch"
    parquet_dir.mkdir(parents=True)
    tpch_dir.mkdir(parents=True)
    con = local_duckdb()
    con.execute(f"CREATE TABLE sample AS {SAMPLE_SELECT}")
    # Nested types go to Parquet and JSON (CSV cannot carry them).
    con.execute(
        "CREATE TABLE nested AS SELECT *, [id, id + 1]::INTEGER[] AS ints, "
        "{'k': id, 'v': name} AS kv FROM sample"
    )
    for part in range(3):
        con.execute(
            f"COPY (SELECT * FROM nested WHERE id % 3 = {part} ORDER BY id) "
            f"TO '{parquet_dir}/part-{part}.parquet' (FORMAT parquet)"
        )
    csv = data_dir / "sample.csv"
    con.execute(f"COPY (SELECT * FROM sample ORDER BY id) TO '{csv}' (HEADER)")
    json_path = data_dir / "sample.json"
    con.execute(
        f"COPY (SELECT * FROM nested ORDER BY id) TO '{json_path}' (FORMAT json)"
    )

    con.execute("LOAD tpch")
    con.execute("CALL dbgen(sf = 0.01)")
    for table in TPCH_TABLES:
        con.execute(
            f"COPY {table} TO '{tpch_dir}/{table}.parquet' (FORMAT parquet)"
        )
    con.close()
    return {
        "parquet_dir": parquet_dir,
        "parquet_glob": parquet_dir / "*.parquet",
        "csv": csv,
        "json": json_path,
        "tpch_dir": tpch_dir,
    }


# --------------------------------------------------------------------------
# Processes


def _http_get(url: str, timeout: float = 2.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


@dataclass
class Process:
    """One `tavana <role>` child process with its log and bound addresses."""

    role: str
    args: list[str]
    workdir: Path
    env: dict[str, str]
    popen: Optional[subprocess.Popen] = None
    addrs: dict[str, str] = field(default_factory=dict)
    # Set once the fixture that owns it has torn it down: its log is no longer news.
    retired: bool = False

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.role}.log"

    @property
    def addr_file(self) -> Path:
        return self.workdir / f"{self.role}.addr.json"

    @property
    def listen(self) -> str:
        return self.addrs["listen"]

    @property
    def admin_url(self) -> str:
        return f"http://{self.addrs['admin']}"

    def start(self) -> None:
        self.addr_file.unlink(missing_ok=True)
        log = open(self.log_path, "ab")
        cmd = [str(tavana_bin()), self.role, *self.args, "--addr-file", str(self.addr_file)]
        log.write(("$ " + " ".join(cmd) + "\n").encode())
        log.flush()
        self.popen = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.workdir,
        )
        log.close()
        ALL_PROCESSES.append(self)

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        """Wait for the addr file, then for /readyz to answer 200."""
        deadline = time.monotonic() + timeout
        last = "no address file yet"
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(
                    f"tavana {self.role} exited with code {self.popen.returncode} "
                    f"before becoming ready\n{self.log_tail()}"
                )
            if not self.addrs and self.addr_file.exists():
                try:
                    self.addrs = json.loads(self.addr_file.read_text())
                except json.JSONDecodeError as err:
                    # Written via temp file + rename, so this should not happen.
                    last = f"unreadable address file: {err}"
            if self.addrs:
                try:
                    status, body = _http_get(self.admin_url + "/readyz")
                    if status == 200:
                        return
                    last = f"/readyz answered {status}: {body.strip()[:200]}"
                except OSError as err:
                    last = f"/readyz: {err}"
            time.sleep(0.1)
        raise RuntimeError(
            f"tavana {self.role} not ready after {timeout:.0f}s ({last})\n{self.log_tail()}"
        )

    def metrics(self) -> str:
        status, body = _http_get(self.admin_url + "/metrics")
        assert status == 200, f"{self.role} /metrics answered {status}: {body[:200]}"
        return body

    def metric(self, name: str) -> Optional[float]:
        """Sum of all samples of `name` (any labels) in /metrics, None if absent."""
        return metric_value(self.metrics(), name)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_S) -> Optional[int]:
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            text = ["<no log>"]
        tail = "\n".join(text[-lines:])
        return f"----- tavana {self.role} log ({self.log_path}) -----\n{tail}\n"


def metric_value(text: str, name: str, outcome: Optional[str] = None) -> Optional[float]:
    """Sum of the samples of `name` in a /metrics text (only those labelled
    `outcome="..."` when `outcome` is given), None if there are none."""
    total = None
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        metric, _, rest = line.partition(" ")
        base = metric.split("{", 1)[0]
        if base != name or (outcome is not None and f'outcome="{outcome}"' not in metric):
            continue
        value = rest.strip().split(" ")[0]
        total = (total or 0.0) + float(value)
    return total


def counted(proc: "Process", name: str, *outcomes: str) -> float:
    """A counter's samples for the given outcomes, summed; 0 when not yet counted."""
    text = proc.metrics()
    return sum(metric_value(text, name, outcome) or 0.0 for outcome in outcomes)


def gateway_calls(gateway: "Process", method: str, code: str = "") -> float:
    """`tavana_gateway_calls_total` of `method` (with `code`, when given), else the count of
    its `tavana_gateway_call_duration_seconds` histogram."""
    name = "tavana_gateway_calls_total" if code else "tavana_gateway_call_duration_seconds_count"
    wanted = [f'method="{method}"'] + ([f'code="{code}"'] if code else [])
    total = 0.0
    for line in gateway.metrics().splitlines():
        metric, _, value = line.partition(" ")
        if metric.split("{", 1)[0] == name and all(label in metric for label in wanted):
            total += float(value)
    return total


def parked_statements(executor: "Process") -> float:
    """Plans the executor kept for the call that runs them (see executor/src/parked.rs)."""
    return counted(executor, "tavana_executor_parked_statements_total", "parked", "evicted")


def users_args(users: dict[str, str], users_file: Optional[Path]) -> list[str]:
    """The flags that give a gateway or pg-adapter its users: the file, or the list."""
    if users_file is not None:
        return ["--users-file", str(users_file)]
    return ["--users=" + ",".join(f"{u}:{p}" for u, p in users.items())]


@dataclass
class Cluster:
    """A running executor set and gateway, and how to reach them."""

    workdir: Path
    data_dir: Path
    files: dict[str, Path]
    user: str
    password: str
    other_users: dict[str, str]
    internal_token: str
    executors: list[Process]
    gateway: Process
    # With `users_file`, the gateway (and pg-adapters started for the cluster) read the users
    # from this file, read again when it changes.
    users_file: Optional[Path] = None

    def users_args(self) -> list[str]:
        """How the cluster's front ends are told their users."""
        return users_args({self.user: self.password, **self.other_users}, self.users_file)

    @property
    def executor(self) -> Process:
        return self.executors[0]

    @property
    def flight_uri(self) -> str:
        return f"grpc://{self.gateway.listen}"

    @property
    def gateway_admin(self) -> str:
        return self.gateway.admin_url

    @property
    def executor_admin(self) -> str:
        return self.executor.admin_url

    @property
    def processes(self) -> list[Process]:
        return [*self.executors, self.gateway]

    def connect(
        self,
        user: Optional[str] = None,
        password: Optional[str] = None,
        db_options: Optional[dict[str, str]] = None,
        **kwargs,
    ):
        """An ADBC Flight SQL DB-API connection to the gateway, authenticated; `db_options`
        are more of the driver's database options."""
        db_kwargs = {
            "username": self.user if user is None else user,
            "password": self.password if password is None else password,
            **(db_options or {}),
        }
        kwargs.setdefault("autocommit", True)
        return flightsql.connect(self.flight_uri, db_kwargs=db_kwargs, **kwargs)

    def flight_client(
        self, timeout: Optional[float] = None
    ) -> tuple[flight.FlightClient, flight.FlightCallOptions]:
        """A raw pyarrow.flight client, authenticated with Basic -> bearer token.

        The returned call options carry the bearer token (and `timeout`, a
        per-call deadline in seconds, when given)."""
        client = flight.FlightClient(self.flight_uri)
        header = client.authenticate_basic_token(self.user, self.password)
        return client, flight.FlightCallOptions(headers=[header], timeout=timeout)

    def stop(self) -> None:
        # Gateway first, so it never routes to an executor that is going away.
        self.gateway.stop()
        for ex in self.executors:
            ex.stop()

    def retire(self) -> None:
        """Stops the cluster for good: its logs no longer go into failure reports."""
        self.stop()
        for p in self.processes:
            p.retired = True


def restart_in_place(old: "Process", port_flag: str) -> "Process":
    """Kills `old` and starts the same process again on the same port (given by `port_flag`),
    with the same flags and environment, as Kubernetes restarts a container."""
    port = old.listen.rsplit(":", 1)[1]
    old.stop(signal.SIGKILL)
    old.retired = True
    args = list(old.args)
    args[args.index(port_flag) + 1] = port
    new = Process(role=old.role, args=args, workdir=old.workdir, env=old.env)
    new.start()
    new.wait_ready()
    return new


def restart_gateway(cluster: "Cluster") -> None:
    """Restarts the gateway in place: every session the old one held in memory is gone."""
    cluster.gateway = restart_in_place(cluster.gateway, "--flight-sql-port")


def restart_executor(cluster: "Cluster") -> None:
    """Restarts the (first) executor in place: the gateway connects to it again."""
    cluster.executors[0] = restart_in_place(cluster.executors[0], "--grpc-port")


def start_cluster(
    workdir: Path,
    data_dir: Path,
    files: dict[str, Path],
    executors: int = 1,
    extra_executor_args: tuple[str, ...] = (),
    extra_gateway_args: tuple[str, ...] = (),
    executor_scheme: str = "http",
    max_memory_gb: str = "2",
    gateway_env: Optional[dict[str, str]] = None,
    users_file: bool = False,
) -> Cluster:
    binary = tavana_bin()
    if not binary.exists():
        pytest.fail(
            f"tavana binary not found at {binary}: build it with "
            "`cargo build --release --bin tavana` or set TAVANA_BIN",
            pytrace=False,
        )
    workdir.mkdir(parents=True, exist_ok=True)
    user = "alice"
    # "alice:" + 18 characters is 24 bytes: its Basic base64 has no '=' padding.
    # Bob's credentials (13 bytes) need "==": clients differ on whether they
    # send that padding (grpc-go, inside the ADBC driver, does not), and
    # test_flight_sql.py checks both kinds against the gateway.
    password = secrets.token_hex(9)
    other_users = {"bob": secrets.token_hex(4) + "x"}
    token = secrets.token_hex(16)
    env = {
        k: v
        for k, v in os.environ.items()
        # Keep the children's configuration to the flags below.
        if not k.startswith("TAVANA_")
        and k
        not in {
            "GRPC_PORT",
            "METRICS_PORT",
            "FLIGHT_SQL_PORT",
            "WORKER_ADDR",
            "MAX_MEMORY_GB",
            "THREADS",
            "PG_PORT",
            "GATEWAY_ADDR",
            "TLS_ENABLED",
            "TLS_CERT",
            "TLS_KEY",
            "LOG_FORMAT",
        }
    }
    env.setdefault("LOG_LEVEL", "info")
    env["NO_COLOR"] = "1"

    procs: list[Process] = []
    try:
        for n in range(executors):
            name = "executor" if executors == 1 else f"executor{n}"
            ex_dir = workdir / name
            (ex_dir / "spill").mkdir(parents=True, exist_ok=True)
            ex = Process(
                role="executor",
                args=[
                    "--host", "127.0.0.1",
                    "--grpc-port", "0",
                    "--admin-port", "0",
                    "--extension-dir", str(extension_dir()),
                    "--allowed-path", str(data_dir),
                    "--max-memory-gb", max_memory_gb,
                    "--threads", "2",
                    "--temp-dir", str(ex_dir / "spill"),
                    f"--internal-token={token}",
                    *extra_executor_args,
                ],
                workdir=ex_dir,
                env=env,
            )
            procs.append(ex)
            ex.start()
        for ex in procs:
            ex.wait_ready()

        gw_dir = workdir / "gateway"
        gw_dir.mkdir(parents=True, exist_ok=True)
        users = {user: password, **other_users}
        users_path = workdir / "users" if users_file else None
        if users_path is not None:
            users_path.write_text("".join(f"{u}:{p}\n" for u, p in users.items()))
        gateway = Process(
            role="gateway",
            args=[
                "--host", "127.0.0.1",
                "--flight-sql-port", "0",
                "--admin-port", "0",
                "--worker-addr", ",".join(f"{executor_scheme}://{ex.listen}" for ex in procs),
                *users_args(users, users_path),
                f"--internal-token={token}",
                *extra_gateway_args,
            ],
            workdir=gw_dir,
            env={**env, **(gateway_env or {})},
        )
        procs.append(gateway)
        gateway.start()
        gateway.wait_ready()
    except BaseException:
        for p in reversed(procs):
            p.kill()
        raise
    return Cluster(
        workdir=workdir,
        data_dir=data_dir,
        files=files,
        user=user,
        password=password,
        other_users=other_users,
        internal_token=token,
        executors=procs[:-1],
        gateway=procs[-1],
        users_file=users_path,
    )



def query_table(connection, sql: str, params=None) -> pa.Table:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetch_arrow_table()


RUNNING_QUERIES = "tavana_executor_running_queries"


def wait_for(predicate, what: str, timeout: float) -> None:
    """Polls `predicate` until it holds; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"not within {timeout:.0f}s: {what}")


def running_queries(executor: "Process") -> float:
    """The executor's running-query gauge, from its /metrics."""
    value = executor.metric(RUNNING_QUERIES)
    assert value is not None, f"{RUNNING_QUERIES} missing from the executor's /metrics"
    return value


def wait_running_queries(executor: "Process", predicate, what: str, timeout: float = 30.0) -> float:
    """Polls the running-query gauge until `predicate` holds; fails the test after `timeout`."""
    deadline = time.monotonic() + timeout
    value = running_queries(executor)
    while time.monotonic() < deadline:
        value = running_queries(executor)
        if predicate(value):
            return value
        time.sleep(0.1)
    pytest.fail(f"{RUNNING_QUERIES} never became {what} within {timeout:.0f}s (last: {value})")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (proc(5) fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def assert_executor_idle(executor: "Process", window: float = 2.0, max_cpu: float = 0.5) -> None:
    """The executor burns (almost) no CPU once its query has been interrupted."""
    pid = executor.popen.pid
    before = cpu_seconds(pid)
    time.sleep(window)
    used = cpu_seconds(pid) - before
    assert used < max_cpu, f"executor used {used:.2f}s CPU in {window}s after the query should have stopped"


# A query that streams for a very long time (with backpressure: no CPU while unread).
HUGE_STREAM = "SELECT * FROM range(1000000000) t(i)"


@dataclass
class PausedStream:
    """A query whose client read one batch and then stopped reading: it keeps running on its
    executor (holding its slots) until closed."""

    connection: object
    cursor: object
    reader: object

    def close(self) -> None:
        self.reader.close()
        self.cursor.close()
        self.connection.close()


def open_paused_stream(cluster: "Cluster", user: Optional[str] = None,
                       password: Optional[str] = None) -> PausedStream:
    """Starts HUGE_STREAM over ADBC as `user` and reads one batch."""
    conn = cluster.connect(user=user, password=password)
    cur = conn.cursor()
    cur.execute(HUGE_STREAM)
    reader = cur.fetch_record_batch()
    assert reader.read_next_batch().num_rows > 0
    return PausedStream(conn, cur, reader)


def make_test_certificate(directory: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate it signed for localhost/127.0.0.1 (openssl CLI), as a
    deployment has them (rustls, like browsers, refuses a CA certificate used as a server's
    own). Returns (ca, cert, key)."""
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    cert, key, csr = directory / "cert.pem", directory / "key.pem", directory / "server.csr"
    ext = directory / "server.ext"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", str(ca_key),
            "-out", str(ca), "-subj", "/CN=Tavana test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
            "-subj", "/CN=localhost")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
            "-CAcreateserial", "-days", "2", "-out", str(cert), "-extfile", str(ext))
    return ca, cert, key

