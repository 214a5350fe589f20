//! The assistant's scheduled jobs (template.yaml, EventBridge):
//!
//! - [`monthly_reports`] (MonthlyReportsFunction, on the 1st): last month's
//!   report computed and cached for each user active in it, so the app's
//!   report screen opens on a cached report. The users are read from the
//!   sparse index every monthly summary carries (GSI1 `ACTIVE#{YYYY-MM}#{shard}`,
//!   every shard in parallel), never a scan of all users. A user whose report
//!   is already cached and current costs two reads and no write, so a rerun
//!   (Lambda retries a failed asynchronous invocation) redoes only the failures.
//! - [`bill_reminders`] (BillRemindersFunction, daily): a reminder through the
//!   notification queue for each bill due within [`REMIND_DAYS`] whose owner
//!   turned its reminder on. The bills are read from the sparse index a bill
//!   preference carries while its reminder is on (GSI1 `BILL_REMINDER#{shard}`).
//!   Each reminder's `requestId` names the user, the bill and the due date, so
//!   the runs of the days before a due date request one notification, which
//!   the notifier delivers once.

use crate::bills::{self, BillView};
use crate::format;
use crate::report::{self, Precomputed};
use chrono::{Duration, NaiveDate};
use expenzez_domain::entities::{BillStatus, NotificationData, NotificationPriority, NotificationRequest, NotificationType};
use expenzez_domain::ids::{BillId, UserId};
use expenzez_domain::keys::{self, Index, ACTIVE_SHARDS, BILL_REMINDER_SHARDS};
use expenzez_domain::time::YearMonth;
use expenzez_domain::Timestamp;
use expenzez_store::{JsonQueue, Query, StoreError, Table};
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Users worked on at once by one run (each is a few reads and at most one write).
const CONCURRENCY: usize = 8;
/// How many days before its due date a bill is reminded of (the due date included).
pub const REMIND_DAYS: i64 = 3;
/// A bill marked paid this many days before its due date, or later, counts as paid for it.
pub const PAID_EARLY_DAYS: i64 = 7;

#[derive(Deserialize)]
struct IndexRow {
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
}

/// Every sort key of the GSI1 partitions `pks` (read in parallel).
async fn index_keys(table: &Table, pks: Vec<String>) -> Result<Vec<String>, StoreError> {
    let shards = pks.into_iter().map(|pk| async move {
        let q = Query::index("system", Index::Gsi1, pk).project_as::<IndexRow>();
        Ok::<_, StoreError>(table.query_all_as::<IndexRow>(&q).await?.into_iter().map(|r| r.gsi1sk).collect::<Vec<_>>())
    });
    Ok(futures::future::try_join_all(shards).await?.into_iter().flatten().collect())
}

/// The users with a monthly summary for `month`, from every shard, sorted.
pub async fn active_users(table: &Table, month: YearMonth) -> Result<Vec<UserId>, StoreError> {
    let keys = index_keys(table, (0..ACTIVE_SHARDS).map(|s| keys::active_pk(month, s)).collect()).await?;
    let users: BTreeSet<UserId> = keys.iter().filter_map(|k| UserId::new(k).ok()).collect();
    Ok(users.into_iter().collect())
}

/// What one monthly run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MonthlyReportsRun {
    pub month: String,
    /// Users the index lists as active in the month.
    pub active: usize,
    pub computed: usize,
    /// Already cached and current: nothing written.
    pub cached: usize,
    /// Every transaction of the month deleted since: no report.
    pub no_data: usize,
    /// Failed (logged); the run answers an error so it is retried.
    pub failed: usize,
}

/// Last month's report (relative to the table's clock) for every user active in it.
pub async fn monthly_reports(table: &Table) -> Result<MonthlyReportsRun, StoreError> {
    let month = report::previous(table.now().month());
    let users = active_users(table, month).await?;
    let mut run = MonthlyReportsRun { month: month.to_string(), active: users.len(), ..Default::default() };
    let mut outcomes = stream::iter(users)
        .map(|user| async move {
            let outcome = report::precompute(table, &user, month).await;
            if let Err(e) = &outcome {
                tracing::error!(user = %user, month = %month, error = ?e, "monthly report not precomputed");
            }
            outcome
        })
        .buffer_unordered(CONCURRENCY);
    while let Some(outcome) = outcomes.next().await {
        match outcome {
            Ok(Precomputed::Computed) => run.computed += 1,
            Ok(Precomputed::Cached) => run.cached += 1,
            Ok(Precomputed::NoData) => run.no_data += 1,
            Err(_) => run.failed += 1,
        }
    }
    tracing::info!(
        month = %run.month,
        active = run.active,
        computed = run.computed,
        cached = run.cached,
        no_data = run.no_data,
        failed = run.failed,
        "monthly reports precomputed"
    );
    Ok(run)
}

