//! The session's `TimeZone`: which UTC offset `timestamptz` values are shown in.
//!
//! DuckDB's bundled build has no ICU, so the engine computes in UTC and the adapter does what
//! PostgreSQL does on output: it shows each `timestamptz` in the session's zone with that
//! instant's offset (`2024-07-01 14:00:00+02` in Europe/Paris). Binary results stay UTC
//! microseconds, as in PostgreSQL. Input is not affected: a timestamptz literal without an
//! offset is read as UTC by the engine.
//!
//! Zones are read from the system's IANA database (`/usr/share/zoneinfo`, the `tzdata`
//! package; TZif files, RFC 8536), with the POSIX rule at the end of each file for instants
//! past its last transition. Like PostgreSQL, a number is an ISO offset in hours east
//! (`SET TIME ZONE -7`) and anything else that is not a zone name is read as a POSIX zone
//! (`UTC+3` is three hours *west*). Parsed zones are cached for the life of the process.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Where the IANA time zone database lives.
const ZONEINFO_DIR: &str = "/usr/share/zoneinfo";

/// A time zone: the offset from UTC (seconds east) at any instant.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Zone {
    /// A constant offset (UTC itself is `Fixed(0)`).
    Fixed(i32),
    /// A zone with a history of offsets (tzdata), then a rule.
    Tzif(Arc<Tzif>),
    /// A POSIX zone string's rule alone.
    Posix(Arc<PosixTz>),
}

impl Zone {
    pub(crate) const UTC: Zone = Zone::Fixed(0);

    /// Reads a `SET TimeZone` value; `None` when PostgreSQL would reject it.
    pub(crate) fn parse(value: &str) -> Option<Zone> {
        Self::parse_in(value, Path::new(ZONEINFO_DIR))
    }

    fn parse_in(value: &str, dir: &Path) -> Option<Zone> {
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
        if let Some(tz) = load_tzif(v, dir) {
            return Some(Zone::Tzif(tz));
        }
        let posix = PosixTz::parse(v)?;
        Some(match posix.dst {
            None => Zone::Fixed(posix.std_offset),
            Some(_) => Zone::Posix(Arc::new(posix)),
        })
    }

    /// Seconds east of UTC at the UTC instant `utc` (seconds since the Unix epoch).
    pub(crate) fn offset_at(&self, utc: i64) -> i32 {
        match self {
            Zone::Fixed(offset) => *offset,
            Zone::Tzif(tz) => tz.offset_at(utc),
            Zone::Posix(rule) => rule.offset_at(utc),
        }
    }
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

/// A parsed TZif file: transitions and the rule after the last one.
#[derive(Debug, PartialEq)]
pub(crate) struct Tzif {
    /// Transition instants (UTC seconds), ascending, and the offset from each on.
    transitions: Vec<(i64, i32)>,
    /// The offset before the first transition.
    initial: i32,
    /// The footer's POSIX rule, for instants after the last transition.
    rule: Option<PosixTz>,
}

impl Tzif {
    fn offset_at(&self, utc: i64) -> i32 {
        match self.transitions.partition_point(|(at, _)| *at <= utc) {
            0 => self.initial,
            n if n == self.transitions.len() => match &self.rule {
                Some(rule) => rule.offset_at(utc),
                None => self.transitions[n - 1].1,
            },
            n => self.transitions[n - 1].1,
        }
    }

