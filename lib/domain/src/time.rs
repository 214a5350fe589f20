//! Time. Every timestamp we store is UTC with a fixed width
//! (`2025-08-20T10:00:00.000Z`) so that string order is time order in keys.
//! Input with an offset (`+01:00`) or without milliseconds is normalised.

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an ISO-8601 timestamp: {0:?}")]
pub struct TimestampError(String);

/// A UTC instant, millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn from_datetime(dt: DateTime<Utc>) -> Self {
        // Truncate to milliseconds: what we store is what we compare.
        let ms = dt.timestamp_millis();
        Self(Utc.timestamp_millis_opt(ms).single().expect("millis in range"))
    }
    pub fn from_millis(ms: i64) -> Option<Self> {
        Utc.timestamp_millis_opt(ms).single().map(Self)
    }
    /// Parses RFC 3339 with any offset, normalising to UTC.
    pub fn parse(s: &str) -> Result<Self, TimestampError> {
        DateTime::parse_from_rfc3339(s.trim())
            .map(|d| Self::from_datetime(d.with_timezone(&Utc)))
            .map_err(|_| TimestampError(s.chars().take(64).collect()))
    }
    /// Midnight UTC at the start of a calendar day.
    pub fn start_of_day(d: NaiveDate) -> Self {
        Self(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("valid")))
    }
    /// The last millisecond of a calendar day (inclusive range ends).
    pub fn end_of_day(d: NaiveDate) -> Self {
        Self(Utc.from_utc_datetime(&d.and_hms_milli_opt(23, 59, 59, 999).expect("valid")))
    }
    pub fn datetime(&self) -> DateTime<Utc> {
        self.0
    }
    pub fn epoch_seconds(&self) -> i64 {
        self.0.timestamp()
    }
    pub fn millis(&self) -> i64 {
        self.0.timestamp_millis()
    }
    pub fn plus_seconds(&self, secs: i64) -> Self {
        Self(self.0 + chrono::Duration::seconds(secs))
    }
    /// The calendar month, `YYYY-MM`, used by monthly summaries.
    pub fn month(&self) -> YearMonth {
        YearMonth { year: self.0.year(), month: self.0.month() }
    }
    pub fn date(&self) -> NaiveDate {
        self.0.date_naive()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A calendar month (`YYYY-MM`), the period of a monthly summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    pub year: i32,
    pub month: u32,
}

impl YearMonth {
    pub fn parse(s: &str) -> Option<Self> {
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let year: i32 = y.parse().ok()?;
        let month: u32 = m.parse().ok()?;
        ((1..=12).contains(&month) && year >= 1970).then_some(Self { year, month })
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for YearMonth {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        YearMonth::parse(&s).ok_or_else(|| serde::de::Error::custom("expected YYYY-MM"))
    }
}

/// A calendar date as the app writes it: `YYYY-MM-DD`, or `MM/DD/YYYY` (its
/// date-of-birth field). The one date parser of the code base: every date in
/// a body or a query goes through it, so `1990-13-45` is refused everywhere.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let digits = |p: &str, n: std::ops::RangeInclusive<usize>| n.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    let (y, m, d) = if let [y, m, d] = s.split('-').collect::<Vec<_>>()[..] {
        (digits(y, 4..=4) && digits(m, 2..=2) && digits(d, 2..=2)).then_some((y, m, d))?
    } else if let [m, d, y] = s.split('/').collect::<Vec<_>>()[..] {
        (digits(y, 4..=4) && digits(m, 1..=2) && digits(d, 1..=2)).then_some((y, m, d))?
    } else {
        return None;
    };
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// A time of day as the app writes it: `HH:MM`, 24-hour, two digits each
/// (`07:30`, not `7:30` or `07:30:00`). The one clock-time parser (quiet hours
/// of notifications and of budget alerts).
pub fn parse_clock_time(s: &str) -> Option<chrono::NaiveTime> {
    let b = s.as_bytes();
    (b.len() == 5 && b[2] == b':' && b.iter().enumerate().all(|(i, c)| i == 2 || c.is_ascii_digit())).then_some(())?;
    chrono::NaiveTime::parse_from_str(s, "%H:%M").ok()
}

