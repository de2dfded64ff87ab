//! The session's `TimeZone`: which UTC offset `timestamptz` values are shown in.
//!
//! DuckDB's bundled build has no ICU, so the engine computes in UTC and the adapter does what
//! PostgreSQL does on output: it shows each `timestamptz` in the session's zone with that
//! instant's offset (`2024-07-01 14:00:00+02` in Europe/Paris). Binary results stay UTC
//! microseconds, as in PostgreSQL. Input is not affected: a timestamptz literal without an
//! offset is read as UTC by the engine.
//!
//! Zones come from `jiff`: names from the system's IANA database (`/usr/share/zoneinfo`, the
//! `tzdata` package, as PostgreSQL's own build uses it), matched case-insensitively, and POSIX
//! zone strings. Like PostgreSQL, a number is an ISO offset in hours east (`SET TIME ZONE -7`)
//! and anything else that is not a zone name is read as a POSIX zone (`UTC+3` is three hours
//! *west*).

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// A time zone: the offset from UTC (seconds east) at any instant.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Zone {
    /// A constant offset (UTC itself is `Fixed(0)`).
    Fixed(i32),
    /// A zone whose offset changes: a tzdata zone or a POSIX rule.
    Named(TimeZone),
}

/// PostgreSQL's rule for a POSIX zone with daylight saving time but no rule of its own
/// (`CET-1CEST`): the US rules its `posixrules` file carries.
const DEFAULT_DST_RULE: &str = ",M3.2.0,M11.1.0";

impl Zone {
    pub(crate) const UTC: Zone = Zone::Fixed(0);

    /// Reads a `SET TimeZone` value; `None` when PostgreSQL would reject it.
    pub(crate) fn parse(value: &str) -> Option<Zone> {
        let v = value.trim().trim_matches('\'').trim();
        if v.is_empty() {
            return None;
        }
        if matches!(
            v.to_ascii_uppercase().as_str(),
            "UTC" | "GMT" | "Z" | "ZULU" | "UCT" | "ETC/UTC" | "ETC/GMT" | "UNIVERSAL"
        ) {
            return Some(Zone::UTC);
        }
        // A number: hours east of UTC (`-7`, `5.5`), as PostgreSQL reads it.
        let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
        if let Ok(hours) = compact.parse::<f64>() {
            if hours.abs() <= 15.0 {
                return Some(Zone::Fixed((hours * 3600.0).round() as i32));
            }
            return None;
        }
        let named = is_zone_name(v)
            .then(|| jiff::tz::db().get(v).ok())
            .flatten();
        let zone = match named {
            Some(zone) => zone,
            None => posix(v)?,
        };
        // A zone that never changes its offset is a fixed one: the fast path when encoding.
        let mut transitions = zone.following(Timestamp::MIN);
        Some(match transitions.next() {
            None => Zone::Fixed(zone.to_offset(Timestamp::UNIX_EPOCH).seconds()),
            Some(_) => Zone::Named(zone),
        })
    }

    /// Seconds east of UTC at the UTC instant `utc` (seconds since the Unix epoch).
    pub(crate) fn offset_at(&self, utc: i64) -> i32 {
        match self {
            Zone::Fixed(offset) => *offset,
            Zone::Named(zone) => {
                let at = Timestamp::from_second(utc).unwrap_or(if utc < 0 {
                    Timestamp::MIN
                } else {
                    Timestamp::MAX
                });
                zone.to_offset(at).seconds()
            }
        }
    }
}

/// Whether `value` can be a tzdata name: letters, digits and `/_+-`, not a path.
fn is_zone_name(value: &str) -> bool {
    !value.starts_with('/')
        && !value.contains("..")
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '+' | '-'))
}

/// A POSIX zone string as PostgreSQL reads one: the abbreviation may be left out (`+05:30`),
/// and daylight saving time without a rule follows US rules.
fn posix(value: &str) -> Option<TimeZone> {
    let named = if value.starts_with(['+', '-']) || value.starts_with(|c: char| c.is_ascii_digit())
    {
        format!("UTC{value}")
    } else {
        value.to_owned()
    };
    TimeZone::posix(&named)
        .or_else(|_| TimeZone::posix(&format!("{named}{DEFAULT_DST_RULE}")))
        .ok()
}

