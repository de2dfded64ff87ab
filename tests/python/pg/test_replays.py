"""Replays of the SQL real clients send on start-up and while browsing the catalog.

Each file in replays/ is one client session: the exact statements that client sends, in order,
captured from PostgreSQL's statement log (psql, pgJDBC, SQLAlchemy: see
pg-adapter/dev/capture_replays.py) or transcribed from the client's source (Metabase, Grafana,
Tableau/psqlODBC, DBeaver, drivers' probes). The test sends them through psycopg's libpq
layer exactly as the client does: the simple protocol for `-- @query` entries, the extended
protocol (Parse/Bind/Execute with text parameters) for entries with `-- @params`, and checks
that every statement succeeds (or fails, for `-- @expect error`) and returns rows where
`-- @expect rows>=N` says so.

Format of a replay file:

    -- @query <label>
    -- @params ["r", "sales"]      (optional: extended protocol, with these parameters)
    -- @expect rows>=1             (optional: rows>=N, rows=N, error, or any)
    <SQL, up to the next -- @query>

`{oid:schema.table}` anywhere in the SQL or the parameters is the OID of that relation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest

REPLAYS = Path(__file__).resolve().parent / "replays"


@dataclass
class Replay:
    label: str
    sql: str = ""
    params: Optional[list] = None
    expect: Optional[str] = None
    lines: list[str] = field(default_factory=list)


def load(path: Path) -> list[Replay]:
    replays: list[Replay] = []
    for line in path.read_text().splitlines():
        if line.startswith("-- @query"):
            replays.append(Replay(label=line[len("-- @query"):].strip()))
        elif not replays:
            continue
        elif line.startswith("-- @params") and not replays[-1].lines:
            replays[-1].params = json.loads(line[len("-- @params"):])
        elif line.startswith("-- @expect") and not replays[-1].lines:
            replays[-1].expect = line[len("-- @expect"):].strip()
        else:
            replays[-1].lines.append(line)
    for r in replays:
        r.sql = "\n".join(r.lines).strip("\n")
    return replays


FILES = sorted(REPLAYS.glob("*.sql"))


def test_replay_files_present():
    names = {f.stem for f in FILES}
    for client in ["psql", "pgjdbc", "sqlalchemy", "metabase", "grafana", "tableau", "dbeaver"]:
        assert client in names, f"no replay for {client}"


def resolve(text: str, conn) -> str:
    def oid(m: re.Match) -> str:
        schema, name = m[1].split(".", 1)
        row = conn.execute(
            "SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
            (schema, name),
        ).fetchone()
        assert row, f"no relation {m[1]}"
        return str(row[0])

    return re.sub(r"\{oid:([^}]+)\}", oid, text)


def check(replay: Replay, result) -> Optional[str]:
    """None if the result is what the replay expects, else what went wrong."""
    from psycopg.pq import ExecStatus

    error = result.error_message.decode(errors="replace").strip()
    failed = result.status == ExecStatus.FATAL_ERROR
    if replay.expect == "any":
        return None
    if replay.expect == "error":
        return None if failed else "expected an error"
    if failed:
        return error
    if result.status not in (ExecStatus.TUPLES_OK, ExecStatus.COMMAND_OK, ExecStatus.EMPTY_QUERY):
        return f"unexpected status {result.status!r}"
    # A query must describe its columns even when it returns no rows (clients read the
    # description: SQLAlchemy raises "does not return rows" otherwise).
    last = replay.sql.strip().rstrip(";").rsplit(";", 1)[-1]
    words = re.sub(r"--[^\n]*", "", last).split()
    if words and words[0].lower() in ("select", "with", "show", "fetch", "values") and result.status != ExecStatus.TUPLES_OK:
        return f"a query answered {ExecStatus(result.status).name} (no row description)"
    if replay.expect:
        m = re.fullmatch(r"rows\s*(>=|=)\s*(\d+)", replay.expect)
        assert m, f"bad @expect {replay.expect!r}"
        want = int(m[2])
        got = result.ntuples
        if (m[1] == ">=" and got < want) or (m[1] == "=" and got != want):
            return f"{got} rows, expected {replay.expect}"
    return None


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_replay(pg_lake, path):
    import psycopg

    replays = load(path)
    assert replays, f"{path.name} has no queries"
    failures = []
    with psycopg.connect(pg_lake.pg.dsn(), autocommit=True) as conn:
        # A connection of its own for resolving OIDs, so the replayed session sees only
        # what the client sent.
        with psycopg.connect(pg_lake.pg.dsn(), autocommit=True) as helper:
            for replay in replays:
                sql = resolve(replay.sql, helper).encode()
                if replay.params is None:
                    result = conn.pgconn.exec_(sql)
                else:
                    params = [
                        None if p is None else resolve(str(p), helper).encode()
                        for p in replay.params
                    ]
                    result = conn.pgconn.exec_params(sql, params)
                problem = check(replay, result)
                if problem:
                    failures.append(f"{path.name} @query {replay.label}: {problem}\n{replay.sql[:600]}")
    assert not failures, "\n\n".join(failures)
