//! Budget periods in the user's time zone. A UK budget month starts at local
//! midnight Europe/London on the 1st (00:00 BST is 23:00 UTC the day before),
//! and a week at local midnight on Monday, so a period is a pair of UTC
//! instants, not a calendar month or week of UTC.

use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Tz;
use expenzez_domain::entities::PeriodType;
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

/// One weekly period: Monday 00:00 local to the next Monday, `[start, next_start)` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WeekPeriod {
    /// The local date of its Monday.
    pub monday: NaiveDate,
    pub start: Timestamp,
    pub next_start: Timestamp,
}

impl WeekPeriod {
    pub fn of(monday: NaiveDate) -> Self {
        let next = monday + chrono::Days::new(7);
        Self { monday, start: local_midnight(monday), next_start: local_midnight(next) }
    }
    pub fn containing(t: Timestamp) -> Self {
        let day = t.datetime().with_timezone(&BUDGET_TZ).date_naive();
        Self::of(day - chrono::Days::new(day.weekday().num_days_from_monday() as u64))
    }
    pub fn next(&self) -> Self {
        Self::of(self.monday + chrono::Days::new(7))
    }
    /// `YYYY-Www`, the ISO week of its Monday.
    pub fn label(&self) -> String {
        let w = self.monday.iso_week();
        format!("{}-W{:02}", w.year(), w.week())
    }
}

/// A budget's period: a local month or a local week (the two lengths the
/// routes create; the seed's other kinds are kept as months).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    Month(MonthPeriod),
    Week(WeekPeriod),
}

impl From<MonthPeriod> for Period {
    fn from(m: MonthPeriod) -> Self {
        Period::Month(m)
    }
}

impl Period {
    /// The period of `kind` an instant falls in.
    pub fn containing(kind: PeriodType, t: Timestamp) -> Self {
        match kind {
            PeriodType::Weekly => Period::Week(WeekPeriod::containing(t)),
            _ => Period::Month(MonthPeriod::containing(t)),
        }
    }
    /// The kind of period a budget of `kind` runs in.
    pub fn kind_of(kind: PeriodType) -> PeriodType {
        match kind {
            PeriodType::Weekly => PeriodType::Weekly,
            _ => PeriodType::Monthly,
        }
    }
    pub fn kind(&self) -> PeriodType {
        match self {
            Period::Month(_) => PeriodType::Monthly,
            Period::Week(_) => PeriodType::Weekly,
        }
    }
    pub fn start(&self) -> Timestamp {
        match self {
            Period::Month(m) => m.start,
            Period::Week(w) => w.start,
        }
    }
    pub fn next_start(&self) -> Timestamp {
        match self {
            Period::Month(m) => m.next_start,
            Period::Week(w) => w.next_start,
        }
    }
    pub fn next(&self) -> Self {
        match self {
            Period::Month(m) => Period::Month(m.next()),
            Period::Week(w) => Period::Week(w.next()),
        }
    }
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start() <= t && t < self.next_start()
    }
    /// The last millisecond of the period (the seed's inclusive `endDate`).
    pub fn end(&self) -> Timestamp {
        Timestamp::from_millis(self.next_start().millis() - 1).expect("in range")
    }
    /// `YYYY-MM` or `YYYY-Www`: the history entry's and the alert id's period name.
    pub fn label(&self) -> String {
        match self {
            Period::Month(m) => m.label(),
            Period::Week(w) => w.label(),
        }
    }
    /// "month" or "week", for messages.
    pub fn noun(&self) -> &'static str {
        match self {
            Period::Month(_) => "month",
            Period::Week(_) => "week",
        }
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

    #[test]
    fn uk_weeks_start_at_local_midnight_on_monday() {
        // Monday 13 July 2026 starts at 23:00 UTC on Sunday 12 July (BST).
        let w = WeekPeriod::containing(ts("2026-07-15T12:00:00Z"));
        assert_eq!((w.start, w.next_start), (ts("2026-07-12T23:00:00Z"), ts("2026-07-19T23:00:00Z")));
        assert_eq!(w.label(), "2026-W29");
        assert_eq!(WeekPeriod::containing(ts("2026-07-12T23:30:00Z")), w, "00:30 BST on Monday");
        assert_eq!(WeekPeriod::containing(ts("2026-07-12T22:30:00Z")).next(), w, "23:30 BST on Sunday");
        // The week the clocks go back (Sunday 25 October 2026) is 169 hours long.
        let autumn = WeekPeriod::containing(ts("2026-10-21T12:00:00Z"));
        assert_eq!((autumn.start, autumn.next_start), (ts("2026-10-18T23:00:00Z"), ts("2026-10-26T00:00:00Z")));
        // In winter a week is UTC's; ISO years: 28 December 2026 is in 2026-W53.
        let p = Period::containing(PeriodType::Weekly, ts("2026-12-30T12:00:00Z"));
        assert_eq!(p.start(), ts("2026-12-28T00:00:00Z"));
        assert_eq!(p.label(), "2026-W53");
        assert_eq!(p.next().label(), "2027-W01");
        assert_eq!(p.end(), ts("2027-01-03T23:59:59.999Z"));
        assert_eq!(Period::containing(PeriodType::Monthly, ts("2026-12-30T12:00:00Z")).label(), "2026-12");
    }
}