/// Appends an offset as PostgreSQL prints it: `+02`, `-03:30`, `-00:44:30`.
pub(crate) fn write_offset(out: &mut String, offset: i32) {
    use std::fmt::Write as _;
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.unsigned_abs();
    let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
    let _ = write!(out, "{sign}{h:02}");
    if m != 0 || s != 0 {
        let _ = write!(out, ":{m:02}");
    }
    if s != 0 {
        let _ = write!(out, ":{s:02}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    fn offset_text(zone: &Zone, utc: &str) -> String {
        let mut out = String::new();
        write_offset(&mut out, zone.offset_at(at(utc)));
        out
    }

    #[test]
    fn fixed_and_posix_zones_read_like_postgresql() {
        // Expected values from PostgreSQL 15 (`SET TIME ZONE ...; SELECT timestamptz ...`).
        for (value, want) in [
            ("UTC", "+00"),
            ("-7", "-07"),
            ("'-7'", "-07"),
            ("5.5", "+05:30"),
            ("UTC+3", "-03"),
            ("+05:30", "-05:30"),
            ("<+0530>-5:30", "+05:30"),
            ("CET-1CEST", "+02"),
            ("GMT+2", "-02"),
        ] {
            let zone = Zone::parse(value).unwrap_or_else(|| panic!("{value}"));
            assert_eq!(offset_text(&zone, "2024-07-01T12:00:00Z"), want, "{value}");
        }
        assert_eq!(Zone::parse("Nope/Zone"), None);
        assert_eq!(Zone::parse("../../etc/passwd"), None);
        assert_eq!(Zone::parse(""), None);
        let rule = Zone::parse("EST5EDT,M3.2.0,M11.1.0").unwrap();
        assert_eq!(offset_text(&rule, "2024-07-01T12:00:00Z"), "-04");
        assert_eq!(offset_text(&rule, "2024-12-01T12:00:00Z"), "-05");
        // 2024-03-10 02:00 EST = 07:00 UTC.
        assert_eq!(offset_text(&rule, "2024-03-10T06:59:59Z"), "-05");
        assert_eq!(offset_text(&rule, "2024-03-10T07:00:00Z"), "-04");
        // Southern hemisphere: DST across the new year.
        let sydney = Zone::parse("AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
        assert_eq!(offset_text(&sydney, "2024-01-15T00:00:00Z"), "+11");
        assert_eq!(offset_text(&sydney, "2024-07-15T00:00:00Z"), "+10");
    }

    #[test]
    fn iana_zones_from_tzdata() {
        if !std::path::Path::new("/usr/share/zoneinfo/Europe/Paris").is_file() {
            eprintln!("no tzdata in /usr/share/zoneinfo; skipped");
            return;
        }
        // Expected values from PostgreSQL 15 with the same tzdata.
        for (zone, utc, want) in [
            ("Europe/Paris", "2024-07-01T12:00:00Z", "+02"),
            ("Europe/Paris", "1960-01-01T00:00:00Z", "+01"),
            ("Europe/Paris", "2050-12-01T12:00:00Z", "+01"),
            ("europe/paris", "2050-07-01T12:00:00Z", "+02"),
            ("America/St_Johns", "2024-07-01T12:00:00Z", "-02:30"),
            ("America/St_Johns", "2050-12-01T12:00:00Z", "-03:30"),
            ("Asia/Kolkata", "2024-07-01T12:00:00Z", "+05:30"),
            ("Africa/Monrovia", "1960-01-01T00:00:00Z", "-00:44:30"),
            ("Africa/Monrovia", "2024-07-01T12:00:00Z", "+00"),
            ("EST5EDT", "2024-07-01T12:00:00Z", "-04"),
        ] {
            let z = Zone::parse(zone).unwrap_or_else(|| panic!("{zone}"));
            assert_eq!(offset_text(&z, utc), want, "{zone} at {utc}");
        }
    }
}
