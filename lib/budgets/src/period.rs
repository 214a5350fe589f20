//! Budget periods in the user's time zone. A UK budget month starts at local
//! midnight Europe/London on the 1st (00:00 BST is 23:00 UTC the day before),
//! so a period is a pair of UTC instants, not a calendar month of UTC.

use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Tz;
use expenzez_domain::time::YearMonth;
use expenzez_domain::Timestamp;

/// The time zone budgets are kept in (the app is UK-only).
pub const BUDGET_TZ: Tz = chrono_tz::Europe::London;

/// One monthly budget period: `[start, next_start)` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonthPeriod {
    /// The local calendar month.
    pub month: YearMonth,
    pub start: Timestamp,
    /// First instant of the next period (exclusive end).
    pub next_start: Timestamp,
}

/// Local midnight at the start of `d` (midnight always exists in London: its
/// clock changes happen at 01:00 UTC).
fn local_midnight(d: NaiveDate) -> Timestamp {
    let naive = d.and_hms_opt(0, 0, 0).expect("midnight is valid");
    let local = BUDGET_TZ.from_local_datetime(&naive).earliest().expect("London has a midnight every day");
    Timestamp::from_datetime(local.with_timezone(&chrono::Utc))
}

fn first_of(m: YearMonth) -> NaiveDate {
    NaiveDate::from_ymd_opt(m.year, m.month, 1).expect("valid month")
}

pub fn next_month(m: YearMonth) -> YearMonth {
    if m.month == 12 {
        YearMonth { year: m.year + 1, month: 1 }
    } else {
        YearMonth { year: m.year, month: m.month + 1 }
    }
}

pub fn previous_month(m: YearMonth) -> YearMonth {
    if m.month == 1 {
        YearMonth { year: m.year - 1, month: 12 }
    } else {
        YearMonth { year: m.year, month: m.month - 1 }
    }
}

impl MonthPeriod {
    pub fn of(month: YearMonth) -> Self {
        Self { month, start: local_midnight(first_of(month)), next_start: local_midnight(first_of(next_month(month))) }
    }

    /// The period an instant falls in.
    pub fn containing(t: Timestamp) -> Self {
        let local = t.datetime().with_timezone(&BUDGET_TZ);
        Self::of(YearMonth { year: local.year(), month: local.month() })
    }

    pub fn next(&self) -> Self {
        Self::of(next_month(self.month))
    }

    pub fn previous(&self) -> Self {
        Self::of(previous_month(self.month))
    }

    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.next_start
    }

    /// The last millisecond of the period (the seed's inclusive `endDate`).
    pub fn end(&self) -> Timestamp {
        Timestamp::from_millis(self.next_start.millis() - 1).expect("in range")
    }

    /// `YYYY-MM`, the history entry's and the alert id's period name.
    pub fn label(&self) -> String {
        self.month.to_string()
    }
}

/// One local day `[start, next_start)` (what "per day" means to the user).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayPeriod {
    pub start: Timestamp,
    pub next_start: Timestamp,
}

impl DayPeriod {
    pub fn containing(t: Timestamp) -> Self {
        let day = t.datetime().with_timezone(&BUDGET_TZ).date_naive();
        Self { start: local_midnight(day), next_start: local_midnight(day.succ_opt().expect("in range")) }
    }
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.next_start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn uk_months_start_at_local_midnight() {
        // Winter: GMT = UTC.
        let jan = MonthPeriod::of(YearMonth { year: 2026, month: 1 });
        assert_eq!(jan.start, ts("2026-01-01T00:00:00Z"));
        assert_eq!(jan.next_start, ts("2026-02-01T00:00:00Z"));
        // Summer: BST = UTC+1, so the month starts at 23:00 UTC the day before.
        let jul = MonthPeriod::of(YearMonth { year: 2026, month: 7 });
        assert_eq!(jul.start, ts("2026-06-30T23:00:00Z"));
        assert_eq!(jul.next_start, ts("2026-07-31T23:00:00Z"));
        // March starts in GMT and ends in BST (clocks change on 29 March 2026).
        let mar = MonthPeriod::of(YearMonth { year: 2026, month: 3 });
        assert_eq!(mar.start, ts("2026-03-01T00:00:00Z"));
        assert_eq!(mar.next_start, ts("2026-03-31T23:00:00Z"));
        assert_eq!(mar.end(), ts("2026-03-31T22:59:59.999Z"));
    }

    #[test]
    fn containing_uses_local_time() {
        // 23:30 UTC on 31 July is 00:30 BST on 1 August.
        assert_eq!(MonthPeriod::containing(ts("2026-07-31T23:30:00Z")).month, YearMonth { year: 2026, month: 8 });
        assert_eq!(MonthPeriod::containing(ts("2026-07-31T22:59:59.999Z")).month, YearMonth { year: 2026, month: 7 });
        // In winter the UTC and local months agree.
        assert_eq!(MonthPeriod::containing(ts("2026-12-31T23:30:00Z")).month, YearMonth { year: 2026, month: 12 });
        let p = MonthPeriod::containing(ts("2026-12-31T23:30:00Z"));
        assert_eq!(p.next().month, YearMonth { year: 2027, month: 1 });
        assert_eq!(p.next().previous(), p);
        assert!(p.contains(p.start) && !p.contains(p.next_start));
        // 23:30 UTC on 31 July is the local day of 1 August, which started at 23:00 UTC.
        let d = DayPeriod::containing(ts("2026-07-31T23:30:00Z"));
        assert_eq!((d.start, d.next_start), (ts("2026-07-31T23:00:00Z"), ts("2026-08-01T23:00:00Z")));
    }
}
