//! The table's DynamoDB Stream → the alert evaluator (BudgetAlertEvaluatorFunction).
//! The event source's filter lets only TRANSACTION items through; each new or
//! changed transaction is checked against the user's history (the large
//! transaction rule, [`crate::anomaly`]); the batch
//! is reduced to the users and periods (months, weeks) it touches, each user evaluated once,
//! and a pair that fails reports its records as batch item failures (their
//! sequence numbers), so Lambda retries from the first of them.

use crate::evaluate::{evaluate_periods, NotificationQueue};
use crate::period::Period;
use crate::store::BudgetStore;
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use expenzez_domain::entities::PeriodType;
use expenzez_domain::ids::UserId;
use expenzez_domain::Timestamp;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// How long after a period ends a late change still alerts in it (a stream
/// record read just after midnight on the 1st belongs to the month before).
const LATE_SECONDS: i64 = 86_400;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransactionImage {
    entity_type: String,
    user_id: UserId,
    timestamp: Timestamp,
}

fn image(item: &serde_dynamo::Item) -> Option<TransactionImage> {
    if item.is_empty() {
        return None;
    }
    let t: TransactionImage = serde_dynamo::from_item(item.clone()).ok()?;
    (t.entity_type == "TRANSACTION").then_some(t)
}

/// The (user, period) pairs a record calls to evaluate: the months and weeks
/// of its old and new timestamps that are current at `now` (or just ended).
fn targets(r: &EventRecord, now: Timestamp) -> Vec<(UserId, Period)> {
    let mut out = Vec::new();
    for img in [image(&r.change.new_image), image(&r.change.old_image)].into_iter().flatten() {
        for kind in [PeriodType::Monthly, PeriodType::Weekly] {
            let p = Period::containing(kind, img.timestamp);
            let recent = p.start() <= now && now < p.next_start().plus_seconds(LATE_SECONDS);
            if recent && !out.contains(&(img.user_id.clone(), p)) {
                out.push((img.user_id.clone(), p));
            }
        }
    }
    out
}

/// Handles one batch of stream records.
pub async fn handle<S: BudgetStore>(store: &S, queue: Option<&NotificationQueue>, event: Event) -> DynamoDbEventResponse {
    let now = store.now();
    // Per user: the periods to evaluate and the records that call for them.
    let mut groups: BTreeMap<UserId, (BTreeSet<Period>, Vec<String>)> = BTreeMap::new();
    for r in &event.records {
        let seq = r.change.sequence_number.clone().unwrap_or_else(|| r.event_id.clone());
        for (user, period) in targets(r, now) {
            let g = groups.entry(user).or_default();
            g.0.insert(period);
            if !g.1.contains(&seq) {
                g.1.push(seq.clone());
            }
        }
    }
    let mut failures = Vec::new();
    // Each new or changed transaction against the user's history (its own alert, once).
    for r in &event.records {
        let Some(c) = crate::anomaly::candidate(&r.change.new_image) else { continue };
        if let Err(e) = crate::anomaly::check(store, queue, &c).await {
            tracing::warn!(error = %e, "large transaction check failed; the record will be retried");
            failures.push(r.change.sequence_number.clone().unwrap_or_else(|| r.event_id.clone()));
        }
    }
    for (user, (periods, seqs)) in groups {
        let periods: Vec<Period> = periods.into_iter().collect();
        if let Err(e) = evaluate_periods(store, queue, &user, &periods).await {
            tracing::warn!(error = %e, "budget alert evaluation failed; the records will be retried");
            failures.extend(seqs);
        }
    }
    // In the batch's order, each once.
    let mut response = DynamoDbEventResponse::default();
    for r in &event.records {
        let seq = r.change.sequence_number.clone().unwrap_or_else(|| r.event_id.clone());
        if failures.contains(&seq) && !response.batch_item_failures.iter().any(|f| f.item_identifier.as_ref() == Some(&seq)) {
            let mut f = DynamoDbBatchItemFailure::default();
            f.item_identifier = Some(seq);
            response.batch_item_failures.push(f);
        }
    }
    response
}
