"""timestamptz output honours the session's TimeZone, as in PostgreSQL (expected texts were
produced by PostgreSQL 15 with the same tzdata); binary output stays UTC microseconds."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest

INSTANTS = "SELECT TIMESTAMPTZ '2024-07-01 12:00:00+00' AS summer, TIMESTAMPTZ '2050-12-01 12:00:00+00' AS later, TIMESTAMPTZ '1970-01-01 00:00:00.123+00' AS epoch"


@pytest.mark.parametrize(
    "zone, want",
    [
        ("Europe/Paris", ["2024-07-01 14:00:00+02", "2050-12-01 13:00:00+01", "1970-01-01 01:00:00.123+01"]),
        ("America/St_Johns", ["2024-07-01 09:30:00-02:30", "2050-12-01 08:30:00-03:30", "1969-12-31 20:30:00.123-03:30"]),
        ("Asia/Kolkata", ["2024-07-01 17:30:00+05:30", "2050-12-01 17:30:00+05:30", "1970-01-01 05:30:00.123+05:30"]),
        ("-7", ["2024-07-01 05:00:00-07", "2050-12-01 05:00:00-07", "1969-12-31 17:00:00.123-07"]),
        ("UTC+3", ["2024-07-01 09:00:00-03", "2050-12-01 09:00:00-03", "1969-12-31 21:00:00.123-03"]),
        ("UTC", ["2024-07-01 12:00:00+00", "2050-12-01 12:00:00+00", "1970-01-01 00:00:00.123+00"]),
        # Half-hour daylight saving time; a name in another case.
        ("Australia/Lord_Howe", ["2024-07-01 22:30:00+10:30", "2050-12-01 23:00:00+11", "1970-01-01 10:00:00.123+10"]),
        ("america/new_york", ["2024-07-01 08:00:00-04", "2050-12-01 07:00:00-05", "1969-12-31 19:00:00.123-05"]),
        # POSIX zones: daylight saving time without a rule follows US rules; a quoted name.
        ("CET-1CEST", ["2024-07-01 14:00:00+02", "2050-12-01 13:00:00+01", "1970-01-01 01:00:00.123+01"]),
        ("<+0530>-5:30", ["2024-07-01 17:30:00+05:30", "2050-12-01 17:30:00+05:30", "1970-01-01 05:30:00.123+05:30"]),
    ],
)
def test_psql_shows_timestamptz_in_the_session_zone(pg, zone, want):
    out = subprocess.run(
        ["psql", "-X", "-At", "-F", "|", "-v", "ON_ERROR_STOP=1", "-c", f"SET TIME ZONE '{zone}'", "-c", INSTANTS],
        env=pg.env(), capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1].split("|") == want


def test_psycopg_text_and_binary_agree_on_the_instant(pg):
    import psycopg

    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute("SET TimeZone = 'Europe/Paris'")
        assert conn.info.parameter_status("TimeZone") == "Europe/Paris"
        assert conn.execute("SHOW TimeZone").fetchone() == ("Europe/Paris",)
        (text,) = conn.execute("SELECT TIMESTAMPTZ '2024-07-01 12:00:00+00'").fetchone()
        assert text.utcoffset() == dt.timedelta(hours=2)
        (binary,) = conn.cursor(binary=True).execute("SELECT TIMESTAMPTZ '2024-07-01 12:00:00+00'").fetchone()
        utc = dt.datetime(2024, 7, 1, 12, tzinfo=dt.timezone.utc)
        assert text == utc and binary == utc
        # Arrays and COPY text follow the zone too.
        (arr,) = conn.execute("SELECT [TIMESTAMPTZ '2024-01-01 00:00:00+00']").fetchone()
        assert arr[0].utcoffset() == dt.timedelta(hours=1)
        with conn.cursor().copy("COPY (SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' AS t) TO STDOUT") as copy:
            data = b"".join(bytes(b) for b in copy)
        assert data == b"2024-01-01 01:00:00+01\n"
        conn.execute("RESET TimeZone")
        (text,) = conn.execute("SELECT TIMESTAMPTZ '2024-07-01 12:00:00+00'").fetchone()
        assert text.utcoffset() == dt.timedelta(0)


def test_unknown_zone_is_refused(pg):
    import psycopg

    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        with pytest.raises(psycopg.Error) as err:
            conn.execute("SET TimeZone = 'Nope/Zone'")
        assert err.value.sqlstate == "22023"
        assert 'invalid value for parameter "TimeZone": "Nope/Zone"' in str(err.value)
        assert conn.execute("SHOW TimeZone").fetchone() == ("UTC",)


@pytest.mark.parametrize(
    "text, want_utc",
    [
        # No offset: local time in the session zone (Paris is +02 in July, +01 in January).
        ("2024-07-01 14:00:00", dt.datetime(2024, 7, 1, 12, 0, tzinfo=dt.timezone.utc)),
        ("2024-01-15 10:30:00.25", dt.datetime(2024, 1, 15, 9, 30, 0, 250000, tzinfo=dt.timezone.utc)),
        # An explicit offset wins.
        ("2024-07-01 14:00:00+00", dt.datetime(2024, 7, 1, 14, 0, tzinfo=dt.timezone.utc)),
    ],
)
def test_timestamptz_parameter_without_offset_is_session_local(pg, text, want_utc):
    import psycopg

    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute("SET TimeZone = 'Europe/Paris'")
        # A text parameter of unknown type, typed timestamptz by the statement.
        got = conn.execute("SELECT %s::TIMESTAMPTZ AS t", (text,), binary=True).fetchone()[0]
        assert got == want_utc


def test_time_zone_functions_through_psql(pg):
    """ICU's functions reach PostgreSQL clients too; they compute in UTC, the engine's zone."""
    out = subprocess.run(
        ["psql", "-X", "-At", "-F", "|", "-v", "ON_ERROR_STOP=1", "-c",
         "SELECT TIMESTAMPTZ '2024-07-01 12:00:00+00' AT TIME ZONE 'America/New_York', "
         "date_trunc('month', TIMESTAMPTZ '2024-02-29 23:30:00-05')"],
        env=pg.env(), capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().split("|") == ["2024-07-01 08:00:00", "2024-03-01 00:00:00+00"]
