//! The notifier (NotifierFunction in template.yaml): consumes the
//! notification queue. For each [`NotificationRequest`]: the user's
//! preferences decide whether; quiet hours in the user's time zone hold it
//! back (the message is hidden until they end, then comes back); a daily cap
//! per user; then the push ([`crate::deliver`]) and, for what was delivered,
//! the history item. Idempotent on `requestId` (a [`NotificationDelivery`]
//! claimed before the push and marked delivered with the history, in one
//! transaction); a push that keeps failing releases the claim and the
//! message is redelivered, then parked in the DLQ, with nothing written.

use crate::deliver::{self, Outgoing};
use crate::expo::{Expo, PushError};
use crate::prefs;
use crate::queue::NotificationQueue;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use expenzez_domain::entities::*;
use expenzez_domain::ids::NotificationId;
use expenzez_domain::keys::ItemKey;
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, StoreError, Table, TxAction, Versioned};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotifierSettings {
    /// Pushes per user per local day; requests beyond it are dropped (logged).
    pub daily_cap: usize,
}

impl Default for NotifierSettings {
    fn default() -> Self {
        Self { daily_cap: 20 }
    }
}

pub struct Notifier {
    pub table: Table,
    pub expo: Expo,
    pub queue: NotificationQueue,
    pub settings: NotifierSettings,
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered(NotificationId),
    /// Already delivered (a redelivered or duplicated message).
    Duplicate,
    /// Not wanted (preferences), over the daily cap, or no device to push to.
    Skipped(&'static str),
    /// Quiet hours: comes back at this instant.
    Deferred(Timestamp),
    /// Try again later (push service unavailable, another notifier on it).
    Retry(String),
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

async fn preferences(table: &Table, user: &expenzez_domain::ids::UserId) -> Result<NotificationPreferences, StoreError> {
    Ok(match table.get::<NotificationPreferences>(&ItemKey::NotificationPreferences(user.clone())).await? {
        Some(p) => p.value,
        None => prefs::defaults(user, table.now()),
    })
}

/// Takes the request's claim: `Ok(Some(version))` when this notifier may
/// deliver it, `Ok(None)` when it was delivered already, `Err(Retry)` when
/// another notifier holds a live claim.
async fn claim(table: &Table, delivery: &NotificationDelivery) -> Result<Result<Option<u64>, Outcome>, StoreError> {
    let key = delivery.item_key();
    let condition = match table.get_consistent::<NotificationDelivery>(&key).await? {
        None => Condition::MustNotExist,
        Some(Versioned { value, .. }) if value.state == DeliveryState::Delivered => return Ok(Ok(None)),
        Some(Versioned { value, version }) => {
            if table.now().epoch_seconds() - value.claimed_at.epoch_seconds() < NotificationDelivery::CLAIM_SECONDS {
                return Ok(Err(Outcome::Retry("claimed by another delivery".into())));
            }
            // Abandoned by a notifier that died: taken over.
            Condition::Version(version)
        }
    };
    match table.put(delivery, condition).await {
        Ok(v) => Ok(Ok(Some(v))),
        Err(e) if e.is_conflict() => Ok(Err(Outcome::Retry("claimed concurrently".into()))),
        Err(e) => Err(e),
    }
}

async fn release(table: &Table, delivery: &NotificationDelivery, version: u64) {
    if let Err(e) = table.delete(&delivery.item_key(), Condition::Version(version)).await {
        // It lapses after CLAIM_SECONDS anyway.
        tracing::warn!(error = %e, "could not release a notification claim");
    }
}

/// Decides and delivers one request.
pub async fn handle(n: &Notifier, req: &NotificationRequest) -> Result<Outcome, NotifyError> {
    let table = &n.table;
    let user = &req.user_id;
    let now = table.now();
    let p = preferences(table, user).await?;
    if !prefs::allows(&p, req.kind) {
        return Ok(Outcome::Skipped("preferences"));
    }
    let tz = prefs::zone(&p);
    // Security notifications are not held back.
    if req.kind != NotificationType::Security {
        if let Some(until) = prefs::quiet_until(&p.quiet_hours, tz, now) {
            return Ok(Outcome::Deferred(until));
        }
    }
    let request_key = NotificationDelivery::request_key(&req.request_id);
    let mut delivery = NotificationDelivery {
        user_id: user.clone(),
        request_key: request_key.clone(),
        state: DeliveryState::Claimed,
        notification_id: None,
        claimed_at: now,
        updated_at: now,
        ttl: expenzez_domain::entities::ttl_after_days(now, NotificationDelivery::RETENTION_DAYS),
    };
    let (day_from, day_to) = prefs::local_day(tz, now);
    if deliver::sent_between(table, user, day_from, day_to).await? >= n.settings.daily_cap {
        // A duplicate of a delivered request is still a duplicate.
        return Ok(match table.get_consistent::<NotificationDelivery>(&delivery.item_key()).await? {
            Some(d) if d.value.state == DeliveryState::Delivered => Outcome::Duplicate,
            _ => Outcome::Skipped("daily cap"),
        });
    }
    let version = match claim(table, &delivery).await? {
        Ok(Some(v)) => v,
        Ok(None) => return Ok(Outcome::Duplicate),
        Err(outcome) => return Ok(outcome),
    };
    let tokens = deliver::active_tokens(table, user).await?;
    if tokens.is_empty() {
        release(table, &delivery, version).await;
        return Ok(Outcome::Skipped("no devices"));
    }
    let id = NotificationHistory::id_for(now, &request_key.as_str()[..16]).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let out = Outgoing::from(req);
    let report = match deliver::push(table, &n.expo, user, &id, &tokens, &out).await {
        Ok(r) => r,
        Err(e) => {
            release(table, &delivery, version).await;
            return Ok(Outcome::Retry(push_code(&e)));
        }
    };
    if report.delivered.is_empty() {
        release(table, &delivery, version).await;
        return Ok(if report.retryable > 0 {
            Outcome::Retry("tickets rate limited".into())
        } else {
            Outcome::Skipped("no device accepted")
        });
    }
    let history = deliver::history(user, id.clone(), &out, &report, now);
    delivery.state = DeliveryState::Delivered;
    delivery.notification_id = Some(id.clone());
    delivery.updated_at = table.now();
    let actions = vec![TxAction::put(&history, Condition::MustNotExist)?, TxAction::put(&delivery, Condition::Version(version))?];
    if let Err(e) = table.transact(actions, None).await {
        // Pushed but not recorded: the claim lapses and a redelivery pushes again (at least once).
        tracing::error!(error = %e, "delivered notification not recorded");
        return Err(e.into());
    }
    Ok(Outcome::Delivered(id))
}

fn push_code(e: &PushError) -> String {
    match e {
        PushError::Retryable { code, .. } | PushError::Rejected { code } => code.clone(),
    }
}

fn failure(id: String) -> BatchItemFailure {
    let mut f = BatchItemFailure::default();
    f.item_identifier = id;
    f
}

/// The Lambda handler: each message's request, handled; answers the ids to
/// redeliver (quiet hours, retryable failures). A message that is not a
/// request is logged and dropped (it would only fail again).
pub async fn consume(n: &Notifier, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for m in event.records {
        let id = m.message_id.clone().unwrap_or_default();
        let Some(Ok(req)) = m.body.as_deref().map(serde_json::from_str::<NotificationRequest>) else {
            tracing::error!(message_id = %id, "notification message is not a notification request; dropped");
            continue;
        };
        let request_key = NotificationDelivery::request_key(&req.request_id);
        let outcome = handle(n, &req).await;
        match &outcome {
            Ok(Outcome::Delivered(nid)) => {
                tracing::info!(message_id = %id, request_key = %request_key, notification_id = %nid, "notification delivered")
            }
            Ok(Outcome::Duplicate) => tracing::info!(message_id = %id, request_key = %request_key, "notification already delivered"),
            Ok(Outcome::Skipped(why)) => tracing::info!(message_id = %id, request_key = %request_key, reason = why, "notification skipped"),
            Ok(Outcome::Deferred(until)) => {
                let secs = until.epoch_seconds() - n.table.now().epoch_seconds();
                match m.receipt_handle.as_deref() {
                    Some(h) => match n.queue.defer(h, secs).await {
                        Ok(()) => {
                            tracing::info!(message_id = %id, request_key = %request_key, until = %until, "notification held for quiet hours")
                        }
                        Err(e) => tracing::warn!(message_id = %id, error = %e, "could not hold a notification for quiet hours"),
                    },
                    None => tracing::warn!(message_id = %id, "no receipt handle to hold a notification with"),
                }
                response.batch_item_failures.push(failure(id));
            }
            Ok(Outcome::Retry(why)) => {
                tracing::warn!(message_id = %id, request_key = %request_key, reason = %why, "notification will be retried");
                response.batch_item_failures.push(failure(id));
            }
            Err(e) => {
                tracing::error!(message_id = %id, request_key = %request_key, error = %e, "notification failed");
                response.batch_item_failures.push(failure(id));
            }
        }
    }
    response
}