    /// Parses a TZif file (version 1 data is skipped when a 64-bit block follows).
    fn parse(data: &[u8]) -> Option<Tzif> {
        let header = |at: usize| -> Option<(u8, [usize; 6])> {
            if data.get(at..at + 4)? != b"TZif" {
                return None;
            }
            let version = *data.get(at + 4)?;
            let mut counts = [0usize; 6];
            for (i, c) in counts.iter_mut().enumerate() {
                let b = data.get(at + 20 + 4 * i..at + 24 + 4 * i)?;
                *c = u32::from_be_bytes(b.try_into().ok()?) as usize;
            }
            Some((version, counts))
        };
        let (version, counts) = header(0)?;
        let block_len = |c: &[usize; 6], time: usize| {
            let [isut, isstd, leap, timecnt, typecnt, charcnt] = *c;
            timecnt * time + timecnt + typecnt * 6 + charcnt + leap * (time + 4) + isstd + isut
        };
        let (at, counts, time_size) = if version >= b'2' {
            let second = 44 + block_len(&counts, 4);
            let (_, c2) = header(second)?;
            (second + 44, c2, 8)
        } else {
            (44, counts, 4)
        };
        let [_, _, _, timecnt, typecnt, _] = counts;
        let times_at = at;
        let idx_at = times_at + timecnt * time_size;
        let types_at = idx_at + timecnt;
        let read_time = |i: usize| -> Option<i64> {
            let b = data.get(times_at + i * time_size..times_at + (i + 1) * time_size)?;
            Some(if time_size == 8 {
                i64::from_be_bytes(b.try_into().ok()?)
            } else {
                i64::from(i32::from_be_bytes(b.try_into().ok()?))
            })
        };
        let type_offset = |t: usize| -> Option<(i32, bool)> {
            let b = data.get(types_at + t * 6..types_at + t * 6 + 6)?;
            Some((i32::from_be_bytes(b[0..4].try_into().ok()?), b[4] != 0))
        };
        if typecnt == 0 {
            return None;
        }
        let mut transitions = Vec::with_capacity(timecnt);
        for i in 0..timecnt {
            let t = *data.get(idx_at + i)? as usize;
            transitions.push((read_time(i)?, type_offset(t)?.0));
        }
        // Before the first transition: the first standard-time type (RFC 8536, 3.2).
        let initial = (0..typecnt)
            .filter_map(type_offset)
            .find(|(_, dst)| !dst)
            .or_else(|| type_offset(0))?
            .0;
        let rule = if version >= b'2' {
            let end = at + block_len(&counts, time_size);
            let footer = std::str::from_utf8(data.get(end..)?).ok()?;
            let footer = footer.trim_matches('\n');
            if footer.is_empty() {
                None
            } else {
                PosixTz::parse(footer)
            }
        } else {
            None
        };
        Some(Tzif {
            transitions,
            initial,
            rule,
        })
    }
}

fn load_tzif(name: &str, dir: &Path) -> Option<Arc<Tzif>> {
    // Zone names only: letters, digits and `/_+-`, no `..` (never a path outside `dir`).
    if name.starts_with('/')
        || name.contains("..")
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '+' | '-'))
    {
        return None;
    }
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Option<Arc<Tzif>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let path = find_case_insensitive(dir, name)?;
    let mut cache = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    cache
        .entry(path.clone())
        .or_insert_with(|| {
            let data = std::fs::read(&path).ok()?;
            Tzif::parse(&data).map(Arc::new)
        })
        .clone()
}

/// `dir/name`, matching each component case-insensitively as PostgreSQL does.
fn find_case_insensitive(dir: &Path, name: &str) -> Option<PathBuf> {
    let exact = dir.join(name);
    if exact.is_file() {
        return Some(exact);
    }
    let mut path = dir.to_path_buf();
    for part in name.split('/') {
        let entry = std::fs::read_dir(&path)
            .ok()?
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().eq_ignore_ascii_case(part))?;
        path = entry.path();
    }
    path.is_file().then_some(path)
}

/// A POSIX TZ rule (`CET-1CEST,M3.5.0,M10.5.0/3`): standard offset and optional DST.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PosixTz {
    /// Seconds east of UTC in standard time.
    std_offset: i32,
    dst: Option<Dst>,
}

#[derive(Debug, Clone, PartialEq)]
struct Dst {
    offset: i32,
    start: (Date, i32),
    end: (Date, i32),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Date {
    /// `Mm.w.d`: day `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
    MonthWeekDay(u32, u32, u32),
    /// `Jn`: day 1..=365, February 29 never counted.
    Julian1(u32),
    /// `n`: day 0..=365, leap days counted.
    Julian0(u32),
}

impl PosixTz {
    fn parse(s: &str) -> Option<PosixTz> {
        let mut p = Parser {
            s: s.as_bytes(),
            i: 0,
        };
        p.name();
        // The standard offset is mandatory (POSIX offsets count hours west).
        let std_offset = -p.offset()?;
        if p.done() {
            return Some(PosixTz {
                std_offset,
                dst: None,
            });
        }
        if !p.name() {
            return None;
        }
        let offset = if p.peek().is_some_and(|c| c != b',') {
            -p.offset()?
        } else {
            std_offset + 3600
        };
        // Without rules PostgreSQL applies US rules; tzdata footers always carry them.
        let (start, end) = if p.done() {
            (
                (Date::MonthWeekDay(3, 2, 0), 7200),
                (Date::MonthWeekDay(11, 1, 0), 7200),
            )
        } else {
            p.expect(b',')?;
            let start = p.rule()?;
            p.expect(b',')?;
            let end = p.rule()?;
            (start, end)
        };
        p.done().then_some(PosixTz {
            std_offset,
            dst: Some(Dst { offset, start, end }),
        })
    }

