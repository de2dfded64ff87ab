"""Captures the catalog queries real PostgreSQL clients send, as replay fixtures.

Needs a PostgreSQL 15 server with `log_statement = 'all'` and
`log_line_prefix = '%m [%p] %a: '`, user `tavana` (password `secret`), and the objects the
replay test creates in Tavana (tests/python/pg/test_replays.py: schema `sales`, table
`sales.orders`, view `sales.v`). Runs psql, pgJDBC (tests/jdbc/CatalogBrowse.java) and
SQLAlchemy against it, and writes what the server logged to tests/python/pg/replays/*.sql,
with OIDs replaced by `{oid:schema.name}` placeholders.

    python pg-adapter/dev/capture_replays.py --port 5432 --log /var/log/postgresql/...log
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "python" / "pg" / "replays"
ENTRY = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \w+ \[(\d+)\] (.*?): (LOG|DETAIL|ERROR|STATEMENT|FATAL|WARNING|HINT):\s+(.*)$"
)
PSQL_COMMANDS = [
    "\\l", "\\dn", "\\dt", "\\d", "\\dt sales.*", "\\d sales.orders", "\\d+ sales.orders",
    "\\d sales.v", "\\dv sales.*", "\\dT", "\\df", "\\du", "\\l+", "\\dn+",
]


def statements(log: Path, marker: str) -> list[dict]:
    """The statements logged after `marker`, with their parameters."""
    entries: list[dict] = []
    seen = False
    for line in log.read_text(errors="replace").splitlines():
        if marker in line:
            seen = True
            entries = []
            continue
        if not seen:
            continue
        m = ENTRY.match(line)
        if m:
            entries.append({"app": m[2], "kind": m[3], "text": m[4]})
        elif entries:
            entries[-1]["text"] += "\n" + line
    out: list[dict] = []
    for e in entries:
        if e["kind"] == "LOG":
            m = re.match(r"(?s)(statement|execute [^:]*):\s(.*)", e["text"])
            if m and marker not in m[2]:
                out.append({"sql": m[2], "params": None, "extended": m[1] != "statement"})
        elif e["kind"] == "DETAIL" and e["text"].startswith("parameters:") and out:
            params = re.findall(r"\$(\d+) = (NULL|'(?:[^']|'')*')", e["text"])
            out[-1]["params"] = [None if v == "NULL" else v[1:-1].replace("''", "'") for _, v in params]
    return out


def mark(dsn: str, name: str) -> str:
    marker = f"capture-marker-{name}-{time.time_ns()}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"SELECT '{marker}'")
    time.sleep(0.3)
    return marker


def write(name: str, title: str, entries: list[dict], oids: dict[str, str]) -> None:
    lines = [f"-- {title}", "-- Captured by pg-adapter/dev/capture_replays.py from PostgreSQL 15's statement log.", ""]
    for n, e in enumerate(entries, 1):
        sql = e["sql"]
        params = e["params"]
        for oid, name_ in oids.items():
            sql = re.sub(rf"\b{oid}\b", f"{{oid:{name_}}}", sql)
            if params:
                params = [f"{{oid:{name_}}}" if p == oid else p for p in params]
        lines.append(f"-- @query {n}")
        if e["extended"]:
            lines.append(f"-- @params {json.dumps(params or [])}")
        lines.append(sql.rstrip())
        lines.append("")
    (OUT / f"{name}.sql").write_text("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", default="5432")
    ap.add_argument("--log", required=True, type=Path)
    args = ap.parse_args()
    dsn = f"host={args.host} port={args.port} user=tavana password=secret dbname=postgres"
    with psycopg.connect(dsn) as conn:
        oids = {
            str(oid): name
            for oid, name in conn.execute(
                "SELECT c.oid, n.nspname || '.' || c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'sales'"
            ).fetchall()
        }
    env = dict(os.environ, PGHOST=args.host, PGPORT=args.port, PGUSER="tavana",
               PGPASSWORD="secret", PGDATABASE="postgres")

    marker = mark(dsn, "psql")
    for cmd in PSQL_COMMANDS:
        subprocess.run(["psql", "-X", "-c", cmd], env=env, capture_output=True, check=True)
    write("psql", "psql 15: \\l, \\dn, \\dt, \\d, \\d <table>, \\dv, \\dT, \\df, \\du (simple protocol)",
          statements(args.log, marker), oids)

    marker = mark(dsn, "jdbc")
    subprocess.run(
        ["java", "-cp", "/usr/share/java/postgresql.jar", str(ROOT / "tests/jdbc/CatalogBrowse.java"),
         f"jdbc:postgresql://{args.host}:{args.port}/postgres", "tavana", "secret"],
        check=True, capture_output=True,
    )
    write("pgjdbc", "pgJDBC 42.5 (the driver DBeaver, Metabase and Tableau's JDBC connector use): "
          "connect and DatabaseMetaData browse", statements(args.log, marker), oids)

    marker = mark(dsn, "sqlalchemy")
    import sqlalchemy as sa

    engine = sa.create_engine(f"postgresql+psycopg://tavana:secret@{args.host}:{args.port}/postgres")
    insp = sa.inspect(engine)
    insp.get_schema_names()
    insp.get_table_names(schema="sales")
    insp.get_view_names(schema="sales")
    insp.get_columns("orders", schema="sales")
    insp.get_pk_constraint("orders", schema="sales")
    insp.get_foreign_keys("orders", schema="sales")
    insp.get_indexes("orders", schema="sales")
    insp.get_unique_constraints("orders", schema="sales")
    insp.get_check_constraints("orders", schema="sales")
    insp.get_table_comment("orders", schema="sales")
    insp.has_table("orders", schema="sales")
    insp.get_view_definition("v", schema="sales")
    engine.dispose()
    write("sqlalchemy", "SQLAlchemy 2 + psycopg 3: inspect(engine).get_table_names(), get_columns(), ...",
          statements(args.log, marker), oids)


if __name__ == "__main__":
    main()
