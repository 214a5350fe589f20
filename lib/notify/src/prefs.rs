//! The user's notification preferences: the seed's rich item, the app's flat
//! view of it, the defaults for a user who never saved any, and the pure
//! decisions the notifier takes from them (category allowed, quiet hours in
//! the user's time zone, the local day of the daily cap).

use chrono::{NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use expenzez_api::error::FieldError;
use expenzez_api::validate::check_clock_time;
use expenzez_domain::entities::*;
use expenzez_domain::ids::UserId;
use expenzez_domain::time::parse_clock_time;
use expenzez_domain::Timestamp;
use serde::{Deserialize, Serialize};

/// Time zone of a user who never chose one (the app is UK-first).
pub const DEFAULT_TIME_ZONE: &str = "Europe/London";

/// What a user who never saved preferences gets: every category but
/// marketing, push on, quiet hours off (22:00-07:00 once switched on).
pub fn defaults(user: &UserId, now: Timestamp) -> NotificationPreferences {
    NotificationPreferences {
        user_id: user.clone(),
        global_enabled: true,
        quiet_hours: QuietHours {
            enabled: false,
            start_time: "22:00".into(),
            end_time: "07:00".into(),
            timezone: DEFAULT_TIME_ZONE.into(),
        },
        categories: NotificationCategories {
            transactions: TransactionNotifications {
                enabled: true,
                threshold: None,
                include_deposits: true,
                include_withdrawals: true,
                instant_notification: true,
            },
            budgets: BudgetNotifications { enabled: true, warning_threshold: 80, exceeded_alert: true, weekly_digest: false },
            security: SecurityNotifications { enabled: true, login_alerts: true, device_changes: true, suspicious_activity: true },
            insights: InsightNotifications { enabled: true, weekly_report: true, monthly_report: true, spending_tips: false },
            marketing: MarketingNotifications { enabled: false, product_updates: false, promotions: false, surveys: false },
        },
        channels: Channels { push: true, email: false, sms: false },
        custom_rules: None,
        updated_at: now,
        last_reviewed_at: None,
    }
}

/// The app's flat view (`GET /notifications/preferences`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlatPreferences {
    pub push_enabled: bool,
    pub email_enabled: bool,
    pub transaction_alerts: bool,
    pub budget_alerts: bool,
    pub security_alerts: bool,
    pub insight_alerts: bool,
    pub marketing_alerts: bool,
    pub quiet_hours_enabled: bool,
    pub quiet_hours_start: String,
    pub quiet_hours_end: String,
    pub timezone: String,
}

impl From<&NotificationPreferences> for FlatPreferences {
    fn from(p: &NotificationPreferences) -> Self {
        Self {
            push_enabled: p.global_enabled && p.channels.push,
            email_enabled: p.global_enabled && p.channels.email,
            transaction_alerts: p.categories.transactions.enabled,
            budget_alerts: p.categories.budgets.enabled,
            security_alerts: p.categories.security.enabled,
            insight_alerts: p.categories.insights.enabled,
            marketing_alerts: p.categories.marketing.enabled,
            quiet_hours_enabled: p.quiet_hours.enabled,
            quiet_hours_start: p.quiet_hours.start_time.clone(),
            quiet_hours_end: p.quiet_hours.end_time.clone(),
            timezone: p.quiet_hours.timezone.clone(),
        }
    }
}

/// `PUT /notifications/preferences`: the flat object (every field optional,
/// so a subset changes only those; unknown fields are refused).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferencesUpdate {
    pub push_enabled: Option<bool>,
    pub email_enabled: Option<bool>,
    pub transaction_alerts: Option<bool>,
    pub budget_alerts: Option<bool>,
    pub security_alerts: Option<bool>,
    pub insight_alerts: Option<bool>,
    pub marketing_alerts: Option<bool>,
    pub quiet_hours_enabled: Option<bool>,
    pub quiet_hours_start: Option<String>,
    pub quiet_hours_end: Option<String>,
    pub timezone: Option<String>,
}

