"""The 22 TPC-H queries at scale factor 0.01 through psycopg (text and binary results) return
DuckDB's reference answers.

The data and the query texts are the suite's (tests/python/test_tpch.py: Parquet files from
`CALL dbgen(sf = 0.01)`, each query prefixed with one CTE per table); the reference answer is
the same SQL run by python duckdb 1.5.5, the executor's engine version. Values must be equal
after the trip through the PostgreSQL wire format: exact for integers, decimals, strings and
dates, and for doubles too (they travel as shortest round-trip text, or as IEEE binary).
"""

from __future__ import annotations

import re

import pytest

from tavana_harness import local_duckdb
from test_tpch import QUERIES, over_parquet


@pytest.fixture(scope="module")
def reference(data):
    con = local_duckdb()
    answers = {}
    try:
        for nr, query in QUERIES.items():
            cur = con.execute(over_parquet(query, data["tpch_dir"]))
            answers[nr] = ([d[0] for d in cur.description], cur.fetchall())
    finally:
        con.close()
    return answers


@pytest.fixture(scope="module")
def conns(pg):
    import psycopg

    text = psycopg.connect(pg.dsn(), autocommit=True)
    binary = psycopg.connect(pg.dsn(), autocommit=True)
    try:
        yield {"text": text, "binary": binary}
    finally:
        text.close()
        binary.close()


@pytest.mark.parametrize("fmt", ["text", "binary"])
@pytest.mark.parametrize("nr", sorted(QUERIES), ids=lambda n: f"q{n:02d}")
def test_tpch_query_through_psycopg(conns, data, reference, nr, fmt):
    sql = over_parquet(QUERIES[nr], data["tpch_dir"])
    cur = conns[fmt].cursor(binary=(fmt == "binary"))
    cur.execute(sql)
    got_names = [d.name for d in cur.description]
    got = cur.fetchall()
    want_names, want = reference[nr]
    # An unaliased aggregate is named after its function, as PostgreSQL names it
    # (DuckDB says `sum(l_quantity)`, PostgreSQL and the adapter `sum`).
    assert got_names == [re.sub(r"^(\w+)\(.*\)$", r"\1", name) for name in want_names]
    assert want, f"q{nr}: empty reference answer"
    if re.search(r"(?i)\border\s+by\b", QUERIES[nr]):
        assert got == want
    else:
        assert sorted(got, key=repr) == sorted(want, key=repr)
