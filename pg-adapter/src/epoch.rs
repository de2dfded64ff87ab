//! Dates and timestamps between Arrow's epoch (1970-01-01) and PostgreSQL's binary format
//! (counted from 2000-01-01), infinities included.
//!
//! DuckDB marks `infinity` with the largest value of the type and `-infinity` with its
//! negation; PostgreSQL with the largest and the smallest. Other values move by the epoch
//! offset, saturating rather than wrapping at the ends of the range.

/// Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01).
const OFFSET_MICROS: i64 = 946_684_800_000_000;
/// Days between 1970-01-01 and 2000-01-01.
pub(crate) const OFFSET_DAYS: i32 = 10_957;

/// A day counted from 1970-01-01 as PostgreSQL's binary `date`.
pub(crate) fn pg_days(unix_days: i32) -> i32 {
    match unix_days {
        i32::MAX => i32::MAX,
        d if d <= -i32::MAX => i32::MIN,
        d => d.saturating_sub(OFFSET_DAYS),
    }
}

/// PostgreSQL's binary `date` as a day counted from 1970-01-01.
pub(crate) fn unix_days(pg_days: i32) -> i32 {
    match pg_days {
        i32::MAX => i32::MAX,
        i32::MIN => -i32::MAX,
        d => d.saturating_add(OFFSET_DAYS),
    }
}

/// Microseconds from 1970-01-01 as PostgreSQL's binary `timestamp` / `timestamptz`.
pub(crate) fn pg_micros(unix_micros: i64) -> i64 {
    match unix_micros {
        i64::MAX => i64::MAX,
        us if us <= -i64::MAX => i64::MIN,
        us => us.saturating_sub(OFFSET_MICROS),
    }
}

/// PostgreSQL's binary `timestamp` / `timestamptz` as microseconds from 1970-01-01.
pub(crate) fn unix_micros(pg_micros: i64) -> i64 {
    match pg_micros {
        i64::MAX => i64::MAX,
        i64::MIN => -i64::MAX,
        us => us.saturating_add(OFFSET_MICROS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_and_infinities() {
        assert_eq!(pg_days(OFFSET_DAYS), 0);
        assert_eq!(pg_days(0), -OFFSET_DAYS);
        assert_eq!(pg_days(i32::MAX), i32::MAX);
        assert_eq!(pg_days(-i32::MAX), i32::MIN);
        assert_eq!(pg_micros(OFFSET_MICROS), 0);
        assert_eq!(pg_micros(i64::MAX), i64::MAX);
        assert_eq!(pg_micros(-i64::MAX), i64::MIN);
        for days in [0, 1, -1, 20_000, -700_000, i32::MAX, -i32::MAX] {
            assert_eq!(unix_days(pg_days(days)), days);
        }
        for us in [0, 1, -1, 1_700_000_000_000_000, i64::MAX, -i64::MAX] {
            assert_eq!(unix_micros(pg_micros(us)), us);
        }
    }
}