fn parse_tz(s: &str) -> Option<Tz> {
    s.parse::<Tz>().ok()
}

impl PreferencesUpdate {
    /// Field errors, before anything is written.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (field, v) in [("quietHoursStart", &self.quiet_hours_start), ("quietHoursEnd", &self.quiet_hours_end)] {
            if let Some(t) = v {
                check_clock_time(&mut errors, field, t);
            }
        }
        if self.timezone.as_deref().is_some_and(|t| parse_tz(t).is_none()) {
            errors.push(FieldError::new("timezone", "must be an IANA time zone such as Europe/London"));
        }
        errors
    }

    /// Applies the flat fields to the seed's item (the rest of it is kept).
    pub fn apply(&self, p: &mut NotificationPreferences, now: Timestamp) {
        if let Some(on) = self.push_enabled {
            p.channels.push = on;
            p.global_enabled |= on;
        }
        if let Some(on) = self.email_enabled {
            p.channels.email = on;
            p.global_enabled |= on;
        }
        let set = |target: &mut bool, v: Option<bool>| {
            if let Some(v) = v {
                *target = v;
            }
        };
        set(&mut p.categories.transactions.enabled, self.transaction_alerts);
        set(&mut p.categories.budgets.enabled, self.budget_alerts);
        set(&mut p.categories.security.enabled, self.security_alerts);
        set(&mut p.categories.insights.enabled, self.insight_alerts);
        set(&mut p.categories.marketing.enabled, self.marketing_alerts);
        set(&mut p.quiet_hours.enabled, self.quiet_hours_enabled);
        if let Some(t) = &self.quiet_hours_start {
            p.quiet_hours.start_time = t.clone();
        }
        if let Some(t) = &self.quiet_hours_end {
            p.quiet_hours.end_time = t.clone();
        }
        if let Some(t) = &self.timezone {
            p.quiet_hours.timezone = t.clone();
        }
        p.updated_at = now;
    }
}

/// Whether the user wants pushes of this kind at all.
pub fn allows(p: &NotificationPreferences, kind: NotificationType) -> bool {
    let c = &p.categories;
    p.global_enabled
        && p.channels.push
        && match kind {
            NotificationType::Transaction => c.transactions.enabled,
            NotificationType::Budget => c.budgets.enabled,
            NotificationType::Security => c.security.enabled,
            NotificationType::Insight => c.insights.enabled,
            NotificationType::Marketing => c.marketing.enabled,
        }
}

/// The user's time zone (a stored zone that no longer parses falls back to the default).
pub fn zone(p: &NotificationPreferences) -> Tz {
    parse_tz(&p.quiet_hours.timezone).unwrap_or(chrono_tz::Europe::London)
}

fn instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> Timestamp {
    // A local time skipped by a DST change is taken an hour later.
    let local = date.and_time(time);
    let dt = tz
        .from_local_datetime(&local)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(local + chrono::Duration::hours(1))).earliest())
        .map(|d| d.with_timezone(&chrono::Utc))
        .unwrap_or_else(|| local.and_utc());
    Timestamp::from_datetime(dt)
}

/// When the quiet hours that `now` falls in end; `None` outside them (or
/// when they are off). Security notifications are not held back (see the notifier).
pub fn quiet_until(q: &QuietHours, tz: Tz, now: Timestamp) -> Option<Timestamp> {
    if !q.enabled {
        return None;
    }
    let (start, end) = (parse_clock_time(&q.start_time)?, parse_clock_time(&q.end_time)?);
    if start == end {
        return None;
    }
    let local = now.datetime().with_timezone(&tz);
    let (date, t) = (local.date_naive(), local.time());
    let end_date = if start < end {
        (start <= t && t < end).then_some(date)?
    } else if t >= start {
        date.succ_opt()?
    } else if t < end {
        date
    } else {
        return None;
    };
    Some(instant(tz, end_date, end))
}

