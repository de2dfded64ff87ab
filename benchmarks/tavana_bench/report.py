"""Turns `Results` into the results Markdown file, a PNG chart, raw JSON and the console table."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Optional

from .measures import Results, Series, Settings

NAMES = {
    "duckdb": "DuckDB in-process",
    "tavana-flight": "Tavana Flight SQL",
    "roapi-flight": "ROAPI Flight SQL",
    "tavana-pg": "Tavana PG wire",
    "postgres": "PostgreSQL 15",
    "roapi-pg": "ROAPI PG wire",
    "duckdb-mem": "DuckDB in-process, table in memory",
    "tavana-flight-mem": "Tavana Flight SQL, table in memory",
    "tavana-pg-mem": "Tavana PG wire, table in memory",
}

MB = 1_000_000


def name(key: str) -> str:
    return NAMES.get(key, key)


def fmt_s(seconds: Optional[float]) -> str:
    if seconds is None:
        return "–"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 0.001:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


def fmt_ms(seconds: Optional[float]) -> str:
    return "–" if seconds is None else f"{seconds * 1e3:.3f} ms"


def fmt_rate(per_s: float, unit: str = "rows/s") -> str:
    if per_s >= 1e6:
        return f"{per_s / 1e6:.2f} M {unit}"
    if per_s >= 1e3:
        return f"{per_s / 1e3:.1f} k {unit}"
    return f"{per_s:.1f} {unit}"


def fmt_ratio(x: Optional[float]) -> str:
    return "–" if x is None else f"{x:.2f}×"


def spread(s: Series) -> str:
    if not s.samples:
        return "–"
    lo, hi = min(s.samples), max(s.samples)
    return f"{fmt_s(lo)} – {fmt_s(hi)} (±{(hi - lo) / 2 / s.median * 100:.0f}%)"


def failed(s: Series) -> str:
    return f"**failed**: {s.error}" if s.error else "no samples"


class Report:
    def __init__(self, results: Results, settings: Settings, meta: dict, loopback: Optional[list[float]],
                 loopback_error: Optional[str], lineitem: dict, tpch_queries: list[int]) -> None:
        self.r = results
        self.settings = settings
        self.meta = meta
        self.loopback = loopback
        self.loopback_error = loopback_error
        self.lineitem = lineitem
        self.tpch_queries = tpch_queries
        self.targets: list[tuple[str, str, str, str]] = []

    # ------------------------------------------------------------------ helpers

    def s(self, measure: str, peer: str) -> Optional[Series]:
        return self.r.get(measure, peer)

    def ok(self, measure: str, peer: str) -> Optional[Series]:
        s = self.s(measure, peer)
        return s if s is not None and s.ok else None

    def loopback_bps(self) -> Optional[float]:
        if not self.loopback:
            return None
        ordered = sorted(self.loopback)
        return ordered[len(ordered) // 2]

    def rows_per_s(self, measure: str, peer: str) -> Optional[float]:
        s = self.ok(measure, peer)
        return None if s is None else s.rows / s.median

    def ratio(self, a: Optional[float], b: Optional[float]) -> Optional[float]:
        return None if a is None or b is None or b == 0 else a / b

    def target(self, what: str, measured: Optional[float], bar: str, ok: Optional[bool], fmt=fmt_ratio) -> None:
        verdict = "not measured" if ok is None else ("**met**" if ok else "**missed**")
        self.targets.append((what, fmt(measured) if measured is not None else "–", bar, verdict))

    # ------------------------------------------------------------------ sections

    def section_loopback(self) -> list[str]:
        out = ["## Loopback bandwidth (iperf3, one TCP stream)", ""]
        if self.loopback:
            bps = self.loopback_bps()
            runs = ", ".join(f"{b * 8 / 1e9:.1f}" for b in self.loopback)
            out.append(f"Median **{bps * 8 / 1e9:.1f} Gbit/s** ({bps / MB:,.0f} MB/s); runs: {runs} Gbit/s.")
        else:
            out.append(f"Not measured: {self.loopback_error}")
        return out + [""]

    def section_large_arrow(self) -> list[str]:
        m = "large/arrow"
        li = self.lineitem
        out = [
            "## 1. Large result to an Arrow client",
            "",
            f"`SELECT *` over TPC-H `lineitem` at sf {self.settings.large_sf:g}: {li['rows']:,} rows, 16 columns "
            "(BIGINT, DECIMAL(15,2), VARCHAR, DATE), fetched whole into a `pyarrow.Table`: ADBC "
            "`fetch_arrow_table()` for the servers, `execute(...).to_arrow_table()` (what `.arrow()` streams) "
            f"for in-process DuckDB. Median of {self.settings.large_reps} runs after {self.settings.warmup} warm-up "
            "run(s), peers taking turns in an order that rotates every run.",
            "",
            "| peer | median | spread (min – max) | rows/s | MB/s (Arrow) | of loopback | vs DuckDB | vs ROAPI |",
            "|---|---|---|---|---|---|---|---|",
        ]
        duck = self.rows_per_s(m, "duckdb")
        roapi = self.rows_per_s(m, "roapi-flight")
        lb = self.loopback_bps()
        for peer in ("duckdb", "tavana-flight", "roapi-flight"):
            s = self.s(m, peer)
            if s is None:
                continue
            if not s.ok:
                out.append(f"| {name(peer)} | {failed(s)} | | | | | | |")
                continue
            rps = s.rows / s.median
            bps = s.nbytes / s.median
            frac = f"{bps / lb * 100:.1f}%" if lb else "–"
            out.append(
                f"| {name(peer)} | {fmt_s(s.median)} | {spread(s)} | {fmt_rate(rps)} | {bps / MB:,.0f} | {frac} "
                f"| {fmt_ratio(self.ratio(rps, duck))} | {fmt_ratio(self.ratio(rps, roapi))} |"
            )
        tav = self.rows_per_s(m, "tavana-flight")
        r = self.ratio(tav, duck)
        self.target("Flight SQL large result vs in-process DuckDB (rows/s)", r, "≥ 0.90×",
                    None if r is None else r >= 0.9)
        r = self.ratio(tav, roapi)
        self.target("Flight SQL large result vs ROAPI Flight SQL (rows/s)", r, "≥ 1.00×",
                    None if r is None else r >= 1.0)
        sizes = {p: self.s(m, p).nbytes for p in ("duckdb", "tavana-flight", "roapi-flight")
                 if self.ok(m, p) and self.s(m, p).nbytes}
        if sizes:
            out += ["", "Arrow size of the fetched table: " + ", ".join(
                f"{name(p)} {b / MB:,.0f} MB" for p, b in sizes.items()) + "."]
        return out + [""]

    def section_large_arrow_memory(self) -> list[str]:
        m = "large/arrow-memory"
        if not any(self.s(m, p) for p in ("duckdb-mem", "tavana-flight-mem", "roapi-flight")):
            return []
        out = [
            "## 1b. Large result from a table held in memory",
            "",
            "The same fetch with the table in memory on every side, as ROAPI holds it: in the executor a "
            "catalog table with `cache = \"memory\"` (`SELECT * FROM bench.lineitem`, loaded before the "
            "measure and dropped after), in in-process DuckDB a table made with `CREATE TABLE ... AS`. "
            "ROAPI is measured again here, taking turns with the others.",
            "",
            "| peer | median | spread (min – max) | rows/s | vs DuckDB (in memory) | vs ROAPI |",
            "|---|---|---|---|---|---|",
        ]
        duck = self.rows_per_s(m, "duckdb-mem")
        roapi = self.rows_per_s(m, "roapi-flight")
        for peer in ("duckdb-mem", "tavana-flight-mem", "roapi-flight"):
            s = self.s(m, peer)
            if s is None:
                continue
            if not s.ok:
                out.append(f"| {name(peer)} | {failed(s)} | | | | |")
                continue
            rps = s.rows / s.median
            out.append(
                f"| {name(peer)} | {fmt_s(s.median)} | {spread(s)} | {fmt_rate(rps)} "
                f"| {fmt_ratio(self.ratio(rps, duck))} | {fmt_ratio(self.ratio(rps, roapi))} |"
            )
        r = self.ratio(self.rows_per_s(m, "tavana-flight-mem"), roapi)
        self.target("Flight SQL large result vs ROAPI Flight SQL, both holding the table in memory (rows/s)", r,
                    "≥ 1.00×", None if r is None else r >= 1.0)
        pg_rows = self.pg_client_rows(
            (("large/psycopg-text-memory", "psycopg, text"), ("large/psycopg-binary-memory", "psycopg, binary")),
            ("postgres", "tavana-pg-mem"), "tavana-pg-mem", ", table in memory", wire=False)
        if pg_rows:
            out += [
                "",
                "psycopg over PG wire, the executor reading the copy in memory; PostgreSQL reads its table from "
                "its shared buffers, as in section 2 (measured again here, taking turns):",
                "",
                "| client | peer | median | spread (min – max) | rows/s | vs PostgreSQL |",
                "|---|---|---|---|---|---|",
                *pg_rows,
            ]
        return out + [""]

    def pg_client_rows(self, measures, peers: tuple[str, ...], tavana: str, what: str, wire: bool) -> list[str]:
        """Table rows of PG clients' large fetches, each measure's peers against PostgreSQL's
        rows/s, and a target for `tavana`'s; `wire` adds the MB/s on the wire column."""
        rows = []
        for m, label in measures:
            pg = self.rows_per_s(m, "postgres")
            for peer in peers:
                s = self.s(m, peer)
                if s is None:
                    continue
                if not s.ok:
                    rows.append(f"| {label} | {name(peer)} | {failed(s)} | | |{' |' if wire else ''} |")
                    continue
                rps = s.rows / s.median
                mbps = (f" {s.nbytes / s.median / MB:,.0f} |" if s.nbytes else " – |") if wire else ""
                rows.append(f"| {label} | {name(peer)} | {fmt_s(s.median)} | {spread(s)} | {fmt_rate(rps)} |"
                            f"{mbps} {fmt_ratio(self.ratio(rps, pg))} |")
            if self.s(m, tavana) is not None:
                r = self.ratio(self.rows_per_s(m, tavana), pg)
                self.target(f"PG adapter, {label}{what} vs PostgreSQL (rows/s)", r, "≥ 1.00×",
                            None if r is None else r >= 1.0)
        return rows

    def section_large_pg(self) -> list[str]:
        out = [
            "## 2. Large result to PostgreSQL clients",
            "",
            "The same rows through PG wire: `psql -c \"COPY (SELECT * FROM ...) TO STDOUT\"` (text and "
            "`(FORMAT binary)`) piped into `wc -lc` (the row count of every text run is checked; PostgreSQL runs "
            "`COPY lineitem TO STDOUT`, its own fastest path), and psycopg 3 (C implementation) streaming "
            "every row into Python values (`cursor.stream(size=10000)`, text or binary result format; "
            f"connection set-up included). Median of {self.settings.pg_reps} runs "
            f"({self.settings.psycopg_binary_reps} for psycopg binary), after {self.settings.warmup} warm-up "
            "COPY per peer; peers take turns.",
            "",
            "| client | peer | median | spread (min – max) | rows/s | MB/s on the wire | vs PostgreSQL |",
            "|---|---|---|---|---|---|---|",
        ]
        clients = [
            ("large/psql-copy-text", "psql COPY text"),
            ("large/psql-copy-binary", "psql COPY binary"),
            ("large/psycopg-text", "psycopg, text"),
            ("large/psycopg-binary", "psycopg, binary"),
        ]
        out += self.pg_client_rows(clients, ("postgres", "tavana-pg", "roapi-pg"), "tavana-pg", "", wire=True)
        if self.r.checks:
            out += ["", "Values check (the first 2,000 rows by key, through psycopg, compared with "
                    "PostgreSQL's as Python values):", ""]
            for k, v in self.r.checks.items():
                out.append(f"- {k}: {v}")
        return out + [""]

    def section_latency(self) -> list[str]:
        out = [
            "## 3. Small-query latency",
            "",
            "One connection, one query at a time, wall time of `execute` + `fetchall` in Python (ADBC for "
            "Flight SQL, psycopg for PG wire, so each figure includes its client library). The point lookup "
            "is `SELECT * FROM lineitem WHERE l_orderkey = k` over a rotating set of existing keys (4 rows "
            "on average): Parquet row-group pruning for Tavana and DuckDB, the primary key index for "
            "PostgreSQL, a scan of its in-memory table for ROAPI. The parameterised lookup is the same "
            "query with the key bound to a placeholder, as applications send it: psycopg's extended "
            "protocol (the statement prepared by its fifth run, psycopg's default), ADBC's prepared "
            "statement with a bound parameter, DuckDB's `execute(sql, parameters)`.",
            "",
            "| query | peer | runs | p50 | p99 | p50 vs PostgreSQL |",
            "|---|---|---|---|---|---|",
        ]
        for m, label in (("latency/select-1", "`SELECT 1`"), ("latency/point-lookup", "point lookup"),
                         ("latency/point-lookup-param", "point lookup, key as a parameter")):
            pg = self.ok(m, "postgres")
            for peer in ("duckdb", "tavana-flight", "roapi-flight", "tavana-pg", "postgres", "roapi-pg"):
                s = self.s(m, peer)
                if s is None:
                    continue
                if not s.ok:
                    out.append(f"| {label} | {name(peer)} | {failed(s)} | | | |")
                    continue
                r = self.ratio(s.median, pg.median) if pg else None
                note = f" ({s.note})" if s.note else ""
                out.append(f"| {label} | {name(peer)} | {len(s.samples):,}{note} | {fmt_ms(s.median)} "
                           f"| {fmt_ms(s.quantile(0.99))} | {fmt_ratio(r)} |")
        tpg = self.ok("latency/select-1", "tavana-pg")
        pg = self.ok("latency/select-1", "postgres")
        r = self.ratio(tpg.median if tpg else None, pg.median if pg else None)
        self.target("`SELECT 1` p50, PG adapter vs PostgreSQL", r, "≤ 2.00×", None if r is None else r <= 2.0)
        tfl = self.ok("latency/select-1", "tavana-flight")
        self.target("`SELECT 1` p50, Flight SQL with ADBC", tfl.median if tfl else None, "≤ 1 ms",
                    None if tfl is None else tfl.median <= 0.001, fmt=fmt_ms)
        return out + [""]

    def tpch_total(self, peer: str) -> Optional[float]:
        total = 0.0
        for nr in self.tpch_queries:
            s = self.ok(f"tpch/q{nr:02d}", peer)
            if s is None:
                return None
            total += s.median
        return total

    def section_tpch(self) -> list[str]:
        peers = [p for p in ("duckdb", "tavana-flight", "tavana-pg")
                 if any(self.s(f"tpch/q{nr:02d}", p) for nr in self.tpch_queries)]
        out = [
            f"## 4. TPC-H, scale factor {self.settings.tpch_sf:g}",
            "",
            "The 22 queries of DuckDB's `tpch` extension, each reading the Parquet files through CTEs named "
            "like the tables (the service keeps no tables); in-process DuckDB runs the very same text with the "
            "executor's settings (2 threads, 8 GB, Parquet footers and file blocks cached between queries). Results fetched whole (Arrow for DuckDB and Flight SQL, "
            f"Python rows for psycopg). Median of {self.settings.tpch_reps} runs after {self.settings.warmup} "
            "warm-up pass(es), peers taking turns on each query in an order that rotates every pass; each "
            "timed run directly follows an untimed run of the same query by the same peer (processes that "
            "sat idle while another peer ran start cold on this VM, 3–10 ms late on a 25 ms query). The "
            "total is the sum of the medians.",
            "",
            "| query | " + " | ".join(name(p) for p in peers) + " | " +
            " | ".join(f"{name(p)} vs DuckDB" for p in peers if p != "duckdb") + " |",
            "|---" * (len(peers) * 2) + "|",
        ]
        for nr in self.tpch_queries:
            m = f"tpch/q{nr:02d}"
            cells = []
            for p in peers:
                s = self.s(m, p)
                cells.append(fmt_s(s.median) if s and s.ok else (f"failed: {s.error}" if s else "–"))
            duck = self.ok(m, "duckdb")
            ratios = []
            for p in peers:
                if p == "duckdb":
                    continue
                s = self.ok(m, p)
                ratios.append(fmt_ratio(self.ratio(s.median if s else None, duck.median if duck else None)))
            out.append(f"| Q{nr:02d} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
        totals = {p: self.tpch_total(p) for p in peers}
        duck_total = totals.get("duckdb")
        out.append("| **total** | " + " | ".join(f"**{fmt_s(totals[p])}**" if totals[p] is not None
                                                  else "incomplete" for p in peers) + " | " +
                   " | ".join(f"**{fmt_ratio(self.ratio(totals[p], duck_total))}**"
                              for p in peers if p != "duckdb") + " |")
        for p, label in (("tavana-flight", "Flight SQL"), ("tavana-pg", "PG wire")):
            if p in totals:
                r = self.ratio(totals[p], duck_total)
                self.target(f"TPC-H sf {self.settings.tpch_sf:g} total via {label} vs in-process DuckDB", r,
                            "≤ 1.03×", None if r is None else r <= 1.03)
        return out + [""]

    def section_concurrency(self) -> list[str]:
        out = [
            "## 5. Concurrency",
            "",
            "N clients (threads of one Python process, each with its own connection) loop for "
            f"{self.settings.conc_seconds:g} s over a mix of three point lookups to one medium query (an "
            "aggregate over a range of order keys, ~1/30 of `lineitem`). Throughput counts "
            "completed queries; latencies are per query.",
            "",
            "| peer | clients | queries/s | p50 | p99 | point lookup p99 | medium p99 | errors |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for peer in ("tavana-flight", "roapi-flight", "tavana-pg", "postgres"):
            for level in self.settings.conc_levels:
                s = self.s(f"concurrency/{level}", peer)
                if s is None:
                    continue
                if not s.ok:
                    out.append(f"| {name(peer)} | {level} | {failed(s)} | | | | | |")
                    continue
                e = s.extra
                out.append(
                    f"| {name(peer)} | {level} | {e['qps']:.1f} | {fmt_ms(s.quantile(0.5))} | "
                    f"{fmt_ms(s.quantile(0.99))} | {fmt_ms(e['small_p99'])} | {fmt_ms(e['medium_p99'])} | "
                    f"{e['errors']} |"
                )
        return out + [""]

    def section_resources(self) -> list[str]:
        out = [
            "## 6. Memory and CPU while streaming the large result",
            "",
            "RSS of each server process sampled from `/proc/<pid>/status` every 20 ms during every measured "
            "run (peak over the runs; “at start” is the lowest RSS seen as a run began). CPU seconds per run "
            "(median) from `/proc/<pid>/stat`; `client` is the Python process with its driver threads (and "
            "`psql` for COPY). PostgreSQL forks a backend per connection, so its RSS is not sampled; its CPU "
            "is the whole server's (postmaster, background processes, and every backend, those that ended "
            "during the run included). `servers` adds up the server processes of the peer: what the service "
            "costs beside the client on the same two cores.",
            "",
            "| while | peer | process | at start | peak |",
            "|---|---|---|---|---|",
        ]
        peak_relay: dict[str, int] = {}
        labels = {
            "large/arrow": "Arrow fetch", "large/arrow-memory": "Arrow fetch, table in memory",
            "large/psql-copy-text": "psql COPY text",
            "large/psql-copy-binary": "psql COPY binary", "large/psycopg-text": "psycopg text",
            "large/psycopg-binary": "psycopg binary",
            "large/psycopg-text-memory": "psycopg text, table in memory",
            "large/psycopg-binary-memory": "psycopg binary, table in memory",
        }
        order = ("gateway", "pg-adapter", "executor", "roapi")
        for (measure, peer), res in self.r.resources.items():
            for role in order:
                if role not in res["rss"]:
                    continue
                before, peak = res["rss"][role]
                out.append(f"| {labels.get(measure, measure)} | {name(peer)} | {role} | {before / MB:,.0f} MB "
                           f"| {peak / MB:,.0f} MB |")
                if role in ("gateway", "pg-adapter"):
                    peak_relay[role] = max(peak_relay.get(role, 0), peak)
        out += [
            "",
            "| while | peer | wall | client CPU | executor CPU | gateway CPU | pg-adapter CPU | ROAPI CPU "
            "| PostgreSQL CPU | servers |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]

        def med(xs: Optional[list[float]], fmt: str = "{:.2f} s") -> str:
            """The median of per-run values (upper middle), formatted; – when none."""
            if not xs:
                return "–"
            return fmt.format(sorted(xs)[len(xs) // 2])

        servers = ("executor", "gateway", "pg-adapter", "roapi", "postgres")
        for (measure, peer), res in self.r.resources.items():
            cpu = res["cpu"]
            # Per run: the sum over the peer's server processes, then the median of those sums.
            runs = len(res["wall"])
            totals = [sum(cpu[role][i] for role in servers if role in cpu and i < len(cpu[role]))
                      for i in range(runs)] if any(role in cpu for role in servers) else None
            out.append(f"| {labels.get(measure, measure)} | {name(peer)} | {med(res['wall'])} | {med(cpu.get('client'))} "
                       f"| {med(cpu.get('executor'))} | {med(cpu.get('gateway'))} | {med(cpu.get('pg-adapter'))} "
                       f"| {med(cpu.get('roapi'))} | {med(cpu.get('postgres'))} | {med(totals)} |")
        out += [
            "",
            "Minor page faults per run (median): memory the kernel handed a process fresh. A relay that "
            "reuses its buffers takes a few thousand; one that gets them fresh per message takes hundreds "
            "of thousands (glibc's default malloc thresholds did that to the gateway).",
            "",
            "| while | peer | executor | gateway | pg-adapter | ROAPI |",
            "|---|---|---|---|---|---|",
        ]

        for (measure, peer), res in self.r.resources.items():
            faults = res.get("faults", {})
            if faults:
                counts = [med(faults.get(role), "{:,}") for role in ("executor", "gateway", "pg-adapter", "roapi")]
                out.append(f"| {labels.get(measure, measure)} | {name(peer)} | " + " | ".join(counts) + " |")
        for role in ("gateway", "pg-adapter"):
            p = peak_relay.get(role)
            self.target(f"{role} peak RSS while relaying the large result", None if p is None else p / MB,
                        "< 150 MB", None if p is None else p / MB < 150, fmt=lambda v: f"{v:,.0f} MB")
        return out + [""]

    def section_targets(self) -> list[str]:
        out = ["## Targets (issue 5)", "", "| target | measured | bar | result |", "|---|---|---|---|"]
        for what, measured, bar, verdict in self.targets:
            out.append(f"| {what} | {measured} | {bar} | {verdict} |")
        return out + [""]

    def section_setup(self) -> list[str]:
        m = self.meta
        out = ["## Machine, versions and settings", ""]
        for k, v in m.items():
            out.append(f"- {k}: {v}")
        return out + [""]

    # ------------------------------------------------------------------ outputs

    def markdown(self, chart_name: Optional[str]) -> str:
        body = (
            self.section_loopback()
            + self.section_large_arrow()
            + self.section_large_arrow_memory()
            + self.section_large_pg()
            + self.section_latency()
            + self.section_tpch()
            + self.section_concurrency()
            + self.section_resources()
        )
        # Targets are collected while the sections render: put them on top.
        head = [
            f"# Tavana benchmarks — {self.meta.get('date', '')}{' (quick mode)' if self.settings.quick else ''}",
            "",
            "Produced by `benchmarks/run.sh"
            + (" --quick" if self.settings.quick else "")
            + "`: every peer started on loopback by the harness in the same run, on the same data files.",
            "",
        ]
        if self.r.notes:
            head += [f"> {n}" for n in self.r.notes] + [""]
        if chart_name:
            head += [f"![chart]({chart_name})", ""]
        return "\n".join(head + self.section_targets() + body + self.section_setup())

    def console(self) -> str:
        lines = [f"{'target':<66} {'measured':>12} {'bar':>9}  result"]
        for what, measured, bar, verdict in self.targets:
            lines.append(f"{what[:66]:<66} {measured:>12} {bar:>9}  {verdict.strip('*')}")
        return "\n".join(lines)

    def chart(self, path: Path) -> Optional[str]:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except Exception as err:  # noqa: BLE001
            return f"no chart: {err}"
        fig, axes = plt.subplots(2, 2, figsize=(14, 10))
        fig.suptitle(f"Tavana benchmarks {self.meta.get('date', '')}"
                     f"{' (quick)' if self.settings.quick else ''}")

        # (a) large result throughput, every client and peer.
        ax = axes[0][0]
        bars: list[tuple[str, float, str]] = []
        colours = {"duckdb": "#777777", "tavana-flight": "#1f77b4", "tavana-pg": "#1f77b4",
                   "roapi-flight": "#ff7f0e", "roapi-pg": "#ff7f0e", "postgres": "#2ca02c"}
        for m, label in (("large/arrow", "Arrow"), ("large/psql-copy-text", "COPY text"),
                         ("large/psql-copy-binary", "COPY binary"), ("large/psycopg-text", "psycopg text"),
                         ("large/psycopg-binary", "psycopg bin")):
            for peer in ("duckdb", "tavana-flight", "roapi-flight", "postgres", "tavana-pg", "roapi-pg"):
                rps = self.rows_per_s(m, peer)
                if rps is not None:
                    bars.append((f"{label}\n{name(peer)}", rps / 1e6, colours[peer]))
        if bars:
            ax.barh([b[0] for b in bars], [b[1] for b in bars], color=[b[2] for b in bars])
            ax.invert_yaxis()
            ax.tick_params(axis="y", labelsize=7)
        ax.set_xlabel("million rows/s (higher is better)")
        ax.set_title(f"Large result: lineitem, {self.lineitem['rows']:,} rows")

        # (b) small-query latency p50 and p99.
        ax = axes[0][1]
        labels, p50, p99 = [], [], []
        for m, label in (("latency/select-1", "SELECT 1"), ("latency/point-lookup", "lookup"),
                         ("latency/point-lookup-param", "lookup $1")):
            for peer in ("duckdb", "tavana-flight", "roapi-flight", "tavana-pg", "postgres", "roapi-pg"):
                s = self.ok(m, peer)
                if s:
                    labels.append(f"{label}\n{name(peer)}")
                    p50.append(s.median * 1e3)
                    p99.append(s.quantile(0.99) * 1e3)
        if labels:
            ys = range(len(labels))
            ax.barh([y - 0.2 for y in ys], p50, height=0.4, label="p50")
            ax.barh([y + 0.2 for y in ys], p99, height=0.4, label="p99")
            ax.set_yticks(list(ys), labels, fontsize=7)
            ax.invert_yaxis()
            ax.set_xscale("log")
            ax.legend()
        ax.set_xlabel("ms (log scale, lower is better)")
        ax.set_title("Small-query latency")

        # (c) TPC-H per query.
        ax = axes[1][0]
        peers = [p for p in ("duckdb", "tavana-flight", "tavana-pg")
                 if any(self.ok(f"tpch/q{nr:02d}", p) for nr in self.tpch_queries)]
        width = 0.8 / max(1, len(peers))
        for i, peer in enumerate(peers):
            xs, ys = [], []
            for nr in self.tpch_queries:
                s = self.ok(f"tpch/q{nr:02d}", peer)
                if s:
                    xs.append(nr + (i - (len(peers) - 1) / 2) * width)
                    ys.append(s.median * 1e3)
            total = self.tpch_total(peer)
            ax.bar(xs, ys, width=width, label=f"{name(peer)} (total {fmt_s(total)})")
        ax.set_xticks(self.tpch_queries)
        ax.set_xlabel("TPC-H query")
        ax.set_ylabel("ms (lower is better)")
        ax.set_title(f"TPC-H sf {self.settings.tpch_sf:g}")
        ax.legend(fontsize=8)

        # (d) concurrency throughput.
        ax = axes[1][1]
        for peer in ("tavana-flight", "roapi-flight", "tavana-pg", "postgres"):
            xs, ys = [], []
            for level in self.settings.conc_levels:
                s = self.ok(f"concurrency/{level}", peer)
                if s:
                    xs.append(level)
                    ys.append(s.extra["qps"])
            if xs:
                ax.plot(xs, ys, marker="o", label=name(peer))
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(list(self.settings.conc_levels), [str(x) for x in self.settings.conc_levels])
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel("queries/s (log scale, higher is better)")
        ax.set_title("Concurrency: 3 point lookups : 1 range aggregate")
        ax.legend(fontsize=8)

        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        return None

    def raw(self) -> str:
        return json.dumps({
            "meta": self.meta,
            "settings": asdict(self.settings),
            "loopback_bytes_per_s": self.loopback,
            "lineitem": self.lineitem,
            "series": [asdict(s) for s in self.r.series],
            "resources": [{"measure": m, "peer": p, **v} for (m, p), v in self.r.resources.items()],
            "checks": self.r.checks,
            "targets": self.targets,
        }, indent=1, default=str)
