//! The shared field validators of request bodies: each checks one field,
//! pushes a [`FieldError`] naming it when the value is refused (so a handler
//! answers every bad field at once, 422), and returns the normalised value.
//! Parsers of values (dates, times of day, money) live in `expenzez_domain`;
//! these wrap them with the field name and the message the app shows.

use crate::error::FieldError;
use expenzez_domain::{time, Timestamp};

/// Free text: trimmed, at most `max` characters, no control characters;
/// `required` refuses an empty one.
pub fn check_text(errors: &mut Vec<FieldError>, field: &str, v: &str, max: usize, required: bool) -> String {
    let t = v.trim();
    if required && t.is_empty() {
        errors.push(FieldError::new(field, "is required"));
    } else if t.chars().count() > max {
        errors.push(FieldError::new(field, format!("must be at most {max} characters")));
    } else if t.chars().any(char::is_control) {
        errors.push(FieldError::new(field, "contains control characters"));
    }
    t.to_string()
}

/// Optional free text ([`check_text`]); absent or blank is `None`.
pub fn check_optional_text(errors: &mut Vec<FieldError>, field: &str, v: Option<&str>, max: usize) -> Option<String> {
    v.map(|s| check_text(errors, field, s, max, false)).filter(|s| !s.is_empty())
}

/// A transaction's date: a calendar date (either of the app's forms, noon UTC
/// that day) or a full timestamp, from 2000 to a year after `now`.
pub fn check_date(errors: &mut Vec<FieldError>, field: &str, s: &str, now: Timestamp) -> Option<Timestamp> {
    let t = match time::parse_date(s) {
        Some(d) => Some(Timestamp::start_of_day(d).plus_seconds(12 * 3600)),
        None => Timestamp::parse(s).ok(),
    };
    match t {
        Some(t) if t.date().to_string().as_str() >= "2000-01-01" && t <= now.plus_seconds(366 * 86_400) => Some(t),
        _ => {
            errors.push(FieldError::new(field, "must be an ISO-8601 date (YYYY-MM-DD) or timestamp between 2000 and a year from now"));
            None
        }
    }
}

/// A time of day, `HH:MM` 24-hour ([`time::parse_clock_time`]).
pub fn check_clock_time(errors: &mut Vec<FieldError>, field: &str, s: &str) -> Option<chrono::NaiveTime> {
    let t = time::parse_clock_time(s);
    if t.is_none() {
        errors.push(FieldError::new(field, "must be a time of day, HH:MM (24-hour)"));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: &[FieldError]) -> Vec<String> {
        errors.iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn text_is_trimmed_bounded_and_printable() {
        let mut e = Vec::new();
        assert_eq!(check_text(&mut e, "a", "  Tesco  ", 10, true), "Tesco");
        assert!(e.is_empty());
        check_text(&mut e, "b", "   ", 10, true);
        check_text(&mut e, "c", "12345678901", 10, false);
        check_text(&mut e, "d", "bell\u{7}", 10, false);
        assert_eq!(fields(&e), ["b", "c", "d"]);
        let mut e = Vec::new();
        assert_eq!(check_optional_text(&mut e, "x", Some("  "), 5), None);
        assert_eq!(check_optional_text(&mut e, "x", None, 5), None);
        assert_eq!(check_optional_text(&mut e, "x", Some(" ok "), 5).as_deref(), Some("ok"));
        assert!(e.is_empty());
    }

    #[test]
    fn dates_are_calendar_dates_in_range() {
        let now = Timestamp::parse("2025-08-20T10:00:00Z").unwrap();
        let mut e = Vec::new();
        assert_eq!(check_date(&mut e, "date", "2025-08-01", now), Timestamp::parse("2025-08-01T12:00:00Z").ok());
        assert!(e.is_empty());
        for bad in ["1990-13-45", "1999-12-31", "2027-01-01", "yesterday"] {
            assert_eq!(check_date(&mut e, "date", bad, now), None, "{bad}");
        }
        assert_eq!(e.len(), 4);
    }

    #[test]
    fn clock_times_name_their_field() {
        let mut e = Vec::new();
        assert!(check_clock_time(&mut e, "quietHoursStart", "22:00").is_some());
        assert!(check_clock_time(&mut e, "quietHoursEnd", "7:00").is_none());
        assert_eq!(fields(&e), ["quietHoursEnd"]);
    }
}
