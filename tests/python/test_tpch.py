"""The 22 TPC-H queries at scale factor 0.01 through Flight SQL, against DuckDB.

The data is generated once (conftest: `CALL dbgen(sf = 0.01)` in python duckdb,
one Parquet file per table in the executor's allowed directory). The service is
sandboxed and keeps no tables of ours, so every query reads the Parquet files
through CTEs named like the TPC-H tables; the reference answer is the same SQL
text run by python duckdb 1.5.5, the engine version the executor embeds.
Results must be identical: same column names, same rows, in the same order when
the query orders them (every TPC-H ORDER BY is a total order), as multisets when
it has no ORDER BY.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tavana_harness import TPCH_TABLES, local_duckdb, query_table


def tpch_queries() -> dict[int, str]:
    con = local_duckdb()
    try:
        con.execute("LOAD tpch")
        return dict(con.execute("SELECT query_nr, query FROM tpch_queries()").fetchall())
    finally:
        con.close()


def over_parquet(query: str, tpch_dir: Path) -> str:
    """Rewrite a TPC-H query to read the Parquet files: prepend one CTE per table."""
    ctes = ",\n".join(
        f"{t} AS (SELECT * FROM read_parquet('{tpch_dir / (t + '.parquet')}'))"
        for t in TPCH_TABLES
    )
    body = query.strip().rstrip(";").strip()
    # Q15 has a WITH clause of its own: join our CTEs onto it.
    if re.match(r"(?i)^with\s", body):
        return f"WITH {ctes},\n{body[4:].lstrip()}"
    return f"WITH {ctes}\n{body}"


QUERIES = tpch_queries()


def test_all_22_queries_present():
    assert sorted(QUERIES) == list(range(1, 23))


@pytest.fixture(scope="module")
def reference(data):
    """Reference answers from python duckdb over the same Parquet files."""
    con = local_duckdb()
    answers = {}
    try:
        for nr, query in QUERIES.items():
            answers[nr] = con.execute(over_parquet(query, data["tpch_dir"])).to_arrow_table()
    finally:
        con.close()
    return answers


@pytest.mark.parametrize("nr", sorted(QUERIES), ids=lambda n: f"q{n:02d}")
def test_tpch_query_matches_duckdb(conn, data, reference, nr):
    sql = over_parquet(QUERIES[nr], data["tpch_dir"])
    got = query_table(conn, sql)
    want = reference[nr]
    assert got.column_names == want.column_names
    assert want.num_rows > 0, f"q{nr}: empty reference answer, data generation is wrong"
    got_rows = [tuple(r.values()) for r in got.to_pylist()]
    want_rows = [tuple(r.values()) for r in want.to_pylist()]
    if re.search(r"(?i)\border\s+by\b", QUERIES[nr]):
        assert got_rows == want_rows
    else:
        assert sorted(got_rows, key=repr) == sorted(want_rows, key=repr)
    # Types must survive the trip as well as values.
    for g, w in zip(got.schema, want.schema):
        assert g.type == w.type, f"q{nr} column {g.name}: service {g.type}, duckdb {w.type}"
