//! How figures read in answers: exact pounds and pence, whole-number percentages.

use chrono::NaiveDate;
use expenzez_domain::Money;

/// `£1,234.56` (`-£5.00` for a negative amount).
pub fn money(m: Money) -> String {
    let minor = m.minor();
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let (pounds, pence) = (abs / 100, abs % 100);
    let digits = pounds.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}£{grouped}.{pence:02}")
}

/// `3 Dec 2026`.
pub fn date(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// `part` as a whole percentage of `whole`, rounded half away from zero; `None` when `whole` is zero.
pub fn percent(part: i64, whole: i64) -> Option<i64> {
    if whole == 0 {
        return None;
    }
    let (p, w) = (part as i128 * 100, whole as i128);
    let q = (2 * p + w.signum() * p.signum() * w.abs()) / (2 * w);
    Some(q as i64)
}

/// Change from `before` to `after` in whole percent of `before`.
pub fn change_percent(before: i64, after: i64) -> Option<i64> {
    percent(after - before, before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(money(Money::from_minor(123_456)), "£1,234.56");
        assert_eq!(money(Money::from_minor(5)), "£0.05");
        assert_eq!(money(Money::from_minor(-500)), "-£5.00");
        assert_eq!(money(Money::from_minor(100_000_000)), "£1,000,000.00");
        assert_eq!(date(NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()), "3 Dec 2026");
        assert_eq!(percent(1, 3), Some(33));
        assert_eq!(percent(2, 3), Some(67));
        assert_eq!(percent(-1, 2), Some(-50));
        assert_eq!(percent(1, 200), Some(1));
        assert_eq!(percent(1, 0), None);
        assert_eq!(change_percent(200, 150), Some(-25));
    }
}
