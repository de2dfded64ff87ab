"""Tavana benchmark harness (run through benchmarks/run.sh, which installs and builds first).

Exit status: 0 when the harness ran to the end, whatever the figures and whatever a
peer did (a failed measure is a result, written into the report); non-zero only
when the harness itself broke (the Tavana executor or gateway would not start, a
bug in this code). That is what lets `--quick` guard the harness in CI.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from . import data, measures, peers
from .clients import Peer
from .measures import Context, Results, Settings
from .procs import HarnessError, ProcessGroup
from .report import Report

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def parse_args(argv: list[str]) -> argparse.Namespace:
    home = Path.home() / ".cache" / "tavana"
    p = argparse.ArgumentParser(prog="benchmarks/run.sh", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny data and counts: seconds, for CI")
    p.add_argument("--binary", type=Path, required=True, help="the tavana release binary")
    p.add_argument("--out", type=Path, help="results Markdown file (default: benchmarks/results/<date>.md; "
                   "--quick: a temporary directory)")
    p.add_argument("--data-dir", type=Path, default=Path(os.environ.get("TAVANA_BENCH_DATA", home / "bench-data")))
    p.add_argument("--pg-dir", type=Path,
                   default=Path(os.environ.get("TAVANA_BENCH_PG_DIR", "/var/tmp/tavana-bench-pg")),
                   help="cached PostgreSQL clusters (must be reachable by the postgres OS user)")
    p.add_argument("--extension-dir", type=Path,
                   default=Path(os.environ.get("TAVANA_EXTENSION_DIR", home / "extensions")))
    p.add_argument("--roapi", type=Path, default=Path(sys.executable).parent / "roapi")
    p.add_argument("--only", default="", help="comma-separated measures to run: "
                   "large-arrow,large-arrow-memory,large-pg,latency,tpch,concurrency (default: all)")
    p.add_argument("--large-sf", type=float, help="override the scale factor of the large result")
    p.add_argument("--profile", action="store_true",
                   help="after the measures, profile the Tavana processes with perf during one extra large "
                   "result (Flight SQL, then psql COPY): <results>-profile.txt")
    p.add_argument("--prepare-only", action="store_true",
                   help="generate the data and load PostgreSQL, then stop (no measures, no report)")
    p.add_argument("--tavana-env", action="append", default=[], metavar="KEY=VALUE",
                   help="extra environment for the Tavana processes only (experiments: RUST_LOG, LD_PRELOAD, ...)")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs) after the run")
    return p.parse_args(argv)


class MachineWatch:
    """Measures how much CPU processes outside this run used during it (they skew every figure).

    Every 5 s: the machine's busy CPU time (/proc/stat) minus the CPU time of this
    harness's own process tree (servers, PostgreSQL backends, psql, ...). Also notes
    whether a compiler was running.
    """

    def __init__(self) -> None:
        self.samples = 0
        self.compiling = 0
        self.foreign_s = 0.0
        self.elapsed_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK")

    @staticmethod
    def building() -> bool:
        out = subprocess.run(["pgrep", "-x", "rustc|cc1plus|cc1|ld|ld.lld|mold"], capture_output=True,
                             check=False)
        return out.returncode == 0

    def _machine_busy(self) -> float:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        values = [int(x) for x in fields[:8]]
        return (sum(values) - values[3] - values[4]) / self._tick  # minus idle and iowait

    def _tree_cpu(self) -> float:
        """CPU of this process and all its descendants, reaped ones included (cutime)."""
        stats: dict[int, tuple[int, float]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    rest = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ppid = int(rest[1])
            cpu = sum(int(x) for x in rest[11:15]) / self._tick  # utime stime cutime cstime
            stats[int(entry.name)] = (ppid, cpu)
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in stats.items():
            children.setdefault(ppid, []).append(pid)
        total, todo = 0.0, [os.getpid()]
        while todo:
            pid = todo.pop()
            total += stats.get(pid, (0, 0.0))[1]
            todo += children.get(pid, [])
        return total

    def _run(self) -> None:
        busy0, tree0, t0 = self._machine_busy(), self._tree_cpu(), time.monotonic()
        while not self._stop.wait(5):
            self.samples += 1
            self.compiling += self.building()
            busy, tree, now = self._machine_busy(), self._tree_cpu(), time.monotonic()
            self.foreign_s += max(0.0, (busy - busy0) - (tree - tree0))
            self.elapsed_s += now - t0
            busy0, tree0, t0 = busy, tree, now

    @property
    def started(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> tuple[str, str | None]:
        """(a line for the report, a warning or None)."""
        self._stop.set()
        self._thread.join()
        cores = os.cpu_count() or 1
        share = self.foreign_s / (self.elapsed_s * cores) if self.elapsed_s else 0.0
        line = (f"{self.foreign_s:.0f} CPU-seconds used by processes outside the run "
                f"({share * 100:.1f}% of the machine's {cores} cores over {self.elapsed_s / 60:.1f} min); a compiler "
                f"was running in {self.compiling} of {self.samples} 5-second samples")
        warning = None
        if share > 0.05 or self.compiling:
            warning = (f"WARNING: other work shared the machine during this run ({line}): "
                       "the figures are skewed by CPU contention.")
        return line, warning


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "?"


def git_describe() -> str:
    out = subprocess.run(["git", "-C", str(REPO), "log", "-1", "--format=%h %s"], capture_output=True,
                         text=True, check=False)
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, check=False)
    return out.stdout.strip() + (" (+ uncommitted changes)" if dirty.stdout.strip() else "")


def run_profiles(ctx: Context, tavana: peers.Tavana, work: Path) -> list[str]:
    from . import profile
    from .clients import psql_copy

    why_not = profile.perf_works()
    if why_not:
        print(f"bench: no profile: {why_not}")
        return [f"no profile: {why_not}"]
    texts: list[str] = []
    flight = ctx.peers["tavana-flight"]
    sql = f"SELECT * FROM {flight.lineitem}"
    pids = tavana.pids()
    try:
        client = ctx.client(flight)
        try:
            reports = profile.profile_during({r: pids[r] for r in ("executor", "gateway") if r in pids},
                                             lambda: client.fetch_large(sql), work, "Flight SQL large result")
        finally:
            client.close()
        texts += reports.values()
    except Exception as err:  # noqa: BLE001
        texts.append(f"Flight SQL profile failed: {measures.short_error(err)}")
    pg = ctx.peers["tavana-pg"]
    if pg.available:
        try:
            copy = f"COPY (SELECT * FROM {pg.lineitem}) TO STDOUT"
            reports = profile.profile_during({r: pids[r] for r in ("pg-adapter", "gateway", "executor") if r in pids},
                                             lambda: psql_copy(pg, copy), work, "psql COPY text")
            texts += reports.values()
        except Exception as err:  # noqa: BLE001
            texts.append(f"PG profile failed: {measures.short_error(err)}")
    return texts


def _terminate(signum: int, _frame: object) -> None:
    # Turn SIGTERM into an exception so the `finally` blocks stop every child process.
    raise KeyboardInterrupt(f"signal {signum}")


def large_arrow_in_memory(ctx: measures.Context, tavana: peers.Tavana, lineitem: Path,
                          results: Results) -> None:
    """The large result with the table held in memory by every peer: ROAPI always holds it,
    PostgreSQL holds it in its shared buffers in these warm runs."""
    loaded = tavana.hold_in_memory("lineitem", lineitem)
    results.notes.append(f"Tavana loaded `bench.lineitem` into memory (catalog `cache = \"memory\"`) in {loaded:.1f} s "
                         "for the in-memory measure, and dropped it after.")
    try:
        measures.large_arrow(ctx, ["duckdb-mem", "tavana-flight-mem", "roapi-flight"], "large/arrow-memory")
        measures.large_pg(ctx, ["postgres", "tavana-pg-mem"], only=("psycopg-text", "psycopg-binary"),
                          suffix="-memory")
    finally:
        tavana.release_memory()


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    args = parse_args(argv)
    settings = Settings.quick_mode() if args.quick else Settings.full()
    if args.large_sf:
        settings.large_sf = args.large_sf
    only = {m.strip() for m in args.only.split(",") if m.strip()}

    def wanted(measure: str) -> bool:
        return not only or measure in only

    started = time.monotonic()
    now = dt.datetime.now()
    work = Path(tempfile.mkdtemp(prefix="tavana-bench-"))
    group = ProcessGroup()
    results = Results()
    profiles: list[str] = []
    watch = MachineWatch()
    print(f"bench: work directory {work} ({'quick' if settings.quick else 'full'} mode)")
    try:
        # The binary is copied so a concurrent `cargo build` cannot swap it mid-run.
        binary = work / "tavana"
        shutil.copy2(args.binary, binary)

        # ---- data
        data_root = args.data_dir.resolve()
        data_root.mkdir(parents=True, exist_ok=True)
        tpch_dir = data.ensure_tpch(data_root, settings.tpch_sf, data.TPCH_TABLES, args.extension_dir)
        large_dir = data.ensure_tpch(data_root, settings.large_sf, ("lineitem",), args.extension_dir)
        lineitem = large_dir / "lineitem.parquet"
        stats = data.lineitem_stats(lineitem, args.extension_dir)
        keys = data.lineitem_keys(lineitem, 500, args.extension_dir)
        queries = {nr: data.over_parquet(q, tpch_dir) for nr, q in data.tpch_queries(args.extension_dir).items()}
        print(f"bench: data ready: lineitem {stats['rows']:,} rows ({stats['file_bytes'] / 1e6:,.0f} MB Parquet), "
              f"TPC-H sf {settings.tpch_sf:g} ({time.monotonic() - started:.0f}s)")

        watch.start()
        if MachineWatch.building():
            print("bench: WARNING: a compiler is running now; figures will be skewed")

        # ---- loopback limit
        loopback, loopback_error = None, None
        try:
            loopback = peers.iperf3_loopback(work, group, settings.iperf_seconds, settings.iperf_runs)
        except Exception as err:  # noqa: BLE001
            loopback_error = measures.short_error(err)
            print(f"bench: iperf3 failed: {loopback_error}")

        # ---- servers
        tsettings = peers.TavanaSettings()
        tavana_env = dict(kv.split("=", 1) for kv in args.tavana_env)
        if tavana_env:
            results.notes.append(f"Tavana processes ran with extra environment: {tavana_env}")
        tavana = peers.Tavana(binary, work, data_root, args.extension_dir, tsettings, group, env=tavana_env)
        parquet_from = f"read_parquet('{lineitem}')"
        peer_map: dict[str, Peer] = {
            "duckdb": Peer("duckdb", "DuckDB in-process", "duckdb", lineitem=parquet_from),
            "tavana-flight": Peer("tavana-flight", "Tavana Flight SQL", "adbc", tavana.flight_uri,
                                  lineitem=parquet_from),
            "tavana-pg": Peer("tavana-pg", "Tavana PG wire", "psycopg", tavana.pg_dsn or "",
                              lineitem=parquet_from, error=tavana.pg_error),
            # The large result from a table held in memory, as ROAPI holds it: a catalog table
            # with `cache = "memory"` in the executor, a table in in-process DuckDB.
            "duckdb-mem": Peer("duckdb-mem", "DuckDB in-process, table in memory", "duckdb",
                               lineitem="lineitem_in_memory",
                               extra={"setup": f"CREATE TABLE lineitem_in_memory AS SELECT * FROM {parquet_from}"}),
            "tavana-flight-mem": Peer("tavana-flight-mem", "Tavana Flight SQL, table in memory", "adbc",
                                      tavana.flight_uri, lineitem="bench.lineitem"),
            "tavana-pg-mem": Peer("tavana-pg-mem", "Tavana PG wire, table in memory", "psycopg",
                                  tavana.pg_dsn or "", lineitem="bench.lineitem", error=tavana.pg_error),
        }
        pg_version = "not started"
        postgres_pid = None
        try:
            pg = peers.Postgres(args.pg_dir / f"{data.sf_label(settings.large_sf)}-v1", work, group)
            stamp = f"{lineitem}:{stats['rows']}:{stats['file_bytes']}"
            pg.ensure_cluster(lineitem, stamp)
            pg_version = pg.version()
            postgres_pid = pg.proc.pid if pg.proc else None
            peer_map["postgres"] = Peer("postgres", "PostgreSQL 15", "psycopg", pg.dsn)
        except Exception as err:  # noqa: BLE001
            peer_map["postgres"] = Peer("postgres", "PostgreSQL 15", "psycopg", error=measures.short_error(err))
            print(f"bench: PostgreSQL unavailable: {err}")
        roapi_version = "not started"
        roapi_pid = None
        try:
            if not args.roapi.exists():
                raise HarnessError(f"{args.roapi} missing (pip install roapi)")
            roapi_started = time.monotonic()
            roapi = peers.Roapi(args.roapi, lineitem, work, group)
            roapi_pid = roapi.proc.pid
            roapi_version = f"{roapi.version()} (table loaded into memory in {time.monotonic() - roapi_started:.0f}s)"
            peer_map["roapi-flight"] = Peer("roapi-flight", "ROAPI Flight SQL", "adbc", roapi.flight_uri, auth=False)
            peer_map["roapi-pg"] = Peer("roapi-pg", "ROAPI PG wire", "psycopg", roapi.pg_dsn)
        except Exception as err:  # noqa: BLE001
            e = measures.short_error(err)
            peer_map["roapi-flight"] = Peer("roapi-flight", "ROAPI Flight SQL", "adbc", error=e)
            peer_map["roapi-pg"] = Peer("roapi-pg", "ROAPI PG wire", "psycopg", error=e)
            print(f"bench: ROAPI unavailable: {err}")
        print(f"bench: servers up ({time.monotonic() - started:.0f}s)")
        if args.prepare_only:
            print("bench: data and PostgreSQL ready (--prepare-only)")
            group.stop_all()
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
            return 0

        ctx = Context(settings=settings, peers=peer_map, results=results, extension_dir=args.extension_dir,
                      lineitem_rows=stats["rows"], tavana_pids=tavana.pids, roapi_pid=roapi_pid,
                      postgres_pid=postgres_pid,
                      threads=tsettings.threads, memory_gb=tsettings.max_memory_gb)
        steps = [
            ("large-arrow", lambda: measures.large_arrow(ctx, ["duckdb", "tavana-flight", "roapi-flight"])),
            ("large-arrow-memory", lambda: large_arrow_in_memory(ctx, tavana, lineitem, results)),
            ("large-pg", lambda: (measures.large_pg(ctx, ["postgres", "tavana-pg", "roapi-pg"]),
                                  measures.pg_values_check(ctx, ["tavana-pg", "roapi-pg"]))),
            ("latency", lambda: measures.latency(
                ctx, ["duckdb", "tavana-flight", "roapi-flight", "tavana-pg", "postgres", "roapi-pg"], keys)),
            ("tpch", lambda: measures.tpch(ctx, ["duckdb", "tavana-flight", "tavana-pg"], queries)),
            ("concurrency", lambda: measures.concurrency(
                ctx, ["tavana-flight", "tavana-pg", "postgres", "roapi-flight"], keys,
                range_width=max(100, int(200_000 * settings.large_sf)))),
        ]
        for step, run in steps:
            if not wanted(step):
                continue
            t0 = time.monotonic()
            print(f"bench: {step} ...", flush=True)
            run()
            print(f"bench: {step} done in {time.monotonic() - t0:.0f}s", flush=True)
            for role, proc in tavana.procs.items():
                if proc.exited():
                    results.notes.append(f"tavana {role} exited (code {proc.popen.returncode}) during {step}")
                    print(f"bench: tavana {role} exited during {step}:\n{proc.tail()}")
        if args.profile:
            profiles = run_profiles(ctx, tavana, work)
        tavana_version = tavana.version()
    except HarnessError as err:
        print(f"bench: harness failure: {err}", file=sys.stderr)
        group.stop_all()
        (work / "tavana").unlink(missing_ok=True)  # 1 GB+ with debug info; the logs stay
        print(f"bench: logs kept in {work}", file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        group.stop_all()
        (work / "tavana").unlink(missing_ok=True)
        print(f"bench: logs kept in {work}", file=sys.stderr)
        return 3
    finally:
        group.stop_all()

    contention_line, contention = watch.stop() if watch.started else ("not watched", None)
    if contention:
        results.notes.append(contention)
    elapsed = time.monotonic() - started

    import adbc_driver_flightsql
    import duckdb
    import psycopg
    import pyarrow

    meta = {
        "date": now.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, {mem_total()} RAM, "
                   f"{platform.system()} {platform.release()}",
        "load average at the end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "tavana": f"{tavana_version}, git {git_describe()}, release build",
        "tavana settings": f"executor --threads {tsettings.threads} --max-memory-gb {tsettings.max_memory_gb}; "
                           f"every process --worker-threads {tsettings.worker_threads} "
                           "(one executor, one gateway, one pg-adapter, all on 127.0.0.1, no TLS)",
        "in-process DuckDB": f"python duckdb {duckdb.__version__}, threads={tsettings.threads}, "
                             f"memory_limit={tsettings.max_memory_gb}GB, parquet_metadata_cache and enable_external_file_cache "
                             "on (as in the executor)",
        "PostgreSQL": f"{pg_version}; settings: " + ", ".join(f"{k}={v}" for k, v in peers.PG_SETTINGS.items())
                      + "; lineitem with primary key (l_orderkey, l_linenumber), vacuumed and analysed",
        "ROAPI": roapi_version,
        "iperf3": peers.iperf3_version() if shutil.which("iperf3") else "not installed",
        "clients": f"Python {platform.python_version()}, pyarrow {pyarrow.__version__}, "
                   f"adbc-driver-flightsql {adbc_driver_flightsql.__version__}, psycopg {psycopg.__version__} "
                   f"(libpq {psycopg.pq.version()}, {psycopg.pq.__impl__}), psql "
                   + (subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
                      if shutil.which("psql") else "missing"),
        "data": f"TPC-H via DuckDB dbgen, Parquet written by DuckDB (snappy, default row groups); lineitem sf "
                f"{settings.large_sf:g} {stats['rows']:,} rows in {stats['file_bytes'] / 1e6:,.0f} MB; "
                f"TPC-H sf {settings.tpch_sf:g}; files in the OS page cache (warm runs)",
        "run": f"{elapsed / 60:.1f} min in total, measures interleaved across peers",
        "other load during the run": contention_line,
    }
    report = Report(results, settings, meta, loopback, loopback_error, stats, sorted(queries))

    if args.out:
        out = args.out
    elif settings.quick:
        out = work / "quick.md"
    else:
        out = REPO / "benchmarks" / "results" / f"{now:%Y-%m-%d}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    chart = out.with_suffix(".png")
    chart_error = report.chart(chart)
    if chart_error:
        results.notes.append(chart_error)
    text = report.markdown(None if chart_error else chart.name)
    out.write_text(text)
    if profiles:
        out.with_name(out.stem + "-profile.txt").write_text(
            "perf profiles of the Tavana processes (benchmarks/run.sh --profile), flat, by symbol\n\n"
            + "\n\n".join(profiles) + "\n")
    out.with_suffix(".json").write_text(report.raw())
    print()
    print(text if settings.quick else report.console())
    print()
    print(f"bench: wrote {out} (+ .png, .json) in {elapsed / 60:.1f} min")
    if not args.keep:
        # In quick mode without --out the report lived in the work directory: it was printed above.
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