    fn offset_at(&self, utc: i64) -> i32 {
        let Some(dst) = &self.dst else {
            return self.std_offset;
        };
        let year = year_of(utc + i64::from(self.std_offset));
        // Transition times are local: the start in standard time, the end in DST.
        let start = transition_utc(year, dst.start, self.std_offset);
        let end = transition_utc(year, dst.end, dst.offset);
        let in_dst = if start < end {
            start <= utc && utc < end
        } else {
            !(end <= utc && utc < start)
        };
        if in_dst {
            dst.offset
        } else {
            self.std_offset
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn done(&self) -> bool {
        self.i >= self.s.len()
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// A zone abbreviation, `ABC` or `<+0530>`; may be empty (PostgreSQL accepts `+05:30`).
    fn name(&mut self) -> bool {
        if self.peek() == Some(b'<') {
            while let Some(c) = self.peek() {
                self.i += 1;
                if c == b'>' {
                    return true;
                }
            }
            return false;
        }
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.i += 1;
        }
        self.i > start
    }

    fn number(&mut self) -> Option<i32> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    /// `[+-]hh[:mm[:ss]]` in seconds.
    fn offset(&mut self) -> Option<i32> {
        let sign = match self.peek()? {
            b'-' => {
                self.i += 1;
                -1
            }
            b'+' => {
                self.i += 1;
                1
            }
            _ => 1,
        };
        let mut secs = self.number()? * 3600;
        if self.peek() == Some(b':') {
            self.i += 1;
            secs += self.number()? * 60;
            if self.peek() == Some(b':') {
                self.i += 1;
                secs += self.number()?;
            }
        }
        Some(sign * secs)
    }

    /// `Mm.w.d[/time]`, `Jn[/time]` or `n[/time]`.
    fn rule(&mut self) -> Option<(Date, i32)> {
        let date = match self.peek()? {
            b'M' => {
                self.i += 1;
                let m = self.number()?;
                self.expect(b'.')?;
                let w = self.number()?;
                self.expect(b'.')?;
                let d = self.number()?;
                if !(1..=12).contains(&m) || !(1..=5).contains(&w) || !(0..=6).contains(&d) {
                    return None;
                }
                Date::MonthWeekDay(m as u32, w as u32, d as u32)
            }
            b'J' => {
                self.i += 1;
                Date::Julian1(self.number()? as u32)
            }
            _ => Date::Julian0(self.number()? as u32),
        };
        let time = if self.peek() == Some(b'/') {
            self.i += 1;
            self.offset()?
        } else {
            7200
        };
        Some((date, time))
    }
}

fn year_of(secs: i64) -> i32 {
    use chrono::Datelike;
    chrono::DateTime::from_timestamp(secs, 0).map_or(1970, |d| d.year())
}

/// The UTC instant of a rule's local transition `time` on `date` in `year`.
fn transition_utc(year: i32, (date, time): (Date, i32), offset: i32) -> i64 {
    use chrono::{Datelike, NaiveDate};
    let day = match date {
        Date::MonthWeekDay(m, w, d) => {
            let first = NaiveDate::from_ymd_opt(year, m, 1).unwrap_or_default();
            let to_weekday = (d + 7 - first.weekday().num_days_from_sunday()) % 7;
            let mut day = first + chrono::Days::new(u64::from(to_weekday + (w - 1) * 7));
            while day.month() != m {
                day = day - chrono::Days::new(7);
            }
            day
        }
        Date::Julian1(n) => {
            let jan1 = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
            let leap = NaiveDate::from_ymd_opt(year, 2, 29).is_some();
            let skip = u64::from(n.saturating_sub(1)) + u64::from(leap && n >= 60);
            jan1 + chrono::Days::new(skip)
        }
        Date::Julian0(n) => {
            NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default()
                + chrono::Days::new(u64::from(n))
        }
    };
    let midnight = day
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .timestamp();
    midnight + i64::from(time) - i64::from(offset)
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
        if !Path::new(ZONEINFO_DIR).join("Europe/Paris").is_file() {
            eprintln!("no tzdata at {ZONEINFO_DIR}; skipped");
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