/// The user's current local day, as UTC instants `[from, to)`: the daily cap's window.
pub fn local_day(tz: Tz, now: Timestamp) -> (Timestamp, Timestamp) {
    let date = now.datetime().with_timezone(&tz).date_naive();
    let midnight = NaiveTime::MIN;
    (instant(tz, date, midnight), instant(tz, date.succ_opt().unwrap_or(date), midnight))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }
    fn quiet(start: &str, end: &str) -> QuietHours {
        QuietHours { enabled: true, start_time: start.into(), end_time: end.into(), timezone: "Europe/London".into() }
    }

    #[test]
    fn overnight_quiet_hours_in_the_users_zone() {
        let tz = chrono_tz::Europe::London;
        let q = quiet("22:00", "07:00");
        // Summer: London is UTC+1, so 21:30Z is 22:30 local, quiet until 06:00Z.
        assert_eq!(quiet_until(&q, tz, at("2026-07-01T21:30:00.000Z")), Some(at("2026-07-02T06:00:00.000Z")));
        assert_eq!(quiet_until(&q, tz, at("2026-07-02T05:59:00.000Z")), Some(at("2026-07-02T06:00:00.000Z")));
        assert_eq!(quiet_until(&q, tz, at("2026-07-02T06:00:00.000Z")), None);
        assert_eq!(quiet_until(&q, tz, at("2026-07-01T20:59:00.000Z")), None);
        // Winter: UTC+0.
        assert_eq!(quiet_until(&q, tz, at("2026-12-01T22:00:00.000Z")), Some(at("2026-12-02T07:00:00.000Z")));
        // Another zone.
        let ny: Tz = "America/New_York".parse().unwrap();
        assert_eq!(quiet_until(&q, ny, at("2026-12-02T03:00:00.000Z")), Some(at("2026-12-02T12:00:00.000Z")));
        assert_eq!(quiet_until(&QuietHours { enabled: false, ..q.clone() }, tz, at("2026-12-01T23:00:00.000Z")), None);
    }

    #[test]
    fn daytime_quiet_hours() {
        let tz = chrono_tz::UTC;
        let q = quiet("09:00", "17:00");
        assert_eq!(quiet_until(&q, tz, at("2026-12-01T12:00:00.000Z")), Some(at("2026-12-01T17:00:00.000Z")));
        assert_eq!(quiet_until(&q, tz, at("2026-12-01T17:00:00.000Z")), None);
        assert_eq!(quiet_until(&q, tz, at("2026-12-01T08:59:59.000Z")), None);
    }

    #[test]
    fn the_local_day_follows_the_zone() {
        let (from, to) = local_day(chrono_tz::Europe::London, at("2026-07-01T23:30:00.000Z"));
        assert_eq!((from, to), (at("2026-07-01T23:00:00.000Z"), at("2026-07-02T23:00:00.000Z")));
    }

    #[test]
    fn flat_update_validates_and_applies() {
        let u = UserId::new("u").unwrap();
        let now = at("2026-12-01T12:00:00.000Z");
        let bad = PreferencesUpdate { quiet_hours_start: Some("25:00".into()), timezone: Some("Mars/Base".into()), ..Default::default() };
        let fields: Vec<String> = bad.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["quietHoursStart", "timezone"]);
        let mut p = defaults(&u, now);
        let up = PreferencesUpdate { budget_alerts: Some(false), push_enabled: Some(false), ..Default::default() };
        assert!(up.validate().is_empty());
        up.apply(&mut p, now);
        let flat = FlatPreferences::from(&p);
        assert!(!flat.budget_alerts && !flat.push_enabled && flat.transaction_alerts);
        assert!(!allows(&p, NotificationType::Security));
        PreferencesUpdate { push_enabled: Some(true), ..Default::default() }.apply(&mut p, now);
        assert!(allows(&p, NotificationType::Security) && !allows(&p, NotificationType::Budget));
    }
}
