"""Query Tavana over Arrow Flight SQL with ADBC, the fastest way in: results arrive as Arrow
record batches, never converted row by row.

    pip install adbc-driver-flightsql pyarrow
    TAVANA_PASSWORD=<printed by `tavana up`> python clients/python/flight_sql_adbc.py

Settings (environment): TAVANA_FLIGHT_URI (default grpc://127.0.0.1:50051; grpc+tls://... for
TLS), TAVANA_USER (default tavana), TAVANA_PASSWORD, and TAVANA_SAMPLE, the folder holding the
sample trips_*.parquet (default ./tavana-data/sample, where `tavana up` writes them).
"""

from __future__ import annotations

import os
from pathlib import Path

import adbc_driver_flightsql.dbapi as flight_sql


def main() -> None:
    uri = os.environ.get("TAVANA_FLIGHT_URI", "grpc://127.0.0.1:50051")
    sample = Path(os.environ.get("TAVANA_SAMPLE", "tavana-data/sample")).resolve()
    trips = f"read_parquet('{sample}/trips_*.parquet')"

    with flight_sql.connect(
        uri,
        db_kwargs={
            "username": os.environ.get("TAVANA_USER", "tavana"),
            "password": os.environ["TAVANA_PASSWORD"],
        },
    ) as conn, conn.cursor() as cur:
        # 1. A query, fetched whole as a pyarrow.Table.
        cur.execute(
            f"SELECT city, count(*) AS trips, round(avg(distance_km), 2) AS avg_km "
            f"FROM {trips} GROUP BY city ORDER BY trips DESC, city"
        )
        by_city = cur.fetch_arrow_table()
        print("trips by city:")
        for row in by_city.to_pylist():
            print(f"  {row['city']:<12} {row['trips']:>6} trips, {row['avg_km']} km on average")

        # 2. Parameters: bound values, never pasted into the SQL text.
        cur.execute(f"SELECT count(*) FROM {trips} WHERE city = ? AND distance_km >= ?", ("Berlin", 5))
        print(f"Berlin trips of 5 km or more: {cur.fetchone()[0]}")

        # 3. A large result, streamed batch by batch: memory holds one batch at a time.
        cur.execute(f"SELECT * FROM {trips}")
        rows = batches = 0
        for batch in cur.fetch_record_batch():
            rows += batch.num_rows
            batches += 1
        print(f"streamed {rows} rows in {batches} record batches")

        # 4. Errors come back as exceptions with the server's message.
        try:
            cur.execute("SELECT * FROM no_such_table")
        except flight_sql.ProgrammingError as error:
            print(f"error, as expected: {str(error).splitlines()[0]}")


if __name__ == "__main__":
    main()
