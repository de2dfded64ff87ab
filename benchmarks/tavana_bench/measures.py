"""The six measures of issue 5, each over every peer that takes part in it.

Every measure records `Series` (samples in seconds, plus what was fetched) into
`Results`; a peer that fails records its error instead of stopping the run.
Peers run interleaved within each repetition (A, B, C, A, B, C, ...) so a drift of
the machine's state over the run spreads over all of them alike.
"""

from __future__ import annotations

import gc
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from .clients import Client, Peer, open_client, psql_copy
from .procs import RssSampler


@dataclass
class Series:
    measure: str
    peer: str
    samples: list[float] = field(default_factory=list)  # seconds per run
    rows: Optional[int] = None
    nbytes: Optional[int] = None
    error: Optional[str] = None
    note: Optional[str] = None
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def quantile(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Settings:
    """What a run does; `quick` shrinks every count and duration."""

    quick: bool
    large_sf: float
    tpch_sf: float
    large_reps: int
    pg_reps: int
    latency_runs: int
    latency_cap_s: float
    tpch_reps: int
    conc_levels: tuple[int, ...]
    conc_seconds: float
    iperf_runs: int
    iperf_seconds: float
    warmup: int = 1  # warm-up rounds before the measured ones
    psycopg_binary_reps: int = 1

    @classmethod
    def full(cls) -> "Settings":
        return cls(quick=False, large_sf=2, tpch_sf=1, large_reps=5, pg_reps=2, latency_runs=2000,
                   latency_cap_s=30, tpch_reps=3, conc_levels=(1, 8, 32), conc_seconds=12,
                   iperf_runs=3, iperf_seconds=3)

    @classmethod
    def quick_mode(cls) -> "Settings":
        return cls(quick=True, large_sf=0.01, tpch_sf=0.01, large_reps=2, pg_reps=1, latency_runs=20,
                   latency_cap_s=2, tpch_reps=1, conc_levels=(1, 8, 32), conc_seconds=0.5,
                   iperf_runs=1, iperf_seconds=1, warmup=0)


@dataclass
class Results:
    series: list[Series] = field(default_factory=list)
    # (measure, peer) -> {"rss": {role: [lowest before, peak]} (bytes),
    #                     "cpu": {role: [CPU seconds per run]}, "wall": [seconds per run]}
    resources: dict[tuple[str, str], dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    checks: dict[str, str] = field(default_factory=dict)

    def add(self, series: Series) -> Series:
        self.series.append(series)
        return series

    def get(self, measure: str, peer: str) -> Optional[Series]:
        for s in self.series:
            if s.measure == measure and s.peer == peer:
                return s
        return None

    def record_resources(self, measure: str, peer: str, sampler: RssSampler, wall: float) -> None:
        slot = self.resources.setdefault((measure, peer), {"rss": {}, "cpu": {}, "faults": {}, "wall": []})
        for role, peak in sampler.peak.items():
            before = sampler.before.get(role, 0)
            old = slot["rss"].get(role)
            slot["rss"][role] = [before if old is None else min(old[0], before), max(peak, old[1] if old else 0)]
        for role, cpu in sampler.cpu.items():
            slot["cpu"].setdefault(role, []).append(cpu)
        for role, faults in sampler.faults.items():
            slot["faults"].setdefault(role, []).append(faults)
        slot["wall"].append(wall)


def short_error(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}".strip().splitlines()
    first = text[0] if text else type(err).__name__
    return first[:240]


@dataclass
class Context:
    settings: Settings
    peers: dict[str, Peer]
    results: Results
    extension_dir: Path
    lineitem_rows: int
    tavana_pids: Callable[[], dict[str, int]]
    roapi_pid: Optional[int] = None
    postgres_pid: Optional[int] = None
    threads: int = 2
    memory_gb: int = 8

    def client(self, peer: Peer, binary: bool = False) -> Client:
        return open_client(peer, binary=binary, extension_dir=self.extension_dir,
                           threads=self.threads, memory_gb=self.memory_gb)

    def sampler(self, peer: Peer) -> RssSampler:
        """Memory and CPU of the server processes behind `peer` (and of this client)."""
        if peer.key.startswith("tavana"):
            return RssSampler(self.tavana_pids())
        if peer.key.startswith("roapi") and self.roapi_pid:
            return RssSampler({"roapi": self.roapi_pid})
        if peer.key == "postgres" and self.postgres_pid:
            # A backend per connection, gone when it ends: CPU of the whole process tree.
            return RssSampler({}, trees={"postgres": self.postgres_pid})
        return RssSampler({})


def _unavailable(results: Results, measure: str, peer: Peer) -> bool:
    if peer.available:
        return False
    results.add(Series(measure, peer.key, error=f"not available: {peer.error}"))
    return True


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


# --------------------------------------------------------------------------
# 1. Large result, Arrow clients


def large_arrow(ctx: Context, peer_keys: list[str], measure: str = "large/arrow") -> None:
    series: dict[str, Series] = {}
    clients: dict[str, Client] = {}
    for key in peer_keys:
        peer = ctx.peers[key]
        if _unavailable(ctx.results, measure, peer):
            continue
        series[key] = ctx.results.add(Series(measure, key))
        try:
            clients[key] = ctx.client(peer)
        except Exception as err:  # noqa: BLE001
            series[key].error = short_error(err)
    # Warm-up rounds (page cache, first touch of everything), then the measured reps.
    warmup = ctx.settings.warmup
    for rep in range(ctx.settings.large_reps + warmup):
        for key, client in _rotated(list(clients.items()), rep):
            if key not in clients:
                continue
            peer, s = ctx.peers[key], series[key]
            sql = f"SELECT * FROM {peer.lineitem}"
            sampler = ctx.sampler(peer)
            try:
                with sampler:
                    took, (rows, nbytes) = _timed(lambda: client.fetch_large(sql))
                if rep >= warmup:
                    ctx.results.record_resources(measure, key, sampler, took)
                if rows != ctx.lineitem_rows:
                    raise RuntimeError(f"fetched {rows} rows, want {ctx.lineitem_rows}")
            except Exception as err:  # noqa: BLE001
                s.error = short_error(err)
                clients.pop(key).close()
                continue
            finally:
                gc.collect()
            s.rows, s.nbytes = rows, nbytes
            if rep >= warmup:
                s.samples.append(took)
    for client in clients.values():
        client.close()


# --------------------------------------------------------------------------
# 2. Large result, PostgreSQL clients


def _copy_sql(peer: Peer, binary: bool) -> str:
    fmt = " (FORMAT binary)" if binary else ""
    if peer.key == "postgres":
        # PostgreSQL's own COPY of the table: its fastest path.
        return f"COPY lineitem TO STDOUT{fmt}"
    return f"COPY (SELECT * FROM {peer.lineitem}) TO STDOUT{fmt}"


def large_pg(ctx: Context, peer_keys: list[str], only: tuple[str, ...] = (), suffix: str = "") -> None:
    """psql COPY (text, binary) and psycopg (text, binary) over the whole large result;
    `only` keeps some of these methods, `suffix` is appended to the measure names.

    Before the measured runs, each peer answers one COPY text (warm-up: PostgreSQL's
    shared buffers, every cache on the way). Every COPY is piped into `wc -lc`, so each
    run's row count is checked (text) and its bytes counted.
    """
    settings = ctx.settings
    methods: list[tuple[str, str, int]] = [
        (f"large/psql-copy-text{suffix}", "copy-text", settings.pg_reps),
        (f"large/psql-copy-binary{suffix}", "copy-binary", settings.pg_reps),
        (f"large/psycopg-text{suffix}", "psycopg-text", settings.pg_reps),
        (f"large/psycopg-binary{suffix}", "psycopg-binary", settings.psycopg_binary_reps),
    ]
    methods = [m for m in methods if not only or m[1] in only]
    live = [k for k in peer_keys if ctx.peers[k].available]
    if settings.warmup:
        for key in live:
            try:
                psql_copy(ctx.peers[key], _copy_sql(ctx.peers[key], binary=False))
            except Exception:  # noqa: BLE001 - the measured runs record the error
                pass
    for measure, method, reps in methods:
        series: dict[str, Series] = {}
        for key in peer_keys:
            peer = ctx.peers[key]
            if reps and not _unavailable(ctx.results, measure, peer):
                series[key] = ctx.results.add(Series(measure, key))
        for _ in range(reps):
            for key, s in series.items():
                if s.error:
                    continue
                peer = ctx.peers[key]
                sampler = ctx.sampler(peer)
                try:
                    run = _pg_runner(ctx, peer, method)
                    with sampler:
                        took, (rows, nbytes) = _timed(run)
                    ctx.results.record_resources(measure, key, sampler, took)
                    if rows is not None and rows != ctx.lineitem_rows:
                        raise RuntimeError(f"fetched {rows} rows, want {ctx.lineitem_rows}")
                except Exception as err:  # noqa: BLE001
                    s.error = short_error(err)
                    continue
                finally:
                    gc.collect()
                s.rows = ctx.lineitem_rows
                s.nbytes = nbytes or None
                s.samples.append(took)


def _rotated(items: list, turn: int) -> list:
    """`items` starting at position `turn` (modulo their number): the order peers take turns in."""
    if not items:
        return items
    start = turn % len(items)
    return items[start:] + items[:start]


def _pg_runner(ctx: Context, peer: Peer, method: str) -> Callable[[], tuple[Optional[int], int]]:
    """A run of `method`: returns (rows seen or None when they cannot be counted, bytes or 0)."""
    if method in ("copy-text", "copy-binary"):
        binary = method == "copy-binary"
        sql = _copy_sql(peer, binary=binary)

        def copy() -> tuple[Optional[int], int]:
            lines, nbytes = psql_copy(peer, sql)
            return (None if binary else lines), nbytes

        return copy
    binary = method == "psycopg-binary"

    def run() -> tuple[Optional[int], int]:
        client = ctx.client(peer, binary=binary)
        try:
            return client.fetch_large(f"SELECT * FROM {peer.lineitem}")[0], 0
        finally:
            client.close()

    return run


def pg_values_check(ctx: Context, peer_keys: list[str], rows: int = 2000) -> None:
    """Do PG clients get the same values for every column type as from PostgreSQL itself?"""
    ref_peer = ctx.peers.get("postgres")
    if ref_peer is None or not ref_peer.available:
        return
    for binary in (False, True):
        label = "binary" if binary else "text"
        try:
            ref = _ordered_head(ctx, ref_peer, rows, binary)
        except Exception as err:  # noqa: BLE001
            ctx.results.checks[f"postgres ({label})"] = f"reference failed: {short_error(err)}"
            continue
        for key in peer_keys:
            peer = ctx.peers[key]
            if key == "postgres" or not peer.available:
                continue
            try:
                got = _ordered_head(ctx, peer, rows, binary)
            except Exception as err:  # noqa: BLE001
                ctx.results.checks[f"{key} ({label})"] = f"failed: {short_error(err)}"
                continue
            ctx.results.checks[f"{key} ({label})"] = _compare_rows(got, ref)


def _ordered_head(ctx: Context, peer: Peer, rows: int, binary: bool) -> list[tuple]:
    client = ctx.client(peer, binary=binary)
    try:
        return client.fetch_small(
            f"SELECT * FROM {peer.lineitem} ORDER BY l_orderkey, l_linenumber LIMIT {rows}"
        )
    finally:
        client.close()


def _compare_rows(got: list[tuple], want: list[tuple]) -> str:
    if len(got) != len(want):
        return f"DIFFERENT: {len(got)} rows, want {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        if tuple(g) != tuple(w):
            for col, (gv, wv) in enumerate(zip(g, w)):
                if gv != wv:
                    return (f"DIFFERENT at row {i} column {col}: got {gv!r} ({type(gv).__name__}), "
                            f"want {wv!r} ({type(wv).__name__})")
            return f"DIFFERENT at row {i}: {len(g)} columns, want {len(w)}"
    return f"identical ({len(want)} rows, 16 columns, Python types and values)"


# --------------------------------------------------------------------------
# 3. Small-query latency


def latency(ctx: Context, peer_keys: list[str], keys: list[int]) -> None:
    def lookup(peer: Peer, key: str) -> str:
        return f"SELECT * FROM {peer.lineitem} WHERE l_orderkey = {key}"

    # Each makes (sql, parameters or None) for run i, given the client's placeholder.
    queries: list[tuple[str, Callable[[Peer, str, int], tuple[str, Optional[tuple]]]]] = [
        ("latency/select-1", lambda peer, mark, i: ("SELECT 1", None)),
        ("latency/point-lookup",
         lambda peer, mark, i: (lookup(peer, str(keys[i % len(keys)])), None)),
        ("latency/point-lookup-param",
         lambda peer, mark, i: (lookup(peer, mark), (keys[i % len(keys)],))),
    ]
    for measure, make_query in queries:
        for key in peer_keys:
            peer = ctx.peers[key]
            if _unavailable(ctx.results, measure, peer):
                continue
            s = ctx.results.add(Series(measure, key))
            try:
                client = ctx.client(peer)
            except Exception as err:  # noqa: BLE001
                s.error = short_error(err)
                continue
            try:
                warmup = min(50, ctx.settings.latency_runs // 10 + 1)  # connection, caches
                for i in range(warmup):
                    client.fetch_small(*make_query(peer, client.placeholder, i))
                deadline = time.monotonic() + ctx.settings.latency_cap_s
                for i in range(ctx.settings.latency_runs):
                    sql, params = make_query(peer, client.placeholder, i)
                    started = time.perf_counter()
                    rows = client.fetch_small(sql, params)
                    s.samples.append(time.perf_counter() - started)
                    if not rows:
                        raise RuntimeError(f"no rows for {sql}")
                    if time.monotonic() > deadline:
                        s.note = (f"stopped after {len(s.samples)} runs: the "
                                  f"{ctx.settings.latency_cap_s:.0f}s cap per series")
                        break
            except Exception as err:  # noqa: BLE001
                s.error = short_error(err)
            finally:
                client.close()


# --------------------------------------------------------------------------
# 4. TPC-H


def tpch(ctx: Context, peer_keys: list[str], queries: dict[int, str]) -> None:
    series: dict[tuple[str, int], Series] = {}
    clients: dict[str, Client] = {}
    for key in peer_keys:
        peer = ctx.peers[key]
        for nr in queries:
            measure = f"tpch/q{nr:02d}"
            if not _unavailable(ctx.results, measure, peer):
                series[(key, nr)] = ctx.results.add(Series(measure, key))
        if peer.available:
            try:
                clients[key] = ctx.client(peer)
            except Exception as err:  # noqa: BLE001
                for nr in queries:
                    series[(key, nr)].error = short_error(err)
    expected_rows: dict[int, int] = {}
    # Warm-up pass, then the measured passes; per query, the peers take turns, in an order that
    # rotates every pass. Each timed run follows an untimed run of the same query by the same
    # peer: processes that sat idle while another peer ran start cold on this VM, 3-10 ms late
    # on a 25 ms query, which would charge whichever peer follows in-process DuckDB.
    for rep in range(ctx.settings.tpch_reps + ctx.settings.warmup):
        for nr, sql in queries.items():
            for key, client in _rotated(list(clients.items()), rep):
                s = series[(key, nr)]
                if s.error:
                    continue
                try:
                    if rep >= ctx.settings.warmup:
                        client.fetch_large(sql)
                    took, (rows, _) = _timed(lambda: client.fetch_large(sql))
                except Exception as err:  # noqa: BLE001
                    s.error = short_error(err)
                    continue
                want = expected_rows.setdefault(nr, rows)
                if rows != want:
                    s.error = f"{rows} rows, in-process DuckDB gave {want}"
                    continue
                s.rows = rows
                if rep >= ctx.settings.warmup:
                    s.samples.append(took)
    for client in clients.values():
        client.close()


# --------------------------------------------------------------------------
# 5. Concurrency


def concurrency(ctx: Context, peer_keys: list[str], keys: list[int], range_width: int) -> None:
    """N clients, each on its own connection, looping over a fixed mix for a fixed time.

    The mix, in each client's order (offset by its number): three small queries
    (point lookups) for every medium one (an aggregate over a range of ~`range_width`
    order keys, about 4 x range_width / 4 lineitem rows: a few row groups of Parquet,
    an index range scan in PostgreSQL).
    """

    def mix(peer: Peer, client_nr: int, i: int) -> tuple[str, str]:
        n = client_nr * 7919 + i
        k = keys[n % len(keys)]
        if (client_nr + i) % 4 == 3:
            return "medium", (
                "SELECT l_returnflag, l_linestatus, count(*) AS n, sum(l_quantity) AS qty, "
                "sum(l_extendedprice) AS price, avg(l_discount) AS disc "
                f"FROM {peer.lineitem} WHERE l_orderkey BETWEEN {k} AND {k + range_width} "
                "GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus"
            )
        return "small", f"SELECT * FROM {peer.lineitem} WHERE l_orderkey = {k}"

    for key in peer_keys:
        peer = ctx.peers[key]
        for level in ctx.settings.conc_levels:
            measure = f"concurrency/{level}"
            if _unavailable(ctx.results, measure, peer):
                continue
            s = ctx.results.add(Series(measure, key))
            try:
                _concurrency_level(ctx, peer, level, mix, s)
            except Exception as err:  # noqa: BLE001
                s.error = short_error(err)


def _concurrency_level(ctx: Context, peer: Peer, level: int,
                       mix: Callable[[Peer, int, int], tuple[str, str]], s: Series) -> None:
    clients = [ctx.client(peer) for _ in range(level)]
    start = threading.Barrier(level + 1)
    stop = threading.Event()
    lat: list[list[tuple[str, float]]] = [[] for _ in range(level)]
    errors: list[str] = []

    def worker(nr: int) -> None:
        client = clients[nr]
        start.wait()
        i = 0
        while not stop.is_set():
            kind, sql = mix(peer, nr, i)
            i += 1
            began = time.perf_counter()
            try:
                client.fetch_small(sql)
            except Exception as err:  # noqa: BLE001
                errors.append(short_error(err))
                if len(errors) > 100:
                    return
                continue
            lat[nr].append((kind, time.perf_counter() - began))

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(level)]
    try:
        for t in threads:
            t.start()
        start.wait()
        began = time.perf_counter()
        time.sleep(ctx.settings.conc_seconds)
        stop.set()
        for t in threads:
            t.join(timeout=120)
        elapsed = time.perf_counter() - began
    finally:
        for c in clients:
            try:
                c.close()
            except Exception:  # noqa: BLE001
                pass
    done = [x for per in lat for x in per]
    s.samples = [d for _, d in done]
    small = sorted(d for k, d in done if k == "small")
    medium = sorted(d for k, d in done if k == "medium")
    s.extra = {
        "clients": level,
        "elapsed": elapsed,
        "queries": len(done),
        "qps": len(done) / elapsed if elapsed else 0.0,
        "errors": len(errors),
        "small_p50": _q(small, 0.5), "small_p99": _q(small, 0.99),
        "medium_p50": _q(medium, 0.5), "medium_p99": _q(medium, 0.99),
    }
    if errors:
        s.note = f"{len(errors)} errors, first: {errors[0]}"
        if not done:
            s.error = errors[0]


def _q(ordered: list[float], q: float) -> Optional[float]:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