/// The youngest age an account holder may state.
pub const MIN_AGE_YEARS: u32 = 13;
/// The oldest age we believe.
pub const MAX_AGE_YEARS: u32 = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BirthdateError {
    #[error("must be a calendar date, MM/DD/YYYY or YYYY-MM-DD")]
    NotADate,
    #[error("must not be in the future")]
    Future,
    #[error("must be at least 13 years ago")]
    TooYoung,
    #[error("must be within the last 120 years")]
    TooOld,
}

/// A date of birth, checked against `today` (not in the future, at least
/// [`MIN_AGE_YEARS`] and at most [`MAX_AGE_YEARS`] ago). Stored as `YYYY-MM-DD`
/// ([`format_date`]), whichever form the app sent.
pub fn parse_birthdate(s: &str, today: NaiveDate) -> Result<NaiveDate, BirthdateError> {
    let d = parse_date(s).ok_or(BirthdateError::NotADate)?;
    if d > today {
        return Err(BirthdateError::Future);
    }
    let years_ago = |n: u32| today.checked_sub_months(chrono::Months::new(12 * n));
    if years_ago(MIN_AGE_YEARS).is_some_and(|limit| d > limit) {
        return Err(BirthdateError::TooYoung);
    }
    if years_ago(MAX_AGE_YEARS).is_some_and(|limit| d < limit) {
        return Err(BirthdateError::TooOld);
    }
    Ok(d)
}

/// The stored form of a calendar date: `YYYY-MM-DD`.
pub fn format_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Where "now" comes from, injectable so TTL and time logic can be tested.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_datetime(Utc::now())
    }
}

/// A clock that stands still until moved; for tests and deterministic demo data.
#[derive(Debug)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    pub fn new(at: Timestamp) -> Self {
        Self(AtomicI64::new(at.millis()))
    }
    pub fn advance_seconds(&self, secs: i64) {
        self.0.fetch_add(secs * 1000, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst)).expect("in range")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_are_hh_mm_24_hour() {
        assert_eq!(parse_clock_time("07:30"), chrono::NaiveTime::from_hms_opt(7, 30, 0));
        assert_eq!(parse_clock_time("23:59"), chrono::NaiveTime::from_hms_opt(23, 59, 0));
        for bad in ["7:30", "07:3", "24:00", "12:60", "07:30:00", " 7:30", "+7:30", "0730", "", "ab:cd"] {
            assert_eq!(parse_clock_time(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fixed_width_and_normalised() {
        let t = Timestamp::parse("2025-08-20T11:00:00+01:00").unwrap();
        assert_eq!(t.to_string(), "2025-08-20T10:00:00.000Z");
        let t = Timestamp::parse("2025-08-20T10:00:00.123456Z").unwrap();
        assert_eq!(t.to_string(), "2025-08-20T10:00:00.123Z");
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn one_date_parser_for_both_forms() {
        let d = NaiveDate::from_ymd_opt(1990, 4, 5).unwrap();
        assert_eq!(parse_date("1990-04-05"), Some(d));
        assert_eq!(parse_date("04/05/1990"), Some(d));
        assert_eq!(parse_date("4/5/1990"), Some(d));
        for bad in
            ["1990-13-45", "1990-02-30", "02/30/1990", "13/01/1990", "1990-4-5", "90-04-05", "1990/04/05", "", "x", "1990-04-05T00:00"]
        {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(parse_date("2024-02-29"), NaiveDate::from_ymd_opt(2024, 2, 29));
        assert_eq!(parse_date("2023-02-29"), None);
    }

    #[test]
    fn birthdates() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert_eq!(format_date(parse_birthdate("12/31/1990", today).unwrap()), "1990-12-31");
        assert_eq!(parse_birthdate("1990-13-45", today), Err(BirthdateError::NotADate));
        assert_eq!(parse_birthdate("2026-12-04", today), Err(BirthdateError::Future));
        assert_eq!(parse_birthdate("2013-12-04", today), Err(BirthdateError::TooYoung));
        assert!(parse_birthdate("2013-12-03", today).is_ok());
        assert_eq!(parse_birthdate("1900-01-01", today), Err(BirthdateError::TooOld));
    }

    #[test]
    fn year_month() {
        assert_eq!(YearMonth::parse("2025-08").unwrap().to_string(), "2025-08");
        assert!(YearMonth::parse("2025-13").is_none());
        assert!(YearMonth::parse("2025-8").is_none());
    }
}
