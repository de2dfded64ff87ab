"""Query Tavana from a PostgreSQL client: psycopg 3 through the pg-adapter.

    pip install "psycopg[binary]"
    TAVANA_PASSWORD=<printed by `tavana up`> python clients/python/postgres_psycopg.py

Settings (environment): TAVANA_PG_HOST (default 127.0.0.1), TAVANA_PG_PORT (default 15432),
TAVANA_USER (default tavana), TAVANA_PASSWORD, and TAVANA_SAMPLE, the folder holding the sample
trips_*.parquet (default ./tavana-data/sample, where `tavana up` writes them).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import psycopg


def main() -> None:
    sample = Path(os.environ.get("TAVANA_SAMPLE", "tavana-data/sample")).resolve()
    trips = f"read_parquet('{sample}/trips_*.parquet')"

    with psycopg.connect(
        host=os.environ.get("TAVANA_PG_HOST", "127.0.0.1"),
        port=int(os.environ.get("TAVANA_PG_PORT", "15432")),
        user=os.environ.get("TAVANA_USER", "tavana"),
        password=os.environ["TAVANA_PASSWORD"],
        dbname="tavana",
        autocommit=True,
    ) as conn:
        # 1. A query with parameters (%s placeholders; psycopg sends the values separately).
        rows = conn.execute(
            f"SELECT city, count(*) AS trips FROM {trips} WHERE distance_km >= %s "
            f"GROUP BY city ORDER BY trips DESC, city",
            [5],
        ).fetchall()
        print("trips of 5 km or more by city:")
        for city, n in rows:
            print(f"  {city:<12} {n:>6}")

        # 2. A list parameter: WHERE x = ANY(%s) with a Python list.
        n = conn.execute(
            f"SELECT count(*) FROM {trips} WHERE city = ANY(%s)", [["Berlin", "Paris"]]
        ).fetchone()[0]
        print(f"Berlin and Paris trips: {n}")

        # 3. A large result through a server-side cursor: rows arrive 2,000 at a time
        #    (DECLARE/FETCH), so the client never holds the whole result.
        with conn.transaction(), conn.cursor(name="all_trips") as cursor:
            cursor.itersize = 2000
            cursor.execute(f"SELECT trip_id, started_at, distance_km FROM {trips}")
            total = sum(1 for _ in cursor)
        print(f"read {total} rows through a server-side cursor")

        # 4. COPY ... TO STDOUT: the fastest way to CSV.
        buffer = io.BytesIO()
        with conn.cursor().copy(
            f"COPY (SELECT * FROM {trips} ORDER BY trip_id LIMIT 3) TO STDOUT (FORMAT csv, HEADER)"
        ) as copy:
            for chunk in copy:
                buffer.write(chunk)
        print("first rows as CSV:")
        print(buffer.getvalue().decode().rstrip())

        # 5. Errors carry PostgreSQL SQLSTATEs.
        try:
            conn.execute("SELECT * FROM no_such_table")
        except psycopg.errors.UndefinedTable as error:
            print(f"error, as expected: SQLSTATE {error.sqlstate}")


if __name__ == "__main__":
    main()
