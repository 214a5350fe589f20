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
    fn fixed_width_and_normalised() {
        let t = Timestamp::parse("2025-08-20T11:00:00+01:00").unwrap();
        assert_eq!(t.to_string(), "2025-08-20T10:00:00.000Z");
        let t = Timestamp::parse("2025-08-20T10:00:00.123456Z").unwrap();
        assert_eq!(t.to_string(), "2025-08-20T10:00:00.123Z");
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn year_month() {
        assert_eq!(YearMonth::parse("2025-08").unwrap().to_string(), "2025-08");
        assert!(YearMonth::parse("2025-13").is_none());
        assert!(YearMonth::parse("2025-8").is_none());
    }
}