/// The bills listed with their reminder on, by user.
pub async fn reminder_bills(table: &Table) -> Result<BTreeMap<UserId, BTreeSet<BillId>>, StoreError> {
    let keys = index_keys(table, (0..BILL_REMINDER_SHARDS).map(keys::bill_reminder_pk).collect()).await?;
    let mut by_user: BTreeMap<UserId, BTreeSet<BillId>> = BTreeMap::new();
    for (user, bill) in keys.iter().filter_map(|k| keys::parse_bill_reminder_sk(k)) {
        by_user.entry(user).or_default().insert(bill);
    }
    Ok(by_user)
}

/// Whether the user marked the payment due on `b.next_expected_date` paid: marked
/// after the last payment seen and at most [`PAID_EARLY_DAYS`] before the due date.
fn paid_for_next(b: &BillView) -> bool {
    b.paid_at.is_some_and(|p| p.date() > b.last_date && p.date() >= b.next_expected_date - Duration::days(PAID_EARLY_DAYS))
}

/// Of `bills` (the user's listed bills), those to remind of on `today`: in
/// `wanted`, reminder on, active, not marked paid, due from today to
/// [`REMIND_DAYS`] ahead.
pub fn due_reminders<'a>(bills: &'a [BillView], wanted: &BTreeSet<BillId>, today: NaiveDate) -> Vec<&'a BillView> {
    bills
        .iter()
        .filter(|b| wanted.contains(&b.bill_id) && b.reminder_enabled && b.status == BillStatus::Active && !paid_for_next(b))
        .filter(|b| b.next_expected_date >= today && b.next_expected_date < today + Duration::days(REMIND_DAYS + 1))
        .collect()
}

/// "today", "tomorrow", "on Friday 5 Dec".
fn when(due: NaiveDate, today: NaiveDate) -> String {
    match (due - today).num_days() {
        0 => "today".into(),
        1 => "tomorrow".into(),
        _ => format!("on {}", due.format("%A %-d %b")),
    }
}

/// The notification request reminding `user` of `b`, due on its next expected date.
pub fn reminder(user: &UserId, b: &BillView, now: Timestamp) -> NotificationRequest {
    let name = b.custom_name.clone().unwrap_or_else(|| b.merchant.clone());
    let due = b.next_expected_date;
    let amount =
        if b.min_amount == b.max_amount { format::money(b.amount.0.abs()) } else { format!("About {}", format::money(b.amount.0.abs())) };
    NotificationRequest {
        request_id: format!("bill-reminder:{user}:{}:{due}", b.bill_id),
        user_id: user.clone(),
        kind: NotificationType::Budget,
        priority: NotificationPriority::Normal,
        title: format!("{name} is due {}", when(due, now.date())),
        message: format!("{amount} to {name} is due {}.", when(due, now.date())),
        data: Some(NotificationData {
            transaction_id: None,
            category: Some(b.category.clone()),
            amount: Some(b.amount.0),
            deep_link: Some("expenzez://bills".into()),
            image_url: None,
        }),
        created_at: now,
    }
}

/// What one daily reminder run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BillRemindersRun {
    /// Bills the index lists with their reminder on.
    pub listed: usize,
    pub users: usize,
    /// Reminders due today (requested, or refused by the queue).
    pub due: usize,
    pub requested: usize,
    /// Not accepted by the queue: requested again by the next run (same id).
    pub refused: usize,
    /// Users whose bills could not be read (logged).
    pub failed: usize,
}

/// The daily run: one request per bill due soon whose reminder is on.
pub async fn bill_reminders(table: &Table, queue: &JsonQueue<NotificationRequest>) -> Result<BillRemindersRun, StoreError> {
    let now = table.now();
    let wanted = reminder_bills(table).await?;
    let mut run = BillRemindersRun { listed: wanted.values().map(BTreeSet::len).sum(), users: wanted.len(), ..Default::default() };
    let mut per_user = stream::iter(wanted)
        .map(|(user, bills)| async move {
            let listed = bills::listed(table, &user).await;
            if let Err(e) = &listed {
                tracing::error!(user = %user, error = ?e, "bills not read for reminders");
            }
            let requests: Vec<NotificationRequest> = listed
                .as_ref()
                .ok()
                .map(|l| due_reminders(l, &bills, now.date()).into_iter().map(|b| reminder(&user, b, now)).collect())
                .unwrap_or_default();
            let refused = queue.send(&requests).await;
            (listed.is_err(), requests.len(), refused)
        })
        .buffer_unordered(CONCURRENCY);
    while let Some((failed, due, refused)) = per_user.next().await {
        run.failed += usize::from(failed);
        run.due += due;
        run.refused += refused;
        run.requested += due - refused;
    }
    tracing::info!(
        listed = run.listed,
        users = run.users,
        due = run.due,
        requested = run.requested,
        refused = run.refused,
        failed = run.failed,
        "bill reminders requested"
    );
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bills::Source;
    use expenzez_api::json::Amount;
    use expenzez_domain::entities::BillFrequency;
    use expenzez_domain::Money;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn bill(id: &str, next: &str) -> BillView {
        BillView {
            bill_id: BillId::new(id).unwrap(),
            merchant: "Netflix".into(),
            custom_name: None,
            category: "Entertainment".into(),
            amount: Amount(Money::from_minor(-1099)),
            min_amount: Amount(Money::from_minor(-1099)),
            max_amount: Amount(Money::from_minor(-1099)),
            frequency: BillFrequency::Monthly,
            last_date: d(next) - Duration::days(30),
            next_expected_date: d(next),
            status: BillStatus::Active,
            source: Source::Transactions,
            reminder_enabled: true,
            paid_at: None,
        }
    }

    #[test]
    fn due_from_today_to_three_days_ahead_only() {
        let today = d("2026-12-03");
        let bills: Vec<BillView> =
            ["2026-12-02", "2026-12-03", "2026-12-06", "2026-12-07"].iter().enumerate().map(|(i, n)| bill(&format!("b{i}"), n)).collect();
        let wanted = bills.iter().map(|b| b.bill_id.clone()).collect();
        let due: Vec<&str> = due_reminders(&bills, &wanted, today).iter().map(|b| b.bill_id.as_str()).collect();
        assert_eq!(due, ["b1", "b2"]);
    }

    #[test]
    fn reminders_off_paused_unlisted_or_paid_are_not_due() {
        let today = d("2026-12-03");
        let mut off = bill("off", "2026-12-04");
        off.reminder_enabled = false;
        let mut paused = bill("paused", "2026-12-04");
        paused.status = BillStatus::Paused;
        let unlisted = bill("unlisted", "2026-12-04");
        let mut paid = bill("paid", "2026-12-05");
        paid.paid_at = Some(Timestamp::parse("2026-12-01T10:00:00.000Z").unwrap());
        // Marked paid for the previous payment (before its last payment): still reminded.
        let mut paid_before = bill("paidbefore", "2026-12-05");
        paid_before.paid_at = Some(Timestamp::start_of_day(paid_before.last_date - Duration::days(1)));
        let bills = vec![off, paused, unlisted, paid, paid_before];
        let wanted: BTreeSet<BillId> = ["off", "paused", "paid", "paidbefore"].iter().map(|b| BillId::new(*b).unwrap()).collect();
        let due: Vec<&str> = due_reminders(&bills, &wanted, today).iter().map(|b| b.bill_id.as_str()).collect();
        assert_eq!(due, ["paidbefore"]);
    }

    #[test]
    fn a_reminder_names_the_bill_its_amount_and_day_and_its_id_the_due_date() {
        let now = Timestamp::parse("2026-12-03T09:00:00.000Z").unwrap();
        let user = UserId::new("u1").unwrap();
        let mut b = bill("netflix", "2026-12-04");
        b.custom_name = Some("Films".into());
        let r = reminder(&user, &b, now);
        assert_eq!(r.request_id, "bill-reminder:u1:netflix:2026-12-04");
        assert_eq!(r.title, "Films is due tomorrow");
        assert_eq!(r.message, "£10.99 to Films is due tomorrow.");
        let mut varies = bill("energy", "2026-12-06");
        varies.max_amount = Amount(Money::from_minor(-900));
        let r = reminder(&user, &varies, now);
        assert_eq!(r.message, "About £10.99 to Netflix is due on Sunday 6 Dec.");
        assert_eq!(r.data.unwrap().amount, Some(Money::from_minor(-1099)));
    }
}
